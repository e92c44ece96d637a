// Engine invariants: the report does not depend on threads, block or batch sizes, input
// splitting or small reordering; flags use no look-ahead; known attackers are caught.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "engine/account_registry.h"
#include "engine/scan.h"
#include "report/report.h"
#include "testutil/testutil.h"

namespace dg::engine {
namespace {

namespace fs = std::filesystem;

struct Knobs {
  int threads = 1;
  size_t block_bytes = 4 << 20;
  size_t batch_max = 1 << 16;
  bool iterate_many = true;
};

std::string ScanToJson(const std::vector<std::string>& inputs, const std::string& accounts,
                       const Knobs& k, ScanStats* stats_out = nullptr) {
  NameTable names;
  EngineOptions eo;
  eo.threads = k.threads;
  eo.batch_max = k.batch_max;
  Engine eng(eo, names);
  if (!accounts.empty()) LoadAccountRegistry(accounts, eng, names);
  ScanOptions so;
  so.inputs = inputs;
  so.threads = k.threads;
  so.block_bytes = k.block_bytes;
  so.use_iterate_many = k.iterate_many;
  auto stats = RunScan(so, eng, names);
  if (stats_out) *stats_out = stats;
  auto rep = report::Build(eng);
  // Byte counts legitimately differ between split inputs; everything else must match.
  stats.bytes = 0;
  stats.lines = 0;
  return report::ToJson(rep, eng, stats, 0);
}

// Sorts `lines` by time, writes them (and `accounts`, if any) under `dir` and scans them: the
// report's JSON.
std::string ScanSortedToJson(const fs::path& dir,
                             std::vector<std::pair<TimeUs, std::string>>& lines,
                             const std::string& accounts = "") {
  std::stable_sort(lines.begin(), lines.end());
  std::string data;
  for (auto& [ts, l] : lines) data += l + "\n";
  testutil::WriteAll(dir / "e.jsonl", data);
  if (!accounts.empty()) testutil::WriteAll(dir / "a.jsonl", accounts);
  return ScanToJson({(dir / "e.jsonl").string()},
                    accounts.empty() ? std::string() : (dir / "a.jsonl").string(), {});
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::TempDir("engine");
    std::string accounts;
    events_ = testutil::SmallTraffic(42, 60, &accounts);
    testutil::WriteAll(dir_ / "events.jsonl", events_);
    testutil::WriteAll(dir_ / "accounts.jsonl", accounts);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Events() const { return (dir_ / "events.jsonl").string(); }
  std::string Accounts() const { return (dir_ / "accounts.jsonl").string(); }
  fs::path dir_;
  std::string events_;
};

TEST_F(EngineTest, ReportIndependentOfThreadsBlocksAndBatches) {
  const std::string base = ScanToJson({Events()}, Accounts(), {});
  EXPECT_EQ(base, ScanToJson({Events()}, Accounts(), {.threads = 2}));
  EXPECT_EQ(base, ScanToJson({Events()}, Accounts(), {.threads = 4}));  // also run under TSan
  EXPECT_EQ(base, ScanToJson({Events()}, Accounts(), {.threads = 2, .block_bytes = 64 << 10}));
  EXPECT_EQ(base, ScanToJson({Events()}, Accounts(), {.threads = 1, .batch_max = 97}));
  // One event per batch: every epoch boundary finds the batch already empty.
  EXPECT_EQ(base, ScanToJson({Events()}, Accounts(), {.threads = 2, .batch_max = 1}));
  EXPECT_EQ(base, ScanToJson({Events()}, Accounts(), {.threads = 3, .iterate_many = false}));
}

TEST_F(EngineTest, FlagsKnownAttackersAndNotOrdinaryUsers) {
  const std::string json = ScanToJson({Events()}, Accounts(), {});
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  std::map<std::string, bool> flagged;
  for (auto a : doc["accounts"]) {
    flagged[std::string(std::string_view(a["account_id"]))] = bool(a["flagged"]);
  }
  EXPECT_TRUE(flagged.at("atk-cot"));
  EXPECT_TRUE(flagged.at("atk-logprob"));
  int hydra_flagged = 0;
  for (int i = 0; i < 6; ++i) hydra_flagged += flagged.at(fmt::format("hydra-{}", i));
  EXPECT_GE(hydra_flagged, 5);
  int benign_flagged = 0;
  for (auto& [id, f] : flagged) benign_flagged += id.rfind("user-", 0) == 0 && f;
  EXPECT_EQ(benign_flagged, 0);
  // The hydra accounts form one cluster.
  std::set<std::string> hydra_clusters;
  for (auto a : doc["accounts"]) {
    std::string id{std::string_view(a["account_id"])};
    if (id.rfind("hydra-", 0) == 0)
      hydra_clusters.insert(std::string(std::string_view(a["cluster_id"])));
  }
  EXPECT_EQ(hydra_clusters.size(), 1u);
}

TEST_F(EngineTest, SplitInputsMergeInTimeOrder) {
  // Alternate lines into two files: the merged stream must give the same report.
  std::istringstream in(events_);
  std::string line, a, b;
  for (int i = 0; std::getline(in, line); ++i) (i % 2 ? a : b) += line + "\n";
  testutil::WriteAll(dir_ / "a.jsonl", a);
  testutil::WriteAll(dir_ / "b.jsonl", b);
  EXPECT_EQ(ScanToJson({Events()}, Accounts(), {}),
            ScanToJson({(dir_ / "a.jsonl").string(), (dir_ / "b.jsonl").string()}, Accounts(), {}));
}

TEST_F(EngineTest, LateRecordsWithinLatenessAreReordered) {
  // Swap neighbouring lines (records up to a few minutes late): same report, counted as reordered.
  std::istringstream in(events_);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  for (size_t i = 0; i + 1 < lines.size(); i += 7) std::swap(lines[i], lines[i + 1]);
  std::string shuffled;
  for (auto& l : lines) shuffled += l + "\n";
  testutil::WriteAll(dir_ / "late.jsonl", shuffled);
  ScanStats stats;
  const std::string late = ScanToJson({(dir_ / "late.jsonl").string()}, Accounts(), {}, &stats);
  EXPECT_GT(stats.late_reordered, 0u);
  EXPECT_EQ(stats.late_beyond, 0u);
  auto strip = [](std::string s) {  // the input section counts the reordering
    return s.substr(s.find("\"accounts\":["));
  };
  EXPECT_EQ(strip(ScanToJson({Events()}, Accounts(), {})), strip(late));
}

TEST_F(EngineTest, FirstFlaggedAtUsesNoLookAhead) {
  const std::string json = ScanToJson({Events()}, Accounts(), {});
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  std::string when;
  for (auto a : doc["accounts"]) {
    if (std::string_view(a["account_id"]) == "atk-cot")
      when = std::string(std::string_view(a["first_flagged_at"]));
  }
  ASSERT_FALSE(when.empty());
  const TimeUs t = *ParseRfc3339(when);
  // Replaying only the events before that moment must not flag the account; up to and
  // including it must.
  std::istringstream in(events_);
  std::string before, upto;
  for (std::string l; std::getline(in, l);) {
    auto pos = l.find("\"ts\":\"");
    TimeUs ts = *ParseRfc3339(l.substr(pos + 6, 24));
    if (ts < t) before += l + "\n";
    if (ts <= t) upto += l + "\n";
  }
  testutil::WriteAll(dir_ / "before.jsonl", before);
  testutil::WriteAll(dir_ / "upto.jsonl", upto);
  auto flagged_in = [&](const std::string& path) {
    std::string j = ScanToJson({path}, Accounts(), {});
    simdjson::dom::parser q;
    simdjson::dom::element d = q.parse(j);
    for (auto a : d["accounts"]) {
      if (std::string_view(a["account_id"]) == "atk-cot") {
        return std::make_pair(bool(a["flagged"]),
                              a["first_flagged_at"].is_null()
                                  ? std::string()
                                  : std::string(std::string_view(a["first_flagged_at"])));
      }
    }
    return std::make_pair(false, std::string());
  };
  EXPECT_FALSE(flagged_in((dir_ / "before.jsonl").string()).first);
  auto [f, w] = flagged_in((dir_ / "upto.jsonl").string());
  EXPECT_TRUE(f);
  EXPECT_EQ(w, when);
}

// A new account paying with the card of a flagged campaign joins the campaign's verdict at its
// first prompt through the campaign's template, before any barrier has linked it (requests 7 s
// apart, barriers 2 min apart); a card holder sending ordinary prompts is not flagged.
TEST(JoinTest, NewAccountOnAFlaggedCampaignsCardJoinsAtItsFirstTemplatedRequest) {
  const fs::path dir = testutil::TempDir("join");
  std::string accounts;
  std::string events = testutil::SmallTraffic(42, 60, &accounts);
  const TimeUs start = *ParseRfc3339("2025-03-03T20:00:10Z");
  constexpr TimeUs kGap = 7 * kUsPerSec;
  accounts +=
      R"({"account_id":"hydra-late","created_at":"2025-03-03T12:00:00Z","payment_fingerprint":"pm_hydra","email_domain":"mailbox.example"})"
      "\n"
      R"({"account_id":"card-sharer","created_at":"2025-03-03T12:00:00Z","payment_fingerprint":"pm_hydra","email_domain":"home.example"})"
      "\n";
  std::vector<std::pair<TimeUs, std::string>> lines;
  std::istringstream in(events);
  for (std::string l; std::getline(in, l);) {
    const auto pos = l.find("\"ts\":\"");
    lines.emplace_back(*ParseRfc3339(l.substr(pos + 6, 24)), l);
  }
  for (int i = 0; i < 20; ++i) {
    testutil::ExchangeSpec late;
    late.ts = start + i * kGap;
    late.account = "hydra-late";
    late.ip = "198.51.100.200";
    late.user_agent = "python-httpx/0.27.0";
    late.prompt = fmt::format(
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\nExplain concept number {} of chapter {} in "
        "detail.\n\n### Response:",
        9000 + i, i % 17);
    late.completion_tokens = 400;
    lines.emplace_back(late.ts, testutil::ExchangeLine(late));
    testutil::ExchangeSpec other = late;
    other.ts = start + i * kGap + 3 * kUsPerSec;
    other.account = "card-sharer";
    other.ip = "192.0.2.201";
    other.user_agent = "OpenAI/Python 1.54.3";
    other.prompt = fmt::format("Can you help me plan a trip to Lisbon, day {}?", i);
    lines.emplace_back(other.ts, testutil::ExchangeLine(other));
  }
  const std::string json = ScanSortedToJson(dir, lines, accounts);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  std::map<std::string, std::string> flagged_at;
  for (auto a : doc["accounts"]) {
    if (bool(a["flagged"])) {
      flagged_at[std::string(std::string_view(a["account_id"]))] =
          std::string(std::string_view(a["first_flagged_at"]));
    }
  }
  ASSERT_TRUE(flagged_at.count("hydra-0"));
  ASSERT_LT(*ParseRfc3339(flagged_at.at("hydra-0")), start) << "the campaign is flagged first";
  ASSERT_TRUE(flagged_at.count("hydra-late"));
  EXPECT_EQ(flagged_at.at("hydra-late"), FormatRfc3339(start));
  EXPECT_FALSE(flagged_at.count("card-sharer"));
  fs::remove_all(dir);
}

// Legitimate users this guards: companies whose developers use the same few SDK versions from
// several networks (or a remote team sharing a key). A campaign's accounts rotate four SDK agents
// per request, as do five companies' accounts. Behaviour is not identity: the agent set links
// the campaign's accounts, each flagged on its own, into one case, and leaves the companies
// (plain questions, quiet) out of it and unflagged, although they rotate the same agents.
TEST(JoinTest, AccountsSharingOnlyACampaignsAgentSetStayOutOfItsCase) {
  const fs::path dir = testutil::TempDir("join-rotation");
  Rng rng(7);
  const TimeUs t0 = *ParseRfc3339("2025-03-04T00:00:00Z");
  static const char* kAgents[] = {"OpenAI/Python 1.54.3", "OpenAI/NodeJS 4.67.1",
                                  "OpenAI/Python 1.51.2", "litellm/1.52.0"};
  std::vector<std::pair<TimeUs, std::string>> lines;
  for (int a = 0; a < 11; ++a) {
    const bool campaign = a < 6;
    for (int i = 0; i < 150; ++i) {
      testutil::ExchangeSpec s;
      s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 12 * 3600)) * kUsPerSec;
      s.account = campaign ? fmt::format("rot-{}", a) : fmt::format("company-{}", a);
      // The companies' developers also work from several networks (offices, homes, VPNs).
      s.ip = campaign ? fmt::format("203.0.{}.{}", a, 10 + i % 3)
                      : fmt::format("198.{}.{}.7", 18 + a, rng.Below(6));
      s.user_agent = kAgents[rng.Below(std::size(kAgents))];
      if (campaign) {
        s.prompt = testutil::PoolTaskPrompt(rng, a * 1000 + i);
        s.prompt_tokens = 30;
        s.completion_tokens = static_cast<int>(rng.Range(300, 700));
      } else {
        s.prompt = testutil::ChatPrompt(rng, "how does the", " work?");
        s.completion_tokens = static_cast<int>(rng.Range(80, 300));
      }
      lines.emplace_back(s.ts, testutil::ExchangeLine(s));
    }
  }
  const std::string json = ScanSortedToJson(dir, lines);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  std::map<std::string, std::pair<bool, std::string>> by_id;  // flagged, cluster
  for (auto a : doc["accounts"]) {
    std::string cluster;
    if (a["cluster_id"].is_string()) cluster = std::string(std::string_view(a["cluster_id"]));
    by_id[std::string(std::string_view(a["account_id"]))] = {bool(a["flagged"]), cluster};
  }
  ASSERT_TRUE(by_id.count("rot-0"));
  ASSERT_TRUE(by_id.at("rot-0").first) << "the campaign is flagged";
  const std::string cluster = by_id.at("rot-0").second;
  ASSERT_FALSE(cluster.empty());
  for (int a = 1; a < 6; ++a) {
    const auto& [flagged, in] = by_id[fmt::format("rot-{}", a)];
    EXPECT_TRUE(flagged) << "rot-" << a;
    EXPECT_EQ(in, cluster) << "rot-" << a << " is linked to the campaign by the agent set";
  }
  for (int a = 6; a < 11; ++a) {
    const auto& [flagged, in] = by_id[fmt::format("company-{}", a)];
    EXPECT_NE(in, cluster) << "company-" << a << " is linked by behaviour alone";
    EXPECT_FALSE(flagged) << "company-" << a;
  }
  fs::remove_all(dir);
}

// Without an account registry nothing dates an account, and fresh accounts are what tells a
// hydra from a company's accounts running one template. The traffic is the witness: an account
// first seen hours into the input is new to it (EngineOptions::undated_new_after). Six accounts
// brought online nine hours into the log, pushing one template over distinct instructions from
// one network, are flagged as one campaign; the same six seen from the log's first minutes (of
// any age, as far as the log can tell) are not: one template alone does not flag.
TEST(JoinTest, UndatedAccountsFirstSeenHoursIntoTheLogCountAsNew) {
  auto scan = [](TimeUs start) {
    const fs::path dir = testutil::TempDir("undated");
    Rng rng(3);
    const TimeUs t0 = *ParseRfc3339("2025-03-06T00:00:00Z");
    std::vector<std::pair<TimeUs, std::string>> lines;
    for (int a = 0; a < 30; ++a) {
      for (int i = 0; i < 24; ++i) {
        testutil::ExchangeSpec s;
        s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 18 * 3600)) * kUsPerSec;
        s.account = fmt::format("user-{}", a);
        s.ip = fmt::format("198.51.{}.7", a);
        s.prompt = testutil::ChatPrompt(rng);
        s.completion_tokens = static_cast<int>(rng.Range(80, 300));
        lines.emplace_back(s.ts, testutil::ExchangeLine(s));
      }
    }
    for (int a = 0; a < 6; ++a) {
      for (int i = 0; i < 40; ++i) {
        testutil::ExchangeSpec s;
        s.ts = t0 + start + (a * 10 + i * 8) * kUsPerMin;
        s.account = fmt::format("hydra-{}", a);
        s.ip = fmt::format("203.0.113.{}", 10 + a);
        s.user_agent = "python-httpx/0.27.0";
        s.prompt =
            "Below is an instruction that describes a task. Write a response that "
            "appropriately completes the request.\n\n### Instruction:\n" +
            testutil::PoolTaskPrompt(rng, a * 100 + i) + "\n\n### Response:";
        s.prompt_tokens = 60;
        s.completion_tokens = static_cast<int>(rng.Range(200, 350));
        lines.emplace_back(s.ts, testutil::ExchangeLine(s));
      }
    }
    const std::string json = ScanSortedToJson(dir, lines);
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(json);
    std::map<std::string, bool> flagged;
    for (auto a : doc["accounts"])
      flagged[std::string(std::string_view(a["account_id"]))] = bool(a["flagged"]);
    fs::remove_all(dir);
    return flagged;
  };
  auto late = scan(9 * 3600 * kUsPerSec);
  for (int a = 0; a < 6; ++a) EXPECT_TRUE(late[fmt::format("hydra-{}", a)]) << "late hydra-" << a;
  auto early = scan(10 * kUsPerMin);
  for (int a = 0; a < 6; ++a) EXPECT_FALSE(early[fmt::format("hydra-{}", a)]) << "hydra-" << a;
  for (const auto* run : {&late, &early}) {
    for (int a = 0; a < 30; ++a) EXPECT_FALSE(run->at(fmt::format("user-{}", a))) << a;
  }
}

// A quiet member tied to a flagged cluster by identity (here its card) is read on the cluster's
// sample: a fresh account of a reasoning-harvest campaign joins the verdict at the barrier after
// its third step-by-step request, long before its own support (15 requests and more) would speak.
// Legitimate users this could hit: an unrelated company whose developers use the same SDK
// versions (the agent set they rotate is behaviour, which links no quiet account) and asks the
// same kind of step-by-step questions; it is neither in the cluster nor flagged with it.
TEST(JoinTest, IdentityTiedMemberJoinsOnAFewRequestsThatShowTheClustersHarvest) {
  const fs::path dir = testutil::TempDir("join-lent");
  Rng rng(5);
  const TimeUs t0 = *ParseRfc3339("2025-03-05T00:00:00Z");
  const TimeUs late = t0 + 5 * 3600 * kUsPerSec;
  constexpr TimeUs kLateGap = 5 * kUsPerMin;
  static const char* kAgents[] = {"OpenAI/Python 1.54.3", "OpenAI/NodeJS 4.67.1",
                                  "OpenAI/Python 1.51.2"};
  static const char* kOpenings[] = {"my", "our", "why does the", "how can a", "what makes"};
  auto cot_prompt = [&rng] {
    return testutil::ChatPrompt(rng, kOpenings[rng.Below(std::size(kOpenings))],
                                "? Think step by step and explain your reasoning.");
  };
  const std::string accounts =
      R"({"account_id":"cot-0","created_at":"2025-03-01T00:00:00Z","payment_fingerprint":"pm_cot","email_domain":"mail-a.example"})"
      "\n"
      R"({"account_id":"cot-late","created_at":"2025-03-01T00:00:00Z","payment_fingerprint":"pm_cot","email_domain":"mail-b.example"})"
      "\n"
      R"({"account_id":"sdk-company","created_at":"2024-06-01T00:00:00Z","payment_fingerprint":"pm_company","email_domain":"company.example"})"
      "\n";
  std::vector<std::pair<TimeUs, std::string>> lines;
  for (int i = 0; i < 80; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + i * 3 * kUsPerMin;
    s.account = "cot-0";
    s.ip = "203.0.113.10";
    s.user_agent = kAgents[i % 3];
    s.prompt = cot_prompt();
    s.completion_tokens = 900;
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
  for (int i = 0; i < 10; ++i) {
    testutil::ExchangeSpec s;
    s.ts = late + i * kLateGap;
    s.account = "cot-late";
    s.ip = "192.0.2.50";
    s.prompt = cot_prompt();
    s.completion_tokens = 700;
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
    s.ts += 30 * kUsPerSec;
    s.account = "sdk-company";
    s.ip = "198.18.5.5";
    s.user_agent = kAgents[i % 3];
    s.prompt = cot_prompt();
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
  const std::string json = ScanSortedToJson(dir, lines, accounts);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  std::map<std::string, std::pair<std::string, std::string>> by_id;  // flagged at, cluster
  for (auto a : doc["accounts"]) {
    std::string at, cluster;
    if (a["first_flagged_at"].is_string())
      at = std::string(std::string_view(a["first_flagged_at"]));
    if (a["cluster_id"].is_string()) cluster = std::string(std::string_view(a["cluster_id"]));
    by_id[std::string(std::string_view(a["account_id"]))] = {at, cluster};
  }
  ASSERT_FALSE(by_id["cot-0"].first.empty()) << "the campaign is flagged";
  ASSERT_LT(*ParseRfc3339(by_id["cot-0"].first), late) << "before its fresh account starts";
  ASSERT_FALSE(by_id["cot-late"].first.empty());
  EXPECT_LT(*ParseRfc3339(by_id["cot-late"].first), late + 3 * kLateGap)
      << "joined before its fourth request, flagged at " << by_id["cot-late"].first;
  EXPECT_NE(by_id["sdk-company"].second, by_id["cot-0"].second) << "linked by the agent set";
  EXPECT_TRUE(by_id["sdk-company"].first.empty()) << "behaviour does not tie to a verdict";
  // The analyst reads why the fresh account was flagged with the campaign.
  std::string why;
  for (auto a : doc["accounts"]) {
    if (std::string_view(a["account_id"]) != "cot-late") continue;
    for (auto ev : a["evidence"]) {
      if (std::string_view(ev["detector"]) == "cluster")
        why = std::string(std::string_view(ev["detail"]));
    }
  }
  EXPECT_NE(why.find("tied to another member by identity"), std::string::npos) << why;
  EXPECT_NE(why.find("cot_elicitation"), std::string::npos) << why;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg::engine

namespace dg::engine {
namespace {

// Sorts the lines by time, writes them and scans them with the default engine: the report.
report::Report ScanLines(const std::filesystem::path& dir,
                         std::vector<std::pair<TimeUs, std::string>>& lines) {
  std::stable_sort(lines.begin(), lines.end());
  std::string data;
  for (auto& [ts, l] : lines) data += l + "\n";
  testutil::WriteAll(dir / "e.jsonl", data);
  NameTable names;
  Engine eng(EngineOptions{}, names);
  ScanOptions so;
  so.inputs = {(dir / "e.jsonl").string()};
  RunScan(so, eng, names);
  return report::Build(eng);
}

// The scan's one account is not flagged and exactly one of its end users is: that end user.
const report::EndUserEntry* SoleFlaggedEndUser(const report::Report& rep) {
  if (rep.accounts.size() != 1) {
    ADD_FAILURE() << rep.accounts.size() << " accounts in the report";
    return nullptr;
  }
  const auto& a = rep.accounts[0];
  EXPECT_FALSE(a.flagged) << "the host account is judged as a whole";
  if (a.flagged_end_users.size() != 1) {
    ADD_FAILURE() << a.flagged_end_users.size() << " end users flagged";
    return nullptr;
  }
  return &a.flagged_end_users[0];
}

TEST(EndUserTest, ExtractorHiddenAmongAResellersCustomersIsSurfacedWithoutFlaggingTheAccount) {
  auto dir = testutil::TempDir("enduser");
  Rng rng(5);
  std::vector<std::pair<TimeUs, std::string>> lines;
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  // 200 ordinary customers asking chatty questions.
  for (int i = 0; i < 3000; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 2 * 86400)) * kUsPerSec;
    s.account = "reseller";
    s.end_user = fmt::format("cust-{}", rng.Below(200));
    static const char* kWords[] = {"landlord",  "resume", "garden", "taxes", "python", "cat",
                                   "wedding",   "budget", "knee",   "essay", "router", "visa",
                                   "sourdough", "bike",   "boss",   "lease", "novel",  "exam"};
    std::string prompt;
    for (int w = 0, n = static_cast<int>(rng.Range(4, 14)); w < n; ++w) {
      prompt += kWords[rng.Below(std::size(kWords))];
      prompt += w + 1 < n ? " " : "?";
    }
    s.prompt = prompt;
    s.completion_tokens = static_cast<int>(rng.Range(80, 300));
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
  // One end user harvesting chain-of-thought answers through the same account.
  for (int i = 0; i < 300; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(i) * 500 * kUsPerSec;
    s.account = "reseller";
    s.end_user = "harvester-77";
    s.system = "Think step by step and show your complete reasoning before the final answer.";
    s.prompt = fmt::format("Problem {}: what is {} times {} plus {}?", i, rng.Below(999),
                           rng.Below(999), rng.Below(999));
    s.completion_tokens = static_cast<int>(rng.Range(700, 1200));
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
  const auto rep = ScanLines(dir, lines);
  const auto* eu = SoleFlaggedEndUser(rep);
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->end_user, "harvester-77");
  EXPECT_GE(eu->first_flagged_at, t0);
  std::filesystem::remove_all(dir);
}

// An end user pulling instruction-pool answers through a router whose customers chat stands out
// against them within a couple of dozen requests; judged as an account would be, alone, it
// would take twice as many.
TEST(EndUserTest, InstructionPoolEndUserStandsOutAgainstItsHostsCustomers) {
  auto dir = testutil::TempDir("enduser-pool");
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  const TimeUs every = testutil::kPoolEndUserEvery;
  auto lines = testutil::RouterWithPoolEndUser(t0);
  const auto rep = ScanLines(dir, lines);
  const auto* found = SoleFlaggedEndUser(rep);
  ASSERT_NE(found, nullptr);
  const auto& eu = *found;
  EXPECT_EQ(eu.end_user, "pool-9");
  const TimeUs first = t0 + 3600 * kUsPerSec;
  EXPECT_LT(eu.first_flagged_at, first + 30 * every);  // by its 30th request
  bool against_host = false;
  for (const auto& ev : eu.evidence) {
    against_host |=
        ev.detector == "instruction_pool" &&
        ev.detail.find("openings of the account's other end users") != std::string::npos;
  }
  EXPECT_TRUE(against_host) << "the evidence names the comparison";
  std::filesystem::remove_all(dir);
}

// One chatty request of `end_user` on `account` at `ts`.
void AddChat(std::vector<std::pair<TimeUs, std::string>>& lines, Rng& rng,
             const std::string& account, TimeUs ts, std::string end_user) {
  testutil::ExchangeSpec s;
  s.ts = ts;
  s.account = account;
  s.end_user = std::move(end_user);
  s.prompt = testutil::ChatPrompt(rng);
  s.completion_tokens = static_cast<int>(rng.Range(80, 300));
  lines.emplace_back(s.ts, testutil::ExchangeLine(s));
}

// `n` instruction-pool tasks of `end_user` on `account`, one every `every` from `first`.
void AddPoolTasks(std::vector<std::pair<TimeUs, std::string>>& lines, Rng& rng,
                  const std::string& account, const std::string& end_user, TimeUs first,
                  TimeUs every, int n) {
  for (int i = 0; i < n; ++i) {
    testutil::ExchangeSpec s;
    s.ts = first + i * every;
    s.account = account;
    s.end_user = end_user;
    s.prompt = testutil::PoolTaskPrompt(rng, i);
    s.prompt_tokens = 30;
    s.completion_tokens = static_cast<int>(rng.Range(300, 700));
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
}

// A reseller with more busy customers than state slots: from the third hour, 80 customers each
// send ~6 requests an hour, beside a thousand occasional ones. An extractor pacing itself under
// them (4 an hour from the first) holds the lightest slot whenever a busier customer comes back
// for one; it keeps that slot once its answers show harvest evidence, so the evidence adds up
// instead of starting over (without that rule it is never flagged here).
TEST(EndUserTest, PacedExtractorKeepsItsStateSlotAmongBusierCustomers) {
  auto dir = testutil::TempDir("enduser-slots");
  Rng rng(23);
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  std::vector<std::pair<TimeUs, std::string>> lines;
  auto chat = [&](TimeUs ts, std::string end_user) {
    AddChat(lines, rng, "reseller", ts, std::move(end_user));
  };
  auto after = [&](int hour) {
    return t0 + static_cast<TimeUs>(rng.Uniform(hour * 3600, 2 * 86400)) * kUsPerSec;
  };
  for (int i = 0; i < 3000; ++i) chat(after(0), fmt::format("cust-{}", rng.Below(1000)));
  for (int i = 0; i < 80 * 300; ++i) chat(after(2), fmt::format("busy-{}", rng.Below(80)));
  const TimeUs every = 900 * kUsPerSec;
  const TimeUs first = t0;
  AddPoolTasks(lines, rng, "reseller", "pool-3", first, every, 180);
  const auto rep = ScanLines(dir, lines);
  const auto* eu = SoleFlaggedEndUser(rep);
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->end_user, "pool-3");
  EXPECT_LT(eu->first_flagged_at, first + 40 * every) << "by its 40th request";
  std::filesystem::remove_all(dir);
}

// A young app: an extractor is its second end user, and customers come from the third hour. The
// extractor is judged once the app has a few users (not before: until then the account is
// judged as a whole), on everything it sent since it was the second.
TEST(EndUserTest, FirstEndUsersOfAYoungAppAreJudgedOnAllTheySent) {
  auto dir = testutil::TempDir("enduser-young");
  Rng rng(31);
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  std::vector<std::pair<TimeUs, std::string>> lines;
  AddChat(lines, rng, "young-app", t0, "founder");
  const TimeUs customers = t0 + 3 * 3600 * kUsPerSec;
  for (int i = 0; i < 3000; ++i) {
    AddChat(lines, rng, "young-app",
            customers + static_cast<TimeUs>(rng.Uniform(0, 86400)) * kUsPerSec,
            fmt::format("cust-{}", rng.Below(200)));
  }
  const int sent = 120;
  AddPoolTasks(lines, rng, "young-app", "pool-1", t0 + 60 * kUsPerSec, 300 * kUsPerSec, sent);
  const auto rep = ScanLines(dir, lines);
  const auto* eu = SoleFlaggedEndUser(rep);
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->end_user, "pool-1");
  // From its promotion to a state slot (UnitTracker::kPromote requests), all it sent since the
  // app's second end user.
  EXPECT_EQ(eu->requests, static_cast<uint64_t>(sent) - (UnitTracker::kPromote - 1));
  EXPECT_GE(eu->first_flagged_at, customers) << "not before the account relays for others";
  std::filesystem::remove_all(dir);
}

// A company account: `keys` developer keys asking varied questions over two days, 3000 requests.
void AddCompanyTraffic(std::vector<std::pair<TimeUs, std::string>>& lines, TimeUs t0, int keys,
                       Rng& rng) {
  static const char* kWords[] = {"deploy", "unit",  "test",   "refactor", "sql",   "index",
                                 "docker", "queue", "cache",  "latency",  "react", "hook",
                                 "schema", "retry", "logger", "parse",    "csv",   "regex"};
  for (int i = 0; i < 3000; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 2 * 86400)) * kUsPerSec;
    s.account = "acme";
    s.api_key = fmt::format("key-dev-{}", rng.Below(keys));
    std::string prompt;
    for (int w = 0, n = static_cast<int>(rng.Range(5, 16)); w < n; ++w) {
      prompt += kWords[rng.Below(std::size(kWords))];
      prompt += w + 1 < n ? " " : "?";
    }
    s.prompt = prompt;
    s.completion_tokens = static_cast<int>(rng.Range(80, 400));
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
}

// Chain-of-thought harvesting through `key`: `n` requests, one every `every_s` seconds from t0.
void AddKeyHarvest(std::vector<std::pair<TimeUs, std::string>>& lines, TimeUs t0,
                   const std::string& key, Rng& rng, int n = 300, int every_s = 500) {
  for (int i = 0; i < n; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(i) * every_s * kUsPerSec;
    s.account = "acme";
    s.api_key = key;
    s.system = "Think step by step and show your complete reasoning before the final answer.";
    s.prompt = fmt::format("Problem {}: what is {} times {} plus {}?", i, rng.Below(999),
                           rng.Below(999), rng.Below(999));
    s.completion_tokens = static_cast<int>(rng.Range(700, 1200));
    s.top_logprobs = 20;  // and the distribution behind every answer
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
}

// Legitimate user it could hit: a company whose developers share one account through several
// keys. One leaked key taking 44% of its traffic (chain-of-thought answers with their top-20
// distributions: enough to flag the account were it judged whole) is flagged on its own and the
// company, whose other keys stay clean, is not.
TEST(ApiKeyTest, AbusedKeyInsideACompanyIsFlaggedWithoutTheAccount) {
  auto dir = testutil::TempDir("apikey");
  Rng rng(11);
  std::vector<std::pair<TimeUs, std::string>> lines;
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  AddCompanyTraffic(lines, t0, 6, rng);
  // The key leaks half a day into the company's traffic and is drained for the next day.
  AddKeyHarvest(lines, t0 + 12 * 3600 * kUsPerSec, "key-leaked-9", rng, 2400, 40);
  const auto rep = ScanLines(dir, lines);
  ASSERT_EQ(rep.accounts.size(), 1u);
  const auto& a = rep.accounts[0];
  EXPECT_FALSE(a.flagged) << "the company is judged key by key";
  // Its score ranks it below the flag line, as its level says (the key is what flags).
  const double flag_line = scoring::ScoringModel::Builtin().Threshold(scoring::kHigh);
  EXPECT_LT(a.score, flag_line);
  EXPECT_EQ(a.level, scoring::kMedium);
  EXPECT_TRUE(a.flagged_end_users.empty());
  ASSERT_EQ(a.flagged_api_keys.size(), 1u);
  const auto& key = a.flagged_api_keys[0];
  EXPECT_EQ(key.end_user, "key-leaked-9");
  EXPECT_GE(key.first_flagged_at, t0 + 12 * 3600 * kUsPerSec);
  EXPECT_LE(key.requests, 2400u);
  EXPECT_GT(key.requests, 0u);
  bool harvest = false;
  for (const auto& ev : key.evidence) harvest |= ev.family == "harvest";
  EXPECT_TRUE(harvest) << "a key is flagged on harvest evidence";
  std::filesystem::remove_all(dir);
}

// The leaked key is drained from midnight, before any developer arrives: the account, seen with
// one key, is flagged whole; once the developers' keys show it is a company, the flag moves to
// the key and the account's is withdrawn. The key is flagged from when the account was: until
// the second key, the account's traffic was the key's (Engine::SeedFirstKey); judged afresh from
// the developers' arrival it took hundreds more answers before its own flag.
TEST(ApiKeyTest, AccountFlaggedBeforeItsOtherKeysAppearIsRescopedToTheLeakedKey) {
  auto dir = testutil::TempDir("apikey-rescope");
  Rng rng(13);
  std::vector<std::pair<TimeUs, std::string>> lines;
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  AddKeyHarvest(lines, t0, "key-leaked-9", rng, 2400, 40);
  AddCompanyTraffic(lines, t0 + 8 * 3600 * kUsPerSec, 6, rng);
  const auto rep = ScanLines(dir, lines);
  ASSERT_EQ(rep.accounts.size(), 1u);
  const auto& a = rep.accounts[0];
  EXPECT_FALSE(a.flagged);
  EXPECT_LT(a.score, scoring::ScoringModel::Builtin().Threshold(scoring::kHigh))
      << "the withdrawn flag's score is withdrawn with it";
  ASSERT_EQ(a.flagged_api_keys.size(), 1u);
  EXPECT_EQ(a.flagged_api_keys[0].end_user, "key-leaked-9");
  // Seen only up to the developers' arrival, the account is flagged whole.
  std::vector<std::pair<TimeUs, std::string>> night;
  for (auto& l : lines) {
    if (l.first < t0 + 8 * 3600 * kUsPerSec) night.push_back(l);
  }
  const auto early = ScanLines(dir, night);
  ASSERT_EQ(early.accounts.size(), 1u);
  EXPECT_TRUE(early.accounts[0].flagged);
  EXPECT_EQ(a.flagged_api_keys[0].first_flagged_at, early.accounts[0].first_flagged_at);
  std::filesystem::remove_all(dir);
}

// The company alone, with the same keys and no harvester: nothing flagged, no key either.
TEST(ApiKeyTest, CompanyKeysWithoutAHarvesterAreNotFlagged) {
  auto dir = testutil::TempDir("apikey-benign");
  Rng rng(11);
  std::vector<std::pair<TimeUs, std::string>> lines;
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  AddCompanyTraffic(lines, t0, 6, rng);
  const auto rep = ScanLines(dir, lines);
  ASSERT_EQ(rep.accounts.size(), 1u);
  EXPECT_FALSE(rep.accounts[0].flagged);
  EXPECT_TRUE(rep.accounts[0].flagged_api_keys.empty());
  std::filesystem::remove_all(dir);
}

// An extractor spreading its harvest over two keys of its own account gains nothing: each key
// carries half the traffic and both harvest, so the account is judged, and flagged, whole.
TEST(ApiKeyTest, HarvestSpreadOverTheAccountsOwnKeysFlagsTheAccount) {
  auto dir = testutil::TempDir("apikey-spread");
  Rng rng(12);
  std::vector<std::pair<TimeUs, std::string>> lines;
  const TimeUs t0 = *ParseRfc3339("2025-04-01T00:00:00Z");
  AddKeyHarvest(lines, t0, "key-a", rng);
  AddKeyHarvest(lines, t0 + 250 * kUsPerSec, "key-b", rng);
  const auto rep = ScanLines(dir, lines);
  ASSERT_EQ(rep.accounts.size(), 1u);
  EXPECT_TRUE(rep.accounts[0].flagged);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dg::engine

namespace dg::engine {
namespace {

// A report larger than the streaming piece size arrives in several pieces whose concatenation is
// the in-memory report; a sink that fails stops the writer.
TEST(ReportStreaming, PiecesConcatenateToTheReport) {
  auto dir = testutil::TempDir("stream");
  std::string accounts;
  testutil::WriteAll(dir / "events.jsonl", testutil::SmallTraffic(7, 6000, &accounts, 3));
  testutil::WriteAll(dir / "accounts.jsonl", accounts);
  NameTable names;
  Engine eng(EngineOptions{}, names);
  LoadAccountRegistry((dir / "accounts.jsonl").string(), eng, names);
  ScanOptions so;
  so.inputs = {(dir / "events.jsonl").string()};
  const auto stats = RunScan(so, eng, names);
  const auto rep = report::Build(eng);
  const std::string whole = report::ToJson(rep, eng, stats, 0);
  ASSERT_GT(whole.size(), size_t{2} << 20);

  std::string joined;
  int pieces = 0;
  EXPECT_TRUE(report::WriteJson(rep, eng, stats, 0, [&](std::string_view p) {
    joined.append(p);
    ++pieces;
    return true;
  }));
  EXPECT_GE(pieces, 2);
  EXPECT_EQ(joined, whole);

  int calls = 0;
  EXPECT_FALSE(
      report::WriteJson(rep, eng, stats, 0, [&](std::string_view) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg::engine
