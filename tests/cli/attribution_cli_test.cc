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

// Writes a crafted stream and registry into `dir`, scans them and parses the report.
void ScanCrafted(const fs::path& dir, const std::string& events, const std::string& accounts,
                 simdjson::dom::parser& p, simdjson::dom::element& report) {
  testutil::WriteAll(dir / "events.jsonl", events);
  testutil::WriteAll(dir / "accounts.jsonl", accounts);
  auto scan = testutil::Run(fmt::format(
      "{} scan {}/events.jsonl --accounts {}/accounts.jsonl --report {}/report.json -q 2>/dev/null",
      std::string(DG_BINARY), dir.string(), dir.string(), dir.string()));
  ASSERT_EQ(scan.exit_code, 0);
  ASSERT_EQ(p.load((dir / "report.json").string()).get(report), simdjson::SUCCESS);
}

// A crafted case's report, by account and by cluster id.
struct Verdicts {
  std::map<std::string, std::string> cluster_of;
  std::map<std::string, bool> flagged;
  std::map<std::string, std::set<std::string>> evidence;  // cluster id -> detectors
  std::map<std::string, bool> cluster_flagged;
};

// Sorts time-stamped lines into a stream, scans it with `accounts` and reads the verdicts.
void ScanCraftedLines(const fs::path& dir, std::vector<std::pair<TimeUs, std::string>> lines,
                      const std::string& accounts, Verdicts& v) {
  std::sort(lines.begin(), lines.end());
  std::string events;
  for (const auto& [ts, l] : lines) events += l + "\n";
  simdjson::dom::parser p;
  simdjson::dom::element report;
  ASSERT_NO_FATAL_FAILURE(ScanCrafted(dir, events, accounts, p, report));
  for (auto a : report["accounts"].get_array()) {
    const std::string id{std::string_view(a["account_id"])};
    v.cluster_of[id] = std::string(std::string_view(a["cluster_id"]));
    v.flagged[id] = bool(a["flagged"]);
  }
  for (auto c : report["clusters"].get_array()) {
    const std::string id{std::string_view(c["cluster_id"])};
    v.cluster_flagged[id] = bool(c["flagged"]);
    for (auto e : c["evidence"].get_array()) {
      v.evidence[id].insert(std::string(std::string_view(e["detector"])));
    }
  }
}

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
  simdjson::dom::parser p;
  simdjson::dom::element report;
  ASSERT_NO_FATAL_FAILURE(ScanCrafted(dir, events, accounts, p, report));
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

// Behavioural links: accounts with nothing in common in the registry or the network, driven by
// one script that rotates user agents from one list (each flagged on its own: the shared list
// makes them one case), and accounts of one client that rotates its system prompts per request.
// Behaviour groups only accounts each flagged on its own: a quiet late account of the script,
// developers on the same common tools, and a quiet client rotating a list of its own are linked
// by nothing. Controls: accounts on one common agent each.
TEST(AttributionCliTest, RotationListsAndSystemPromptSetsLinkAccounts) {
  const fs::path dir = testutil::TempDir("rotation");
  const TimeUs t0 = *ParseRfc3339("2025-03-03T00:00:00Z");
  const std::vector<std::string> list = {"OpenAI/Python 1.54.3", "OpenAI/NodeJS 4.67.1",
                                         "curl/8.5.0", "python-requests/2.32.3",
                                         "OpenAI/Python 1.51.2"};
  const std::vector<std::string> own_list = {"Go-http-client/2.0", "okhttp/4.12.0", "axios/1.7.7",
                                             "OpenAI/Python 1.54.3"};
  const std::vector<std::string> systems = {"You are Quill, a ghost-writer for Larkspur & Co.",
                                            "Persona 7: answer as a retired ship's engineer.",
                                            "Persona 9: answer as a patient chess coach."};
  // Self-contained tasks with no common opening (no template to link by).
  const std::vector<std::string> verbs = {"Generate", "Classify", "Rewrite", "Summarize",
                                          "Describe", "Write",    "Explain", "List"};
  const std::vector<std::string> adjs = {"three", "formal", "short", "playful",   "technical",
                                         "two",   "vivid",  "plain", "historical"};
  const std::vector<std::string> nouns = {"poems",   "emails",  "recipes",  "riddles",
                                          "slogans", "essays",  "tweets",   "proofs",
                                          "stories", "reviews", "headlines"};
  auto task = [&](int i, int k) {
    return fmt::format("{} {} {} about subject {} for reader {}.", verbs[(7 * i + k) % 8],
                       adjs[(3 * i + 5 * k) % 9], nouns[(i + 2 * k) % 11], i * 31 + k, k);
  };
  std::vector<std::pair<TimeUs, std::string>> lines;
  std::string accounts;
  auto add = [&](const std::string& acct, int i, int k, const std::string& agent,
                 const std::string& system, const std::string& prompt) {
    testutil::ExchangeSpec e;
    e.ts = t0 + i * 37 * kUsPerMin + k * 53 * kUsPerMin;
    e.account = acct;
    e.ip = fmt::format("203.0.{}.{}", 10 + i, 20 + k % 7);
    e.user_agent = agent;
    e.system = system;
    e.prompt = prompt;
    e.completion_tokens = 400;
    e.prompt_tokens = 30;
    lines.emplace_back(e.ts, testutil::ExchangeLine(e));
  };
  for (int i = 0; i < 10; ++i) {
    const std::string rot = fmt::format("rot-{}", i), dev = fmt::format("dev-{}", i);
    for (const auto& a : {rot, dev}) {
      accounts += fmt::format(
          R"({{"account_id": "{}", "created_at": "{}", "payment_fingerprint": "pm_{}", )"
          R"("email_domain": "{}.example"}})"
          "\n",
          a, FormatRfc3339(t0 - (40 + 9 * i + (a[0] == 'd')) * kUsPerDay), a, a);
    }
    for (int k = 0; k < 48; ++k) {
      // A new agent every other request: three by the 5th request, all five by the 9th.
      add(rot, i, k, list[(i + k / 2) % list.size()], "", task(i, k));
      if (k < 16) add(dev, i, k, list[i % list.size()], "", task(i + 10, k));
    }
  }
  // Late accounts of the script: six requests each, so three agents of the list (the set rot-0
  // held at its 5th request). One rotates them evenly, the other keeps one agent for most
  // requests (a person trying two other tools once). Both are too quiet to flag.
  for (int k = 0; k < 6; ++k) {
    add("late-rot", 40, k, list[k / 2], "", task(70, k));
    add("late-dev", 41, k, list[k < 4 ? 0 : k - 3], "", task(71, k));
  }
  // Developers who each use the same three common tools evenly (an SDK, curl, Postman), asking
  // about their own work: one agent set, no link, condemned by nothing.
  const std::vector<std::string> tools = {"OpenAI/Python 1.54.3", "curl/8.5.0",
                                          "PostmanRuntime/7.42.0"};
  for (int i = 0; i < 6; ++i) {
    const std::string a = fmt::format("tools-{}", i);
    accounts +=
        fmt::format(R"({{"account_id": "{}", "created_at": "{}", "payment_fingerprint": "pm_{}", )"
                    R"("email_domain": "{}.example"}})"
                    "\n",
                    a, FormatRfc3339(t0 - (200 + i) * kUsPerDay), a, a);
    for (int k = 0; k < 24; ++k) {
      add(a, 50 + i, k, tools[k % 3], "",
          fmt::format("My service {} returns error {} when I call it from my app, why?", i, k));
    }
  }
  for (const char* a : {"late-rot", "late-dev"}) {
    accounts +=
        fmt::format(R"({{"account_id": "{}", "created_at": "{}", "payment_fingerprint": "pm_{}", )"
                    R"("email_domain": "{}.example"}})"
                    "\n",
                    a, FormatRfc3339(t0 - 90 * kUsPerDay), a, a);
  }
  for (int i = 0; i < 2; ++i) {
    for (int k = 0; k < 16; ++k) {
      add(fmt::format("own-{}", i), 20 + i, k, own_list[k % own_list.size()], "",
          fmt::format("Write note {} for project {}.", k, i));
    }
  }
  // A background of ordinary accounts, each with a system prompt of its own: rarity is judged
  // against a population (the share of accounts holding a value), not a handful of accounts.
  for (int i = 0; i < 400; ++i) {
    for (int k = 0; k < 6; ++k) {
      add(fmt::format("bg-{}", i), i % 50, k, "OpenAI/Python 1.54.3",
          fmt::format("You are the assistant of shop number {}.", i), task(60 + i, k));
    }
  }
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 12; ++k) {
      add(fmt::format("sys-{}", i), 100 + i, k, "OpenAI/Python 1.54.3", systems[k % 3],
          task(40 + i, k));
    }
  }
  Verdicts v;
  ASSERT_NO_FATAL_FAILURE(ScanCraftedLines(dir, std::move(lines), accounts, v));
  auto& [cluster_of, flagged, evidence, cluster_flagged] = v;
  const std::string rot = cluster_of["rot-0"];
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(cluster_of[fmt::format("rot-{}", i)], rot) << i;
    EXPECT_TRUE(flagged[fmt::format("rot-{}", i)]) << i;
    // One agent each, from the same list: nothing rare in common, no link.
    EXPECT_NE(cluster_of[fmt::format("dev-{}", i)], rot) << i;
    EXPECT_NE(cluster_of[fmt::format("dev-{}", i)],
              cluster_of[fmt::format("dev-{}", (i + 5) % 10)]);
    EXPECT_FALSE(flagged[fmt::format("dev-{}", i)]) << i;
  }
  EXPECT_TRUE(evidence[rot].count("link.user_agent_set"));
  EXPECT_FALSE(evidence[rot].count("link.prompt_template"));
  EXPECT_TRUE(evidence[rot].count("client_rotation")) << "the cluster rotates as a whole";
  EXPECT_TRUE(cluster_flagged[rot]);
  // The script's late accounts hold three agents of its list, but quiet: behaviour alone
  // groups them with no one.
  for (const char* late : {"late-rot", "late-dev"}) {
    EXPECT_NE(cluster_of[late], rot) << late;
    EXPECT_FALSE(flagged[late]) << late;
  }
  // (The developers' question wording and the quiet client's notes are templates of their own,
  // which may link them; what is asserted is that their agent sets do not.)
  const std::string tools_cluster = cluster_of["tools-0"];
  EXPECT_NE(tools_cluster, rot);
  EXPECT_FALSE(evidence[tools_cluster].count("link.user_agent_set"))
      << "three common tools each are no identity";
  EXPECT_FALSE(cluster_flagged[tools_cluster]);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(flagged[fmt::format("tools-{}", i)]) << i;
  // A quiet client's list of its own links its two accounts by no agent set.
  EXPECT_FALSE(evidence[cluster_of["own-0"]].count("link.user_agent_set"));
  EXPECT_NE(cluster_of["own-0"], rot);

  const std::string sys = cluster_of["sys-0"];
  for (int i = 1; i < 4; ++i) EXPECT_EQ(cluster_of[fmt::format("sys-{}", i)], sys) << i;
  EXPECT_TRUE(evidence[sys].count("link.system_prompt"));
  EXPECT_FALSE(evidence[sys].count("link.prompt_template"));
  EXPECT_FALSE(cluster_flagged[sys]) << "shared system prompts alone condemn no one";
  fs::remove_all(dir);
}

// Behaviour links only the flagged: three logprob extractors sharing no payment, network,
// agent, email or template, each flagged on its own, send one rare parameter profile
// (logprobs, top_logprobs = 20, max_tokens = 1, temperature 0, logit_bias every time) and become
// one case; three quiet accounts with a rare profile of their own (one temperature and token
// limit, tiny answers) stay apart and unflagged; a flagged rejection sampler with another
// profile stays out of the extractors' case.
TEST(AttributionCliTest, ParameterProfilesLinkFlaggedAccountsOnly) {
  const fs::path dir = testutil::TempDir("profile");
  const TimeUs t0 = *ParseRfc3339("2025-03-03T00:00:00Z");
  const std::vector<std::string> agents = {
      "python-httpx/0.27.2", "OpenAI/Python 1.54.3", "curl/8.5.0",          "okhttp/4.12.0",
      "axios/1.7.7",         "Go-http-client/2.0",   "OpenAI/NodeJS 4.67.1"};
  // Prompts with no common opening or ending (no template to link by).
  const std::vector<std::string> w1 = {"Is",    "Does", "Could", "Should", "Would",
                                       "Might", "Can",  "Will",  "Must",   "Do"};
  const std::vector<std::string> w2 = {"the river", "my cat",    "a ledger", "this tune",
                                       "our roof",  "the motor", "a comet",  "her essay",
                                       "the bread", "a bridge",  "his phone"};
  const std::vector<std::string> w3 = {"rust",    "sing",   "float", "melt",   "hold",
                                       "bloom",   "wobble", "glow",  "shrink", "echo",
                                       "sparkle", "settle", "drift"};
  auto text = [&](int i, int k) {
    return fmt::format("{} {} {} near mark {} {}?", w1[(3 * k + i) % 10], w2[(k + 5 * i) % 11],
                       w3[(7 * k + 2 * i) % 13], k * 13 + i * 101, w2[(2 * k + i) % 11]);
  };
  std::vector<std::pair<TimeUs, std::string>> lines;
  std::string accounts;
  int account_no = 0;
  auto account = [&](const std::string& id) {
    accounts +=
        fmt::format(R"({{"account_id": "{}", "created_at": "{}", "payment_fingerprint": "pm_{}", )"
                    R"("email_domain": "{}.example"}})"
                    "\n",
                    id, FormatRfc3339(t0 - (30 + 7 * account_no) * kUsPerDay), id, id);
    return account_no++;
  };
  auto send = [&](const std::string& id, int no, int k, testutil::ExchangeSpec e) {
    e.ts = t0 + no * 7 * kUsPerMin + k * 3 * kUsPerMin;
    e.account = id;
    e.ip = fmt::format("198.{}.{}.{}", 18 + no, 10 + no, 20 + k % 5);
    e.user_agent = agents[static_cast<size_t>(no) % agents.size()];
    lines.emplace_back(e.ts, testutil::ExchangeLine(e));
  };
  for (int i = 0; i < 3; ++i) {
    const std::string id = fmt::format("lp-{}", i);
    const int no = account(id);
    for (int k = 0; k < 90; ++k) {
      testutil::ExchangeSpec e;
      e.prompt = text(i, k);
      e.temperature = 0;
      e.top_logprobs = 20;
      e.logit_bias = 1 + k % 30;
      e.max_tokens = 1;
      e.completion_tokens = 1;
      send(id, no, k, e);
    }
  }
  for (int i = 0; i < 3; ++i) {
    const std::string id = fmt::format("quiet-{}", i);
    const int no = account(id);
    for (int k = 0; k < 90; ++k) {
      testutil::ExchangeSpec e;
      e.prompt = text(10 + i, k);
      e.temperature = 0.15;
      e.max_tokens = 3;
      e.completion_tokens = 1;
      e.prompt_tokens = 60;
      send(id, no, k, e);
    }
  }
  {
    const int no = account("ns-0");
    for (int k = 0; k < 90; ++k) {
      testutil::ExchangeSpec e;
      e.prompt = text(60, k);
      e.temperature = 1.2;
      e.n = 8;
      e.completion_tokens = 2400;
      send("ns-0", no, k, e);
    }
  }
  // Ordinary accounts, for a population: one profile shared by all of them.
  for (int i = 0; i < 30; ++i) {
    const std::string id = fmt::format("bg-{}", i);
    const int no = account(id);
    for (int k = 0; k < 55; ++k) {
      testutil::ExchangeSpec e;
      e.prompt = text(20 + i, k);
      send(id, no, k, e);
    }
  }
  Verdicts v;
  ASSERT_NO_FATAL_FAILURE(ScanCraftedLines(dir, std::move(lines), accounts, v));
  auto& [cluster_of, flagged, evidence, cluster_flagged] = v;
  const std::string lp = cluster_of["lp-0"];
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(flagged[fmt::format("lp-{}", i)]) << i;
    EXPECT_EQ(cluster_of[fmt::format("lp-{}", i)], lp) << i;
    EXPECT_FALSE(flagged[fmt::format("quiet-{}", i)]) << i;
    EXPECT_NE(cluster_of[fmt::format("quiet-{}", i)], lp) << i;
    EXPECT_NE(cluster_of[fmt::format("quiet-{}", i)],
              cluster_of[fmt::format("quiet-{}", (i + 1) % 3)])
        << "a shared profile links no unflagged account";
  }
  EXPECT_TRUE(evidence[lp].count("link.parameter_profile"));
  EXPECT_TRUE(flagged["ns-0"]);
  EXPECT_NE(cluster_of["ns-0"], lp);
  EXPECT_NE(cluster_of["bg-0"], cluster_of["bg-1"]);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg
