// Serve configuration: one struct for `distillguard serve`, loaded from TOML (--config) and then
// overridden by command-line flags (every option has a flag; see cli/serve_cmd.cc). The policy
// section maps engine verdicts to gateway actions (see policy.h). Configuration errors throw
// std::runtime_error with a message naming the bad key; they stop the service at start-up.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/time.h"

namespace dg::serve {

enum class Action : uint8_t { kAllow = 0, kDegrade = 1, kThrottle = 2, kBlock = 3 };
std::string_view ActionName(Action a);
Action ParseAction(std::string_view s);  // throws std::runtime_error

// When a request must be served watermarked whatever the client asked: the decision then strips
// the client's `"watermarking": false` opt-out (strip entry "watermarking"; the gateway rewrites
// the body, docs/SERVE.md). Keeps the evidence for `prove` flowing from the accounts it matters
// for. off: never; flagged: the account, its cluster, the request's key or end user is flagged;
// contained: flagged, or the request is degraded or throttled for any reason; always: every
// request.
enum class WatermarkRequirement : uint8_t { kOff, kFlagged, kContained, kAlways };
std::string_view WatermarkRequirementName(WatermarkRequirement w);
WatermarkRequirement ParseWatermarkRequirement(std::string_view s);  // throws std::runtime_error

// A GCRA token bucket: `rate` units per second, bursts of up to `burst` units. rate <= 0 = off.
struct RateLimit {
  double rate = 0;
  double burst = 1;
  bool enabled() const { return rate > 0; }
};

struct DetectorRule {
  std::string detector;  // a detector name (see `distillguard scan` evidence)
  double min_strength = 0.5;
  Action action = Action::kDegrade;
};

struct DegradeSpec {
  bool strip_logprobs = true;
  bool hide_reasoning = true;
  int cap_n = 1;              // <= 0: leave n alone
  int cap_max_tokens = 1024;  // <= 0: leave max_tokens alone
};

struct Policy {
  bool shadow = false;  // decide and log, but always answer allow
  // Per level (none, low, medium, high, critical).
  std::array<Action, 5> level_action = {Action::kAllow, Action::kAllow, Action::kAllow,
                                        Action::kThrottle, Action::kBlock};
  Action flagged_action = Action::kThrottle;          // account flagged (floor)
  Action cluster_flagged_action = Action::kThrottle;  // its cluster flagged (floor)
  // The request's end user flagged on its own within a multi-tenant account (floor; the
  // account and its other end users are judged as they are).
  Action end_user_flagged_action = Action::kThrottle;
  // The request's API key flagged on its own within an account that uses several (floor; the
  // account and its other keys are judged as they are).
  Action api_key_flagged_action = Action::kThrottle;
  std::vector<DetectorRule> detectors;
  WatermarkRequirement require_watermarking = WatermarkRequirement::kOff;
  // What a throttled account may still send: conforming requests pass degraded, the rest get
  // 429 with retry-after.
  RateLimit throttled = {1.0 / 60.0, 1};
  // Always-on limits (off unless configured).
  RateLimit account_requests, account_tokens, key_requests, end_user_requests;
  int64_t default_request_tokens = 1000;  // token cost when the request does not say
  DegradeSpec degrade;
  std::unordered_set<std::string> allow_accounts, allow_keys, allow_end_users;
  std::unordered_set<std::string> block_accounts, block_keys, block_end_users;
};

struct ServeConfig {
  std::string listen = "127.0.0.1:8088";  // host:port (port 0 = any; see port_file)
  std::string port_file;                  // write the bound port here (tests)
  std::string data_dir = "distillguard-data";
  std::string admin_token;     // bearer token for admin and event endpoints (required)
  std::string decision_token;  // if set, /v1/decide and /v1/authz need x-distillguard-token
  int http_threads = 2;
  int engine_threads = 1;
  std::string format = "exchange";
  std::string model_path;
  std::string accounts_path;
  std::string geoip_path;  // GeoIP country database, or "none" (features::CountryDb)
  double lateness_s = 300;
  // Accounts with no event for this many seconds (event time) leave memory for
  // data_dir/evicted.db (SQLite) and come back on their next event; 0 = keep all in memory.
  double evict_idle_s = 0;
  size_t max_body_bytes = 32u << 20;  // decompressed
  size_t max_line_bytes = 1u << 20;
  double read_timeout_s = 30;
  double snapshot_interval_s = 30;
  uint64_t snapshot_every_bytes = 256u << 20;
  size_t wal_segment_bytes = 64u << 20;
  double group_commit_ms = 0;  // extra wait to gather more batches per fsync
  bool fsync = true;
  double publish_interval_ms = 20;
  double max_engine_lag_s = 10;
  bool fail_open = true;  // when the engine lags: true = keep deciding on the last view
  std::string tail;       // a file (or "-") to tail instead of / besides POST /v1/events
  std::string webhook_url;
  int webhook_max_attempts = 10;
  std::string generated_at;                            // pin the report's generated_at (RFC 3339)
  bool log_decisions = true;                           // non-allow decisions to SQLite
  std::string account_header = "openai-organization";  // authz: header naming the account
  Policy policy;
  // Where the policy is reloaded from (SIGHUP, POST /v1/admin/reload): the --config file.
  std::string config_path;
  int shadow_flag = -1;  // --shadow given on the command line (wins over reloads too); -1 = not
};

// The time reports and case files are generated at: cfg.generated_at if set (pinned, for
// reproducible output), else now.
TimeUs ReportTime(const ServeConfig& cfg, const Clock& clock);

// The [policy] section of a TOML file (hot reload). Throws std::runtime_error on a bad file.
Policy LoadPolicyFile(const std::string& path);

// Loads a TOML file into `cfg` (keys absent from the file keep their values).
void LoadConfigFile(const std::string& path, ServeConfig& cfg);
// Parses TOML text (tests).
void LoadConfigText(std::string_view text, ServeConfig& cfg);

}  // namespace dg::serve
