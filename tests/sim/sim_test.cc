// Simulator tests: determinism, output contract, per-knob statistical signatures, corpora, and
// error handling of bad scenario files (through the real binary).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/time.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace dg::sim {
namespace {
namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path TempDir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("dg_sim_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string ScenarioPath(const std::string& name) {
  return std::string(DG_SOURCE_DIR) + "/scenarios/" + name + ".toml";
}

SimStats RunSim(const Scenario& sc, const fs::path& out, uint64_t seed = 0, bool seed_given = false,
                const std::string& corpora = "") {
  SimOptions opt;
  opt.out_dir = out.string();
  opt.seed = seed;
  opt.seed_given = seed_given;
  opt.corpora_dir = corpora;
  return Simulate(sc, opt);
}

// A parsed event, reduced to what the tests look at.
struct Ev {
  std::string ts, account, end_user, ip, agent, model, system, user;
  double temperature = -1;
  int64_t n = -1, max_tokens = -1, top_logprobs = -1, completion = -1, reasoning = -1;
  bool logprobs = false, logit_bias = false, has_tools = false;
  std::string effort;
  int n_messages = 0;
};

std::vector<Ev> ParseEvents(const fs::path& file) {
  std::vector<Ev> out;
  simdjson::dom::parser parser;
  std::ifstream in(file);
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    simdjson::dom::element e;
    auto err = parser.parse(line).get(e);
    EXPECT_FALSE(err) << "line " << lineno << " is not JSON";
    if (err) continue;
    Ev ev;
    std::string_view sv;
    EXPECT_FALSE(e["ts"].get_string().get(sv)) << lineno;
    ev.ts = sv;
    EXPECT_TRUE(ParseRfc3339(ev.ts).has_value()) << ev.ts;
    EXPECT_FALSE(e["account_id"].get_string().get(sv)) << lineno;
    ev.account = sv;
    for (const char* k : {"api_key_id", "client_ip", "user_agent", "client_fingerprint",
                          "client_asn_org", "endpoint"}) {
      EXPECT_FALSE(e[k].get_string().get(sv)) << k << " missing on line " << lineno;
    }
    int64_t asn;
    EXPECT_FALSE(e["client_asn"].get_int64().get(asn));
    double lat;
    EXPECT_FALSE(e["latency_ms"].get_double().get(lat));
    if (!e["end_user"].get_string().get(sv)) ev.end_user = sv;
    if (!e["client_ip"].get_string().get(sv)) ev.ip = sv;
    if (!e["user_agent"].get_string().get(sv)) ev.agent = sv;
    simdjson::dom::object req;
    EXPECT_FALSE(e["request"].get_object().get(req));
    EXPECT_FALSE(req["model"].get_string().get(sv));
    ev.model = sv;
    simdjson::dom::array msgs;
    EXPECT_FALSE(req["messages"].get_array().get(msgs));
    for (auto m : msgs) {
      std::string_view role, content;
      EXPECT_FALSE(m["role"].get_string().get(role));
      ++ev.n_messages;
      if (m["content"].get_string().get(content)) continue;
      if (role == "system") ev.system = content;
      if (role == "user") ev.user = content;
    }
    double d;
    int64_t i;
    bool b;
    if (!req["temperature"].get_double().get(d)) ev.temperature = d;
    if (!req["n"].get_int64().get(i)) ev.n = i;
    if (!req["max_tokens"].get_int64().get(i)) ev.max_tokens = i;
    if (!req["max_completion_tokens"].get_int64().get(i)) ev.max_tokens = i;
    if (!req["top_logprobs"].get_int64().get(i)) ev.top_logprobs = i;
    if (!req["logprobs"].get_bool().get(b)) ev.logprobs = b;
    ev.logit_bias = req["logit_bias"].error() == simdjson::SUCCESS;
    ev.has_tools = req["tools"].error() == simdjson::SUCCESS;
    if (!req["reasoning_effort"].get_string().get(sv)) ev.effort = sv;
    simdjson::dom::object resp;
    EXPECT_FALSE(e["response"].get_object().get(resp));
    int64_t status = 0;
    EXPECT_FALSE(resp["status"].get_int64().get(status));
    if (status == 200) {
      EXPECT_FALSE(resp["usage"]["completion_tokens"].get_int64().get(ev.completion));
      EXPECT_FALSE(resp["usage"]["prompt_tokens"].get_int64().get(i));
      if (!resp["usage"]["completion_tokens_details"]["reasoning_tokens"].get_int64().get(i))
        ev.reasoning = i;
      simdjson::dom::array choices;
      EXPECT_FALSE(resp["choices"].get_array().get(choices));
    }
    out.push_back(std::move(ev));
  }
  return out;
}

struct Labels {
  std::map<std::string, std::string> persona, label;
  std::map<std::string, std::vector<std::string>> campaign_accounts, campaign_end_users;
};

Labels ParseLabels(const fs::path& file) {
  Labels l;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string text = ReadAll(file);
  EXPECT_FALSE(parser.parse(text).get(root));
  simdjson::dom::object accts, camps;
  EXPECT_FALSE(root["accounts"].get_object().get(accts));
  for (auto [id, v] : accts) {
    std::string_view s;
    EXPECT_FALSE(v["label"].get_string().get(s));
    l.label[std::string(id)] = s;
    EXPECT_FALSE(v["persona"].get_string().get(s));
    l.persona[std::string(id)] = s;
    EXPECT_TRUE(v["campaign"].is_null() || v["campaign"].is_string());
  }
  EXPECT_FALSE(root["campaigns"].get_object().get(camps));
  for (auto [name, v] : camps) {
    simdjson::dom::array arr;
    EXPECT_FALSE(v["accounts"].get_array().get(arr));
    for (auto a : arr) l.campaign_accounts[std::string(name)].emplace_back(a.get_string().value());
    if (!v["end_users"].get_array().get(arr))
      for (auto a : arr)
        l.campaign_end_users[std::string(name)].emplace_back(a.get_string().value());
  }
  return l;
}

std::string Subnet24(const std::string& ip) { return ip.substr(0, ip.rfind('.')); }

// ---------------------------------------------------------------------------------------------

class TinyScenario : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TempDir("tiny"));
    Scenario sc = LoadScenarioFile(ScenarioPath("tiny"));
    stats_ = RunSim(sc, *dir_);
    events_ = new std::vector<Ev>(ParseEvents(*dir_ / "events.jsonl"));
    labels_ = new Labels(ParseLabels(*dir_ / "labels.json"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete events_;
    delete labels_;
  }
  // Events of a persona (by account persona; hidden end users are excluded).
  static std::vector<const Ev*> Of(const std::string& persona) {
    std::set<std::string> hidden;
    for (auto& [c, eus] : labels_->campaign_end_users) hidden.insert(eus.begin(), eus.end());
    std::vector<const Ev*> v;
    for (const auto& e : *events_)
      if (labels_->persona.at(e.account) == persona && !hidden.count(e.end_user)) v.push_back(&e);
    return v;
  }
  static std::vector<const Ev*> OfCampaign(const std::string& campaign) {
    std::vector<const Ev*> v;
    auto& accts = labels_->campaign_accounts[campaign];
    std::set<std::string> a(accts.begin(), accts.end());
    for (const auto& e : *events_)
      if (a.count(e.account)) v.push_back(&e);
    return v;
  }
  static fs::path* dir_;
  static SimStats stats_;
  static std::vector<Ev>* events_;
  static Labels* labels_;
};
fs::path* TinyScenario::dir_ = nullptr;
SimStats TinyScenario::stats_;
std::vector<Ev>* TinyScenario::events_ = nullptr;
Labels* TinyScenario::labels_ = nullptr;

TEST_F(TinyScenario, SizeIsAFewThousandEvents) {
  EXPECT_EQ(stats_.events, events_->size());
  EXPECT_GT(events_->size(), 1500u);
  EXPECT_LT(events_->size(), 20000u);
}

TEST_F(TinyScenario, TimeOrderedAndInsideTheScenario) {
  Scenario sc = LoadScenarioFile(ScenarioPath("tiny"));
  std::string prev;
  for (const auto& e : *events_) {
    ASSERT_LE(prev, e.ts);
    prev = e.ts;
    auto t = ParseRfc3339(e.ts);
    ASSERT_TRUE(t);
    EXPECT_GE(*t, sc.start);
    EXPECT_LT(*t, sc.End());
    ASSERT_EQ(e.ts.size(), 24u) << e.ts;  // 2025-03-04T00:00:00.000Z
  }
}

TEST_F(TinyScenario, LabelsAndAccountsConsistent) {
  std::set<std::string> registry;
  simdjson::dom::parser parser;
  std::ifstream in(*dir_ / "accounts.jsonl");
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element e;
    ASSERT_FALSE(parser.parse(line).get(e));
    std::string_view id, created;
    ASSERT_FALSE(e["account_id"].get_string().get(id));
    ASSERT_FALSE(e["created_at"].get_string().get(created));
    EXPECT_TRUE(ParseRfc3339(created));
    for (const char* k : {"payment_fingerprint", "email_domain", "country", "tier"})
      EXPECT_TRUE(e[k].is_string()) << k;
    registry.insert(std::string(id));
  }
  EXPECT_EQ(registry.size(), labels_->label.size());
  for (const auto& [id, l] : labels_->label) EXPECT_TRUE(registry.count(id)) << id;
  for (const auto& e : *events_) ASSERT_TRUE(labels_->label.count(e.account)) << e.account;
  // No account is used before it exists.
  std::map<std::string, TimeUs> created;
  {
    std::ifstream in2(*dir_ / "accounts.jsonl");
    for (std::string line; std::getline(in2, line);) {
      simdjson::dom::element e;
      ASSERT_FALSE(parser.parse(line).get(e));
      created[std::string(e["account_id"].get_string().value())] =
          *ParseRfc3339(e["created_at"].get_string().value());
    }
  }
  for (const auto& e : *events_) ASSERT_GT(*ParseRfc3339(e.ts), created.at(e.account));
  for (const auto& [c, accts] : labels_->campaign_accounts)
    for (const auto& a : accts) EXPECT_EQ(labels_->label.at(a), "attack") << c;
  std::set<std::string> seen;
  for (const auto& e : *events_) seen.insert(e.account);
  EXPECT_GT(seen.size(), 40u);
}

TEST_F(TinyScenario, HydraSharesPaymentSubnetsAgentAndTemplate) {
  auto& accts = labels_->campaign_accounts["hydra"];
  ASSERT_EQ(accts.size(), 24u);
  std::set<std::string> payments;
  std::map<std::string, std::string> payment_of;
  simdjson::dom::parser parser;
  std::ifstream in(*dir_ / "accounts.jsonl");
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element e;
    ASSERT_FALSE(parser.parse(line).get(e));
    payment_of[std::string(e["account_id"].get_string().value())] =
        std::string(e["payment_fingerprint"].get_string().value());
  }
  for (auto& a : accts) payments.insert(payment_of.at(a));
  EXPECT_LE(payments.size(), 3u);  // groups of 8..12
  auto ev = OfCampaign("hydra");
  ASSERT_GT(ev.size(), 100u);
  std::set<std::string> subnets, agents, users;
  for (auto* e : ev) {
    subnets.insert(Subnet24(e->ip));
    agents.insert(e->agent);
    EXPECT_EQ(e->user.rfind("Below is an instruction that describes a task.", 0), 0u) << e->user;
    users.insert(e->user);
  }
  EXPECT_LE(subnets.size(), 3u);
  EXPECT_EQ(agents.size(), 1u);
  // Disjoint shards: almost no prompt is sent twice.
  EXPECT_GT(users.size(), ev.size() * 9 / 10);
}

TEST_F(TinyScenario, BatchJobIsHugeWithTinyOutputs) {
  auto batch = Of("batch_classifier");
  auto hobby = Of("hobbyist");
  ASSERT_GT(batch.size(), 500u);
  EXPECT_GT(batch.size(), 10 * hobby.size() / 40);  // one account vs. an average hobbyist
  double sum = 0;
  for (auto* e : batch) {
    EXPECT_LE(e->max_tokens, 5);
    EXPECT_GE(e->max_tokens, 1);
    if (e->completion >= 0) sum += static_cast<double>(e->completion);
    EXPECT_LE(e->completion, 5);
  }
  EXPECT_LT(sum / static_cast<double>(batch.size()), 4.0);
  std::set<std::string> prefixes;
  for (auto* e : batch) prefixes.insert(e->user.substr(0, 40));
  EXPECT_EQ(prefixes.size(), 1u);  // one template
}

TEST_F(TinyScenario, EvalHarnessAtTemperatureZero) {
  auto ev = Of("eval_harness");
  ASSERT_GT(ev.size(), 100u);
  for (auto* e : ev) EXPECT_EQ(e->temperature, 0.0);
}

TEST_F(TinyScenario, LogprobCampaignAsksForLogprobsAndBias) {
  auto ev = OfCampaign("logprob-extraction");
  ASSERT_GT(ev.size(), 50u);
  for (auto* e : ev) {
    EXPECT_TRUE(e->logprobs);
    EXPECT_EQ(e->top_logprobs, 20);
    EXPECT_TRUE(e->logit_bias);
    EXPECT_EQ(e->max_tokens, 1);
    if (e->completion >= 0) {
      EXPECT_EQ(e->completion, 1);
    }
  }
}

TEST_F(TinyScenario, RejectionSamplingUsesNAboveOneAndRepeatsPrompts) {
  auto ev = OfCampaign("n-sampling");
  ASSERT_GT(ev.size(), 30u);
  std::map<std::string, int> repeats;
  for (auto* e : ev) {
    EXPECT_GT(e->n, 1);
    EXPECT_GE(e->temperature, 1.0);
    ++repeats[e->user];
  }
  EXPECT_LT(repeats.size() * 2, ev.size());  // each prompt sent several times
}

TEST_F(TinyScenario, CotCampaignElicitsReasoning) {
  auto ev = OfCampaign("cot-elicitation");
  ASSERT_GT(ev.size(), 30u);
  for (auto* e : ev) {
    std::string text = e->system + "\n" + e->user;
    bool phrase = text.find("step by step") != std::string::npos ||
                  text.find("chain of thought") != std::string::npos ||
                  text.find("逐步") != std::string::npos;
    EXPECT_TRUE(phrase) << text;
    EXPECT_EQ(e->effort, "high");
    if (e->reasoning >= 0) {
      EXPECT_GT(e->reasoning, 300);
    }
  }
}

TEST_F(TinyScenario, ResellerHasManyEndUsersAndHidesACampaign) {
  auto ev = Of("reseller");
  ASSERT_GT(ev.size(), 300u);
  std::set<std::string> eus;
  for (auto* e : ev) eus.insert(e->end_user);
  EXPECT_GT(eus.size(), 150u);
  auto& hidden = labels_->campaign_end_users["reseller-hidden"];
  ASSERT_EQ(hidden.size(), 3u);
  EXPECT_TRUE(labels_->campaign_accounts["reseller-hidden"].empty());
  std::set<std::string> h(hidden.begin(), hidden.end());
  size_t hidden_events = 0;
  for (const auto& e : *events_) {
    if (!h.count(e.end_user)) continue;
    ++hidden_events;
    EXPECT_EQ(labels_->persona.at(e.account), "reseller");
    EXPECT_EQ(labels_->label.at(e.account), "benign");
  }
  EXPECT_GT(hidden_events, 50u);
}

TEST_F(TinyScenario, CompanyAccountsShareOfficeRangeAndCard) {
  auto ev = Of("company");
  ASSERT_GT(ev.size(), 20u);
  std::map<std::string, std::string> subnet_of;
  for (auto* e : ev) subnet_of[e->account] = Subnet24(e->ip);
  std::set<std::string> subnets;
  for (auto& [a, s] : subnet_of) subnets.insert(s);
  EXPECT_LE(subnets.size(), 2u);  // 6 accounts in groups of 3
  EXPECT_GE(subnet_of.size(), 4u);
}

TEST_F(TinyScenario, CodingAgentsUseToolsAndLongContexts) {
  auto ev = Of("coding_agent");
  ASSERT_GT(ev.size(), 10u);
  int max_msgs = 0;
  for (auto* e : ev) {
    EXPECT_TRUE(e->has_tools);
    max_msgs = std::max(max_msgs, e->n_messages);
  }
  EXPECT_GE(max_msgs, 6);
}

// ---------------------------------------------------------------------------------------------

TEST(Simulator, DeterministicForASeed) {
  Scenario sc = LoadScenarioFile(ScenarioPath("tiny"));
  auto a = TempDir("det_a"), b = TempDir("det_b"), c = TempDir("det_c");
  RunSim(sc, a, 11, true);
  RunSim(sc, b, 11, true);
  RunSim(sc, c, 12, true);
  for (const char* f : {"events.jsonl", "accounts.jsonl", "labels.json"}) {
    std::string x = ReadAll(a / f), y = ReadAll(b / f), z = ReadAll(c / f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f << " differs between two runs with the same seed";
    EXPECT_NE(x, z) << f << " identical for different seeds";
  }
  for (auto& d : {a, b, c}) fs::remove_all(d);
}

constexpr const char* kRateScenario = R"(
[scenario]
name = "rates"
start = "2025-03-03T00:00:00Z"
duration_hours = 48

[[population]]
name = "steady"
label = "benign"
count = 20
account_age_days = [10, 20]
sessions_per_day = 24
session_requests = 5
gap_seconds = 1
turns = 1

[[population]]
name = "daytime"
label = "benign"
count = 20
sessions_per_day = 50
diurnal = 1.0
tz_offsets = [0]
)";

TEST(Simulator, RatesAndDiurnalShapeFollowKnobs) {
  Scenario sc = ParseScenario(kRateScenario, "rates.toml");
  auto dir = TempDir("rates");
  RunSim(sc, dir);
  auto events = ParseEvents(dir / "events.jsonl");
  auto labels = ParseLabels(dir / "labels.json");
  size_t steady = 0, day = 0, night = 0;
  for (const auto& e : events) {
    if (labels.persona.at(e.account) == "steady") {
      ++steady;
    } else {
      int hour = std::stoi(e.ts.substr(11, 2));
      if (hour >= 12 && hour < 18) ++day;
      if (hour < 6) ++night;
    }
  }
  const double expected = 20 * 2 * 24 * 5;  // accounts * days * sessions/day * requests/session
  EXPECT_NEAR(static_cast<double>(steady), expected, expected * 0.1);
  EXPECT_GT(day, 4 * night);
  fs::remove_all(dir);
}

TEST(Simulator, ReadsRealCorporaWhenAvailable) {
  const char* shared = std::getenv("DG_SHARED_DIR");
  fs::path corpora = shared ? fs::path(shared) / "data" / "corpora" : fs::path();
  if (!shared || !fs::is_directory(corpora / "distill"))
    GTEST_SKIP() << "DG_SHARED_DIR/data/corpora not present";
  // Every first turn of the alpaca files, to check hydra prompts come from the corpus.
  std::set<std::string> alpaca;
  simdjson::dom::parser parser;
  for (const auto& f : fs::directory_iterator(corpora / "distill")) {
    if (f.path().filename().string().rfind("alpaca", 0) != 0) continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element e;
      ASSERT_FALSE(parser.parse(line).get(e));
      alpaca.insert(std::string(e["turns"].at(0).get_string().value()));
    }
  }
  ASSERT_GT(alpaca.size(), 1000u);
  Scenario sc = LoadScenarioFile(ScenarioPath("tiny"));
  auto dir = TempDir("corpora");
  RunSim(sc, dir, 0, false, corpora.string());
  auto events = ParseEvents(dir / "events.jsonl");
  auto labels = ParseLabels(dir / "labels.json");
  std::set<std::string> hydra(labels.campaign_accounts["hydra"].begin(),
                              labels.campaign_accounts["hydra"].end());
  size_t n = 0, from_corpus = 0;
  const std::string pre = "### Instruction:\n", post = "\n\n### Response:";
  for (const auto& e : events) {
    if (!hydra.count(e.account)) continue;
    ++n;
    size_t a = e.user.find(pre), b = e.user.rfind(post);
    ASSERT_NE(a, std::string::npos);
    ASSERT_NE(b, std::string::npos);
    if (alpaca.count(e.user.substr(a + pre.size(), b - a - pre.size()))) ++from_corpus;
  }
  ASSERT_GT(n, 100u);
  EXPECT_EQ(from_corpus, n);
  fs::remove_all(dir);
}

TEST(Simulator, TemplateFilesFromCorporaWithFallback) {
  constexpr const char* kText = R"(
[scenario]
name = "templates"
duration_hours = 6
[[population]]
name = "sweeper"
label = "attack"
sessions_per_day = 48
prompts = "benchmark:gsm8k"
wrappers = ["{file:metamath_ansaug_cot_gsm8k.txt}\n\nQuestion: {prompt}\nA: Let's think step by step."]
wrappers_fallback = ["Question: {prompt}\nA: Let's think step by step."]
)";
  Scenario sc = ParseScenario(kText, "templates.toml");
  auto dir = TempDir("templates");
  RunSim(sc, dir);
  auto plain = ParseEvents(dir / "events.jsonl");
  ASSERT_GT(plain.size(), 3u);
  for (const auto& e : plain) EXPECT_EQ(e.user.rfind("Question: ", 0), 0u) << e.user;
  const char* shared = std::getenv("DG_SHARED_DIR");
  fs::path corpora = shared ? fs::path(shared) / "data" / "corpora" : fs::path();
  if (!shared || !fs::exists(corpora / ".." / "templates" / "metamath_ansaug_cot_gsm8k.txt"))
    GTEST_SKIP() << "DG_SHARED_DIR/data/templates not present";
  std::string tmpl = ReadAll(corpora / ".." / "templates" / "metamath_ansaug_cot_gsm8k.txt");
  tmpl = tmpl.substr(0, 200);
  RunSim(sc, dir, 0, false, corpora.string());
  auto real = ParseEvents(dir / "events.jsonl");
  ASSERT_GT(real.size(), 3u);
  for (const auto& e : real) EXPECT_EQ(e.user.rfind(tmpl, 0), 0u);
  fs::remove_all(dir);
}

TEST(Simulator, ShippedScenariosParse) {
  for (const char* name : {"tiny", "demo", "standard"}) {
    Scenario sc;
    EXPECT_NO_THROW(sc = LoadScenarioFile(ScenarioPath(name))) << name;
    EXPECT_FALSE(sc.populations.empty()) << name;
  }
  Scenario st = LoadScenarioFile(ScenarioPath("standard"));
  int attacks = 0, accounts = 0;
  for (const auto& p : st.populations) {
    attacks += p.IsAttack();
    if (p.host.empty()) accounts += p.count;
  }
  EXPECT_GE(attacks, 9);
  EXPECT_GE(accounts, 2000);
}

// ---------------------------------------------------------------------------------------------

TEST(ScenarioErrors, ReportFileLineAndReason) {
  auto expect_error = [](const char* text, const char* needle) {
    try {
      ParseScenario(text, "bad.toml");
      ADD_FAILURE() << "no error for: " << text;
    } catch (const ScenarioError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("bad.toml:"), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  const std::string head = "[scenario]\nname = \"x\"\n";
  expect_error("[scenario\nname = 1", "syntax");
  expect_error((head).c_str(), "population");
  expect_error((head + "[[population]]\nname = \"a\"\nlabel = \"benign\"\ncuont = 3\n").c_str(),
               "unknown key 'cuont'");
  expect_error((head + "[[population]]\nname = \"a\"\nlabel = \"benign\"\ncount = \"3\"\n").c_str(),
               "'count' must be an integer");
  expect_error((head + "[[population]]\nname = \"a\"\nlabel = \"evil\"\n").c_str(), "label");
  expect_error(
      (head + "[[population]]\nname = \"a\"\nlabel = \"benign\"\nturns = [5, 2]\n").c_str(),
      "turns");
  expect_error(
      (head + "[[population]]\nname = \"a\"\nlabel = \"attack\"\nhost = \"nope\"\n").c_str(),
      "host");
  // Line numbers point at the offending key.
  try {
    ParseScenario(head + "[[population]]\nname = \"a\"\nlabel = \"benign\"\n\ndiurnal = 3\n",
                  "bad.toml");
    ADD_FAILURE();
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.toml:7:"), std::string::npos) << e.what();
  }
}

int RunBinary(const std::string& args, std::string* output) {
  std::string cmd = std::string(DG_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int st = pclose(p);
  if (WIFSIGNALED(st)) return 1000 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

TEST(SimulateCli, BadScenarioIsAClearErrorNotACrash) {
  auto dir = TempDir("cli_bad");
  std::ofstream(dir / "bad.toml") << "[scenario]\nname = \"x\"\n[[population]]\nname = \"a\"\n"
                                     "label = \"benign\"\ncount = [1, 2, 3]\n";
  std::ofstream(dir / "syntax.toml") << "[scenario]\nname = \"x\n";
  for (const char* f : {"bad.toml", "syntax.toml", "missing.toml"}) {
    std::string out;
    int rc = RunBinary(
        "simulate --scenario " + (dir / f).string() + " --out " + (dir / "out").string(), &out);
    EXPECT_NE(rc, 0) << f;
    EXPECT_LT(rc, 1000) << f << " crashed with a signal";
    EXPECT_NE(out.find(f), std::string::npos) << out;
    EXPECT_NE(out.find("scenario"), std::string::npos) << out;
  }
  fs::remove_all(dir);
}

TEST(SimulateCli, HelpAndEndToEnd) {
  std::string out;
  EXPECT_EQ(RunBinary("simulate --help", &out), 0);
  EXPECT_NE(out.find("--scenario"), std::string::npos);
  EXPECT_NE(out.find("--corpora"), std::string::npos);
  auto dir = TempDir("cli_run");
  out.clear();
  EXPECT_EQ(
      RunBinary("simulate --scenario " + ScenarioPath("tiny") + " --seed 3 --out " + dir.string(),
                &out),
      0)
      << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);  // no progress bar when stderr is not a tty
  EXPECT_TRUE(fs::file_size(dir / "events.jsonl") > 0);
  EXPECT_TRUE(fs::exists(dir / "accounts.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "labels.json"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dg::sim
