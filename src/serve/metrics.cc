// See metrics.h.
#include "serve/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "serve/store.h"

namespace dg::serve {

void ServeMetrics::ObserveDecideLatency(double us) {
  int b = 0;
  while (b < kLatBuckets && us > kLatBound0Us * std::exp2(b)) ++b;
  ++lat_[b];
  lat_sum_ns_ += static_cast<uint64_t>(us * 1000);
}

std::string ServeMetrics::Render(const Store& store, double engine_lag_s) const {
  std::string o;
  auto g = [&](const char* name, const char* type, const char* help, auto v) {
    fmt::format_to(std::back_inserter(o), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name,
                   type, name, v);
  };
  g("distillguard_requests_total", "counter", "HTTP requests", requests.load());
  g("distillguard_event_batches_total", "counter", "Event batches applied", batches.load());
  g("distillguard_event_bytes_total", "counter", "Event bytes made durable", bytes.load());
  g("distillguard_events", "gauge", "Events parsed", events.load());
  g("distillguard_accounts", "gauge", "Accounts known", accounts.load());
  g("distillguard_accounts_flagged", "gauge", "Accounts flagged", flagged.load());
  g("distillguard_wal_syncs_total", "counter", "WAL group commits", wal_syncs.load());
  g("distillguard_checkpoints_total", "counter", "Checkpoints written", checkpoints.load());
  g("distillguard_accounts_resident", "gauge",
    "Accounts whose state is in memory (the rest evicted)", resident.load());
  g("distillguard_evictions_total", "counter", "Idle accounts moved to the eviction store",
    evictions.load());
  g("distillguard_restores_total", "counter", "Evicted accounts read back", restores.load());
  g("distillguard_evict_errors_total", "counter", "Eviction store failures", evict_errors.load());
  g("distillguard_policy_reloads_total", "counter", "Policy reloads (SIGHUP, /v1/admin/reload)",
    reloads.load());
  g("distillguard_policy_reload_failures_total", "counter", "Policy reloads refused (bad file)",
    reload_failures.load());
  g("distillguard_alerts_total", "counter", "New alerts", alerts.load());
  g("distillguard_auth_failures_total", "counter", "Requests with a bad token",
    auth_failures.load());
  g("distillguard_bad_requests_total", "counter",
    "Malformed requests answered 400/405/413 (bad escape, number, header, body, HTTP syntax)",
    bad_requests.load());
  g("distillguard_request_exceptions_total", "counter",
    "Requests whose handler threw (answered 500)", request_exceptions.load());
  g("distillguard_decisions_dropped_total", "counter", "Decision log rows dropped",
    store.decisions_dropped.load());
  g("distillguard_webhook_sent_total", "counter", "Webhook deliveries", store.webhook_sent.load());
  g("distillguard_webhook_failed_total", "counter", "Webhook failures",
    store.webhook_failed.load());
  g("distillguard_engine_lag_seconds", "gauge", "Age of the oldest unapplied batch", engine_lag_s);
  o += "# HELP distillguard_decisions_total Decisions by action (before shadow mode)\n"
       "# TYPE distillguard_decisions_total counter\n";
  for (int a = 0; a < 4; ++a) {
    fmt::format_to(std::back_inserter(o), "distillguard_decisions_total{{action=\"{}\"}} {}\n",
                   ActionName(static_cast<Action>(a)), decisions_[a].load());
  }
  o += "# HELP distillguard_decide_seconds Time to decide (/v1/decide, in the handler)\n"
       "# TYPE distillguard_decide_seconds histogram\n";
  uint64_t cum = 0;
  for (int b = 0; b < kLatBuckets; ++b) {
    cum += lat_[b].load();
    fmt::format_to(std::back_inserter(o), "distillguard_decide_seconds_bucket{{le=\"{:g}\"}} {}\n",
                   kLatBound0Us * std::exp2(b) / 1e6, cum);
  }
  cum += lat_[kLatBuckets].load();
  fmt::format_to(std::back_inserter(o),
                 "distillguard_decide_seconds_bucket{{le=\"+Inf\"}} {}\n"
                 "distillguard_decide_seconds_sum {:g}\ndistillguard_decide_seconds_count {}\n",
                 cum, lat_sum_ns_.load() / 1e9, cum);
  return o;
}

}  // namespace dg::serve
