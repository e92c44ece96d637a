// IngestWorker: the one thread that owns the engine. It applies durable bodies in WAL order
// through the Pipeline (parser, featurizer, reorder buffer, Engine), publishes verdicts to the
// VerdictView the decision handlers read lock-free, writes alerts, checkpoints (with the UI's
// activity and prompt samples beside each checkpoint), and runs the admin and case queries
// queued with Run(), which therefore see the engine between two bodies. An optional tailer
// thread reads a file (or stdin) and feeds whole lines to the WAL like POST /v1/events.
// Restart = Recover(): load the checkpoint, replay the WAL after its position through the same
// Apply(), which is exactly what an uninterrupted run would have done (see pipeline.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/time.h"
#include "engine/activity.h"
#include "serve/config.h"
#include "serve/interfaces.h"
#include "serve/metrics.h"
#include "serve/pipeline.h"
#include "serve/store.h"
#include "serve/verdict_view.h"
#include "serve/wal_writer.h"

namespace dg::serve {

class IngestWorker final : public IngestRunner, public IngestState, public engine::EngineObserver {
 public:
  IngestWorker(const ServeConfig& cfg, const Clock& clock, Store& store, VerdictView& view,
               WalWriter& wal, ServeMetrics& metrics, const std::atomic<bool>& stopping)
      : cfg_(cfg),
        clock_(clock),
        store_(store),
        view_(view),
        wal_(wal),
        metrics_(metrics),
        stopping_(stopping) {}
  ~IngestWorker() override { Join(); }

  // Builds the pipeline, restores the checkpoint, replays the WAL, publishes every verdict and
  // writes a fresh checkpoint. No thread runs yet.
  bool Recover(std::string* error);
  const std::vector<std::string>& detector_names() const { return detector_names_; }
  void Start();      // the ingest thread
  void StartTail();  // the tailer (cfg.tail), if any
  // Wakes the threads (after the stop flag was set) and waits for them to end.
  void Join();
  void FinalCheckpoint();  // after Join(), if Recover() got as far as the pipeline

  // From the WAL thread: bodies now durable, in WAL order.
  void EnqueueDurable(std::vector<std::pair<uint64_t, std::string>> bodies, int64_t now);

  // IngestRunner (any thread).
  void Run(Reply reply, Task task) override;
  bool Lagging() const override;
  double LagSeconds() const override;
  uint64_t processed_seq() const override { return metrics_.processed_seq.load(); }

  // IngestState (ingest thread).
  Pipeline& pipeline() override { return *pipeline_; }
  const engine::Activity& activity() const override { return activity_; }
  const engine::PromptSamples& samples() const override { return samples_; }
  bool WriteCheckpoint(std::string* error) override;

  // EngineObserver (ingest thread).
  void OnAccountFlagged(const state::AccountState& account, TimeUs at, bool by_cluster) override;
  void OnBarrier(TimeUs at) override;
  void OnEvent(const core::EventRecord& r) override;

 private:
  struct Item {
    uint64_t seq = 0;
    std::string body;
    int64_t enqueued_us = 0;
    std::function<void()> task;
    Reply reply;  // the task's reply: answered 500 if the task throws
  };
  void Loop();
  void TailLoop();
  void Publish(bool force);
  AccountVerdict VerdictOf(const state::AccountState& s, uint32_t index) const;
  static AccountVerdict UnitVerdict(const state::Verdict& v);  // an end user's or key's own
  bool SaveUiState(std::string* error);
  void LoadUiState();

  const ServeConfig& cfg_;
  const Clock& clock_;
  Store& store_;
  VerdictView& view_;
  WalWriter& wal_;
  ServeMetrics& metrics_;
  const std::atomic<bool>& stopping_;

  std::unique_ptr<Pipeline> pipeline_;
  engine::Activity activity_;      // ingest thread
  engine::PromptSamples samples_;  // parsing (ingest) thread; read by case queries there too
  uint64_t last_ui_state_seq_ = 0;
  std::vector<std::string> detector_names_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::atomic<int64_t> oldest_pending_us_{0};
  std::thread thread_, tail_thread_;

  // Ingest-thread state.
  std::unordered_map<uint64_t, AccountVerdict> published_;
  std::vector<uint64_t> dirty_;
  int64_t last_publish_us_ = 0, last_checkpoint_us_ = 0;
  uint64_t bytes_since_checkpoint_ = 0;
};

}  // namespace dg::serve
