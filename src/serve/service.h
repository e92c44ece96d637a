// Service: `distillguard serve`. Threads and what they own:
//   - HTTP (Boost.Beast, async, `http_threads` io threads): parses requests, answers decisions
//     inline from the VerdictView (lock-free), hands event bodies to the WAL thread and admin
//     queries to the ingest thread;
//   - WAL thread: group commit — appends every queued body, one fdatasync for the group, then
//     queues the bodies for ingest and acknowledges them (HTTP 200 only after the fsync);
//   - ingest thread: owns the Pipeline (parser, featurizer, reorder buffer, Engine); applies
//     bodies in WAL order, publishes verdicts, writes alerts, checkpoints;
//   - store threads (decision log writer, webhook sender) and an optional file tailer.
// Restart = load the checkpoint, replay the WAL after its position through the same Apply(),
// which is exactly what an uninterrupted run would have done (see pipeline.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "engine/activity.h"
#include "report/cases.h"
#include "report/report.h"
#include "serve/actions.h"
#include "serve/config.h"
#include "serve/decider.h"
#include "serve/http_util.h"
#include "serve/pipeline.h"
#include "serve/store.h"
#include "serve/verdict_view.h"
#include "serve/wal.h"
#include "serve/web_auth.h"

namespace dg::serve {

struct HttpRequest {
  std::string method, target, path, query, body;
  std::unordered_map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // One query parameter: absent, present (decoded) or malformed (bad % escape).
  QueryParam Query(std::string_view key) const { return GetQueryParam(query, key); }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using Reply = std::function<void(HttpResponse)>;
// Wraps `reply` so that only its first call answers (later calls are dropped): a handler that
// replied and then threw must not make the catch site answer a second time.
Reply ReplyOnce(Reply reply);

class HttpServer;

class Service final : public engine::EngineObserver {
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
  void CountBadRequest() { ++m_bad_requests_; }
  void CountRequestException() { ++m_request_exceptions_; }
  // Re-reads the [policy] section of the config file (cfg.config_path) and decides with it from
  // now on; engine state, verdicts and rate-limit buckets are kept. SIGHUP (when Wait handles
  // signals) and POST /v1/admin/reload call it. On error the old policy stays.
  bool ReloadPolicy(std::string* error);

  // EngineObserver (ingest thread).
  void OnAccountFlagged(const state::AccountState& account, TimeUs at, bool by_cluster) override;
  void OnBarrier(TimeUs at) override;
  void OnEvent(const core::EventRecord& r) override;

 private:
  struct WalItem {
    std::string body;
    uint64_t aux = 0;
    std::function<void(bool ok, uint64_t seq)> done;
  };
  struct IngestItem {
    uint64_t seq = 0;
    std::string body;
    int64_t enqueued_us = 0;
    std::function<void()> task;
    Reply reply;  // the task's reply: answered 500 if the task throws
  };
  void WalLoop();
  void IngestLoop();
  void TailLoop();
  void SubmitBody(std::string body, uint64_t aux, std::function<void(bool, uint64_t)> done);
  // Runs `task` on the ingest thread. The task answers through the Reply it is given (at most
  // once); if it throws, the exception is caught there and the request answered 500.
  void RunOnIngest(Reply reply, std::function<void(const Reply&)> task);
  // A 400 invalid_request_error naming `param` (empty = null), counted as a bad request.
  HttpResponse BadRequest(std::string_view param, std::string_view message,
                          std::string_view code = "invalid_value");
  // Query parameter `name` into *out: absent leaves *out as is; present and valid sets it;
  // malformed (bad escape, not a number of type T) returns the 400 to answer.
  std::optional<HttpResponse> StringParam(const HttpRequest& req, std::string_view name,
                                          std::string* out);
  template <class T>
  std::optional<HttpResponse> NumberParam(const HttpRequest& req, std::string_view name, T* out);
  void Publish(bool force);
  bool WriteCheckpoint(std::string* error);
  AccountVerdict VerdictOf(const state::AccountState& s, uint32_t index) const;
  static AccountVerdict UnitVerdict(const state::Verdict& v);  // an end user's or key's own
  TimeUs GeneratedAt() const;
  bool Authorized(const HttpRequest& req) const;
  bool DecisionAuthorized(const HttpRequest& req) const;
  bool EngineLagging() const;

  void HandleEvents(HttpRequest& req, Reply& reply);
  HttpResponse HandleDecide(const HttpRequest& req);
  HttpResponse HandleAuthz(const HttpRequest& req);
  // GET /v1/case-files, GET /v1/case-files/{id}[?format=md], POST /v1/case-files/{id}/forensics[?label=].
  void HandleCases(HttpRequest& req, Reply& reply);
  void HandleAdmin(HttpRequest& req, Reply& reply);
  void AnswerAccountOrCluster(const engine::Engine& eng, const std::string& id, bool is_account,
                              const Reply& reply);
  HttpResponse Metrics();

  // The analyst UI and its JSON endpoints (service_ui.cc).
  struct Caller {
    bool ok = false;
    bool session = false;  // authenticated by the session cookie (CSRF applies)
    std::string who, csrf, session_id;
  };
  Caller Authenticate(const HttpRequest& req);
  bool IsUiPath(const std::string& path) const;
  void HandleUi(HttpRequest& req, Reply& reply);
  // /v1/session, /v1/cases, /v1/case, /v1/actions, /v1/audit; false if `req` is none of them.
  bool HandleCaseApi(HttpRequest& req, Reply& reply, const Caller& caller);
  report::CaseInputs CaseInputsFor(const report::Report& rep);
  bool SaveUiState(std::string* error);
  void LoadUiState();

  ServeConfig cfg_;
  const Clock& clock_;
  std::unique_ptr<Pipeline> pipeline_;
  Wal wal_;
  std::mutex wal_file_mu_;  // Wal object: WAL thread appends, ingest thread drops segments
  Store store_;
  VerdictView view_;
  std::unique_ptr<Decider> decider_;
  std::unique_ptr<HttpServer> http_;
  ActionStore actions_;
  std::unique_ptr<SessionStore> sessions_;
  engine::Activity activity_;       // ingest thread
  engine::PromptSamples samples_;  // parsing (ingest) thread; read by case queries there too
  uint64_t last_ui_state_seq_ = 0;

  std::mutex wal_mu_;
  std::condition_variable wal_cv_;
  std::deque<WalItem> wal_queue_;
  std::mutex ingest_mu_;
  std::condition_variable ingest_cv_;
  std::deque<IngestItem> ingest_queue_;
  std::atomic<int64_t> oldest_pending_us_{0};
  std::atomic<bool> stop_{false};
  std::thread wal_thread_, ingest_thread_, tail_thread_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;

  // Ingest-thread state.
  std::unordered_map<uint64_t, AccountVerdict> published_;
  std::vector<uint64_t> dirty_;
  int64_t last_publish_us_ = 0, last_checkpoint_us_ = 0;
  uint64_t bytes_since_checkpoint_ = 0;
  std::vector<std::string> detector_names_;

  // Metrics.
  std::atomic<uint64_t> m_batches_{0}, m_bytes_{0}, m_wal_syncs_{0}, m_checkpoints_{0},
      m_alerts_{0}, m_auth_failures_{0}, m_requests_{0}, m_processed_seq_{0}, m_bad_requests_{0},
      m_request_exceptions_{0};
  std::array<std::atomic<uint64_t>, 4> m_decisions_{};
  static constexpr int kLatBuckets = 16;
  std::array<std::atomic<uint64_t>, kLatBuckets + 1> m_lat_{};  // decision latency histogram
  std::atomic<uint64_t> m_lat_sum_ns_{0};
  std::atomic<int64_t> m_events_{0}, m_accounts_{0}, m_flagged_{0};
  std::atomic<int64_t> m_resident_{0}, m_evictions_{0}, m_restores_{0}, m_evict_errors_{0};
  std::atomic<uint64_t> m_reloads_{0}, m_reload_failures_{0};
  std::mutex reload_mu_;
};

}  // namespace dg::serve
