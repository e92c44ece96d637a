// The report contract (../shared/spec/report.md): a golden input with its expected report
// (regenerate with DG_UPDATE_GOLDEN=1 after a deliberate change), and structural checks that
// hold for any report.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <map>
#include <set>

#include "testutil/testutil.h"

namespace dg {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(DG_SOURCE_DIR) / "tests/report/data/golden";

std::string ScanGolden(const fs::path& out) {
  auto r = testutil::Run(fmt::format(
      "{} scan {} --accounts {} --report {} --generated-at 2025-03-04T00:00:00Z -q 2>/dev/null",
      DG_BINARY, (kGolden / "events.jsonl").string(), (kGolden / "accounts.jsonl").string(),
      out.string()));
  EXPECT_EQ(r.exit_code, 0);
  return testutil::ReadAll(out);
}

TEST(ReportTest, GoldenInputGivesTheExpectedReport) {
  auto dir = testutil::TempDir("golden");
  const std::string got = ScanGolden(dir / "report.json");
  if (std::getenv("DG_UPDATE_GOLDEN")) {
    testutil::WriteAll(kGolden / "expected_report.json", got);
    GTEST_SKIP() << "golden report updated";
  }
  const std::string want = testutil::ReadAll(kGolden / "expected_report.json");
  EXPECT_EQ(got, want) << "report differs from tests/report/data/golden/expected_report.json; "
                          "if the change is deliberate, rerun with DG_UPDATE_GOLDEN=1";
  fs::remove_all(dir);
}

// Checks every rule of the contract on one report.
void CheckContract(const std::string& json, const std::set<std::string>& input_accounts) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(json).get(doc), simdjson::SUCCESS);
  std::string_view gen;
  ASSERT_EQ(doc["generated_at"].get(gen), simdjson::SUCCESS);
  EXPECT_TRUE(ParseRfc3339(gen).has_value());
  simdjson::dom::object input = doc["input"];
  uint64_t events, rejected;
  ASSERT_EQ(input["events"].get(events), simdjson::SUCCESS);
  ASSERT_EQ(input["rejected"].get(rejected), simdjson::SUCCESS);
  std::string_view first, last;
  ASSERT_EQ(input["first_ts"].get(first), simdjson::SUCCESS);
  ASSERT_EQ(input["last_ts"].get(last), simdjson::SUCCESS);
  EXPECT_LE(*ParseRfc3339(first), *ParseRfc3339(last));

  const std::set<std::string> levels = {"none", "low", "medium", "high", "critical"};
  std::set<std::string> seen, cluster_refs;
  for (simdjson::dom::element a : doc["accounts"]) {
    std::string id{std::string_view(a["account_id"])};
    EXPECT_TRUE(seen.insert(id).second) << "account listed twice: " << id;
    double score = a["score"];
    EXPECT_GE(score, 0.0);
    EXPECT_LE(score, 1.0);
    EXPECT_TRUE(levels.count(std::string(std::string_view(a["level"]))));
    bool flagged = a["flagged"];
    if (flagged) {
      std::string_view at = a["first_flagged_at"];
      EXPECT_TRUE(ParseRfc3339(at).has_value());
      EXPECT_GE(*ParseRfc3339(at), *ParseRfc3339(first));
      EXPECT_LE(*ParseRfc3339(at), *ParseRfc3339(last));
      EXPECT_FALSE(simdjson::dom::array(a["evidence"]).size() == 0)
          << id << " flagged without evidence";
    } else {
      EXPECT_TRUE(a["first_flagged_at"].is_null()) << id;
    }
    cluster_refs.insert(std::string(std::string_view(a["cluster_id"])));
    for (simdjson::dom::element e : a["evidence"]) {
      EXPECT_FALSE(std::string_view(e["detector"]).empty());
      EXPECT_FALSE(std::string_view(e["detail"]).empty());
      double w = e["weight"];
      (void)w;
    }
    uint64_t req = a["stats"]["requests"];
    EXPECT_GT(req, 0u);
    uint64_t out = a["stats"]["output_tokens"];
    (void)out;
  }
  EXPECT_EQ(seen, input_accounts);
  std::set<std::string> clusters, members;
  for (simdjson::dom::element c : doc["clusters"]) {
    std::string id{std::string_view(c["cluster_id"])};
    EXPECT_TRUE(clusters.insert(id).second);
    for (simdjson::dom::element m : c["accounts"]) {
      EXPECT_TRUE(members.insert(std::string(std::string_view(m))).second)
          << "account in two clusters";
    }
    double score = c["score"];
    EXPECT_GE(score, 0.0);
    EXPECT_LE(score, 1.0);
  }
  EXPECT_EQ(clusters, cluster_refs);  // every cluster_id resolves, every cluster is used
  EXPECT_EQ(members, input_accounts);
}

TEST(ReportTest, GoldenReportKeepsTheContract) {
  auto dir = testutil::TempDir("contract");
  const std::string json = ScanGolden(dir / "report.json");
  std::set<std::string> ids;
  std::istringstream in(testutil::ReadAll(kGolden / "events.jsonl"));
  simdjson::dom::parser p;
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element e;
    if (p.parse(line).get(e)) continue;
    std::string_view id;
    if (!e["account_id"].get(id)) ids.insert(std::string(id));
  }
  CheckContract(json, ids);
  fs::remove_all(dir);
}

// Scans `events` with the registry `accounts` into dir/r.json.
void ScanTraffic(const fs::path& dir, const std::string& events, const std::string& accounts) {
  testutil::WriteAll(dir / "e.jsonl", events);
  testutil::WriteAll(dir / "a.jsonl", accounts);
  auto r = testutil::Run(fmt::format("{} scan {} --accounts {} --report {} -q --threads 2",
                                     DG_BINARY, (dir / "e.jsonl").string(),
                                     (dir / "a.jsonl").string(), (dir / "r.json").string()));
  ASSERT_EQ(r.exit_code, 0);
}

TEST(ReportTest, LargerTrafficKeepsTheContract) {
  auto dir = testutil::TempDir("contract2");
  std::string accounts;
  const std::string events = testutil::SmallTraffic(9, 80, &accounts);
  ASSERT_NO_FATAL_FAILURE(ScanTraffic(dir, events, accounts));  // writes dir/r.json
  std::set<std::string> ids;
  std::istringstream in(events);
  simdjson::dom::parser p;
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element e = p.parse(line);
    ids.insert(std::string(std::string_view(e["account_id"])));
  }
  CheckContract(testutil::ReadAll(dir / "r.json"), ids);
  fs::remove_all(dir);
}

// A flagged operator's reserve: accounts registered on its cards that have sent nothing yet are
// named in its cluster's evidence for the analyst who suspends the case, and are neither flagged
// nor reported as accounts (they took nothing). Silent accounts on an unflagged user's card, or on
// no card of the case, are named nowhere.
TEST(ReportTest, FlaggedClusterNamesTheSilentAccountsOnItsCards) {
  auto dir = testutil::TempDir("silent");
  std::string accounts;
  const std::string events = testutil::SmallTraffic(9, 40, &accounts);
  for (
      const char* line :
      {R"({"account_id":"hydra-reserve-1","created_at":"2025-03-02T10:09:00Z","payment_fingerprint":"pm_hydra"})",
       R"({"account_id":"hydra-reserve-2","created_at":"2025-03-02T10:09:30Z","payment_fingerprint":"pm_hydra"})",
       R"({"account_id":"bystander","created_at":"2025-03-02T10:09:00Z","payment_fingerprint":"pm_other"})",
       R"({"account_id":"user-000-sibling","created_at":"2024-01-01T00:00:00Z","payment_fingerprint":"pm_u0"})"}) {
    accounts += std::string(line) + "\n";
  }
  ASSERT_NO_FATAL_FAILURE(ScanTraffic(dir, events, accounts));  // writes dir/r.json
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.load((dir / "r.json").string());
  for (auto a : doc["accounts"]) {
    const std::string_view id = a["account_id"];
    EXPECT_EQ(id.find("reserve"), std::string_view::npos) << "a silent account is not reported";
  }
  std::string hydra_silent;
  size_t mentions = 0;
  for (auto c : doc["clusters"]) {
    bool hydra = false;
    for (auto m : c["accounts"]) hydra |= std::string_view(m) == "hydra-0";
    for (auto ev : c["evidence"]) {
      if (std::string_view(ev["detector"]) != "coordination.silent_accounts") continue;
      ++mentions;
      EXPECT_TRUE(bool(c["flagged"]));
      if (hydra) hydra_silent = std::string(std::string_view(ev["detail"]));
    }
  }
  EXPECT_EQ(mentions, 1u) << "only the hydra's cards hold silent accounts of a flagged case";
  EXPECT_NE(hydra_silent.find("2 accounts"), std::string::npos) << hydra_silent;
  EXPECT_NE(hydra_silent.find("hydra-reserve-1, hydra-reserve-2"), std::string::npos)
      << hydra_silent;
  EXPECT_EQ(hydra_silent.find("bystander"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg
