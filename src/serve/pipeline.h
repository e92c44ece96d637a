// Pipeline: the serve-side twin of the scan driver, fed one accepted body (a block of JSONL) at
// a time instead of file blocks, on one ingest thread.
//
// A body becomes an ingest::Block whose first line number continues the previous body's, so the
// stream of bodies is numbered exactly as `scan` numbers the concatenated file, and it goes
// through the same BlockParser + Featurizer and the same reorder buffer rules (watermark = latest
// ts seen minus the lateness; released in (ts, seq) order) into Engine::Push. Hence serve and
// scan of the same events agree.
//
// Checkpoint() serialises everything needed to continue as if never interrupted: the WAL
// position it includes, line counter, scan statistics, the reorder buffer's pending records and
// watermark, and the engine snapshot (taken after Flush(), which never changes results).
// FinalReport() answers "what would scan say now": it copies the engine through a snapshot into
// a scratch engine, releases everything pending, runs Finish() there and builds the report,
// leaving the live state untouched.
#pragma once

#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "engine/activity.h"
#include "engine/engine.h"
#include "engine/featurizer.h"
#include "engine/scan.h"
#include "ingest/parser.h"

namespace dg::serve {

struct PipelineOptions {
  engine::EngineOptions engine;
  std::string format = "exchange";
  size_t max_line_bytes = 1 << 20;
  TimeUs lateness = 5 * kUsPerMin;
  // Sample prompts per template for the analyst UI (borrowed; may be null).
  engine::PromptSamples* samples = nullptr;
};

class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options);
  ~Pipeline();

  // Processes one WAL record (seq must be next_seq()).
  void Apply(uint64_t seq, std::string_view body);
  // Makes every released event visible in the engine's verdicts (no effect on results).
  void Flush() { engine_->Flush(); }

  std::string Checkpoint();
  bool Restore(std::string_view data, std::string* error);

  // The report contract for the current state; `final` = as if the input ended now.
  std::string Report(TimeUs generated_at, bool final);

  engine::Engine& engine() { return *engine_; }
  core::NameTable& names() { return names_; }
  const engine::ScanStats& stats() const { return stats_; }
  uint64_t next_seq() const { return next_seq_; }
  uint64_t next_line() const { return next_line_; }
  size_t pending() const { return pending_.size(); }

 private:
  struct ByTime {
    bool operator()(const core::EventRecord& a, const core::EventRecord& b) const {
      if (a.ts != b.ts) return a.ts > b.ts;
      return a.seq > b.seq;
    }
  };
  engine::ScanStats CurrentStats() const;

  PipelineOptions opt_;
  core::NameTable names_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<ingest::BlockParser> parser_;
  std::unique_ptr<engine::Featurizer> featurizer_;
  ingest::Block block_;
  std::vector<core::EventRecord> records_;
  std::priority_queue<core::EventRecord, std::vector<core::EventRecord>, ByTime> pending_;
  TimeUs max_ts_ = INT64_MIN, released_ts_ = INT64_MIN;
  uint64_t next_seq_ = 1, next_line_ = 1;
  uint64_t blank_base_ = 0;  // blank lines counted before the last restore
  engine::ScanStats stats_;
};

}  // namespace dg::serve
