// See ingest_worker.h.
#include "serve/ingest_worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>

#include "common/file_util.h"
#include "engine/account_registry.h"
#include "scoring/scorer.h"

namespace dg::serve {
namespace {

constexpr char kUiStatePrefix[] = "ui-state-";

template <typename T>
void Put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

}  // namespace

bool IngestWorker::Recover(std::string* error) {
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
  metrics_.processed_seq = pipeline_->next_seq() - 1;
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
  return WriteCheckpoint(error);
}

void IngestWorker::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void IngestWorker::StartTail() {
  if (!cfg_.tail.empty()) tail_thread_ = std::thread([this] { TailLoop(); });
}

void IngestWorker::Join() {
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (tail_thread_.joinable()) tail_thread_.join();
}

void IngestWorker::FinalCheckpoint() {
  if (!pipeline_) return;
  std::string err;
  WriteCheckpoint(&err);
}

void IngestWorker::EnqueueDurable(std::vector<std::pair<uint64_t, std::string>> bodies,
                                  int64_t now) {
  {
    std::lock_guard lock(mu_);
    for (auto& [seq, body] : bodies)
      queue_.push_back({seq, std::move(body), now, nullptr, nullptr});
    if (!queue_.empty() && oldest_pending_us_ == 0) oldest_pending_us_ = queue_.front().enqueued_us;
  }
  cv_.notify_one();
}

void IngestWorker::Run(Reply reply, Task task) {
  Reply once = ReplyOnce(std::move(reply));
  std::function<void()> run = [this, task = std::move(task), once] { task(*this, once); };
  {
    std::lock_guard lock(mu_);
    queue_.push_back({0, {}, clock_.Now(), std::move(run), std::move(once)});
  }
  cv_.notify_one();
}

bool IngestWorker::Lagging() const {
  const int64_t oldest = oldest_pending_us_.load(std::memory_order_relaxed);
  return oldest != 0 && clock_.Now() - oldest > cfg_.max_engine_lag_s * kUsPerSec;
}

double IngestWorker::LagSeconds() const {
  const int64_t oldest = oldest_pending_us_.load();
  return oldest ? static_cast<double>(clock_.Now() - oldest) / kUsPerSec : 0.0;
}

void IngestWorker::Loop() {
  std::deque<Item> work;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(200),
                   [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      work.swap(queue_);
    }
    for (auto& item : work) {
      if (item.task) {
        // An admin query must not take the ingest thread down with it: answer 500 instead.
        try {
          item.task();
        } catch (const std::exception& e) {
          ++metrics_.request_exceptions;
          fmt::print(stderr, "distillguard serve: admin task failed: {}\n", e.what());
          item.reply(ApiError(500, "server_error", "internal error while handling the request"));
        } catch (...) {
          ++metrics_.request_exceptions;
          fmt::print(stderr, "distillguard serve: admin task failed (unknown exception)\n");
          item.reply(ApiError(500, "server_error", "internal error while handling the request"));
        }
        continue;
      }
      pipeline_->Apply(item.seq, item.body);
      bytes_since_checkpoint_ += item.body.size();
      ++metrics_.batches;
      metrics_.processed_seq = item.seq;
      {
        std::lock_guard lock(mu_);
        oldest_pending_us_ = queue_.empty() ? 0 : queue_.front().enqueued_us;
      }
      if (clock_.Now() - last_publish_us_ > cfg_.publish_interval_ms * 1000) Publish(false);
    }
    work.clear();
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) oldest_pending_us_ = 0;
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

bool IngestWorker::WriteCheckpoint(std::string* error) {
  const std::string blob = pipeline_->Checkpoint();
  // The UI's activity and prompt samples first, named by the checkpoint's WAL position: a
  // checkpoint on disk always has its UI state beside it.
  if (!SaveUiState(error)) return false;
  if (!WriteFileAtomically(cfg_.data_dir + "/checkpoint.bin", blob, error)) return false;
  // Eviction rows the previous checkpoint named and this one does not can go now.
  pipeline_->engine().EvictCheckpointDone();
  wal_.DropBefore(pipeline_->next_seq());
  last_checkpoint_us_ = clock_.Now();
  bytes_since_checkpoint_ = 0;
  ++metrics_.checkpoints;
  return true;
}

AccountVerdict IngestWorker::UnitVerdict(const state::Verdict& ev) {
  AccountVerdict u;
  u.score = ev.peak_score;
  u.level = ev.level;
  u.flagged = ev.flagged;
  u.strength = ev.peak_strength;
  return u;
}

AccountVerdict IngestWorker::VerdictOf(const state::AccountState& s, uint32_t index) const {
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

void IngestWorker::Publish(bool force) {
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
  metrics_.events = static_cast<int64_t>(pipeline_->stats().events);
  metrics_.accounts = static_cast<int64_t>(refs.size());
  metrics_.flagged = flagged;
  metrics_.resident = resident;
  metrics_.evictions = static_cast<int64_t>(ec.evictions);
  metrics_.restores = static_cast<int64_t>(ec.restores);
  metrics_.evict_errors = static_cast<int64_t>(ec.errors);
  last_publish_us_ = clock_.Now();
}

void IngestWorker::OnBarrier(TimeUs) { activity_.OnBarrier(pipeline_->engine()); }

void IngestWorker::OnEvent(const core::EventRecord& r) { activity_.OnEvent(r); }

void IngestWorker::OnAccountFlagged(const state::AccountState& account, TimeUs at,
                                    bool by_cluster) {
  dirty_.push_back(account.account);
  AlertRow a;
  a.account_id = pipeline_->names().Get(core::NameKind::kAccount, account.account);
  a.at_us = at;
  a.by_cluster = by_cluster;
  a.level = std::string(scoring::LevelName(account.verdict.level));
  a.score = account.verdict.peak_score;
  if (store_.InsertAlert(a, clock_.Now())) ++metrics_.alerts;
}

void IngestWorker::TailLoop() {
  const bool is_stdin = cfg_.tail == "-";
  int fd = is_stdin ? 0 : ::open(cfg_.tail.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fmt::print(stderr, "distillguard serve: cannot open {} to tail\n", cfg_.tail);
    return;
  }
  uint64_t offset = is_stdin ? 0 : wal_.last_aux();
  if (offset) ::lseek(fd, static_cast<off_t>(offset), SEEK_SET);
  std::string carry;
  std::vector<char> buf(1 << 20);
  while (!stopping_) {
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
    wal_.Submit(std::move(body), offset, [&](bool ok, uint64_t) { durable.set_value(ok); });
    fut.wait();
  }
  if (!is_stdin) ::close(fd);
}

bool IngestWorker::SaveUiState(std::string* error) {
  const uint64_t seq = pipeline_->next_seq();
  std::string blob;
  Put(blob, seq);
  std::string part;
  activity_.Save(part);
  Put(blob, static_cast<uint64_t>(part.size()));
  blob += part;
  part.clear();
  samples_.Save(part);
  Put(blob, static_cast<uint64_t>(part.size()));
  blob += part;
  const std::string name = fmt::format("{}{}.bin", kUiStatePrefix, seq);
  if (!WriteFileAtomically(cfg_.data_dir + "/" + name, blob, error)) return false;
  // Older states belong to older checkpoints; the newest checkpoint is written right after this.
  if (DIR* d = ::opendir(cfg_.data_dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string f = e->d_name;
      if (f.rfind(kUiStatePrefix, 0) == 0 && f != name) {
        // Keep the state of the checkpoint still on disk until the new one replaces it.
        const std::string prev = fmt::format("{}{}.bin", kUiStatePrefix, last_ui_state_seq_);
        if (f != prev) ::unlink((cfg_.data_dir + "/" + f).c_str());
      }
    }
    ::closedir(d);
  }
  last_ui_state_seq_ = seq;
  return true;
}

void IngestWorker::LoadUiState() {
  const uint64_t seq = pipeline_->next_seq();
  last_ui_state_seq_ = seq;
  const std::string path = fmt::format("{}/{}{}.bin", cfg_.data_dir, kUiStatePrefix, seq);
  if (::access(path.c_str(), F_OK) != 0) {
    if (seq > 1)
      fmt::print(stderr,
                 "distillguard serve: no UI state for the checkpoint (plots start empty)\n");
    return;
  }
  std::string data, error;
  if (!ReadFile(path, &data, &error)) {
    fmt::print(stderr, "distillguard serve: {}\n", error);
    return;
  }
  std::string_view in(data);
  auto take = [&](uint64_t& v) {
    if (in.size() < 8) return false;
    std::memcpy(&v, in.data(), 8);
    in.remove_prefix(8);
    return true;
  };
  uint64_t s = 0, n = 0;
  bool ok =
      take(s) && s == seq && take(n) && n <= in.size() && activity_.Load(in.substr(0, n), &error);
  if (ok) {
    in.remove_prefix(n);
    ok = take(n) && n <= in.size() && samples_.Load(in.substr(0, n), &error);
  }
  if (!ok) {
    fmt::print(stderr, "distillguard serve: UI state unreadable ({}); plots start empty\n", error);
    activity_ = engine::Activity{};
  }
}

}  // namespace dg::serve
