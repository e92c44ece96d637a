// See config.h. The TOML layout is documented in docs/SERVE.md and config/serve.example.toml.
#include "serve/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace dg::serve {

TimeUs ReportTime(const ServeConfig& cfg, const Clock& clock) {
  if (!cfg.generated_at.empty()) {
    if (auto t = ParseRfc3339(cfg.generated_at)) return *t;
  }
  return clock.Now();
}

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kDegrade:
      return "degrade";
    case Action::kThrottle:
      return "throttle";
    case Action::kBlock:
      return "block";
  }
  return "allow";
}

Action ParseAction(std::string_view s) {
  if (s == "allow") return Action::kAllow;
  if (s == "degrade") return Action::kDegrade;
  if (s == "throttle") return Action::kThrottle;
  if (s == "block") return Action::kBlock;
  throw std::runtime_error(fmt::format("unknown action \"{}\" (allow|degrade|throttle|block)", s));
}

std::string_view WatermarkRequirementName(WatermarkRequirement w) {
  switch (w) {
    case WatermarkRequirement::kOff:
      return "off";
    case WatermarkRequirement::kFlagged:
      return "flagged";
    case WatermarkRequirement::kContained:
      return "contained";
    case WatermarkRequirement::kAlways:
      return "always";
  }
  return "off";
}

WatermarkRequirement ParseWatermarkRequirement(std::string_view s) {
  if (s == "off") return WatermarkRequirement::kOff;
  if (s == "flagged") return WatermarkRequirement::kFlagged;
  if (s == "contained") return WatermarkRequirement::kContained;
  if (s == "always") return WatermarkRequirement::kAlways;
  throw std::runtime_error(fmt::format(
      "policy.require_watermarking: unknown value \"{}\" (off|flagged|contained|always)", s));
}

namespace {

template <typename T>
void Get(const toml::node_view<const toml::node>& t, std::string_view key, T& out) {
  auto n = t[key];
  if (!n) return;
  if constexpr (std::is_same_v<T, std::string>) {
    auto v = n.template value<std::string>();
    if (!v) throw std::runtime_error(fmt::format("config: {} must be a string", key));
    out = *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    auto v = n.template value<bool>();
    if (!v) throw std::runtime_error(fmt::format("config: {} must be a boolean", key));
    out = *v;
  } else {
    auto v = n.template value<double>();
    if (!v) throw std::runtime_error(fmt::format("config: {} must be a number", key));
    if constexpr (std::is_integral_v<T>) {
      // Converting a double outside T's range (or inf / nan) to T is undefined behaviour:
      // refuse it instead (`max_body_bytes = -1`, `threads = 3e12`; found by serve_config_fuzz).
      // Fractions within range are truncated, as before.
      const double t = std::trunc(*v);
      const double lo = static_cast<double>(std::numeric_limits<T>::min());  // 0 or -2^digits
      const double hi = std::ldexp(1.0, std::numeric_limits<T>::digits);     // exclusive
      if (!(t >= lo && t < hi)) {
        throw std::runtime_error(fmt::format("config: {} = {} is out of range [{}, {}]", key, *v,
                                             std::numeric_limits<T>::min(),
                                             std::numeric_limits<T>::max()));
      }
      out = static_cast<T>(t);
    } else {
      out = static_cast<T>(*v);
    }
  }
}

void GetLimit(const toml::node_view<const toml::node>& t, RateLimit& l) {
  if (!t) return;
  Get(t, "rate", l.rate);
  Get(t, "burst", l.burst);
  if (l.burst < 1) l.burst = 1;
}

void GetSet(const toml::node_view<const toml::node>& t, std::string_view key,
            std::unordered_set<std::string>& out) {
  auto n = t[key];
  if (!n) return;
  auto* arr = n.as_array();
  if (!arr) throw std::runtime_error(fmt::format("config: {} must be an array of strings", key));
  for (const auto& e : *arr) {
    auto v = e.value<std::string>();
    if (!v) throw std::runtime_error(fmt::format("config: {} must hold strings", key));
    out.insert(*v);
  }
}

void Apply(const toml::table& root, ServeConfig& c) {
  const toml::node_view<const toml::node> t{root};
  Get(t, "listen", c.listen);
  Get(t, "port_file", c.port_file);
  Get(t, "data_dir", c.data_dir);
  Get(t, "admin_token", c.admin_token);
  Get(t, "generated_at", c.generated_at);
  Get(t, "tail", c.tail);
  auto e = t["engine"];
  Get(e, "threads", c.engine_threads);
  Get(e, "format", c.format);
  Get(e, "model", c.model_path);
  Get(e, "accounts", c.accounts_path);
  Get(e, "geoip", c.geoip_path);
  Get(e, "lateness_s", c.lateness_s);
  Get(e, "evict_idle_s", c.evict_idle_s);
  Get(e, "max_line_bytes", c.max_line_bytes);
  auto h = t["http"];
  Get(h, "threads", c.http_threads);
  Get(h, "max_body_bytes", c.max_body_bytes);
  Get(h, "read_timeout_s", c.read_timeout_s);
  Get(h, "decision_token", c.decision_token);
  Get(h, "account_header", c.account_header);
  auto d = t["durability"];
  Get(d, "snapshot_interval_s", c.snapshot_interval_s);
  Get(d, "snapshot_every_bytes", c.snapshot_every_bytes);
  Get(d, "wal_segment_bytes", c.wal_segment_bytes);
  Get(d, "group_commit_ms", c.group_commit_ms);
  Get(d, "fsync", c.fsync);
  auto dc = t["decide"];
  Get(dc, "publish_interval_ms", c.publish_interval_ms);
  Get(dc, "max_engine_lag_s", c.max_engine_lag_s);
  Get(dc, "fail_open", c.fail_open);
  auto a = t["alerts"];
  Get(a, "webhook_url", c.webhook_url);
  Get(a, "webhook_max_attempts", c.webhook_max_attempts);
  Get(a, "log_decisions", c.log_decisions);

  auto p = t["policy"];
  if (!p) return;
  Policy& pol = c.policy;
  Get(p, "shadow", pol.shadow);
  Get(p, "default_request_tokens", pol.default_request_tokens);
  std::string s;
  if (auto lv = p["levels"]) {
    static constexpr std::string_view kLevels[5] = {"none", "low", "medium", "high", "critical"};
    for (size_t i = 0; i < 5; ++i) {
      s.clear();
      Get(lv, kLevels[i], s);
      if (!s.empty()) pol.level_action[i] = ParseAction(s);
    }
  }
  s.clear();
  Get(p, "flagged", s);
  if (!s.empty()) pol.flagged_action = ParseAction(s);
  s.clear();
  Get(p, "cluster_flagged", s);
  if (!s.empty()) pol.cluster_flagged_action = ParseAction(s);
  s.clear();
  Get(p, "end_user_flagged", s);
  if (!s.empty()) pol.end_user_flagged_action = ParseAction(s);
  s.clear();
  Get(p, "api_key_flagged", s);
  if (!s.empty()) pol.api_key_flagged_action = ParseAction(s);
  s.clear();
  Get(p, "require_watermarking", s);
  if (!s.empty()) pol.require_watermarking = ParseWatermarkRequirement(s);
  GetLimit(p["throttled"], pol.throttled);
  auto lim = p["limits"];
  GetLimit(lim["account_requests"], pol.account_requests);
  GetLimit(lim["account_tokens"], pol.account_tokens);
  GetLimit(lim["key_requests"], pol.key_requests);
  GetLimit(lim["end_user_requests"], pol.end_user_requests);
  auto dg = p["degrade"];
  Get(dg, "strip_logprobs", pol.degrade.strip_logprobs);
  Get(dg, "hide_reasoning", pol.degrade.hide_reasoning);
  Get(dg, "cap_n", pol.degrade.cap_n);
  Get(dg, "cap_max_tokens", pol.degrade.cap_max_tokens);
  auto al = p["allow"];
  GetSet(al, "accounts", pol.allow_accounts);
  GetSet(al, "keys", pol.allow_keys);
  GetSet(al, "end_users", pol.allow_end_users);
  auto bl = p["block"];
  GetSet(bl, "accounts", pol.block_accounts);
  GetSet(bl, "keys", pol.block_keys);
  GetSet(bl, "end_users", pol.block_end_users);
  if (auto* rules = p["detector"].as_array()) {
    for (const auto& r : *rules) {
      const auto* rt = r.as_table();
      if (!rt) throw std::runtime_error("config: [[policy.detector]] entries must be tables");
      const toml::node_view<const toml::node> rv{*rt};
      DetectorRule rule;
      Get(rv, "name", rule.detector);
      Get(rv, "min_strength", rule.min_strength);
      s.clear();
      Get(rv, "action", s);
      if (!s.empty()) rule.action = ParseAction(s);
      if (rule.detector.empty()) throw std::runtime_error("config: detector rule without name");
      pol.detectors.push_back(rule);
    }
  }
}

}  // namespace

void LoadConfigText(std::string_view text, ServeConfig& cfg) {
  try {
    toml::table t = toml::parse(text);
    Apply(t, cfg);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(fmt::format("config: {}", e.description()));
  }
}

void LoadConfigFile(const std::string& path, ServeConfig& cfg) {
  try {
    toml::table t = toml::parse_file(path);
    Apply(t, cfg);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.description()));
  }
}

Policy LoadPolicyFile(const std::string& path) {
  ServeConfig fresh;
  LoadConfigFile(path, fresh);
  return fresh.policy;
}

}  // namespace dg::serve
