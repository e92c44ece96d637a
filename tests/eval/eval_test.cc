// distillguard eval on small hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/evaluate.h"
#include "testutil/testutil.h"

namespace dg::eval {
namespace {

namespace fs = std::filesystem;

std::string Ev(const std::string& ts, const std::string& acct, int out,
               const std::string& eu = "") {
  return fmt::format(
             R"({{"ts":"{}","account_id":"{}"{},"response":{{"usage":{{"completion_tokens":{}}}}}}})",
             ts, acct, eu.empty() ? "" : fmt::format(R"(,"end_user":"{}")", eu), out) +
         "\n";
}

class EvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::TempDir("eval");
    // a1 flagged at 01:00 (100 tokens before, 300 after); a2 never flagged (50 tokens);
    // a3 (campaign A) never sends a request; b1 (campaign B) flagged at 00:00 before its first
    // event; n1 benign flagged; n2, n3 benign.
    // Reseller r hosts end users u-bad (campaign H, flagged at 02:00) and u-ok.
    testutil::WriteAll(
        dir_ / "events.jsonl",
        Ev("2025-01-01T00:30:00Z", "a1", 100) + Ev("2025-01-01T01:00:00Z", "a1", 100) +
            Ev("2025-01-01T02:00:00Z", "a1", 200) + Ev("2025-01-01T00:10:00Z", "a2", 50) +
            Ev("2025-01-01T00:20:00Z", "b1", 70) + Ev("2025-01-01T00:40:00Z", "n1", 5) +
            Ev("2025-01-01T01:30:00Z", "r", 40, "u-bad") +
            Ev("2025-01-01T03:00:00Z", "r", 60, "u-bad") +
            Ev("2025-01-01T03:00:00Z", "r", 999, "u-ok") + "not json\n");
    testutil::WriteAll(dir_ / "report.json", R"({"accounts":[
      {"account_id":"a1","score":0.9,"flagged":true,"first_flagged_at":"2025-01-01T01:00:00.000Z","cluster_id":"C-a1"},
      {"account_id":"a2","score":0.3,"flagged":false,"first_flagged_at":null,"cluster_id":"C-a1"},
      {"account_id":"b1","score":0.8,"flagged":true,"first_flagged_at":"2025-01-01T00:00:00.000Z","cluster_id":"C-b1"},
      {"account_id":"n1","score":0.85,"flagged":true,"first_flagged_at":"2025-01-01T00:40:00.000Z","cluster_id":"C-b1"},
      {"account_id":"n2","score":0.1,"flagged":false,"first_flagged_at":null,"cluster_id":"C-n2"},
      {"account_id":"r","score":0.2,"flagged":false,"first_flagged_at":null,"cluster_id":"C-r",
       "flagged_end_users":[{"end_user":"u-bad","first_flagged_at":"2025-01-01T02:00:00.000Z"},
                            {"end_user":"u-ok","first_flagged_at":"2025-01-01T04:00:00.000Z"}]},
      {"account_id":"stray","score":0.0,"flagged":false,"first_flagged_at":null,"cluster_id":"C-stray"}],
     "clusters":[{"cluster_id":"C-a1","accounts":["a1","a2"]},{"cluster_id":"C-b1","accounts":["b1","n1"]},
                 {"cluster_id":"C-n2","accounts":["n2"]},{"cluster_id":"C-r","accounts":["r"]},
                 {"cluster_id":"C-stray","accounts":["stray"]}]})");
    testutil::WriteAll(dir_ / "labels.json", R"({"accounts":{
      "a1":{"label":"attack","persona":"p","campaign":"A"},"a2":{"label":"attack","persona":"p","campaign":"A"},
      "a3":{"label":"attack","persona":"p","campaign":"A"},
      "b1":{"label":"attack","persona":"q","campaign":"B"},
      "n1":{"label":"benign","persona":"hobbyist","campaign":null},
      "n2":{"label":"benign","persona":"hobbyist","campaign":null},
      "n3":{"label":"benign","persona":"saas","campaign":null},
      "r":{"label":"benign","persona":"reseller","campaign":null}},
     "campaigns":{"A":{"description":"three accounts, one silent","accounts":["a1","a2","a3"]},
                  "B":{"description":"one","accounts":["b1"]},
                  "H":{"description":"hidden","accounts":[],"end_users":["u-bad"]}}})");
  }
  void TearDown() override { fs::remove_all(dir_); }
  EvalResult Run() {
    return Evaluate((dir_ / "report.json").string(), (dir_ / "labels.json").string(),
                    {(dir_ / "events.jsonl").string()});
  }
  const CampaignResult& Camp(const EvalResult& r, const std::string& n) {
    for (const auto& c : r.campaigns) {
      if (c.name == n) return c;
    }
    throw std::runtime_error("no campaign " + n);
  }
  fs::path dir_;
};

TEST_F(EvalTest, CampaignLeakClusterShareAndDetection) {
  auto r = Run();
  const auto& a = Camp(r, "A");
  EXPECT_EQ(a.units, 2u) << "a3 sent nothing: not a unit";
  EXPECT_EQ(a.silent, 1u);
  EXPECT_EQ(a.flagged, 1u);
  EXPECT_TRUE(a.detected);  // 50% counts
  EXPECT_DOUBLE_EQ(a.largest_cluster_share, 1.0);
  // a1: 100 before 01:00 (the event at 01:00 is at the flag, not before); a2 never flagged: 50.
  EXPECT_EQ(a.output_tokens, 450u);
  EXPECT_EQ(a.leaked_tokens, 150u);
  EXPECT_DOUBLE_EQ(a.leak, 150.0 / 450.0);
  const auto& b = Camp(r, "B");
  EXPECT_EQ(b.leaked_tokens, 0u);  // flagged before its first event
  EXPECT_DOUBLE_EQ(b.leak, 0.0);
  const auto& h = Camp(r, "H");
  EXPECT_TRUE(h.by_end_user);
  EXPECT_EQ(h.units, 1u);
  EXPECT_EQ(h.flagged, 1u);
  EXPECT_EQ(h.output_tokens, 100u);  // u-ok's traffic is not the campaign's
  EXPECT_EQ(h.leaked_tokens, 40u);
  EXPECT_EQ(r.campaigns_detected, 3u);
  // u-ok is flagged after its traffic: no leak change, but a false positive among end users.
  EXPECT_EQ(r.end_users_flagged, 2u);
  EXPECT_EQ(r.benign_end_users_flagged, 1u);
}

TEST_F(EvalTest, OverallFiguresPersonasAndPurity) {
  auto r = Run();
  // Scores: attack {0.9, 0.3, 0.8}, benign {0.85, 0.1, 0.2} (n3 has no traffic).
  // Pairs won: 0.9 beats 3, 0.3 beats 2 (0.1, 0.2), 0.8 beats 2 -> 7 of 9.
  EXPECT_NEAR(r.auroc, 7.0 / 9.0, 1e-12);
  EXPECT_EQ(r.benign, 3u);
  EXPECT_EQ(r.benign_flagged, 1u);
  EXPECT_EQ(r.labelled_missing_from_report, 2u);  // n3, a3
  EXPECT_EQ(r.reported_missing_from_labels, 1u);  // stray
  // Clusters with attack accounts: C-a1 (2/2) and C-b1 (1/2): 3 of 4 members.
  EXPECT_EQ(r.attack_clusters, 2u);
  EXPECT_DOUBLE_EQ(r.attack_cluster_purity, 0.75);
  EXPECT_DOUBLE_EQ(r.min_attack_cluster_purity, 0.5);
  size_t hobbyist_flagged = 99;
  for (const auto& p : r.personas) {
    if (p.persona == "hobbyist") hobbyist_flagged = p.flagged;
  }
  EXPECT_EQ(hobbyist_flagged, 1u);
  EXPECT_NE(ToMarkdown(r).find("| A | account | 1/2 (+1 silent) | yes | 100% | 33.33% |"),
            std::string::npos)
      << ToMarkdown(r);
}

TEST_F(EvalTest, MalformedInputsAreClearErrors) {
  testutil::WriteAll(dir_ / "bad_labels.json", R"({"accounts":{"x":{"label":"maybe"}}})");
  EXPECT_THROW(Evaluate((dir_ / "report.json").string(), (dir_ / "bad_labels.json").string(), {}),
               std::runtime_error);
  testutil::WriteAll(dir_ / "bad_report.json", "{ not json");
  EXPECT_THROW(Evaluate((dir_ / "bad_report.json").string(), (dir_ / "labels.json").string(), {}),
               std::runtime_error);
  auto r =
      testutil::Run(fmt::format("{} eval --report {} --labels {} --events {} 2>&1", DG_BINARY,
                                (dir_ / "bad_report.json").string(),
                                (dir_ / "labels.json").string(), (dir_ / "events.jsonl").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("bad_report.json"), std::string::npos);
}

TEST_F(EvalTest, SingleClassAurocIsNullNotACrash) {
  testutil::WriteAll(dir_ / "one_class.json",
                     R"({"accounts":{"a1":{"label":"attack","campaign":"A"}}})");
  auto r = Evaluate((dir_ / "report.json").string(), (dir_ / "one_class.json").string(),
                    {(dir_ / "events.jsonl").string()});
  EXPECT_TRUE(std::isnan(r.auroc));
  EXPECT_NE(ToJson(r).find("\"auroc\":null"), std::string::npos);
}

}  // namespace
}  // namespace dg::eval
