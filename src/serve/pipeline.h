// Pipeline: the serve-side driver of the engine, fed one accepted body (a block of JSONL) at a
// time instead of file blocks, on one ingest thread.
//
// A body becomes an ingest::Block whose first line number continues the previous body's, so the
// stream of bodies is numbered exactly as `scan` numbers the concatenated file, and it goes
// through the same BlockParser + Featurizer, the same RecordSink and the same ReorderBuffer
// (engine/reorder.h, shared with the scan driver) into Engine::Push. Hence serve and scan of the
// same events agree byte for byte.
//
// Checkpoint() serialises everything needed to continue as if never interrupted: the WAL
// position it includes, line counter, scan statistics, the reorder buffer's pending records and
// watermark, and the engine snapshot (taken after Flush(), which never changes results).
// FinalReport() answers "what would scan say now": it copies the engine through a snapshot into
// a scratch engine, releases everything pending, runs Finish() there and builds the report,
// leaving the live state untouched.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/activity.h"
#include "engine/engine.h"
#include "engine/featurizer.h"
#include "engine/reorder.h"
#include "engine/scan.h"
#include "ingest/parser.h"

namespace dg::serve {

struct PipelineOptions {
  engine::EngineOptions engine;
  std::string format = "exchange";
  size_t max_line_bytes = 1 << 20;
  TimeUs lateness = 5 * kUsPerMin;
  engine::EvictOptions evict;  // idle accounts to disk (evict.idle > 0; see EnableEviction)
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

  // Turns idle-account eviction on (options.evict), before Restore(). On a fresh start (no
  // checkpoint) call engine().PruneEvictStore() afterwards; Restore() prunes by itself.
  bool EnableEviction(std::string* error);
  // Also marks the eviction rows superseded so far for deletion: call
  // engine().EvictCheckpointDone() once the checkpoint is durably written.
  std::string Checkpoint();
  bool Restore(std::string_view data, std::string* error);
  // Calls fn with an engine holding every account's state: the live engine, or with eviction on
  // a scratch copy with the evicted accounts read back (the live state untouched).
  void WithAllAccounts(const std::function<void(const engine::Engine&)>& fn);

  // The report contract for the current state; `final` = as if the input ended now.
  std::string Report(TimeUs generated_at, bool final);

  engine::Engine& engine() { return *engine_; }
  core::NameTable& names() { return names_; }
  const engine::ScanStats& stats() const { return stats_; }
  uint64_t next_seq() const { return next_seq_; }
  uint64_t next_line() const { return next_line_; }
  size_t pending() const { return reorder_.pending(); }

 private:
  engine::ScanStats CurrentStats() const;

  PipelineOptions opt_;
  core::NameTable names_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<ingest::BlockParser> parser_;
  std::unique_ptr<engine::Featurizer> featurizer_;
  ingest::Block block_;
  std::vector<core::EventRecord> records_;     // one body's, reused
  std::vector<ingest::RejectSample> rejects_;  // one body's, reused
  engine::ReorderBuffer reorder_;
  uint64_t next_seq_ = 1, next_line_ = 1;
  uint64_t blank_base_ = 0;  // blank lines counted before the last restore
  engine::ScanStats stats_;
};

}  // namespace dg::serve
