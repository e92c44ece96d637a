// Service: `distillguard serve`, the composition root. It owns the components and their
// threads, recovers state at Start(), and stops them in order; it holds no request logic.
//   - HTTP (HttpServer, Boost.Beast, `http_threads` io threads) hands each request to the
//     Router (router.h: method check, authentication, dispatch), whose handlers answer
//     decisions inline from the VerdictView (decision_handlers.h), send event bodies to the
//     WAL writer and queue engine queries on the ingest worker (admin_handlers.h,
//     ui_handlers.h);
//   - WalWriter (wal_writer.h): group commit, HTTP 200 only after the fsync;
//   - IngestWorker (ingest_worker.h): owns the Pipeline and Engine, applies bodies in WAL order,
//     publishes verdicts, writes alerts and checkpoints, runs queued queries, tails a file;
//   - store threads (decision log writer, webhook sender).
// Counters live in ServeMetrics (metrics.h). Restart = load the checkpoint, replay the WAL
// after its position through the same Apply(), which is exactly what an uninterrupted run would
// have done (see pipeline.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "common/time.h"
#include "serve/actions.h"
#include "serve/config.h"
#include "serve/decider.h"
#include "serve/interfaces.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/store.h"
#include "serve/verdict_view.h"
#include "serve/web_auth.h"

namespace dg::serve {

class AdminHandlers;
class Authenticator;
class DecisionHandlers;
class HttpServer;
class IngestWorker;
class Router;
class UiHandlers;
class WalWriter;

class Service final : public PolicyReloader {
 public:
  Service(ServeConfig config, const Clock& clock);
  ~Service() override;
  // Recovers state and starts all threads. Returns false (with *error) on failure.
  bool Start(std::string* error);
  // Blocks until Stop() (or SIGINT/SIGTERM when `signals`; SIGHUP then reloads the policy).
  void Wait(bool signals);
  void Stop();
  uint16_t port() const;

  // Request entry point (any HTTP thread). `reply` may be called later from another thread.
  void Handle(HttpRequest req, Reply reply);
  size_t max_body_bytes() const { return cfg_.max_body_bytes; }
  double read_timeout_s() const { return cfg_.read_timeout_s; }
  // Counted in /metrics. The HTTP server reports requests it answered itself: malformed on the
  // wire (400 / 413), and handlers that threw (500, distillguard_request_exceptions_total).
  void CountBadRequest() { ++metrics_.bad_requests; }
  void CountRequestException() { ++metrics_.request_exceptions; }
  // Re-reads the [policy] section of the config file (cfg.config_path) and decides with it from
  // now on; engine state, verdicts and rate-limit buckets are kept. SIGHUP (when Wait handles
  // signals) and POST /v1/admin/reload call it. On error the old policy stays.
  bool ReloadPolicy(std::string* error) override;
  bool shadow() const override;

 private:
  ServeConfig cfg_;
  const Clock& clock_;
  ServeMetrics metrics_;
  std::atomic<bool> stop_{false};
  Store store_;
  VerdictView view_;
  ActionStore actions_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<WalWriter> wal_;
  std::unique_ptr<IngestWorker> ingest_;
  std::unique_ptr<Decider> decider_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<DecisionHandlers> decisions_;
  std::unique_ptr<AdminHandlers> admin_;
  std::unique_ptr<UiHandlers> ui_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> http_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
  std::mutex reload_mu_;
};

}  // namespace dg::serve
