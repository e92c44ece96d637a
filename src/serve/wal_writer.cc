// See wal_writer.h.
#include "serve/wal_writer.h"

#include <fmt/format.h>

#include <chrono>

namespace dg::serve {

bool WalWriter::Open(std::string* error) {
  return wal_.Open(cfg_.data_dir + "/wal", cfg_.wal_segment_bytes, error);
}

void WalWriter::Start(DurableFn durable) {
  durable_ = std::move(durable);
  thread_ = std::thread([this] { Loop(); });
}

void WalWriter::Join() {
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalWriter::Submit(std::string body, uint64_t aux, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(body), aux, std::move(done)});
  }
  cv_.notify_one();
}

uint64_t WalWriter::last_aux() {
  std::lock_guard lock(file_mu_);
  return wal_.last_aux();
}

void WalWriter::DropBefore(uint64_t seq) {
  std::lock_guard lock(file_mu_);
  wal_.DropBefore(seq);
}

void WalWriter::Loop() {
  std::deque<Item> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
    }
    if (cfg_.group_commit_ms > 0) {
      std::this_thread::sleep_for(
          std::chrono::microseconds(static_cast<int64_t>(cfg_.group_commit_ms * 1000)));
    }
    {
      std::lock_guard lock(mu_);
      group.swap(queue_);
    }
    std::vector<std::pair<uint64_t, bool>> seqs;
    bool ok = true;
    {
      std::lock_guard lock(file_mu_);
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
      ++metrics_.wal_syncs;
    }
    std::vector<std::pair<uint64_t, std::string>> durable;
    for (size_t i = 0; i < group.size(); ++i) {
      if (!seqs[i].second || seqs[i].first == 0) continue;
      metrics_.bytes += group[i].body.size();
      durable.emplace_back(seqs[i].first, std::move(group[i].body));
    }
    // Queued for ingest before anyone hears "durable": a reader that sees the 200 and then asks
    // the ingest thread finds the batch ahead of its question.
    durable_(std::move(durable), clock_.Now());
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].done) group[i].done(ok && seqs[i].second, seqs[i].first);
    }
    group.clear();
    if (!ok) fmt::print(stderr, "distillguard serve: write-ahead log I/O error\n");
  }
}

}  // namespace dg::serve
