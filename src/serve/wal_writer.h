// WalWriter: the write-ahead log's group commit. HTTP threads (and the file tailer) queue event
// bodies with Submit; one thread appends every queued body, issues one fdatasync for the group,
// hands the durable bodies to the ingest worker in WAL order and only then acknowledges them
// (HTTP 200 only after the fsync). The Wal object is shared with the ingest thread, which drops
// segments after a checkpoint, so every access to it goes through the file mutex here.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/time.h"
#include "serve/config.h"
#include "serve/interfaces.h"
#include "serve/metrics.h"
#include "serve/wal.h"

namespace dg::serve {

class WalWriter final : public BodySink {
 public:
  // Durable bodies (WAL seq, body), in WAL order, with the time they became durable.
  using DurableFn = std::function<void(std::vector<std::pair<uint64_t, std::string>>, int64_t)>;

  // `stopping` is the service's stop flag: the thread drains its queue and ends once it is set.
  WalWriter(const ServeConfig& cfg, const Clock& clock, ServeMetrics& metrics,
            const std::atomic<bool>& stopping)
      : cfg_(cfg), clock_(clock), metrics_(metrics), stopping_(stopping) {}
  ~WalWriter() override { Join(); }

  bool Open(std::string* error);
  // Start-up only (no thread yet): the log's end, and replay from `from` on.
  uint64_t next_seq() const { return wal_.next_seq(); }
  bool Replay(uint64_t from, const std::function<void(uint64_t, uint64_t, std::string_view)>& fn,
              std::string* error) {
    return wal_.Replay(from, fn, error);
  }
  void Start(DurableFn durable);
  // Wakes the thread (after the stop flag was set) and waits for it to drain and end.
  void Join();

  void Submit(std::string body, uint64_t aux, Done done) override;
  uint64_t last_aux() override;
  // Drops the segments wholly before `seq` (after a checkpoint covering them).
  void DropBefore(uint64_t seq);

 private:
  struct Item {
    std::string body;
    uint64_t aux = 0;
    Done done;
  };
  void Loop();

  const ServeConfig& cfg_;
  const Clock& clock_;
  ServeMetrics& metrics_;
  const std::atomic<bool>& stopping_;
  DurableFn durable_;
  Wal wal_;
  std::mutex file_mu_;  // wal_: this thread appends, the ingest thread drops segments
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::thread thread_;
};

}  // namespace dg::serve
