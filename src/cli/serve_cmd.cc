// `distillguard serve --config FILE [flags]`: the live service (see serve/service.h and
// docs/SERVE.md). Every TOML option has a flag; flags override the file.
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "serve/service.h"

namespace dg::cli {
namespace {

struct Flags {
  std::string config;
  serve::ServeConfig cfg;
  std::vector<std::string> set;  // which flags were given (override the file)
};

int Run(CLI::App& sub, Flags& f) {
  serve::ServeConfig cfg;
  try {
    if (!f.config.empty()) serve::LoadConfigFile(f.config, cfg);
  } catch (const std::exception& e) {
    fmt::print(stderr, "distillguard serve: {}\n", e.what());
    return 2;
  }
  // Flags given on the command line win over the file.
  auto given = [&](const char* name) { return sub.get_option(name)->count() > 0; };
  const serve::ServeConfig& c = f.cfg;
#define DG_OVERRIDE(flag, field) \
  if (given(flag)) cfg.field = c.field
  DG_OVERRIDE("--listen", listen);
  DG_OVERRIDE("--port-file", port_file);
  DG_OVERRIDE("--data-dir", data_dir);
  DG_OVERRIDE("--admin-token", admin_token);
  DG_OVERRIDE("--decision-token", decision_token);
  DG_OVERRIDE("--http-threads", http_threads);
  DG_OVERRIDE("--threads", engine_threads);
  DG_OVERRIDE("--format", format);
  DG_OVERRIDE("--model", model_path);
  DG_OVERRIDE("--accounts", accounts_path);
  DG_OVERRIDE("--lateness", lateness_s);
  DG_OVERRIDE("--max-body-bytes", max_body_bytes);
  DG_OVERRIDE("--max-line-bytes", max_line_bytes);
  DG_OVERRIDE("--read-timeout", read_timeout_s);
  DG_OVERRIDE("--snapshot-interval", snapshot_interval_s);
  DG_OVERRIDE("--snapshot-every-bytes", snapshot_every_bytes);
  DG_OVERRIDE("--wal-segment-bytes", wal_segment_bytes);
  DG_OVERRIDE("--group-commit-ms", group_commit_ms);
  DG_OVERRIDE("--fsync", fsync);
  DG_OVERRIDE("--publish-interval-ms", publish_interval_ms);
  DG_OVERRIDE("--max-engine-lag", max_engine_lag_s);
  DG_OVERRIDE("--fail-open", fail_open);
  DG_OVERRIDE("--tail", tail);
  DG_OVERRIDE("--webhook-url", webhook_url);
  DG_OVERRIDE("--webhook-max-attempts", webhook_max_attempts);
  DG_OVERRIDE("--generated-at", generated_at);
  DG_OVERRIDE("--log-decisions", log_decisions);
  DG_OVERRIDE("--account-header", account_header);
  DG_OVERRIDE("--shadow", policy.shadow);
#undef DG_OVERRIDE
  // --geoip (set while parsing) wins over the file's engine.geoip.
  if (!given("--geoip") && !cfg.geoip_path.empty()) {
    std::error_code ec;
    if (cfg.geoip_path != "none" && !std::filesystem::is_regular_file(cfg.geoip_path, ec)) {
      fmt::print(stderr, "distillguard serve: config: engine.geoip: {}: not found\n",
                 cfg.geoip_path);
      return 2;
    }
    features::CountryDb::SetDefaultPath(cfg.geoip_path);
  }
  if (cfg.admin_token.empty()) {
    if (const char* t = std::getenv("DISTILLGUARD_ADMIN_TOKEN")) cfg.admin_token = t;
  }
  SystemClock clock;
  try {
    serve::Service svc(cfg, clock);
    std::string err;
    if (!svc.Start(&err)) {
      fmt::print(stderr, "distillguard serve: {}\n", err);
      return 2;
    }
    fmt::print(stderr, "distillguard serve: listening on port {} (data in {})\n", svc.port(),
               cfg.data_dir);
    svc.Wait(/*signals=*/true);
    svc.Stop();
  } catch (const std::exception& e) {
    fmt::print(stderr, "distillguard serve: {}\n", e.what());
    return 2;
  }
  return 0;
}

RunFn Setup(CLI::App& sub) {
  auto f = std::make_shared<Flags>();
  auto& c = f->cfg;
  sub.add_option("--config", f->config, "TOML configuration file (see config/serve.example.toml)");
  AddGeoipOption(sub);
  sub.add_option("--listen", c.listen, "host:port to listen on (port 0 = any free port)");
  sub.add_option("--port-file", c.port_file, "Write the bound port to this file");
  sub.add_option("--data-dir", c.data_dir, "Directory for the WAL, checkpoints and SQLite");
  sub.add_option("--admin-token", c.admin_token,
                 "Bearer token for admin and event endpoints (or $DISTILLGUARD_ADMIN_TOKEN)");
  sub.add_option("--decision-token", c.decision_token,
                 "If set, /v1/decide and /v1/authz need header x-distillguard-token");
  sub.add_option("--http-threads", c.http_threads, "HTTP I/O threads");
  sub.add_option("--threads", c.engine_threads, "Engine worker threads");
  sub.add_option("--format", c.format, "Event shape (exchange, otlp, litellm)");
  sub.add_option("--model", c.model_path, "Scoring model file (TOML)");
  sub.add_option("--accounts", c.accounts_path, "Account registry (accounts.jsonl)");
  sub.add_option("--lateness", c.lateness_s, "Seconds a record may arrive late and be reordered");
  sub.add_option("--max-body-bytes", c.max_body_bytes, "Largest request body (decompressed)");
  sub.add_option("--max-line-bytes", c.max_line_bytes, "Reject event lines longer than this");
  sub.add_option("--read-timeout", c.read_timeout_s, "Seconds to read a request");
  sub.add_option("--snapshot-interval", c.snapshot_interval_s, "Seconds between checkpoints");
  sub.add_option("--snapshot-every-bytes", c.snapshot_every_bytes,
                 "Checkpoint after this many event bytes");
  sub.add_option("--wal-segment-bytes", c.wal_segment_bytes, "WAL segment size");
  sub.add_option("--group-commit-ms", c.group_commit_ms, "Wait to group batches per fsync");
  sub.add_option("--fsync", c.fsync, "fsync the WAL before acknowledging (true/false)");
  sub.add_option("--publish-interval-ms", c.publish_interval_ms,
                 "Most time between verdict publications during ingest");
  sub.add_option("--max-engine-lag", c.max_engine_lag_s, "Seconds of ingest lag before lag rules");
  sub.add_option("--fail-open", c.fail_open, "When the engine lags: true = fail open");
  sub.add_option("--tail", c.tail, "Tail this file (or - for stdin) as an event source");
  sub.add_option("--webhook-url", c.webhook_url, "POST alerts here (http://)");
  sub.add_option("--webhook-max-attempts", c.webhook_max_attempts, "Webhook retries per alert");
  sub.add_option("--generated-at", c.generated_at, "Pin the report's generated_at (RFC 3339)");
  sub.add_option("--log-decisions", c.log_decisions, "Store non-allow decisions in SQLite");
  sub.add_option("--account-header", c.account_header, "authz: header carrying the account id");
  sub.add_option("--shadow", c.policy.shadow, "Shadow mode: decide and log, enforce nothing");
  return [f, &sub] { return Run(sub, *f); };
}

}  // namespace
DG_REGISTER_COMMAND(serve, "serve", "Run the live detection service (HTTP)", Setup);
}  // namespace dg::cli
