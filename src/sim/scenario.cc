// Scenario loading from TOML. Design: one small reader per table that records which keys were
// consumed, so unknown keys (typos) are reported with their line instead of being ignored, and
// every type or range problem is reported as "file:line: reason". toml++ parse errors are caught
// here and converted; nothing escapes as a toml++ exception.
#include "sim/scenario.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "sim/randomize.h"

namespace dg::sim {
namespace {

class Reader {
 public:
  Reader(const toml::table& t, std::string file, std::string what)
      : t_(t), file_(std::move(file)), what_(std::move(what)) {}

  [[noreturn]] void Fail(const toml::node* n, const std::string& msg) const {
    const auto& src = n ? n->source() : t_.source();
    throw ScenarioError(fmt::format("{}:{}: {}: {}", file_, src.begin.line, what_, msg));
  }

  const toml::node* Node(const std::string& key) {
    used_.insert(key);
    return t_.get(key);
  }

  void Str(const std::string& key, std::string& out) {
    if (auto* n = Node(key)) {
      auto v = n->value<std::string>();
      if (!n->is_string() || !v) Fail(n, fmt::format("'{}' must be a string", key));
      out = *v;
    }
  }
  void Bool(const std::string& key, bool& out) {
    if (auto* n = Node(key)) {
      if (!n->is_boolean()) Fail(n, fmt::format("'{}' must be true or false", key));
      out = *n->value<bool>();
    }
  }
  static bool NumberOf(const toml::node& n, double& out) {
    if (n.is_integer()) {
      out = static_cast<double>(*n.value<int64_t>());
      return true;
    }
    if (n.is_floating_point()) {
      out = *n.value<double>();
      return true;
    }
    return false;
  }
  void Num(const std::string& key, double& out, double lo = -1e18, double hi = 1e18) {
    if (auto* n = Node(key)) {
      if (!NumberOf(*n, out)) Fail(n, fmt::format("'{}' must be a number", key));
      if (out < lo || out > hi)
        Fail(n, fmt::format("'{}' = {} is out of range [{}, {}]", key, out, lo, hi));
    }
  }
  void Int(const std::string& key, int& out, int lo, int hi) {
    if (auto* n = Node(key)) {
      if (!n->is_integer()) Fail(n, fmt::format("'{}' must be an integer", key));
      int64_t v = *n->value<int64_t>();
      if (v < lo || v > hi)
        Fail(n, fmt::format("'{}' = {} is out of range [{}, {}]", key, v, lo, hi));
      out = static_cast<int>(v);
    }
  }
  void Prob(const std::string& key, double& out) { Num(key, out, 0, 1); }
  void Rng(const std::string& key, Range& out, double lo = -1e18, double hi = 1e18) {
    if (auto* n = Node(key)) {
      double a = 0, b = 0;
      if (NumberOf(*n, a)) {
        b = a;
      } else if (auto* arr = n->as_array(); arr && arr->size() == 2 && NumberOf(*arr->get(0), a) &&
                                            NumberOf(*arr->get(1), b)) {
      } else {
        Fail(n, fmt::format("'{}' must be a number or a [low, high] pair of numbers", key));
      }
      if (b < a) Fail(n, fmt::format("'{}': high ({}) is below low ({})", key, b, a));
      if (a < lo || b > hi)
        Fail(n, fmt::format("'{}' = [{}, {}] is out of range [{}, {}]", key, a, b, lo, hi));
      out = {a, b};
    }
  }
  void StrList(const std::string& key, std::vector<std::string>& out, bool allow_empty = false) {
    if (auto* n = Node(key)) {
      auto* arr = n->as_array();
      if (!arr) Fail(n, fmt::format("'{}' must be an array of strings", key));
      out.clear();
      for (const auto& e : *arr) {
        auto v = e.value<std::string>();
        if (!e.is_string() || !v) Fail(&e, fmt::format("'{}' must contain only strings", key));
        out.push_back(*v);
      }
      if (out.empty() && !allow_empty) Fail(n, fmt::format("'{}' must not be empty", key));
    }
  }
  void NumList(const std::string& key, std::vector<double>& out) {
    if (auto* n = Node(key)) {
      auto* arr = n->as_array();
      if (!arr) Fail(n, fmt::format("'{}' must be an array of numbers", key));
      out.clear();
      for (const auto& e : *arr) {
        double d;
        if (!NumberOf(e, d)) Fail(&e, fmt::format("'{}' must contain only numbers", key));
        out.push_back(d);
      }
      if (out.empty()) Fail(n, fmt::format("'{}' must not be empty", key));
    }
  }
  void OneOf(const std::string& key, std::string& out, std::initializer_list<const char*> allowed) {
    Str(key, out);
    for (const char* a : allowed)
      if (out == a) return;
    std::string list;
    for (const char* a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
    Fail(t_.get(key), fmt::format("'{}' = \"{}\" is not one of: {}", key, out, list));
  }
  void ParamKnob(const std::string& key, Param& p, double lo, double hi) {
    Rng(key, p.value, lo, hi);
    p.prob = t_.contains(key) ? 1.0 : 0.0;
    Prob(key + "_prob", p.prob);
  }
  void CheckUnknown() const {
    for (const auto& [k, v] : t_) {
      if (!used_.count(std::string(k.str())))
        Fail(&v, fmt::format("unknown key '{}' (see docs/SCENARIOS.md)", k.str()));
    }
  }

 private:
  const toml::table& t_;
  std::string file_, what_;
  std::set<std::string> used_;
};

void ReadPopulation(Reader& r, Population& p) {
  r.Str("name", p.name);
  if (p.name.empty()) r.Fail(nullptr, "population needs a non-empty 'name'");
  r.OneOf("label", p.label, {"benign", "attack"});
  r.Str("campaign", p.campaign);
  r.Str("description", p.description);
  r.Int("count", p.count, 1, 1000000);
  r.Str("host", p.host);
  r.OneOf("host_mode", p.host_mode, {"end_user", "api_key"});
  r.Num("randomize", p.randomize, 0, 1);
  r.StrList("randomize_exempt", p.randomize_exempt, true);
  for (const auto& k : p.randomize_exempt)
    if (!IsRandomizedKnob(k))
      r.Fail(nullptr, fmt::format("randomize_exempt: '{}' is not a randomised knob", k));

  r.Rng("account_age_days", p.account_age_days, -3650, 10000);
  r.Num("created_burst_hours", p.created_burst_hours, 0, 1e6);
  r.Rng("group_size", p.group_size, 1, 100000);
  r.Bool("share_payment", p.share_payment);
  r.Bool("share_subnet", p.share_subnet);
  r.Bool("share_email_domain", p.share_email_domain);
  r.Bool("share_country", p.share_country);
  r.StrList("tiers", p.tiers);
  r.StrList("countries", p.countries);
  r.StrList("email_domains", p.email_domains);
  r.Rng("keys_per_account", p.keys_per_account, 1, 1000);

  r.OneOf("network", p.network, {"residential", "cloud", "office", "mobile", "vpn", "relay"});
  r.Rng("ips_per_account", p.ips_per_account, 1, 10000);
  r.OneOf("ip_scope", p.ip_scope, {"subnet", "asn", "any"});
  r.StrList("agents", p.agents);
  r.OneOf("agent_mode", p.agent_mode, {"per_account", "per_request", "shared"});
  r.StrList("network_countries", p.network_countries);
  if (r.Node("roam_network")) {
    r.OneOf("roam_network", p.roam_network,
            {"residential", "cloud", "office", "mobile", "vpn", "relay"});
  }
  r.Rng("roam_asns", p.roam_asns, 1, 100);
  r.OneOf("roam_country", p.roam_country, {"any", "same", "other"});
  r.Prob("roam_prob", p.roam_prob);
  r.Prob("roam_day_prob", p.roam_day_prob);
  r.Bool("roam_home", p.roam_home);
  r.Bool("drop_asn", p.drop_asn);
  r.Rng("people", p.people, 0, 1000);

  r.Rng("sessions_per_day", p.sessions_per_day, 0, 1e7);
  r.Num("sessions_tail_alpha", p.sessions_tail_alpha, 0, 100);
  r.Num("diurnal", p.diurnal, 0, 1);
  r.NumList("tz_offsets", p.tz_offsets);
  r.Num("weekend", p.weekend, 0, 10);
  r.Prob("active_day_prob", p.active_day_prob);
  r.Rng("active_window_hours", p.active_window_hours, -1, 1e6);
  r.Rng("stagger_hours", p.stagger_hours, 0, 1e6);
  r.Rng("lifetime_hours", p.lifetime_hours, 0, 1e6);
  r.NumList("cron_hours", p.cron_hours);
  for (double h : p.cron_hours)
    if (h < 0 || h >= 24) r.Fail(nullptr, fmt::format("cron_hours: {} is not in [0, 24)", h));
  r.Num("cron_jitter_minutes", p.cron_jitter_minutes, 0, 1440);
  r.Rng("session_requests", p.session_requests, 1, 1e7);
  r.Rng("gap_seconds", p.gap_seconds, 0, 1e7);
  r.Int("lanes", p.lanes, 1, 1000);
  r.Rng("turns", p.turns, 1, 1000);
  r.Rng("think_seconds", p.think_seconds, 0, 1e7);
  r.Bool("agent_loop", p.agent_loop);
  r.Rng("max_sessions", p.max_sessions, 0, 1e9);

  r.Str("prompts", p.prompts);
  r.Str("builtin", p.builtin);
  r.Int("pool_size", p.pool_size, 0, 10000000);
  r.OneOf("pool_order", p.pool_order, {"random", "sequential", "shard"});
  r.Rng("repeat", p.repeat, 1, 1e6);
  r.StrList("system_prompts", p.system_prompts, true);
  r.Prob("system_prob", p.system_prob);
  r.OneOf("system_mode", p.system_mode, {"per_account", "per_request", "per_population"});
  r.StrList("wrappers", p.wrappers, true);
  r.StrList("wrappers_fallback", p.wrappers_fallback, true);
  r.OneOf("wrapper_mode", p.wrapper_mode, {"per_account", "per_request", "per_population"});
  r.StrList("suffixes", p.suffixes, true);
  r.Prob("suffix_prob", p.suffix_prob);
  r.StrList("languages", p.languages);
  r.Rng("doc_chars", p.doc_chars, 0, 1e6);
  r.StrList("responses", p.responses, true);

  r.Str("endpoint", p.endpoint);
  r.StrList("models", p.models);
  r.NumList("model_weights", p.model_weights);
  r.OneOf("model_mode", p.model_mode, {"per_request", "per_account"});
  r.ParamKnob("temperature", p.temperature, 0, 2);
  r.ParamKnob("top_p", p.top_p, 0, 1);
  r.ParamKnob("max_tokens", p.max_tokens, 1, 1e6);
  r.ParamKnob("n", p.n, 1, 128);
  r.ParamKnob("top_logprobs", p.top_logprobs, 0, 20);
  r.Prob("logprobs_prob", p.logprobs_prob);
  r.Prob("logit_bias_prob", p.logit_bias_prob);
  r.Rng("logit_bias_entries", p.logit_bias_entries, 1, 300);
  r.OneOf("logit_bias_mode", p.logit_bias_mode, {"random", "sweep"});
  r.Prob("seed_prob", p.seed_prob);
  r.Prob("stream_prob", p.stream_prob);
  r.Prob("tools_prob", p.tools_prob);
  r.Prob("json_prob", p.json_prob);
  r.StrList("reasoning_effort", p.reasoning_effort);
  r.Prob("reasoning_effort_prob", p.reasoning_effort_prob);
  if (!p.reasoning_effort.empty() && p.reasoning_effort_prob == 0) p.reasoning_effort_prob = 1;
  for (const auto& e : p.reasoning_effort)
    if (e != "minimal" && e != "low" && e != "medium" && e != "high")
      r.Fail(nullptr, fmt::format("reasoning_effort '{}' is not minimal|low|medium|high", e));

  r.Rng("end_users", p.end_users, 0, 1e7);
  r.Num("end_user_zipf", p.end_user_zipf, 0, 5);
  r.Prob("end_user_prob", p.end_user_prob);
  r.OneOf("end_user_field", p.end_user_field, {"end_user", "user", "safety_identifier"});

  r.Rng("completion_tokens", p.completion_tokens, 1, 1e6);
  r.Rng("reasoning_tokens", p.reasoning_tokens, 0, 1e6);
  r.Rng("completion_ratio", p.completion_ratio, 0, 100);
  r.Prob("content_prob", p.content_prob);
  r.Prob("error_rate", p.error_rate);
  r.CheckUnknown();

  if (!p.model_weights.empty() && p.model_weights.size() != p.models.size())
    r.Fail(nullptr, "'model_weights' must have one weight per model");
  if (p.label == "attack" && p.campaign.empty()) p.campaign = p.name;
  if (p.label == "benign" && !p.campaign.empty())
    r.Fail(nullptr, "'campaign' is only meaningful for label = \"attack\"");
  if (!p.roam_network.empty() && p.roam_prob == 0 && p.roam_day_prob == 0)
    r.Fail(nullptr, "'roam_network' needs 'roam_prob' or 'roam_day_prob' > 0");
  if (p.roam_network.empty() && (p.roam_prob > 0 || p.roam_day_prob > 0 || !p.roam_home))
    r.Fail(nullptr, "roaming knobs need 'roam_network'");
  if (p.host_mode != "end_user" && p.host.empty())
    r.Fail(nullptr, "'host_mode' is only meaningful with 'host'");
  if (p.pool_order != "random" && p.pool_size == 0 && p.prompts.rfind("builtin", 0) == 0)
    p.pool_size = 5000;
}

}  // namespace

Scenario ParseScenario(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw ScenarioError(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name,
                                    e.source().begin.line, e.source().begin.column,
                                    e.description()));
  }
  Scenario s;
  s.file = source_name;
  Reader top(root, source_name, "scenario file");
  const toml::node* sc = top.Node("scenario");
  if (!sc || !sc->is_table()) top.Fail(sc, "missing [scenario] table");
  {
    Reader r(*sc->as_table(), source_name, "[scenario]");
    r.Str("name", s.name);
    r.Str("description", s.description);
    std::string start = "2025-03-03T00:00:00Z";
    r.Str("start", start);
    auto t = ParseRfc3339(start);
    if (!t) r.Fail(sc->as_table()->get("start"), fmt::format("bad RFC 3339 time '{}'", start));
    s.start = *t;
    r.Num("duration_hours", s.duration_hours, 0.01, 24 * 366);
    if (auto* n = sc->as_table()->get("seed")) {
      double d = 0;
      r.Num("seed", d, 0, 9e15);
      s.seed = static_cast<uint64_t>(d);
      s.has_seed = true;
      (void)n;
    }
    r.Num("randomize", s.randomize, 0, 1);
    r.CheckUnknown();
  }
  const toml::node* pops = top.Node("population");
  if (!pops || !pops->is_array_of_tables())
    top.Fail(pops, "needs at least one [[population]] table");
  std::set<std::string> names;
  for (const auto& n : *pops->as_array()) {
    Population p;
    Reader r(*n.as_table(), source_name, "[[population]]");
    ReadPopulation(r, p);
    if (!names.insert(p.name).second) r.Fail(&n, fmt::format("duplicate population '{}'", p.name));
    s.populations.push_back(std::move(p));
  }
  top.CheckUnknown();
  for (const auto& p : s.populations) {
    if (p.host.empty()) continue;
    const Population* h = nullptr;
    for (const auto& q : s.populations)
      if (q.name == p.host) h = &q;
    if (!h || !h->host.empty())
      throw ScenarioError(
          fmt::format("{}: population '{}': host '{}' is not a population with "
                      "its own accounts",
                      source_name, p.name, p.host));
  }
  return s;
}

Scenario LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(fmt::format("{}: cannot open scenario file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenario(ss.str(), path);
}

}  // namespace dg::sim
