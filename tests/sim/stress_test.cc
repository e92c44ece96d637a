// Stress-family simulator tests: randomised worlds (deterministic per seed, different across
// seeds, no effect when the knob is absent) and the hard-negative / new-attack knobs (roaming
// egress, people sharing a key, max_sessions, completion_ratio, the Responses API, end users in
// the request body, an abused key inside a host account, drop_asn). Each knob is checked for the
// signature it promises on a small inline scenario, so a broken knob fails here.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/time.h"
#include "sim/randomize.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "testutil/testutil.h"

namespace dg::sim {
namespace {
namespace fs = std::filesystem;

std::string ScenarioPath(const std::string& name) {
  return std::string(DG_SOURCE_DIR) + "/scenarios/" + name + ".toml";
}

void RunSim(const Scenario& sc, const fs::path& out, uint64_t seed) {
  SimOptions opt;
  opt.out_dir = out.string();
  opt.seed = seed;
  opt.seed_given = true;
  Simulate(sc, opt);
}

// A parsed event, reduced to what these tests look at.
struct Ev {
  TimeUs ts = 0;
  std::string account, key, end_user, body_user, body_safety, agent, endpoint;
  int64_t asn = -1;  // -1: no client_asn
  bool has_messages = false, has_input = false, has_instructions = false, logprobs = false;
  int64_t top_logprobs = -1, max_tokens = -1, prompt_tokens = -1, completion = -1;
};

std::vector<Ev> ParseEvents(const fs::path& file) {
  std::vector<Ev> out;
  simdjson::dom::parser parser;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element e;
    EXPECT_FALSE(parser.parse(line).get(e)) << line;
    Ev ev;
    std::string_view sv;
    EXPECT_FALSE(e["ts"].get_string().get(sv));
    ev.ts = ParseRfc3339(sv).value_or(0);
    if (!e["account_id"].get_string().get(sv)) ev.account = sv;
    if (!e["api_key_id"].get_string().get(sv)) ev.key = sv;
    if (!e["end_user"].get_string().get(sv)) ev.end_user = sv;
    if (!e["user_agent"].get_string().get(sv)) ev.agent = sv;
    if (!e["endpoint"].get_string().get(sv)) ev.endpoint = sv;
    int64_t i;
    if (!e["client_asn"].get_int64().get(i)) ev.asn = i;
    EXPECT_EQ(ev.asn < 0, e["client_asn_org"].error() != simdjson::SUCCESS);
    simdjson::dom::object req;
    EXPECT_FALSE(e["request"].get_object().get(req));
    ev.has_messages = req["messages"].error() == simdjson::SUCCESS;
    ev.has_input = req["input"].error() == simdjson::SUCCESS;
    ev.has_instructions = req["instructions"].error() == simdjson::SUCCESS;
    if (!req["user"].get_string().get(sv)) ev.body_user = sv;
    if (!req["safety_identifier"].get_string().get(sv)) ev.body_safety = sv;
    bool b;
    if (!req["logprobs"].get_bool().get(b)) ev.logprobs = b;
    if (!req["top_logprobs"].get_int64().get(i)) ev.top_logprobs = i;
    for (const char* k : {"max_tokens", "max_completion_tokens", "max_output_tokens"})
      if (!req[k].get_int64().get(i)) ev.max_tokens = i;
    simdjson::dom::object usage;
    if (!e["response"]["usage"].get_object().get(usage)) {
      for (const char* k : {"prompt_tokens", "input_tokens"})
        if (!usage[k].get_int64().get(i)) ev.prompt_tokens = i;
      for (const char* k : {"completion_tokens", "output_tokens"})
        if (!usage[k].get_int64().get(i)) ev.completion = i;
    }
    out.push_back(std::move(ev));
  }
  return out;
}

// labels.json: persona per account and each campaign's lists.
struct Labels {
  std::map<std::string, std::string> persona, label;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> campaign;  // list name
};

Labels ParseLabels(const fs::path& file) {
  Labels l;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string text = testutil::ReadAll(file);
  EXPECT_FALSE(parser.parse(text).get(root));
  simdjson::dom::object accts, camps;
  EXPECT_FALSE(root["accounts"].get_object().get(accts));
  for (auto [id, v] : accts) {
    l.persona[std::string(id)] = v["persona"].get_string().value();
    l.label[std::string(id)] = v["label"].get_string().value();
  }
  EXPECT_FALSE(root["campaigns"].get_object().get(camps));
  for (auto [name, v] : camps) {
    for (const char* list : {"accounts", "end_users", "api_keys", "host_accounts"}) {
      simdjson::dom::array arr;
      if (v[list].get_array().get(arr)) continue;
      auto& dst = l.campaign[std::string(name)][list];
      for (auto a : arr) dst.emplace_back(a.get_string().value());
    }
  }
  return l;
}

// ---------------------------------------------------------------------------------------------
// Randomised families.

constexpr const char* kFamily = R"(
[scenario]
name = "family"
start = "2025-03-03T00:00:00Z"
duration_hours = 24
randomize = 0.8

[[population]]
name = "chatty"
label = "benign"
count = 30
sessions_per_day = [2, 6]
session_requests = [1, 4]
gap_seconds = [10, 60]
turns = 1
completion_tokens = [50, 400]
system_prompts = ["You are helpful."]
system_prob = 0.5
diurnal = 0.5
agents = ["OpenAI/Python 1.54.3", "OpenAI/NodeJS 4.67.1", "curl/8.5.0", "litellm/1.52.0"]

[[population]]
name = "pinned"
label = "attack"
count = 7
randomize_exempt = ["count", "sessions_per_day"]
sessions_per_day = 10
logprobs_prob = 1
top_logprobs = 5
max_tokens = 1
completion_tokens = 1
)";

TEST(Randomize, DeterministicPerSeedDifferentAcrossSeeds) {
  Scenario sc = ParseScenario(kFamily, "family.toml");
  ASSERT_TRUE(HasRandomization(sc));
  const Scenario a = Randomize(sc, 1), b = Randomize(sc, 1), c = Randomize(sc, 2);
  const Population &pa = a.populations[0], &pb = b.populations[0], &pc = c.populations[0];
  EXPECT_EQ(pa.count, pb.count);
  EXPECT_EQ(pa.sessions_per_day.lo, pb.sessions_per_day.lo);
  EXPECT_EQ(pa.gap_seconds.hi, pb.gap_seconds.hi);
  EXPECT_EQ(pa.system_prob, pb.system_prob);
  EXPECT_EQ(pa.agents, pb.agents);
  // Two seeds, two worlds: the continuous knobs all move.
  EXPECT_NE(pa.sessions_per_day.lo, pc.sessions_per_day.lo);
  EXPECT_NE(pa.gap_seconds.hi, pc.gap_seconds.hi);
  EXPECT_NE(pa.completion_tokens.hi, pc.completion_tokens.hi);
  EXPECT_NE(pa.system_prob, pc.system_prob);
  EXPECT_NE(pa.diurnal, pc.diurnal);
  // Ranges keep their shape, structural values stay: turns = 1, and the pinned persona's
  // exempt knobs and its defining request parameters.
  EXPECT_NEAR(pa.sessions_per_day.hi / pa.sessions_per_day.lo, 3.0, 1e-9);
  EXPECT_EQ(pa.turns.lo, 1);
  EXPECT_EQ(pa.turns.hi, 1);
  EXPECT_GE(pa.agents.size(), 2u);
  for (const Scenario* s : {&a, &c}) {
    const Population& p = s->populations[1];
    EXPECT_EQ(p.count, 7);
    EXPECT_EQ(p.sessions_per_day.lo, 10);
    EXPECT_EQ(p.logprobs_prob, 1);
    EXPECT_EQ(p.top_logprobs.value.lo, 5);
    EXPECT_EQ(p.max_tokens.value.lo, 1);
    EXPECT_EQ(p.completion_tokens.lo, 1);  // an end equal to 1 stays 1
  }
  // Across many seeds the factor spans both directions around the written value.
  double lo = 1e9, hi = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    double v = Randomize(sc, seed).populations[0].sessions_per_day.lo;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_LT(lo, 2 * 0.7);
  EXPECT_GT(hi, 2 * 1.4);
  EXPECT_LE(hi, 2 * std::pow(3.0, 0.8) + 1e-9);
}

TEST(Randomize, SimulationIsOneWorldPerSeed) {
  Scenario sc = ParseScenario(kFamily, "family.toml");
  auto a = testutil::TempDir("fam_a"), b = testutil::TempDir("fam_b"),
       c = testutil::TempDir("fam_c");
  RunSim(sc, a, 5);
  RunSim(sc, b, 5);
  RunSim(sc, c, 6);
  for (const char* f : {"events.jsonl", "accounts.jsonl", "labels.json"}) {
    EXPECT_EQ(testutil::ReadAll(a / f), testutil::ReadAll(b / f)) << f;
    EXPECT_NE(testutil::ReadAll(a / f), testutil::ReadAll(c / f)) << f;
  }
  // The world's account count is the randomised one.
  auto la = ParseLabels(a / "labels.json");
  size_t chatty = 0;
  for (auto& [id, p] : la.persona) chatty += p == "chatty";
  EXPECT_EQ(static_cast<int>(chatty), Randomize(sc, 5).populations[0].count);
}

TEST(Randomize, AbsentKnobLeavesShippedScenariosUnchanged) {
  for (const char* name : {"tiny", "demo", "standard"}) {
    Scenario sc = LoadScenarioFile(ScenarioPath(name));
    EXPECT_FALSE(HasRandomization(sc)) << name;
  }
  // Byte-identical output: the scenario as written vs. passed through Randomize().
  Scenario tiny = LoadScenarioFile(ScenarioPath("tiny"));
  auto a = testutil::TempDir("tiny_plain"), b = testutil::TempDir("tiny_rand");
  RunSim(tiny, a, 3);
  RunSim(Randomize(tiny, 3), b, 3);
  for (const char* f : {"events.jsonl", "accounts.jsonl", "labels.json"})
    EXPECT_EQ(testutil::ReadAll(a / f), testutil::ReadAll(b / f)) << f;
}

TEST(Randomize, StressScenarioParsesAndIsAFamily) {
  Scenario sc = LoadScenarioFile(ScenarioPath("stress"));
  EXPECT_TRUE(HasRandomization(sc));
  int accounts = 0, attacks = 0;
  for (const auto& p : sc.populations) {
    if (p.host.empty()) accounts += p.count;
    attacks += p.IsAttack();
  }
  EXPECT_GE(accounts, 1500);
  EXPECT_LE(accounts, 2500);
  EXPECT_GE(attacks, 14);
  EXPECT_LE(sc.duration_hours, 48);
}

TEST(Randomize, BadKnobsAreErrors) {
  const std::string head = "[scenario]\nname = \"x\"\n[[population]]\nname = \"a\"\n";
  auto expect_error = [](const std::string& text, const char* needle) {
    try {
      ParseScenario(text, "bad.toml");
      ADD_FAILURE() << "no error for: " << text;
    } catch (const ScenarioError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(head + "label = \"benign\"\nrandomize_exempt = [\"temperature\"]\n",
               "not a randomised knob");
  expect_error(head + "label = \"benign\"\nroam_prob = 0.3\n", "roam_network");
  expect_error(head + "label = \"benign\"\nroam_network = \"mobile\"\n", "roam_prob");
  expect_error(head + "label = \"benign\"\nhost_mode = \"api_key\"\n", "host");
  expect_error(head + "label = \"benign\"\nend_user_field = \"header\"\n", "end_user_field");
  expect_error(
      "[scenario]\nname = \"x\"\nrandomize = 2\n[[population]]\nname = \"a\"\nlabel = "
      "\"benign\"\n",
      "randomize");
}

// ---------------------------------------------------------------------------------------------
// Hard-negative and attack knobs, on one small two-day scenario.

constexpr const char* kKnobs = R"(
[scenario]
name = "knobs"
start = "2025-03-03T00:00:00Z"
duration_hours = 48

[[population]]
name = "phone"
label = "benign"
count = 8
network = "residential"
network_countries = ["US"]
ips_per_account = 1
roam_network = "mobile"
roam_country = "same"
roam_prob = 0.4
agents = ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15"]
sessions_per_day = 6
session_requests = [6, 10]
gap_seconds = [10, 60]

[[population]]
name = "relay"
label = "benign"
count = 6
ips_per_account = 1
roam_network = "relay"
roam_asns = [2, 3]
roam_home = false
roam_prob = 0.3
sessions_per_day = 6
session_requests = [6, 10]
gap_seconds = [10, 60]

[[population]]
name = "vpn"
label = "benign"
count = 6
network_countries = ["US", "DE"]
ips_per_account = 1
roam_network = "vpn"
roam_country = "other"
roam_prob = 0.2
sessions_per_day = 6
session_requests = [6, 10]
gap_seconds = [10, 60]

[[population]]
name = "traveller"
label = "benign"
count = 10
ips_per_account = 1
roam_network = "residential"
roam_country = "other"
roam_day_prob = 0.5
sessions_per_day = 8
session_requests = [2, 5]

[[population]]
name = "team"
label = "benign"
count = 5
people = [3, 6]
agents = ["OpenAI/Python 1.54.3", "OpenAI/NodeJS 4.67.1", "curl/8.5.0", "litellm/1.52.0", "OpenAI/Python 1.51.2", "python-requests/2.32.3"]
sessions_per_day = 60
session_requests = [1, 3]

[[population]]
name = "bench"
label = "benign"
count = 4
sessions_per_day = 4
max_sessions = 1
session_requests = [200, 400]
gap_seconds = [0.5, 2]
prompts = "builtin:mcq"
pool_size = 500
pool_order = "sequential"
logprobs_prob = 1
top_logprobs = 5
max_tokens = 1
completion_tokens = 1

[[population]]
name = "translate"
label = "benign"
count = 2
sessions_per_day = 4
session_requests = [5, 10]
prompts = "builtin:document"
wrappers = ["Translate the following document into {lang}.\n\n{doc}"]
doc_chars = [2000, 4000]
completion_ratio = [0.8, 1.2]
error_rate = 0

[[population]]
name = "saas_user"
label = "benign"
count = 2
network = "cloud"
lanes = 2
sessions_per_day = 200
end_users = [200, 400]
end_user_field = "user"

[[population]]
name = "saas_safety"
label = "benign"
count = 2
network = "cloud"
sessions_per_day = 200
end_users = [200, 400]
end_user_field = "safety_identifier"

[[population]]
name = "keyco"
label = "benign"
count = 3
keys_per_account = [3, 5]
network = "office"
sessions_per_day = 30

[[population]]
name = "bulk"
label = "attack"
count = 1
network = "cloud"
ips_per_account = 1
agents = ["python-requests/2.32.3"]
agent_mode = "shared"
sessions_per_day = 80
lanes = 2
session_requests = [20, 26]
gap_seconds = [1, 3]
models = ["gpt-4o"]
completion_tokens = [850, 950]

[[population]]
name = "harvest_responses"
label = "attack"
count = 2
endpoint = "/v1/responses"
system_prompts = ["You are a helpful assistant."]
max_tokens = 2048
sessions_per_day = 10
session_requests = [5, 10]

[[population]]
name = "hidden_user"
label = "attack"
campaign = "body-hidden"
host = "saas_user"
count = 2
sessions_per_day = 20
session_requests = [3, 6]

[[population]]
name = "hidden_safety"
label = "attack"
campaign = "body-hidden"
host = "saas_safety"
count = 1
sessions_per_day = 20
session_requests = [3, 6]

[[population]]
name = "key_abuse"
label = "attack"
host = "keyco"
host_mode = "api_key"
count = 1
sessions_per_day = 30
session_requests = [5, 10]

[[population]]
name = "noasn"
label = "attack"
count = 5
drop_asn = true
ips_per_account = [3, 6]
ip_scope = "any"
sessions_per_day = 4
)";

class Knobs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::ScopedTempDir(testutil::TempDir("knobs"));
    RunSim(ParseScenario(kKnobs, "knobs.toml"), *dir_, 1);
    events_ = new std::vector<Ev>(ParseEvents(*dir_ / "events.jsonl"));
    labels_ = new Labels(ParseLabels(*dir_ / "labels.json"));
  }
  static void TearDownTestSuite() {
    delete dir_;  // removes the directory
    delete events_;
    delete labels_;
  }
  // Events per account of a persona, in time order.
  static std::map<std::string, std::vector<const Ev*>> ByAccount(const std::string& persona) {
    std::map<std::string, std::vector<const Ev*>> m;
    for (const auto& e : *events_)
      if (labels_->persona.count(e.account) && labels_->persona.at(e.account) == persona)
        m[e.account].push_back(&e);
    return m;
  }
  static testutil::ScopedTempDir* dir_;
  static std::vector<Ev>* events_;
  static Labels* labels_;
};
testutil::ScopedTempDir* Knobs::dir_ = nullptr;
std::vector<Ev>* Knobs::events_ = nullptr;
Labels* Knobs::labels_ = nullptr;

const std::set<int64_t> kUsResidential = {7922, 20115, 701, 7018};
const std::set<int64_t> kUsMobile = {21928, 22394, 20057};
const std::set<int64_t> kRelay = {36183, 13335, 54113};
const std::set<int64_t> kVpn = {9009, 212238, 60068, 136787};

// Consecutive requests of one account less than `gap` apart (one session) that change ASN.
size_t InSessionSwitches(const std::vector<const Ev*>& ev, TimeUs gap) {
  size_t n = 0;
  for (size_t i = 1; i < ev.size(); ++i)
    n += ev[i]->ts - ev[i - 1]->ts < gap && ev[i]->asn != ev[i - 1]->asn;
  return n;
}

TEST_F(Knobs, PhoneAlternatesHomeWifiAndCarrierOfOneCountryWithOneClient) {
  auto accts = ByAccount("phone");
  ASSERT_GE(accts.size(), 6u);
  size_t switching = 0;
  for (auto& [id, ev] : accts) {
    std::set<int64_t> asns;
    std::set<std::string> agents;
    for (auto* e : ev) {
      asns.insert(e->asn);
      agents.insert(e->agent);
    }
    EXPECT_EQ(agents.size(), 1u) << id;
    if (ev.size() < 10) continue;
    ASSERT_EQ(asns.size(), 2u) << id;  // exactly home + carrier
    int home = 0, mobile = 0;
    for (int64_t a : asns) {
      home += kUsResidential.count(a);
      mobile += kUsMobile.count(a);
    }
    EXPECT_EQ(home, 1) << id;
    EXPECT_EQ(mobile, 1) << id;
    switching += InSessionSwitches(ev, 10 * kUsPerMin) >= 3;
  }
  EXPECT_GE(switching, accts.size() / 2);
}

TEST_F(Knobs, RelayEgressRotatesAmongTwoOrThreeOperatorsOnly) {
  auto accts = ByAccount("relay");
  ASSERT_GE(accts.size(), 4u);
  for (auto& [id, ev] : accts) {
    std::set<int64_t> asns;
    std::set<std::string> agents;
    for (auto* e : ev) {
      EXPECT_TRUE(kRelay.count(e->asn)) << e->asn;  // the home network never shows
      asns.insert(e->asn);
      agents.insert(e->agent);
    }
    EXPECT_EQ(agents.size(), 1u);
    if (ev.size() >= 20) {
      EXPECT_GE(asns.size(), 2u) << id;
      EXPECT_LE(asns.size(), 3u) << id;
      EXPECT_GE(InSessionSwitches(ev, 10 * kUsPerMin), 2u) << id;
    }
  }
}

TEST_F(Knobs, VpnTogglesBetweenHomeIspAndAVpnProvider) {
  auto accts = ByAccount("vpn");
  ASSERT_GE(accts.size(), 4u);
  size_t toggling = 0;
  for (auto& [id, ev] : accts) {
    std::set<int64_t> asns;
    for (auto* e : ev) asns.insert(e->asn);
    EXPECT_LE(asns.size(), 2u) << id;
    size_t vpn = 0;
    for (int64_t a : asns) vpn += kVpn.count(a);
    EXPECT_LE(vpn, 1u);
    toggling += asns.size() == 2 && vpn == 1 && InSessionSwitches(ev, 10 * kUsPerMin) >= 2;
  }
  EXPECT_GE(toggling, accts.size() / 2);
}

TEST_F(Knobs, TravellersChangeNetworkOnlyBetweenDays) {
  auto accts = ByAccount("traveller");
  size_t moved = 0;
  for (auto& [id, ev] : accts) {
    std::map<int64_t, std::set<int64_t>> per_day;
    std::set<int64_t> all;
    for (auto* e : ev) {
      per_day[e->ts / kUsPerDay].insert(e->asn);  // tz_offsets = [0]: local day = UTC day
      all.insert(e->asn);
    }
    for (auto& [d, s] : per_day) EXPECT_EQ(s.size(), 1u) << id << " day " << d;
    moved += all.size() > 1;
  }
  EXPECT_GE(moved, 2u);
}

TEST_F(Knobs, TeamSharesOneKeyAcrossPeopleWithOwnClientAndIsp) {
  auto accts = ByAccount("team");
  ASSERT_EQ(accts.size(), 5u);
  for (auto& [id, ev] : accts) {
    std::set<std::string> keys;
    std::set<std::pair<std::string, int64_t>> people;
    std::set<int64_t> asns;
    for (auto* e : ev) {
      keys.insert(e->key);
      people.insert({e->agent, e->asn});
      asns.insert(e->asn);
    }
    EXPECT_EQ(keys.size(), 1u);
    EXPECT_GE(people.size(), 3u) << id;
    EXPECT_LE(people.size(), 6u) << id;
    EXPECT_GE(asns.size(), 3u) << id;  // distinct ISPs (countries) per person
    // Interleaved: the person changes between consecutive requests many times.
    size_t changes = 0;
    for (size_t i = 1; i < ev.size(); ++i) changes += ev[i]->asn != ev[i - 1]->asn;
    EXPECT_GT(changes, ev.size() / 3) << id;
  }
}

TEST_F(Knobs, BenchmarkRunsOnceWithLogprobs) {
  auto accts = ByAccount("bench");
  ASSERT_GE(accts.size(), 3u);
  for (auto& [id, ev] : accts) {
    ASSERT_GE(ev.size(), 200u) << id;
    EXPECT_LE(ev.size(), 400u) << id;  // one session, not one per 6 hours
    EXPECT_LT(ev.back()->ts - ev.front()->ts, 2 * kUsPerHour) << id;
    for (auto* e : ev) {
      EXPECT_TRUE(e->logprobs);
      EXPECT_EQ(e->top_logprobs, 5);
      EXPECT_EQ(e->max_tokens, 1);
    }
  }
}

TEST_F(Knobs, TranslationOutputsAboutAsLongAsInputs) {
  auto accts = ByAccount("translate");
  size_t n = 0;
  for (auto& [id, ev] : accts) {
    for (auto* e : ev) {
      ASSERT_GT(e->prompt_tokens, 400);
      double r = static_cast<double>(e->completion) / static_cast<double>(e->prompt_tokens);
      EXPECT_GE(r, 0.79);
      EXPECT_LE(r, 1.21);
      ++n;
    }
  }
  EXPECT_GT(n, 10u);
}

TEST_F(Knobs, BulkAttackerCoversMostHoursFromOneClient) {
  auto accts = ByAccount("bulk");
  ASSERT_EQ(accts.size(), 1u);
  auto& ev = accts.begin()->second;
  std::set<int64_t> hours;
  std::set<std::string> agents;
  int64_t out = 0;
  for (auto* e : ev) {
    hours.insert(e->ts / kUsPerHour);
    agents.insert(e->agent);
    out += std::max<int64_t>(0, e->completion);
  }
  EXPECT_GE(hours.size(), 40u);  // of 48
  EXPECT_EQ(agents.size(), 1u);
  EXPECT_GT(out / 2, 1000000);  // > 1M output tokens a day
}

TEST_F(Knobs, ResponsesApiUsesInputAndInstructions) {
  auto accts = ByAccount("harvest_responses");
  ASSERT_EQ(accts.size(), 2u);
  for (auto& [id, ev] : accts) {
    for (auto* e : ev) {
      EXPECT_EQ(e->endpoint, "/v1/responses");
      EXPECT_TRUE(e->has_input);
      EXPECT_TRUE(e->has_instructions);
      EXPECT_FALSE(e->has_messages);
      EXPECT_EQ(e->max_tokens, 2048);
    }
  }
  // Everyone else speaks chat completions.
  for (const auto& e : *events_) {
    if (e.endpoint != "/v1/responses") {
      EXPECT_TRUE(e.has_messages);
    }
  }
}

TEST_F(Knobs, HiddenEndUsersAreNamedOnlyInTheRequestBody) {
  auto& c = labels_->campaign["body-hidden"];
  ASSERT_EQ(c["end_users"].size(), 3u);
  EXPECT_TRUE(c["accounts"].empty());
  ASSERT_EQ(c["host_accounts"].size(), 3u);
  std::set<std::string> hidden(c["end_users"].begin(), c["end_users"].end());
  std::map<std::string, size_t> seen;
  for (const auto& e : *events_) {
    EXPECT_FALSE(hidden.count(e.end_user)) << "hidden end user at top level";
    const std::string& persona = labels_->persona.at(e.account);
    if (persona == "saas_user" || persona == "saas_safety") {
      EXPECT_TRUE(e.end_user.empty());  // these apps never use the top-level field
      EXPECT_EQ(labels_->label.at(e.account), "benign");
      const std::string& body = persona == "saas_user" ? e.body_user : e.body_safety;
      EXPECT_TRUE((persona == "saas_user" ? e.body_safety : e.body_user).empty());
      if (hidden.count(body)) ++seen[body];
    } else {
      EXPECT_TRUE(e.body_user.empty() && e.body_safety.empty()) << persona;
    }
  }
  EXPECT_EQ(seen.size(), 3u);
  for (auto& [u, n] : seen) EXPECT_GT(n, 20u) << u;
}

TEST_F(Knobs, AbusedKeyLivesInsideABenignCompanyAccount) {
  auto& c = labels_->campaign["key_abuse"];
  ASSERT_EQ(c["api_keys"].size(), 1u);
  ASSERT_EQ(c["host_accounts"].size(), 1u);
  EXPECT_TRUE(c["accounts"].empty());
  const std::string key = c["api_keys"][0], host = c["host_accounts"][0];
  EXPECT_EQ(labels_->label.at(host), "benign");
  EXPECT_EQ(labels_->persona.at(host), "keyco");
  size_t abused = 0;
  std::set<std::string> host_keys;
  for (const auto& e : *events_) {
    if (e.key == key) {
      ++abused;
      EXPECT_EQ(e.account, host);
      EXPECT_TRUE(e.end_user.empty());
    } else if (e.account == host) {
      host_keys.insert(e.key);
    }
  }
  EXPECT_GT(abused, 100u);
  EXPECT_GE(host_keys.size(), 2u);  // the company's own (benign) keys
}

TEST_F(Knobs, DropAsnOmitsTheAsnOnlyForThatPopulation) {
  size_t dropped = 0;
  for (const auto& e : *events_) {
    bool noasn = labels_->persona.at(e.account) == "noasn";
    EXPECT_EQ(e.asn < 0, noasn);
    dropped += noasn;
  }
  EXPECT_GT(dropped, 20u);
}

}  // namespace
}  // namespace dg::sim
