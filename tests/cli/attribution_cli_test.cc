// Attribution end to end on the tiny scenario: the hydra campaign is one flagged cluster whose
// evidence names what links its members and how they coordinate; benign multi-account companies
// are linked but not flagged.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace dg {
namespace {

namespace fs = std::filesystem;

TEST(AttributionCliTest, HydraIsOneFlaggedClusterWithCoordinationEvidence) {
  const fs::path dir = testutil::TempDir("attribution");
  const std::string bin = DG_BINARY;
  auto sim =
      testutil::Run(fmt::format("{} simulate --scenario {}/scenarios/tiny.toml --out {} "
                                "--seed 5 >/dev/null 2>&1",
                                bin, DG_SOURCE_DIR, dir.string()));
  ASSERT_EQ(sim.exit_code, 0);
  auto scan =
      testutil::Run(fmt::format("{} scan {}/events.jsonl --accounts {}/accounts.jsonl "
                                "--report {}/report.json -q 2>/dev/null",
                                bin, dir.string(), dir.string(), dir.string()));
  ASSERT_EQ(scan.exit_code, 0);

  simdjson::dom::parser p;
  simdjson::dom::element labels, report;
  ASSERT_EQ(p.load((dir / "labels.json").string()).get(labels), simdjson::SUCCESS);
  std::map<std::string, std::string> label_of, persona_of;
  for (auto [id, v] : labels["accounts"].get_object()) {
    label_of[std::string(id)] = std::string(std::string_view(v["label"]));
    persona_of[std::string(id)] = std::string(std::string_view(v["persona"]));
  }
  simdjson::dom::parser p2;
  ASSERT_EQ(p2.load((dir / "report.json").string()).get(report), simdjson::SUCCESS);
  std::map<std::string, bool> flagged;
  for (auto a : report["accounts"].get_array()) {
    flagged[std::string(std::string_view(a["account_id"]))] = bool(a["flagged"]);
  }
  bool hydra_cluster = false, company_linked = false;
  for (auto c : report["clusters"].get_array()) {
    std::set<std::string> personas;
    size_t n = 0, n_flagged = 0;
    for (auto a : c["accounts"].get_array()) {
      personas.insert(persona_of[std::string(std::string_view(a))]);
      n_flagged += flagged[std::string(std::string_view(a))];
      ++n;
    }
    std::set<std::string> evidence;
    for (auto e : c["evidence"].get_array())
      evidence.insert(std::string(std::string_view(e["detector"])));
    if (personas.count("hydra")) {
      EXPECT_EQ(personas.size(), 1u) << "a hydra cluster holds other accounts";
      if (n >= 20) {
        hydra_cluster = true;
        EXPECT_TRUE(bool(c["flagged"]));
        // Members that push the cluster's template join its verdict.
        EXPECT_EQ(n_flagged, n);
        EXPECT_TRUE(evidence.count("coordination.disjoint_shards"));
        EXPECT_TRUE(evidence.count("link.payment_fingerprint") ||
                    evidence.count("link.ip_prefix") ||
                    evidence.count("link.fresh_account_template"));
      }
    }
    if (personas == std::set<std::string>{"company"} && n >= 2) {
      company_linked = true;
      EXPECT_FALSE(bool(c["flagged"])) << "linking alone must not condemn a company";
    }
  }
  EXPECT_TRUE(hydra_cluster) << "the hydra campaign is not one cluster";
  EXPECT_TRUE(company_linked) << "the company's accounts are not linked";
  fs::remove_all(dir);
}

// Accounts linked by one card: created and first active within minutes of each other (a
// campaign's sign-up script), or created months apart and active from the log's first hour.
TEST(AttributionCliTest, CreationAndStartBurstsAreClusterEvidence) {
  const fs::path dir = testutil::TempDir("bursts");
  std::string events, accounts;
  const TimeUs t0 = *ParseRfc3339("2025-03-03T00:00:00Z");
  for (int i = 0; i < 12; ++i) {
    const std::string burst = fmt::format("burst-{}", i), spread = fmt::format("spread-{}", i);
    accounts += fmt::format(
        R"({{"account_id": "{}", "created_at": "{}", "payment_fingerprint": "pm_burst"}})"
        "\n",
        burst, FormatRfc3339(t0 + 2 * kUsPerHour + i * 2 * kUsPerMin));
    accounts += fmt::format(
        R"({{"account_id": "{}", "created_at": "{}", "payment_fingerprint": "pm_spread"}})"
        "\n",
        spread, FormatRfc3339(t0 - (i + 1) * 30 * kUsPerDay));
    for (int k = 0; k < 3; ++k) {
      // burst-*: first request 3 h into the log, within 12 minutes of each other;
      // spread-*: active from the log's first minutes (their start is censored).
      const TimeUs tb = t0 + 3 * kUsPerHour + i * kUsPerMin + k * 20 * kUsPerMin;
      const TimeUs ts = t0 + i * kUsPerMin + k * 20 * kUsPerMin;
      for (auto [acct, t] : {std::pair{burst, tb}, std::pair{spread, ts}}) {
        events += fmt::format(
            R"({{"ts": "{}", "account_id": "{}", "request": {{"model": "m", "messages": )"
            R"([{{"role": "user", "content": "question {} {}"}}]}}, "response": {{"status": )"
            R"(200, "usage": {{"prompt_tokens": 5, "completion_tokens": 50}}}}}})"
            "\n",
            FormatRfc3339(t), acct, acct, k);
      }
    }
  }
  // Events must be in time order within the lateness; sort them by their ts prefix.
  std::vector<std::string> lines;
  for (size_t a = 0, b; a < events.size(); a = b + 1) {
    b = events.find('\n', a);
    lines.push_back(events.substr(a, b - a));
  }
  std::sort(lines.begin(), lines.end());
  events.clear();
  for (const auto& l : lines) events += l + "\n";
  testutil::WriteAll(dir / "events.jsonl", events);
  testutil::WriteAll(dir / "accounts.jsonl", accounts);
  auto scan = testutil::Run(fmt::format(
      "{} scan {}/events.jsonl --accounts {}/accounts.jsonl --report {}/report.json -q 2>/dev/null",
      std::string(DG_BINARY), dir.string(), dir.string(), dir.string()));
  ASSERT_EQ(scan.exit_code, 0);
  simdjson::dom::parser p;
  simdjson::dom::element report;
  ASSERT_EQ(p.load((dir / "report.json").string()).get(report), simdjson::SUCCESS);
  std::map<std::string, std::set<std::string>> evidence;  // cluster's first account -> detectors
  for (auto c : report["clusters"].get_array()) {
    std::string first(std::string_view(c["accounts"].at(0)));
    for (auto e : c["evidence"].get_array()) {
      evidence[first].insert(std::string(std::string_view(e["detector"])));
    }
  }
  ASSERT_TRUE(evidence.count("burst-0")) << "the card does not link the burst accounts";
  ASSERT_TRUE(evidence.count("spread-0")) << "the card does not link the spread accounts";
  EXPECT_TRUE(evidence["burst-0"].count("coordination.creation_burst"));
  EXPECT_TRUE(evidence["burst-0"].count("coordination.synchronised_start"));
  EXPECT_FALSE(evidence["spread-0"].count("coordination.creation_burst"));
  EXPECT_FALSE(evidence["spread-0"].count("coordination.synchronised_start"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg
