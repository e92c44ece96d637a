// Scan: replays input files through the engine in event-time order.
//
// Each input is a Source: a BlockReader feeding BlockParsers (one per worker thread; blocks of a
// source are parsed in parallel and delivered in order), a Featurizer per worker, and a reorder
// buffer that holds records until the source's watermark (latest ts seen minus the allowed
// lateness) passes them. Sources are merged by (ts, source, line), so several overlapping logs
// (two gateways, one week) interleave correctly. The engine sees one time-ordered stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/activity.h"
#include "engine/engine.h"
#include "ingest/reject.h"

namespace dg::engine {

struct ScanOptions {
  std::vector<std::string> inputs;  // paths, "-" for stdin
  std::string format = "auto";
  size_t max_line_bytes = 1 << 20;
  size_t block_bytes = 4 << 20;
  TimeUs lateness = 5 * kUsPerMin;
  int threads = 1;
  size_t max_reject_samples = 10;
  bool use_iterate_many = true;
  // Sample prompts per template for `scan --html` (borrowed; may be null).
  PromptSamples* samples = nullptr;
};

struct ScanStats {
  uint64_t events = 0;  // valid records delivered to the engine
  uint64_t lines = 0;   // lines read
  uint64_t blank_lines = 0;
  uint64_t bytes = 0;           // decompressed bytes read
  uint64_t raw_bytes = 0;       // bytes read from files
  uint64_t late_reordered = 0;  // records that arrived out of order within the lateness
  uint64_t late_beyond = 0;     // records later than the lateness (processed where they landed)
  ingest::RejectCounts rejected;
  std::vector<ingest::RejectSample> samples;
  std::vector<std::string> unreadable;  // inputs that could not be read at all (with reason)
  std::vector<std::string> formats;     // the format used per input
};

using ProgressFn = std::function<void(const ScanStats&, uint64_t total_raw_bytes)>;

// Runs the scan; the engine is finished (Finish()) on return. Never throws on bad data.
ScanStats RunScan(const ScanOptions& options, Engine& engine, NameTable& names,
                  const ProgressFn& progress = nullptr);

}  // namespace dg::engine
