// The driver core shared by `scan` (engine/scan.cc) and `serve` (serve/pipeline.cc): how parsed
// exchanges become numbered records, and the per-source reorder buffer that releases them in
// event-time order. Both drivers use exactly these two pieces, so the same lines give the same
// records in the same order to Engine::Push, and the two reports agree byte for byte.
//
// Numbering: a record's seq is (source << 48) | (line << 8) | (its index in the block, mod 256),
// so it is unique per source and orders records of one timestamp by arrival. `serve` numbers the
// concatenation of its request bodies as `scan` numbers one file (source 0).
//
// Reorder buffer: a record waits until the watermark (latest ts seen minus the lateness; at the
// end of input, +inf) reaches it, and records leave in (ts, seq) order. Records that arrive in
// order (nearly all) queue in a deque; only late ones pay for the heap; releasing merges the two,
// so the output is what one heap would give. A record older than the latest released one is
// "beyond the lateness": it is still released (where it lands) and counted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <queue>
#include <string>
#include <vector>

#include "core/event.h"
#include "engine/activity.h"
#include "engine/featurizer.h"
#include "ingest/adapter.h"
#include "ingest/reject.h"

namespace dg::engine {

inline uint64_t RecordSeq(uint16_t source, uint64_t line, size_t index_in_block) {
  return (static_cast<uint64_t>(source) << 48) | (line << 8) | (index_in_block & 0xff);
}

// Featurizes every exchange of a block into `records` (numbered as above) and collects the
// block's rejections (line, reason, detail; the caller names the source).
class RecordSink final : public ingest::ExchangeSink {
 public:
  RecordSink(Featurizer& featurizer, uint16_t source, std::vector<EventRecord>* records,
             std::vector<ingest::RejectSample>* rejects, PromptSamples* samples = nullptr)
      : featurizer_(featurizer),
        source_(source),
        records_(records),
        rejects_(rejects),
        samples_(samples) {}
  void OnExchange(const ingest::Exchange& ex, uint64_t line) override;
  void OnReject(uint64_t line, ingest::RejectReason reason, std::string_view detail) override;

 private:
  Featurizer& featurizer_;
  uint16_t source_;
  std::vector<EventRecord>* records_;
  std::vector<ingest::RejectSample>* rejects_;
  PromptSamples* samples_;  // sample prompts per template for the analyst UI (may be null)
};

// (ts, seq) order, as a "greater than" for std::priority_queue.
struct LaterRecord {
  bool operator()(const EventRecord& a, const EventRecord& b) const {
    if (a.ts != b.ts) return a.ts > b.ts;
    return a.seq > b.seq;
  }
};

class ReorderBuffer {
 public:
  enum class Arrival { kInOrder, kReordered, kBeyondLateness };

  explicit ReorderBuffer(TimeUs lateness) : lateness_(lateness) {}

  Arrival Add(const EventRecord& r);
  // Add() that counts a late arrival into the driver's statistics (ScanStats::late_*).
  void Add(const EventRecord& r, uint64_t& late_reordered, uint64_t& late_beyond) {
    switch (Add(r)) {
      case Arrival::kInOrder:
        break;
      case Arrival::kReordered:
        ++late_reordered;
        break;
      case Arrival::kBeyondLateness:
        ++late_beyond;
        break;
    }
  }
  // Releases, in (ts, seq) order, every record the watermark has passed (all of them at the end
  // of input) to out(const EventRecord&).
  template <typename Out>
  void Release(bool end_of_input, Out&& out) {
    TimeUs watermark = INT64_MAX;
    if (!end_of_input) watermark = max_ts_ == INT64_MIN ? INT64_MIN : max_ts_ - lateness_;
    for (;;) {
      const bool heap =
          !late_.empty() && (in_order_.empty() || LaterRecord()(in_order_.front(), late_.top()));
      if (!heap && in_order_.empty()) break;
      const EventRecord& r = heap ? late_.top() : in_order_.front();
      if (r.ts > watermark) break;
      released_ts_ = std::max(released_ts_, r.ts);
      out(r);
      if (heap) {
        late_.pop();
      } else {
        in_order_.pop_front();
      }
    }
  }
  // Every waiting record, in release order, without releasing it.
  std::vector<EventRecord> Pending() const;
  size_t pending() const { return in_order_.size() + late_.size(); }

  // The state a checkpoint must keep besides Pending(): restores a buffer to continue as if
  // never interrupted.
  TimeUs max_ts() const { return max_ts_; }
  TimeUs released_ts() const { return released_ts_; }
  void Restore(TimeUs max_ts, TimeUs released_ts, const std::vector<EventRecord>& pending);

 private:
  TimeUs lateness_;
  std::deque<EventRecord> in_order_;
  std::priority_queue<EventRecord, std::vector<EventRecord>, LaterRecord> late_;
  TimeUs max_ts_ = INT64_MIN, released_ts_ = INT64_MIN;
};

}  // namespace dg::engine
