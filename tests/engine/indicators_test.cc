// Known indicators: loading (bad lines named), matching (exact values and CIDR overlap),
// attribution evidence, flagging on identifying matches only, and the export/import round trip.
#include <gtest/gtest.h>

#include <simdjson.h>

#include "engine/account_registry.h"
#include "engine/engine.h"
#include "engine/scan.h"
#include "linking/indicators.h"
#include "report/report.h"
#include "testutil/testutil.h"

namespace dg::engine {
namespace {

namespace fs = std::filesystem;
using linking::IndicatorList;
using linking::KnownKind;

TEST(IndicatorListTest, LoadsGoodLinesAndNamesBadOnes) {
  auto dir = testutil::TempDir("ind");
  testutil::WriteAll(dir / "l.jsonl",
                     R"({"type":"payment_fingerprint","value":"pm_1","operator":"Acme"})" "\n"
                     "\n"
                     R"({"type":"cidr","value":"203.0.113.0/24","operator":"Acme","source":"partner"})" "\n"
                     R"({"type":"telepathy","value":"x"})" "\n"
                     R"({"type":"cidr","value":"300.1.1.1/8"})" "\n"
                     "not json\n"
                     R"({"type":"account_id"})" "\n");
  IndicatorList list;
  std::vector<std::string> errors;
  ASSERT_TRUE(list.Load((dir / "l.jsonl").string(), &errors));
  EXPECT_EQ(list.size(), 2u);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_NE(errors[0].find("l.jsonl:4: unknown indicator type 'telepathy'"), std::string::npos);
  EXPECT_NE(errors[1].find(":5:"), std::string::npos);
  EXPECT_NE(errors[2].find(":6:"), std::string::npos);
  EXPECT_NE(errors[3].find(":7:"), std::string::npos);
  EXPECT_FALSE(list.Load((dir / "missing.jsonl").string(), &errors));
  fs::remove_all(dir);
}

TEST(IndicatorListTest, CidrRangesMatchOverlappingPrefixes) {
  IndicatorList list;
  list.Add({KnownKind::kCidr, "203.0.113.0/24", "A", "", ""});
  list.Add({KnownKind::kCidr, "10.0.0.0/8", "B", "", ""});
  list.Add({KnownKind::kCidr, "2001:db8:42::/48", "C", "", ""});
  list.Add({KnownKind::kCidr, "198.51.100.128/25", "D", "", ""});
  EXPECT_EQ(list.MatchPrefix("203.0.113.0/24"), 1u);
  EXPECT_EQ(list.MatchPrefix("10.20.30.0/24"), 2u);
  EXPECT_EQ(list.MatchPrefix("2001:db8:42::/48"), 3u);
  // A listed range narrower than the account's /24 cannot be confirmed from the /24 alone.
  EXPECT_EQ(list.MatchPrefix("198.51.100.0/24"), 0u);
  EXPECT_EQ(list.MatchPrefix("203.0.114.0/24"), 0u);
  EXPECT_EQ(list.MatchPrefix("2001:db8:43::/48"), 0u);
  EXPECT_EQ(list.MatchPrefix("not an address"), 0u);
}

struct Scanned {
  std::string json;
  std::string exported;
};

Scanned ScanWith(const fs::path& dir, const IndicatorList* list) {
  NameTable names;
  EngineOptions eo;
  eo.indicators = list;
  Engine eng(eo, names);
  LoadAccountRegistry((dir / "a.jsonl").string(), eng, names);
  ScanOptions so;
  so.inputs = {(dir / "e.jsonl").string()};
  auto stats = RunScan(so, eng, names);
  auto rep = report::Build(eng);
  return {report::ToJson(rep, eng, stats, 0), report::ExportIndicators(rep, eng)};
}

std::map<std::string, std::pair<bool, std::string>> Verdicts(const std::string& json) {
  std::map<std::string, std::pair<bool, std::string>> out;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  for (auto a : doc["accounts"]) {
    std::string ev;
    for (auto e : a["evidence"]) {
      if (std::string_view(e["detector"]) == "known_indicator") ev = std::string(std::string_view(e["detail"]));
    }
    out[std::string(std::string_view(a["account_id"]))] = {bool(a["flagged"]), ev};
  }
  return out;
}

TEST(KnownIndicatorTest, IdentifyingMatchesFlagAndNetworkMatchesOnlyAttribute) {
  auto dir = testutil::TempDir("ind-engine");
  std::string accounts;
  // A quiet population: 30 ordinary users, no attacker traffic needed for this test.
  testutil::WriteAll(dir / "e.jsonl", testutil::SmallTraffic(11, 30, &accounts));
  testutil::WriteAll(dir / "a.jsonl", accounts);
  IndicatorList list;
  list.Add({KnownKind::kPaymentFingerprint, "pm_u3", "Operator Acme", "partner-feed", "seen 2025-02"});
  list.Add({KnownKind::kCidr, "192.0.2.0/23", "Operator Bolt", "", ""});
  auto v = Verdicts(ScanWith(dir, &list).json);
  EXPECT_TRUE(v.at("user-003").first);
  EXPECT_NE(v.at("user-003").second.find("Operator Acme"), std::string::npos);
  EXPECT_NE(v.at("user-003").second.find("payment_fingerprint pm_u3"), std::string::npos);
  // The ordinary users send from 192.0.2.0/24: attributed, not condemned by a network match.
  EXPECT_FALSE(v.at("user-007").first);
  EXPECT_NE(v.at("user-007").second.find("Operator Bolt"), std::string::npos);
  // Accounts outside the listed range are not attributed.
  EXPECT_EQ(v.at("hydra-1").second.find("Operator Bolt"), std::string::npos);
  fs::remove_all(dir);
}

TEST(KnownIndicatorTest, ExportedIndicatorsFlagTheSameOperatorElsewhere) {
  auto dir = testutil::TempDir("ind-roundtrip");
  std::string accounts;
  testutil::WriteAll(dir / "e.jsonl", testutil::SmallTraffic(12, 40, &accounts));
  testutil::WriteAll(dir / "a.jsonl", accounts);
  const Scanned first = ScanWith(dir, nullptr);
  ASSERT_FALSE(first.exported.empty());
  testutil::WriteAll(dir / "exported.jsonl", first.exported);
  // Every exported line is a valid indicator.
  IndicatorList list;
  std::vector<std::string> errors;
  ASSERT_TRUE(list.Load((dir / "exported.jsonl").string(), &errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_NE(first.exported.find("\"type\":\"payment_fingerprint\",\"value\":\"pm_hydra\""), std::string::npos);
  // A later scan with the shared list attributes the hydra accounts to the exported cluster.
  auto v = Verdicts(ScanWith(dir, &list).json);
  for (int i = 0; i < 6; ++i) {
    const auto& [flagged, ev] = v.at(fmt::format("hydra-{}", i));
    EXPECT_TRUE(flagged);
    EXPECT_NE(ev.find("known operator"), std::string::npos);
  }
  EXPECT_FALSE(v.at("user-001").first);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg::engine
