// See service.h.
#include "serve/service.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>

#include "common/file_util.h"
#include "common/hash.h"
#include "common/json_writer.h"
#include "engine/account_registry.h"
#include "report/case_file.h"
#include "report/report.h"
#include "scoring/scorer.h"
#include "serve/decide_body.h"
#include "serve/http_server.h"

namespace dg::serve {
namespace {

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, std::string_view type, std::string_view message,
                   std::string_view code = {}, std::string_view param = {}) {
  return Json(status, ErrorJson(type, message, param, code));
}

// OpenAI's reset format: "1s", "6m0s", "1h2m3s".
std::string ResetString(double s) {
  const int64_t ms = static_cast<int64_t>(std::ceil(s * 1000));
  if (ms < 1000) return fmt::format("{}ms", ms);
  int64_t secs = (ms + 999) / 1000;
  std::string out;
  if (secs >= 3600) out += fmt::format("{}h", secs / 3600), secs %= 3600;
  if (secs >= 60 || !out.empty()) out += fmt::format("{}m", secs / 60), secs %= 60;
  out += fmt::format("{}s", secs);
  return out;
}

constexpr double kLatBound0Us = 8;  // latency histogram: 8 µs · 2^i
constexpr int64_t kDefaultAlertsLimit = 1000, kMaxAlertsLimit = 10000;  // GET /v1/alerts?limit=

// The one method a known endpoint accepts (others get 405), or nullptr: /healthz, /metrics and
// /v1/authz answer any method (probes and gateway subrequests use several).
const char* AllowedMethod(std::string_view path) {
  if (path == "/v1/decide" || path == "/v1/events" || path == "/v1/admin/checkpoint" ||
      path == "/v1/admin/reload" || path == "/v1/actions" || path == "/ui/login" ||
      path == "/ui/logout")
    return "POST";
  if (path == "/v1/cases" || path == "/v1/case" || path == "/v1/audit" || path == "/v1/session")
    return "GET";
  if (path == "/v1/report" || path == "/v1/alerts" || path.rfind("/v1/accounts/", 0) == 0 ||
      path.rfind("/v1/clusters/", 0) == 0)
    return "GET";
  return nullptr;
}

}  // namespace

Reply ReplyOnce(Reply reply) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  return [reply = std::move(reply), done](HttpResponse r) {
    if (!done->exchange(true)) reply(std::move(r));
  };
}

Service::Service(ServeConfig config, const Clock& clock) : cfg_(std::move(config)), clock_(clock) {}

Service::~Service() { Stop(); }

uint16_t Service::port() const { return http_ ? http_->port() : 0; }

TimeUs Service::GeneratedAt() const {
  if (!cfg_.generated_at.empty()) {
    if (auto t = ParseRfc3339(cfg_.generated_at)) return *t;
  }
  return clock_.Now();
}

bool Service::Start(std::string* error) {
  if (cfg_.admin_token.empty()) {
    *error = "an admin token is required (admin_token / --admin-token)";
    return false;
  }
  ::mkdir(cfg_.data_dir.c_str(), 0755);
  if (!store_.Open(cfg_.data_dir + "/distillguard.db", error)) return false;
  if (!actions_.Open(cfg_.data_dir + "/actions.db", error)) return false;
  sessions_ = std::make_unique<SessionStore>(clock_, &SessionStore::SystemRandom);
  if (!wal_.Open(cfg_.data_dir + "/wal", cfg_.wal_segment_bytes, error)) return false;

  PipelineOptions po;
  po.engine.threads = cfg_.engine_threads;
  if (!cfg_.model_path.empty()) po.engine.model = scoring::ScoringModel::FromFile(cfg_.model_path);
  po.format = cfg_.format;
  po.max_line_bytes = cfg_.max_line_bytes;
  po.lateness = static_cast<TimeUs>(cfg_.lateness_s * kUsPerSec);
  if (cfg_.evict_idle_s > 0) {
    po.evict.idle = static_cast<TimeUs>(cfg_.evict_idle_s * kUsPerSec);
    po.evict.path = cfg_.data_dir + "/evicted.db";
    po.evict.durable = true;
  }
  po.samples = &samples_;
  pipeline_ = std::make_unique<Pipeline>(po);
  if (!pipeline_->EnableEviction(error)) return false;
  for (const auto& d : pipeline_->engine().scorer().detectors()) {
    detector_names_.emplace_back(d->name());
  }

  const std::string ckpt = cfg_.data_dir + "/checkpoint.bin";
  std::string data;
  if (::access(ckpt.c_str(), F_OK) == 0) {
    if (!ReadFile(ckpt, &data, error)) return false;
    if (!pipeline_->Restore(data, error)) return false;
  } else if (!pipeline_->engine().PruneEvictStore(error)) {
    return false;
  }
  if (!cfg_.accounts_path.empty()) {
    auto reg =
        engine::LoadAccountRegistry(cfg_.accounts_path, pipeline_->engine(), pipeline_->names());
    if (!reg.error.empty()) {
      *error = "cannot read accounts registry: " + reg.error;
      return false;
    }
  }
  LoadUiState();
  pipeline_->engine().SetObserver(this);
  if (wal_.next_seq() < pipeline_->next_seq()) {
    *error = "the write-ahead log ends before the checkpoint (data directory damaged)";
    return false;
  }
  uint64_t replayed = 0;
  if (!wal_.Replay(
          pipeline_->next_seq(),
          [&](uint64_t seq, uint64_t, std::string_view body) {
            pipeline_->Apply(seq, body);
            ++replayed;
          },
          error)) {
    return false;
  }
  if (pipeline_->next_seq() != wal_.next_seq()) {
    *error = "write-ahead log replay stopped early";
    return false;
  }
  if (replayed)
    fmt::print(stderr, "distillguard serve: replayed {} batches from the log\n", replayed);
  m_processed_seq_ = pipeline_->next_seq() - 1;
  Publish(true);
  // Accounts on disk keep their verdicts at the gateway: publish them once (Publish() sees only
  // resident accounts; an evicted account's verdict cannot change until it is restored).
  if (pipeline_->engine().evicting()) {
    std::vector<std::pair<uint64_t, AccountVerdict>> changes;
    auto units = [&](uint64_t account, const engine::UnitTracker* t, auto key_of) {
      if (!t) return;
      for (const auto& slot : t->slots) {
        if (!slot.state.verdict.flagged) continue;
        const auto v = UnitVerdict(slot.state.verdict);
        published_[key_of(account, slot.unit)] = v;
        changes.emplace_back(key_of(account, slot.unit), v);
      }
    };
    pipeline_->engine().ForEachEvicted([&](const state::AccountState& s,
                                           const engine::UnitTracker* end_users,
                                           const engine::UnitTracker* keys) {
      const AccountVerdict v = VerdictOf(s, UINT32_MAX);
      published_[s.account] = v;
      changes.emplace_back(s.account, v);
      units(s.account, end_users, &VerdictView::EndUserKey);
      units(s.account, keys, &VerdictView::ApiKeyKey);
    });
    view_.Update(changes);
    Publish(true);
  }
  if (!WriteCheckpoint(error)) return false;

  decider_ = std::make_unique<Decider>(cfg_.policy, view_, detector_names_, clock_);
  decider_->SetOverrides(&actions_);
  store_.StartThreads(cfg_.webhook_url, cfg_.webhook_max_attempts);
  wal_thread_ = std::thread([this] { WalLoop(); });
  ingest_thread_ = std::thread([this] { IngestLoop(); });

  http_ = std::make_unique<HttpServer>(*this);
  std::string host = cfg_.listen;
  uint16_t port = 8088;
  if (auto c = cfg_.listen.rfind(':'); c != std::string::npos) {
    host = cfg_.listen.substr(0, c);
    const auto p = ParseNumber<uint16_t>(std::string_view(cfg_.listen).substr(c + 1));
    if (!p) {
      *error = "bad listen address " + cfg_.listen + " (the port must be a number 0-65535)";
      return false;
    }
    port = *p;
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (!http_->Listen(host, port, error)) return false;
  http_->Start(cfg_.http_threads);
  if (!cfg_.port_file.empty()) {
    WriteFileAtomically(cfg_.port_file, std::to_string(http_->port()) + "\n", nullptr);
  }
  if (!cfg_.tail.empty()) tail_thread_ = std::thread([this] { TailLoop(); });
  return true;
}

void Service::Wait(bool signals) {
  if (signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([this, set] {
      int sig = 0;
      while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        std::string err;
        if (ReloadPolicy(&err)) {
          fmt::print(stderr, "distillguard serve: SIGHUP: policy reloaded from {}\n",
                     cfg_.config_path);
        } else {
          fmt::print(stderr, "distillguard serve: SIGHUP: policy not reloaded: {}\n", err);
        }
      }
      std::lock_guard lock(stop_mu_);
      stopped_ = true;
      stop_cv_.notify_all();
    }).detach();
  }
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait(lock, [&] { return stopped_; });
}

bool Service::ReloadPolicy(std::string* error) {
  std::lock_guard lock(reload_mu_);
  auto fail = [&](std::string msg) {
    ++m_reload_failures_;
    *error = std::move(msg);
    return false;
  };
  if (cfg_.config_path.empty())
    return fail("serve was started without --config: nothing to reload");
  if (!decider_) return fail("the service is not started");
  Policy p;
  try {
    p = LoadPolicyFile(cfg_.config_path);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (cfg_.shadow_flag >= 0) p.shadow = cfg_.shadow_flag == 1;  // the command line still wins
  decider_->SetPolicy(p);
  ++m_reloads_;
  return true;
}

void Service::Stop() {
  if (stop_.exchange(true)) return;
  {
    std::lock_guard lock(stop_mu_);
    stopped_ = true;
    stop_cv_.notify_all();
  }
  if (http_) http_->Stop();
  wal_cv_.notify_all();
  if (wal_thread_.joinable()) wal_thread_.join();
  ingest_cv_.notify_all();
  if (ingest_thread_.joinable()) ingest_thread_.join();
  if (tail_thread_.joinable()) tail_thread_.join();
  if (pipeline_) {
    std::string err;
    WriteCheckpoint(&err);
  }
  store_.Stop();
}

// ---------------------------------------------------------------------------------------------
// Durability: WAL thread (group commit) and ingest thread.

void Service::SubmitBody(std::string body, uint64_t aux, std::function<void(bool, uint64_t)> done) {
  {
    std::lock_guard lock(wal_mu_);
    wal_queue_.push_back({std::move(body), aux, std::move(done)});
  }
  wal_cv_.notify_one();
}

void Service::WalLoop() {
  std::deque<WalItem> group;
  for (;;) {
    {
      std::unique_lock lock(wal_mu_);
      wal_cv_.wait(lock, [&] { return stop_ || !wal_queue_.empty(); });
      if (wal_queue_.empty() && stop_) return;
    }
    if (cfg_.group_commit_ms > 0) {
      std::this_thread::sleep_for(
          std::chrono::microseconds(static_cast<int64_t>(cfg_.group_commit_ms * 1000)));
    }
    {
      std::lock_guard lock(wal_mu_);
      group.swap(wal_queue_);
    }
    std::vector<std::pair<uint64_t, bool>> seqs;
    bool ok = true;
    {
      std::lock_guard lock(wal_file_mu_);
      for (auto& item : group) {
        // A batch id at or below the last one logged is a client retry of a batch that is
        // already durable (its answer was lost): acknowledge it again, log nothing.
        if (item.aux != 0 && item.aux <= wal_.last_aux()) {
          seqs.emplace_back(0, true);
          continue;
        }
        const uint64_t seq = wal_.Append(item.body, item.aux);
        seqs.emplace_back(seq, seq != 0);
        if (seq == 0) ok = false;
      }
      if (cfg_.fsync && !wal_.Sync()) ok = false;
      ++m_wal_syncs_;
    }
    const int64_t now = clock_.Now();
    {
      std::lock_guard lock(ingest_mu_);
      for (size_t i = 0; i < group.size(); ++i) {
        if (!seqs[i].second || seqs[i].first == 0) continue;
        m_bytes_ += group[i].body.size();
        ingest_queue_.push_back({seqs[i].first, std::move(group[i].body), now, nullptr, nullptr});
      }
      if (!ingest_queue_.empty() && oldest_pending_us_ == 0)
        oldest_pending_us_ = ingest_queue_.front().enqueued_us;
    }
    ingest_cv_.notify_one();
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].done) group[i].done(ok && seqs[i].second, seqs[i].first);
    }
    group.clear();
    if (!ok) fmt::print(stderr, "distillguard serve: write-ahead log I/O error\n");
  }
}

void Service::RunOnIngest(Reply reply, std::function<void(const Reply&)> task) {
  Reply once = ReplyOnce(std::move(reply));
  std::function<void()> run = [task = std::move(task), once] { task(once); };
  {
    std::lock_guard lock(ingest_mu_);
    ingest_queue_.push_back({0, {}, clock_.Now(), std::move(run), std::move(once)});
  }
  ingest_cv_.notify_one();
}

void Service::IngestLoop() {
  std::deque<IngestItem> work;
  for (;;) {
    {
      std::unique_lock lock(ingest_mu_);
      ingest_cv_.wait_for(lock, std::chrono::milliseconds(200),
                          [&] { return stop_ || !ingest_queue_.empty(); });
      if (ingest_queue_.empty() && stop_) return;
      work.swap(ingest_queue_);
    }
    for (auto& item : work) {
      if (item.task) {
        // An admin query must not take the ingest thread down with it: answer 500 instead.
        try {
          item.task();
        } catch (const std::exception& e) {
          ++m_request_exceptions_;
          fmt::print(stderr, "distillguard serve: admin task failed: {}\n", e.what());
          item.reply(Error(500, "server_error", "internal error while handling the request"));
        } catch (...) {
          ++m_request_exceptions_;
          fmt::print(stderr, "distillguard serve: admin task failed (unknown exception)\n");
          item.reply(Error(500, "server_error", "internal error while handling the request"));
        }
        continue;
      }
      pipeline_->Apply(item.seq, item.body);
      bytes_since_checkpoint_ += item.body.size();
      ++m_batches_;
      m_processed_seq_ = item.seq;
      {
        std::lock_guard lock(ingest_mu_);
        oldest_pending_us_ = ingest_queue_.empty() ? 0 : ingest_queue_.front().enqueued_us;
      }
      if (clock_.Now() - last_publish_us_ > cfg_.publish_interval_ms * 1000) Publish(false);
    }
    work.clear();
    {
      std::lock_guard lock(ingest_mu_);
      if (ingest_queue_.empty()) oldest_pending_us_ = 0;
    }
    Publish(false);
    const int64_t now = clock_.Now();
    if (bytes_since_checkpoint_ > 0 &&
        (now - last_checkpoint_us_ >= cfg_.snapshot_interval_s * kUsPerSec ||
         bytes_since_checkpoint_ >= cfg_.snapshot_every_bytes)) {
      std::string err;
      if (!WriteCheckpoint(&err)) fmt::print(stderr, "distillguard serve: checkpoint: {}\n", err);
    }
  }
}

bool Service::WriteCheckpoint(std::string* error) {
  const std::string blob = pipeline_->Checkpoint();
  // The UI's activity and prompt samples first, named by the checkpoint's WAL position: a
  // checkpoint on disk always has its UI state beside it.
  if (!SaveUiState(error)) return false;
  if (!WriteFileAtomically(cfg_.data_dir + "/checkpoint.bin", blob, error)) return false;
  // Eviction rows the previous checkpoint named and this one does not can go now.
  pipeline_->engine().EvictCheckpointDone();
  {
    std::lock_guard lock(wal_file_mu_);
    wal_.DropBefore(pipeline_->next_seq());
  }
  last_checkpoint_us_ = clock_.Now();
  bytes_since_checkpoint_ = 0;
  ++m_checkpoints_;
  return true;
}

AccountVerdict Service::UnitVerdict(const state::Verdict& ev) {
  AccountVerdict u;
  u.score = ev.peak_score;
  u.level = ev.level;
  u.flagged = ev.flagged;
  u.strength = ev.peak_strength;
  return u;
}

AccountVerdict Service::VerdictOf(const state::AccountState& s, uint32_t index) const {
  AccountVerdict v;
  v.score = s.verdict.peak_score;
  v.level = s.verdict.level;
  v.flagged = s.verdict.flagged;
  v.by_cluster = s.verdict.flagged_by_cluster;
  v.strength = s.verdict.peak_strength;
  if (index != UINT32_MAX) {
    const auto& eng = pipeline_->engine();
    v.cluster_root = eng.AccountAt(eng.ClusterOf(index)).account;
    if (const auto* cv = eng.Cluster(eng.ClusterOf(index))) {
      v.cluster_flagged = cv->verdict.flagged;
      v.cluster_level = cv->verdict.level;
    }
  }
  return v;
}

void Service::Publish(bool force) {
  pipeline_->Flush();
  auto& eng = pipeline_->engine();
  std::vector<std::pair<uint64_t, AccountVerdict>> changes;
  auto consider = [&](uint64_t account, const AccountVerdict& v) {
    auto it = published_.find(account);
    if (it != published_.end() && it->second == v) return;
    published_[account] = v;
    changes.emplace_back(account, v);
  };
  const engine::EvictStats ec = eng.evict_counters();
  int64_t flagged = static_cast<int64_t>(ec.evicted_flagged), resident = 0;
  const auto refs = eng.Accounts();
  for (const auto& ref : refs) {
    if (!ref.state) continue;  // evicted: its verdict was published and cannot have changed
    ++resident;
    const AccountVerdict v = VerdictOf(*ref.state, ref.index);
    flagged += v.flagged;
    consider(ref.state->account, v);
  }
  // End users flagged on their own within multi-tenant accounts.
  // End users and keys flagged on their own within their accounts.
  auto publish_units = [&](uint64_t account, const engine::UnitTracker& tracker, auto key_of) {
    for (const auto& slot : tracker.slots) {
      const auto& ev = slot.state.verdict;
      if (!ev.flagged) continue;
      consider(key_of(account, slot.unit), UnitVerdict(ev));
    }
  };
  eng.ForEachEndUserTracker([&](uint64_t account, const engine::UnitTracker& tracker) {
    publish_units(account, tracker, &VerdictView::EndUserKey);
  });
  eng.ForEachKeyTracker([&](uint64_t account, const engine::UnitTracker& tracker) {
    publish_units(account, tracker, &VerdictView::ApiKeyKey);
  });
  // Accounts flagged before their first barrier have no linker index yet.
  for (uint64_t a : dirty_) {
    if (const auto* s = eng.FindAccount(a); s && s->verdict.flagged)
      consider(a, VerdictOf(*s, UINT32_MAX));
  }
  dirty_.clear();
  if (!changes.empty() || force) view_.Update(changes);
  m_events_ = static_cast<int64_t>(pipeline_->stats().events);
  m_accounts_ = static_cast<int64_t>(refs.size());
  m_flagged_ = flagged;
  m_resident_ = resident;
  m_evictions_ = static_cast<int64_t>(ec.evictions);
  m_restores_ = static_cast<int64_t>(ec.restores);
  m_evict_errors_ = static_cast<int64_t>(ec.errors);
  last_publish_us_ = clock_.Now();
}

void Service::OnBarrier(TimeUs) { activity_.OnBarrier(pipeline_->engine()); }

void Service::OnEvent(const core::EventRecord& r) { activity_.OnEvent(r); }

void Service::OnAccountFlagged(const state::AccountState& account, TimeUs at, bool by_cluster) {
  dirty_.push_back(account.account);
  AlertRow a;
  a.account_id = pipeline_->names().Get(core::NameKind::kAccount, account.account);
  a.at_us = at;
  a.by_cluster = by_cluster;
  a.level = std::string(scoring::LevelName(account.verdict.level));
  a.score = account.verdict.peak_score;
  if (store_.InsertAlert(a, clock_.Now())) ++m_alerts_;
}

bool Service::EngineLagging() const {
  const int64_t oldest = oldest_pending_us_.load(std::memory_order_relaxed);
  return oldest != 0 && clock_.Now() - oldest > cfg_.max_engine_lag_s * kUsPerSec;
}

void Service::TailLoop() {
  const bool is_stdin = cfg_.tail == "-";
  int fd = is_stdin ? 0 : ::open(cfg_.tail.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fmt::print(stderr, "distillguard serve: cannot open {} to tail\n", cfg_.tail);
    return;
  }
  uint64_t offset = 0;
  {
    std::lock_guard lock(wal_file_mu_);
    offset = is_stdin ? 0 : wal_.last_aux();
  }
  if (offset) ::lseek(fd, static_cast<off_t>(offset), SEEK_SET);
  std::string carry;
  std::vector<char> buf(1 << 20);
  while (!stop_) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) break;
    if (n == 0) {
      if (is_stdin) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    carry.append(buf.data(), static_cast<size_t>(n));
    const auto nl = carry.rfind('\n');
    if (nl == std::string::npos) continue;
    std::string body = carry.substr(0, nl + 1);
    carry.erase(0, nl + 1);
    offset += body.size();
    std::promise<bool> durable;
    auto fut = durable.get_future();
    SubmitBody(std::move(body), offset, [&](bool ok, uint64_t) { durable.set_value(ok); });
    fut.wait();
  }
  if (!is_stdin) ::close(fd);
}

// ---------------------------------------------------------------------------------------------
// HTTP.

// Token comparison whose time does not depend on where the strings differ (only on the length
// of the presented one), so a client cannot find a token byte by byte.
static bool TokenEquals(std::string_view got, std::string_view want) {
  unsigned diff = got.size() == want.size() ? 0u : 1u;
  for (size_t i = 0; i < got.size(); ++i) {
    diff |= static_cast<unsigned char>(got[i] ^ (want.empty() ? 0 : want[i % want.size()]));
  }
  return diff == 0;
}

bool Service::Authorized(const HttpRequest& req) const {
  return TokenEquals(req.Header("authorization"), "Bearer " + cfg_.admin_token);
}

bool Service::DecisionAuthorized(const HttpRequest& req) const {
  if (cfg_.decision_token.empty()) return true;
  return TokenEquals(req.Header("x-distillguard-token"), cfg_.decision_token) || Authorized(req);
}

HttpResponse Service::BadRequest(std::string_view param, std::string_view message,
                                 std::string_view code) {
  ++m_bad_requests_;
  return Error(400, "invalid_request_error", message, code, param);
}

std::optional<HttpResponse> Service::StringParam(const HttpRequest& req, std::string_view name,
                                                 std::string* out) {
  QueryParam q = req.Query(name);
  if (q.malformed()) {
    return BadRequest(name,
                      fmt::format("query parameter '{}' has a bad or truncated %-escape", name),
                      "invalid_encoding");
  }
  if (q.present()) *out = std::move(q.value);
  return std::nullopt;
}

template <class T>
std::optional<HttpResponse> Service::NumberParam(const HttpRequest& req, std::string_view name,
                                                 T* out) {
  if (req.Query(name).absent()) return std::nullopt;
  std::string raw;
  if (auto bad = StringParam(req, name, &raw)) return bad;
  NumberError why = NumberError::kNone;
  const auto v = ParseNumber<T>(raw, &why);
  if (!v) {
    return BadRequest(
        name, fmt::format("query parameter '{}' {}: expected a decimal integer in [{}, {}]", name,
                          NumberErrorText(why), std::numeric_limits<T>::min(),
                          std::numeric_limits<T>::max()));
  }
  *out = *v;
  return std::nullopt;
}

void Service::Handle(HttpRequest req, Reply reply) {
  ++m_requests_;
  const std::string& p = req.path;
  if (const char* allow = AllowedMethod(p); allow && req.method != allow) {
    ++m_bad_requests_;
    auto r = Error(405, "invalid_request_error",
                   fmt::format("method {} is not allowed on {}; use {}", req.method, p, allow),
                   "method_not_allowed");
    r.headers.emplace_back("allow", allow);
    return reply(std::move(r));
  }
  if (p == "/v1/decide" && req.method == "POST") return reply(HandleDecide(req));
  if (p == "/v1/authz" || p.rfind("/v1/authz/", 0) == 0) return reply(HandleAuthz(req));
  if (p == "/healthz") {
    uint64_t last_batch = 0;
    {
      std::lock_guard lock(wal_file_mu_);
      last_batch = wal_.last_aux();
    }
    return reply(Json(
        200, fmt::format(R"({{"status":"ok","lagging":{},"processed_seq":{},"last_batch_id":{}}})",
                         EngineLagging(), m_processed_seq_.load(), last_batch)));
  }
  if (p == "/metrics") return reply(Metrics());
  if (IsUiPath(p)) return HandleUi(req, reply);
  const Caller caller = Authenticate(req);
  if (!caller.ok) {
    ++m_auth_failures_;
    auto r = Error(401, "invalid_request_error", "missing or wrong bearer token", "unauthorized");
    r.headers.emplace_back("www-authenticate", "Bearer");
    return reply(std::move(r));
  }
  if (caller.session) {
    // A browser session reads and acts on cases; it never ingests or checkpoints, and every
    // request that changes something carries the session's CSRF token.
    if (req.method != "GET" && req.method != "HEAD" &&
        !ConstantTimeEquals(req.Header("x-csrf-token"), caller.csrf)) {
      ++m_auth_failures_;
      return reply(
          Error(403, "invalid_request_error", "missing or wrong CSRF token", "csrf_failed"));
    }
    if (p == "/v1/events" || p == "/v1/admin/checkpoint") {
      return reply(
          Error(403, "invalid_request_error", "not allowed for a browser session", "forbidden"));
    }
  }
  if (p == "/v1/events" && req.method == "POST") return HandleEvents(req, reply);
  if (HandleCaseApi(req, reply, caller)) return;
  return HandleAdmin(req, reply);
}

void Service::HandleEvents(HttpRequest& req, Reply& reply) {
  // Optional client batch id (monotonic per deployment): makes retries after a lost answer
  // idempotent. Not combinable with --tail, which uses the same slot for its file offset.
  uint64_t batch_id = 0;
  if (const std::string id = req.Header("x-dg-batch-id"); !id.empty()) {
    NumberError why = NumberError::kNone;
    const auto v = ParseNumber<uint64_t>(id, &why);
    if (!v) {
      return reply(BadRequest("x-dg-batch-id",
                              fmt::format("header x-dg-batch-id {}: expected a decimal integer "
                                          "in [0, 18446744073709551615]",
                                          NumberErrorText(why)),
                              "invalid_batch_id"));
    }
    batch_id = *v;
  }
  std::string body = std::move(req.body);
  const bool gz = req.Header("content-encoding").find("gzip") != std::string::npos ||
                  (body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
                   static_cast<unsigned char>(body[1]) == 0x8b);
  if (gz) {
    std::string plain;
    if (!Gunzip(body, cfg_.max_body_bytes, &plain)) {
      return reply(BadRequest({}, "bad gzip body or body too large", "invalid_body"));
    }
    body = std::move(plain);
  }
  if (body.empty()) return reply(Json(200, R"({"accepted":true,"seq":0,"bytes":0})"));
  const size_t bytes = body.size();
  SubmitBody(std::move(body), batch_id, [reply, bytes](bool ok, uint64_t seq) {
    if (!ok) return reply(Error(503, "server_error", "write-ahead log unavailable"));
    reply(Json(200, fmt::format(R"({{"accepted":true,"duplicate":{},"seq":{},"bytes":{}}})",
                                seq == 0, seq, bytes)));
  });
}

HttpResponse Service::HandleDecide(const HttpRequest& req) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!DecisionAuthorized(req))
    return Error(401, "invalid_request_error", "decision token required");
  DecideBody body;
  if (auto err = ParseDecideBody(req.body, &body)) {
    return BadRequest(err->param, err->message, err->code);
  }
  const std::string& account_s = body.account_id;
  const DecisionInput in = body.Input();
  Decision d = decider_->Decide(in, EngineLagging(), cfg_.fail_open);

  std::string out;
  out.reserve(256);
  JsonWriter w(out);
  w.BeginObject();
  w.Field("action", ActionName(d.action));
  w.Key("reasons").BeginArray();
  for (const auto& r : d.reasons) w.String(r);
  w.EndArray();
  if (d.retry_after_s > 0) w.Field("retry_after_s", d.retry_after_s);
  if (!d.strip.empty()) {
    w.Key("strip").BeginArray();
    for (const auto& s : d.strip) w.String(s);
    w.EndArray();
  }
  if (d.cap_n || d.cap_max_tokens) {
    w.Key("caps").BeginObject();
    if (d.cap_n) w.Field("n", d.cap_n);
    if (d.cap_max_tokens) w.Field("max_tokens", d.cap_max_tokens);
    w.EndObject();
  }
  if (d.shadow) {
    w.Field("shadow", true);
    w.Field("would", ActionName(d.would));
  }
  w.Key("account").BeginObject();
  w.Field("known", d.known);
  w.Field("level", scoring::LevelName(d.verdict.level));
  w.Field("flagged", d.verdict.flagged);
  w.Field("score", static_cast<double>(d.verdict.score));
  w.EndObject();
  w.EndObject();
  ++m_decisions_[static_cast<size_t>(d.would)];
  if (cfg_.log_decisions && d.would != Action::kAllow) {
    std::string reasons;
    for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : ",") + r;
    store_.LogDecision({clock_.Now(), account_s, std::string(ActionName(d.action)),
                        std::string(ActionName(d.would)), std::move(reasons)});
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  int b = 0;
  while (b < kLatBuckets && us > kLatBound0Us * std::exp2(b)) ++b;
  ++m_lat_[b];
  m_lat_sum_ns_ += static_cast<uint64_t>(us * 1000);
  return Json(200, std::move(out));
}

HttpResponse Service::HandleAuthz(const HttpRequest& req) {
  if (!DecisionAuthorized(req))
    return Error(401, "invalid_request_error", "decision token required");
  std::string gateway;
  if (auto bad = StringParam(req, "gateway", &gateway)) return std::move(*bad);
  const bool nginx = gateway == "nginx" || req.Header("x-dg-gateway") == "nginx";
  DecisionInput in;
  std::string account = req.Header(cfg_.account_header);
  if (account.empty()) account = req.Header("x-dg-account");
  std::string key = req.Header("x-dg-api-key-id");
  const std::string auth = req.Header("authorization");
  if (key.empty() && auth.rfind("Bearer ", 0) == 0) {
    // Never the secret itself: a short hash names the key.
    key = fmt::format("key_{:012x}", Hash64(std::string_view(auth).substr(7)) >> 16);
  }
  if (account.empty()) account = key;
  std::string user = req.Header("x-dg-end-user");
  std::string ip = req.Header("x-real-ip");
  if (ip.empty())
    ip = req.Header("x-forwarded-for").substr(0, req.Header("x-forwarded-for").find(','));
  std::string ua = req.Header("user-agent");
  if (account.empty()) {
    return Error(nginx ? 403 : 401, "invalid_request_error", "no account on the request",
                 "missing_account");
  }
  in.account_id = account;
  in.api_key_id = key;
  in.end_user = user;
  in.client_ip = ip;
  in.user_agent = ua;
  Decision d = decider_->Decide(in, EngineLagging(), cfg_.fail_open);
  ++m_decisions_[static_cast<size_t>(d.would)];
  if (cfg_.log_decisions && d.would != Action::kAllow) {
    std::string reasons;
    for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : ",") + r;
    store_.LogDecision({clock_.Now(), account, std::string(ActionName(d.action)),
                        std::string(ActionName(d.would)), std::move(reasons)});
  }
  HttpResponse r;
  std::string reasons;
  for (const auto& s : d.reasons) reasons += (reasons.empty() ? "" : ",") + s;
  r.headers.emplace_back("x-dg-action", std::string(ActionName(d.action)));
  if (!reasons.empty()) r.headers.emplace_back("x-dg-reasons", reasons);
  if (d.shadow) r.headers.emplace_back("x-dg-would", std::string(ActionName(d.would)));
  auto rate = [&](const RateInfo& ri, const char* what) {
    if (!ri.set) return;
    r.headers.emplace_back(fmt::format("x-ratelimit-limit-{}", what),
                           fmt::format("{}", static_cast<int64_t>(ri.limit)));
    r.headers.emplace_back(fmt::format("x-ratelimit-remaining-{}", what),
                           fmt::format("{}", static_cast<int64_t>(std::floor(ri.remaining))));
    r.headers.emplace_back(fmt::format("x-ratelimit-reset-{}", what), ResetString(ri.reset_s));
  };
  rate(d.requests, "requests");
  rate(d.tokens, "tokens");
  switch (d.action) {
    case Action::kAllow:
    case Action::kDegrade: {
      r.status = 200;
      std::string strip;
      for (const auto& s : d.strip) strip += (strip.empty() ? "" : ",") + s;
      if (!strip.empty()) r.headers.emplace_back("x-dg-strip", strip);
      if (d.cap_n) r.headers.emplace_back("x-dg-cap-n", std::to_string(d.cap_n));
      if (d.cap_max_tokens)
        r.headers.emplace_back("x-dg-cap-max-tokens", std::to_string(d.cap_max_tokens));
      r.body = fmt::format(R"({{"action":"{}"}})", ActionName(d.action));
      return r;
    }
    case Action::kThrottle: {
      const int64_t retry = static_cast<int64_t>(std::max(1.0, d.retry_after_s));
      auto e = Error(nginx ? 401 : 429, "requests",
                     fmt::format("Rate limit reached for account {}: please try again in {}s.",
                                 account, retry),
                     "rate_limit_exceeded");
      e.headers = std::move(r.headers);
      e.headers.emplace_back("retry-after", std::to_string(retry));
      e.headers.emplace_back("x-dg-retry-after", std::to_string(retry));
      if (nginx) e.headers.emplace_back("www-authenticate", "distillguard");
      return e;
    }
    case Action::kBlock: {
      auto e = Error(403, "permission_error",
                     fmt::format("Access for account {} has been suspended.", account),
                     "account_blocked");
      e.headers = std::move(r.headers);
      return e;
    }
  }
  return r;
}

void Service::HandleCases(HttpRequest& req, Reply& reply) {
  std::string rest = req.path.substr(std::string_view("/v1/case-files").size());
  if (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
  std::string forensics_suffix = "/forensics";
  const bool attach =
      rest.size() > forensics_suffix.size() &&
      rest.compare(rest.size() - forensics_suffix.size(), std::string::npos, forensics_suffix) == 0;
  if (attach) rest.resize(rest.size() - forensics_suffix.size());
  const char* want = attach ? "POST" : "GET";
  if (req.method != want) {
    ++m_bad_requests_;
    auto r =
        Error(405, "invalid_request_error",
              fmt::format("method {} is not allowed on {}; use {}", req.method, req.path, want),
              "method_not_allowed");
    r.headers.emplace_back("allow", want);
    return reply(std::move(r));
  }
  const auto id = UrlDecode(rest, /*plus_is_space=*/false);
  if (!id)
    return reply(
        BadRequest("cluster_id", "bad or truncated %-escape in the path", "invalid_encoding"));
  std::string format, label, final_s;
  if (auto bad = StringParam(req, "format", &format)) return reply(std::move(*bad));
  if (auto bad = StringParam(req, "final", &final_s)) return reply(std::move(*bad));
  // final=1: as if the input ended now (as GET /v1/report?final=1), computed on a copy.
  const bool final = final_s == "1" || final_s == "true";
  if (auto bad = StringParam(req, "label", &label)) return reply(std::move(*bad));
  if (!format.empty() && format != "json" && format != "md")
    return reply(BadRequest("format", "query parameter 'format' must be json or md"));
  // The cases of the current state, built from the report contract (report/case_file.h).
  auto build = [this, final](std::vector<report::Case>* cases, std::string* err) {
    pipeline_->Flush();
    const auto& eng = pipeline_->engine();
    const TimeUs now = GeneratedAt();
    return report::BuildCases(pipeline_->Report(now, final),
                              report::ExportIndicators(report::Build(eng), eng), FormatRfc3339(now),
                              cases, err);
  };
  if (id->empty()) {
    return RunOnIngest(reply, [build](const Reply& reply) {
      std::vector<report::Case> cases;
      std::string err;
      if (!build(&cases, &err)) return reply(Error(500, "server_error", err));
      std::string out;
      JsonWriter w(out);
      w.BeginObject().Key("cases").BeginArray();
      for (const auto& c : cases) {
        w.BeginObject().Field("cluster_id", c.cluster_id).Field("level", c.level);
        w.Key("score").Double(c.score, 4);
        w.Field("members", static_cast<int64_t>(c.members.size()));
        w.Field("first_flagged_at", c.first_flagged_at).EndObject();
      }
      w.EndArray().EndObject();
      reply(Json(200, std::move(out)));
    });
  }
  std::string body = attach ? std::move(req.body) : std::string();
  return RunOnIngest(reply, [this, build, id = *id, attach, format, label,
                             body = std::move(body)](const Reply& reply) {
    std::vector<report::Case> cases;
    std::string err;
    if (!build(&cases, &err)) return reply(Error(500, "server_error", err));
    auto it = std::find_if(cases.begin(), cases.end(),
                           [&](const report::Case& c) { return c.cluster_id == id; });
    if (it == cases.end())
      return reply(Error(404, "not_found", "no case: the cluster is unknown or not flagged"));
    report::Case& c = *it;
    const std::string now = FormatRfc3339(clock_.Now());
    if (attach) {
      // Validate (and summarise) before storing; the stored JSON is what was posted.
      report::Case probe;
      if (!report::AttachForensics(body, label.empty() ? "posted" : label, now, &probe, &err))
        return reply(BadRequest({}, err, "invalid_body"));
      if (!store_.AddForensics({id, now, probe.forensics.back().label, body}, &err))
        return reply(Error(500, "server_error", err));
      const auto& f = probe.forensics.back();
      std::string out;
      JsonWriter w(out);
      w.BeginObject().Field("attached", true).Field("cluster_id", id).Field("kind", f.kind);
      w.Key("log10_p");
      if (f.has_p)
        w.Double(f.log10_p, 10);
      else
        w.Null();
      w.EndObject();
      return reply(Json(200, std::move(out)));
    }
    std::vector<std::string> ids;
    for (const auto& m : c.members) ids.push_back(m.account_id);
    for (const auto& d : store_.SummariseDecisions(ids)) {
      c.actions.push_back({d.account_id, d.action, d.would, FormatRfc3339(d.first_us),
                           FormatRfc3339(d.last_us), d.count});
    }
    for (const auto& f : store_.Forensics(id)) {
      // Stored rows were validated when posted; one that no longer parses is skipped.
      report::AttachForensics(f.result, f.label, f.attached_at, &c, &err);
    }
    if (format == "md") {
      HttpResponse r = Json(200, report::CaseToMarkdown(c));
      r.content_type = "text/markdown; charset=utf-8";
      return reply(std::move(r));
    }
    reply(Json(200, report::CaseToJson(c)));
  });
}

void Service::HandleAdmin(HttpRequest& req, Reply& reply) {
  const std::string p = req.path;
  if (p == "/v1/case-files" || p.rfind("/v1/case-files/", 0) == 0) return HandleCases(req, reply);
  if (p == "/v1/alerts" && req.method == "GET") {
    int64_t since = 0, limit = kDefaultAlertsLimit;
    if (auto bad = NumberParam(req, "since", &since)) return reply(std::move(*bad));
    if (auto bad = NumberParam(req, "limit", &limit)) return reply(std::move(*bad));
    if (limit < 0) return reply(BadRequest("limit", "query parameter 'limit' must be >= 0"));
    limit = std::min(limit, kMaxAlertsLimit);  // one page at most; page on with since=
    return reply(Json(200, store_.AlertsJson(since, static_cast<int>(limit))));
  }
  if (p == "/v1/report" && req.method == "GET") {
    std::string final_s;
    if (auto bad = StringParam(req, "final", &final_s)) return reply(std::move(*bad));
    const bool final = final_s == "1" || final_s == "true";
    return RunOnIngest(reply, [this, final](const Reply& reply) {
      reply(Json(200, pipeline_->Report(GeneratedAt(), final)));
    });
  }
  if (p == "/v1/admin/reload" && req.method == "POST") {
    std::string err;
    if (!ReloadPolicy(&err)) {
      return reply(Error(cfg_.config_path.empty() ? 409 : 400, "invalid_request_error", err,
                         "invalid_config"));
    }
    const auto pol = decider_->policy();
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Field("reloaded", true).Field("config", cfg_.config_path);
    w.Field("shadow", pol->shadow).EndObject();
    return reply(Json(200, std::move(out)));
  }
  if (p == "/v1/admin/checkpoint" && req.method == "POST") {
    return RunOnIngest(reply, [this](const Reply& reply) {
      std::string err;
      if (!WriteCheckpoint(&err)) return reply(Error(500, "server_error", err));
      reply(Json(200, fmt::format(R"({{"checkpoint":true,"seq":{}}})", pipeline_->next_seq() - 1)));
    });
  }
  const bool is_account = p.rfind("/v1/accounts/", 0) == 0;
  const bool is_cluster = p.rfind("/v1/clusters/", 0) == 0;
  if ((is_account || is_cluster) && req.method == "GET") {
    // In a path '+' is a literal plus, not a space.
    const auto decoded = UrlDecode(std::string_view(p).substr(13), /*plus_is_space=*/false);
    if (!decoded) {
      return reply(BadRequest(is_account ? "account_id" : "cluster_id",
                              "bad or truncated %-escape in the path", "invalid_encoding"));
    }
    return RunOnIngest(reply, [this, id = *decoded, is_account](const Reply& reply) {
      // With eviction on, on a copy holding every account (evicted ones read back).
      pipeline_->WithAllAccounts(
          [&](const engine::Engine& eng) { AnswerAccountOrCluster(eng, id, is_account, reply); });
    });
  }
  reply(Error(404, "not_found", "no such endpoint"));
}

void Service::AnswerAccountOrCluster(const engine::Engine& eng, const std::string& id,
                                     bool is_account, const Reply& reply) {
  auto rep = report::Build(eng);
  std::string out;
  JsonWriter w(out);
  auto evidence = [&](const std::vector<report::EvidenceItem>& ev) {
    w.Key("evidence").BeginArray();
    for (const auto& e : ev) {
      w.BeginObject().Field("detector", e.detector).Field("weight", e.weight);
      w.Field("detail", e.detail).EndObject();
    }
    w.EndArray();
  };
  auto time_field = [&](const char* k, TimeUs t) {
    if (t < 0) {
      w.Key(k).Null();
    } else {
      w.Field(k, FormatRfc3339(t));
    }
  };
  if (is_account) {
    for (const auto& a : rep.accounts) {
      if (a.account_id != id) continue;
      w.BeginObject().Field("account_id", a.account_id).Field("score", a.score);
      w.Field("level", scoring::LevelName(a.level)).Field("flagged", a.flagged);
      time_field("first_flagged_at", a.first_flagged_at);
      w.Field("cluster_id", a.cluster_id);
      evidence(a.evidence);
      w.Key("stats").BeginObject().Field("requests", a.state->requests);
      w.Field("output_tokens", a.state->output_tokens).EndObject();
      w.EndObject();
      return reply(Json(200, std::move(out)));
    }
    // Seen but not yet past its first barrier: answer from the raw state.
    if (const auto* s = eng.FindAccount(Hash64(id, core::kHashAccount))) {
      w.BeginObject()
          .Field("account_id", id)
          .Field("score", static_cast<double>(s->verdict.peak_score));
      w.Field("level", scoring::LevelName(s->verdict.level)).Field("flagged", s->verdict.flagged);
      time_field("first_flagged_at", s->verdict.flagged ? s->verdict.first_flagged_at : -1);
      w.Key("stats").BeginObject().Field("requests", s->requests);
      w.Field("output_tokens", s->output_tokens).EndObject();
      w.EndObject();
      return reply(Json(200, std::move(out)));
    }
    return reply(Error(404, "not_found", "unknown account"));
  }
  for (const auto& c : rep.clusters) {
    if (c.cluster_id != id) continue;
    w.BeginObject().Field("cluster_id", c.cluster_id);
    w.Key("accounts").BeginArray();
    for (const auto& a : c.accounts) w.String(a);
    w.EndArray();
    w.Field("score", c.score).Field("level", scoring::LevelName(c.level));
    w.Field("flagged", c.flagged);
    time_field("first_flagged_at", c.first_flagged_at);
    evidence(c.evidence);
    w.EndObject();
    return reply(Json(200, std::move(out)));
  }
  reply(Error(404, "not_found", "unknown cluster"));
}

HttpResponse Service::Metrics() {
  std::string o;
  auto g = [&](const char* name, const char* type, const char* help, auto v) {
    fmt::format_to(std::back_inserter(o), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name,
                   type, name, v);
  };
  g("distillguard_requests_total", "counter", "HTTP requests", m_requests_.load());
  g("distillguard_event_batches_total", "counter", "Event batches applied", m_batches_.load());
  g("distillguard_event_bytes_total", "counter", "Event bytes made durable", m_bytes_.load());
  g("distillguard_events", "gauge", "Events parsed", m_events_.load());
  g("distillguard_accounts", "gauge", "Accounts known", m_accounts_.load());
  g("distillguard_accounts_flagged", "gauge", "Accounts flagged", m_flagged_.load());
  g("distillguard_wal_syncs_total", "counter", "WAL group commits", m_wal_syncs_.load());
  g("distillguard_checkpoints_total", "counter", "Checkpoints written", m_checkpoints_.load());
  g("distillguard_accounts_resident", "gauge",
    "Accounts whose state is in memory (the rest evicted)", m_resident_.load());
  g("distillguard_evictions_total", "counter", "Idle accounts moved to the eviction store",
    m_evictions_.load());
  g("distillguard_restores_total", "counter", "Evicted accounts read back", m_restores_.load());
  g("distillguard_evict_errors_total", "counter", "Eviction store failures",
    m_evict_errors_.load());
  g("distillguard_policy_reloads_total", "counter", "Policy reloads (SIGHUP, /v1/admin/reload)",
    m_reloads_.load());
  g("distillguard_policy_reload_failures_total", "counter", "Policy reloads refused (bad file)",
    m_reload_failures_.load());
  g("distillguard_alerts_total", "counter", "New alerts", m_alerts_.load());
  g("distillguard_auth_failures_total", "counter", "Requests with a bad token",
    m_auth_failures_.load());
  g("distillguard_bad_requests_total", "counter",
    "Malformed requests answered 400/405/413 (bad escape, number, header, body, HTTP syntax)",
    m_bad_requests_.load());
  g("distillguard_request_exceptions_total", "counter",
    "Requests whose handler threw (answered 500)", m_request_exceptions_.load());
  g("distillguard_decisions_dropped_total", "counter", "Decision log rows dropped",
    store_.decisions_dropped.load());
  g("distillguard_webhook_sent_total", "counter", "Webhook deliveries", store_.webhook_sent.load());
  g("distillguard_webhook_failed_total", "counter", "Webhook failures",
    store_.webhook_failed.load());
  const int64_t oldest = oldest_pending_us_.load();
  g("distillguard_engine_lag_seconds", "gauge", "Age of the oldest unapplied batch",
    oldest ? static_cast<double>(clock_.Now() - oldest) / kUsPerSec : 0.0);
  o += "# HELP distillguard_decisions_total Decisions by action (before shadow mode)\n"
       "# TYPE distillguard_decisions_total counter\n";
  for (int a = 0; a < 4; ++a) {
    fmt::format_to(std::back_inserter(o), "distillguard_decisions_total{{action=\"{}\"}} {}\n",
                   ActionName(static_cast<Action>(a)), m_decisions_[a].load());
  }
  o += "# HELP distillguard_decide_seconds Time to decide (/v1/decide, in the handler)\n"
       "# TYPE distillguard_decide_seconds histogram\n";
  uint64_t cum = 0;
  for (int b = 0; b < kLatBuckets; ++b) {
    cum += m_lat_[b].load();
    fmt::format_to(std::back_inserter(o), "distillguard_decide_seconds_bucket{{le=\"{:g}\"}} {}\n",
                   kLatBound0Us * std::exp2(b) / 1e6, cum);
  }
  cum += m_lat_[kLatBuckets].load();
  fmt::format_to(std::back_inserter(o),
                 "distillguard_decide_seconds_bucket{{le=\"+Inf\"}} {}\n"
                 "distillguard_decide_seconds_sum {:g}\ndistillguard_decide_seconds_count {}\n",
                 cum, m_lat_sum_ns_.load() / 1e9, cum);
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(o);
  return r;
}

}  // namespace dg::serve
