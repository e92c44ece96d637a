// See reorder.h.
#include "engine/reorder.h"

namespace dg::engine {

void RecordSink::OnExchange(const ingest::Exchange& ex, uint64_t line) {
  records_->emplace_back();
  featurizer_.Featurize(ex, source_, line, records_->back());
  records_->back().seq = RecordSeq(source_, line, records_->size());
  if (samples_) {
    samples_->Offer(records_->back().prompt.skeleton_hash,
                    (static_cast<uint64_t>(source_) << 48) | line, ex.last_user_text);
  }
}

void RecordSink::OnReject(uint64_t line, ingest::RejectReason reason, std::string_view detail) {
  rejects_->push_back({std::string(), line, reason, std::string(detail)});
}

ReorderBuffer::Arrival ReorderBuffer::Add(const EventRecord& r) {
  Arrival arrival = Arrival::kInOrder;
  if (r.ts < max_ts_) {
    arrival = r.ts < released_ts_ ? Arrival::kBeyondLateness : Arrival::kReordered;
  }
  max_ts_ = std::max(max_ts_, r.ts);
  if (in_order_.empty() || LaterRecord()(r, in_order_.back())) {
    in_order_.push_back(r);
  } else {
    late_.push(r);
  }
  return arrival;
}

std::vector<EventRecord> ReorderBuffer::Pending() const {
  ReorderBuffer copy = *this;
  std::vector<EventRecord> out;
  out.reserve(pending());
  copy.Release(true, [&](const EventRecord& r) { out.push_back(r); });
  return out;
}

void ReorderBuffer::Restore(TimeUs max_ts, TimeUs released_ts,
                            const std::vector<EventRecord>& pending) {
  in_order_.clear();
  late_ = {};
  for (const auto& r : pending) Add(r);
  max_ts_ = max_ts;
  released_ts_ = released_ts;
}

}  // namespace dg::engine
