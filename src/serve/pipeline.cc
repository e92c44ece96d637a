// See pipeline.h.
#include "serve/pipeline.h"

#include <cstring>

#include "report/report.h"

namespace dg::serve {
namespace {

constexpr char kMagic[8] = {'D', 'G', 'P', 'I', 'P', 'E', '0', '1'};

// Same record numbering as the scan driver's BlockSink.
class Sink final : public ingest::ExchangeSink {
 public:
  Sink(engine::Featurizer& f, std::vector<core::EventRecord>& out, engine::ScanStats& stats,
       engine::PromptSamples* samples)
      : f_(f), out_(out), stats_(stats), samples_(samples) {}
  void OnExchange(const ingest::Exchange& ex, uint64_t line) override {
    out_.emplace_back();
    f_.Featurize(ex, 0, line, out_.back());
    out_.back().seq = (line << 8) | (out_.size() & 0xff);
    if (samples_) samples_->Offer(out_.back().prompt.skeleton_hash, line, ex.last_user_text);
  }
  void OnReject(uint64_t, ingest::RejectReason reason, std::string_view) override {
    stats_.rejected.Add(reason);
  }

 private:
  engine::Featurizer& f_;
  std::vector<core::EventRecord>& out_;
  engine::ScanStats& stats_;
  engine::PromptSamples* samples_;
};

template <typename T>
void Put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
bool Take(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options) : opt_(std::move(options)) {
  engine_ = std::make_unique<engine::Engine>(opt_.engine, names_);
  ingest::ParserOptions po;
  po.format = opt_.format;
  po.max_line_bytes = opt_.max_line_bytes;
  parser_ = std::make_unique<ingest::BlockParser>(po);
  featurizer_ = std::make_unique<engine::Featurizer>(names_);
}

Pipeline::~Pipeline() = default;

void Pipeline::Apply(uint64_t seq, std::string_view body) {
  next_seq_ = seq + 1;
  if (body.empty()) return;
  // A body always ends a line, as if the bodies were concatenated into one file.
  const bool needs_nl = body.back() != '\n';
  const size_t len = body.size() + (needs_nl ? 1 : 0);
  if (block_.buf.size() < len + simdjson::SIMDJSON_PADDING) {
    block_.buf.resize(len + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(block_.buf.data(), body.data(), body.size());
  if (needs_nl) block_.buf[body.size()] = '\n';
  std::memset(block_.buf.data() + len, ' ', simdjson::SIMDJSON_PADDING);
  uint64_t lines = 0;
  for (const char* p = block_.buf.data(); p < block_.buf.data() + len;) {
    const char* nl = static_cast<const char*>(
        std::memchr(p, '\n', static_cast<size_t>(block_.buf.data() + len - p)));
    ++lines;
    if (!nl) break;
    p = nl + 1;
  }
  block_.len = len;
  block_.first_line = next_line_;
  block_.n_lines = lines;
  block_.oversized.clear();
  next_line_ += lines;
  stats_.lines += lines;
  stats_.bytes += len;
  stats_.raw_bytes += len;

  records_.clear();
  Sink sink(*featurizer_, records_, stats_, opt_.samples);
  parser_->Parse(block_, sink);
  for (const auto& r : records_) {
    if (r.ts < max_ts_) {
      if (r.ts < released_ts_) {
        ++stats_.late_beyond;
      } else {
        ++stats_.late_reordered;
      }
    }
    max_ts_ = std::max(max_ts_, r.ts);
    pending_.push(r);
    ++stats_.events;
  }
  const TimeUs watermark = max_ts_ == INT64_MIN ? INT64_MIN : max_ts_ - opt_.lateness;
  while (!pending_.empty() && pending_.top().ts <= watermark) {
    released_ts_ = std::max(released_ts_, pending_.top().ts);
    engine_->Push(pending_.top());
    pending_.pop();
  }
}

engine::ScanStats Pipeline::CurrentStats() const {
  engine::ScanStats s = stats_;
  s.blank_lines = blank_base_ + parser_->blank_lines();
  return s;
}

std::string Pipeline::Checkpoint() {
  engine_->Flush();
  std::string out(kMagic, sizeof(kMagic));
  const engine::ScanStats s = CurrentStats();
  Put(out, next_seq_);
  Put(out, next_line_);
  Put(out, max_ts_);
  Put(out, released_ts_);
  Put(out, s.events);
  Put(out, s.lines);
  Put(out, s.blank_lines);
  Put(out, s.bytes);
  Put(out, s.raw_bytes);
  Put(out, s.late_reordered);
  Put(out, s.late_beyond);
  Put(out, s.rejected);
  auto copy = pending_;
  Put<uint64_t>(out, copy.size());
  while (!copy.empty()) {
    Put(out, copy.top());
    copy.pop();
  }
  std::string eng;
  engine_->SaveSnapshot(eng);
  Put<uint64_t>(out, eng.size());
  out += eng;
  return out;
}

bool Pipeline::Restore(std::string_view data, std::string* error) {
  if (data.size() < sizeof(kMagic) || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    *error = "checkpoint: bad magic";
    return false;
  }
  data.remove_prefix(sizeof(kMagic));
  engine::ScanStats s;
  uint64_t n = 0;
  bool ok = Take(data, next_seq_) && Take(data, next_line_) && Take(data, max_ts_) &&
            Take(data, released_ts_) && Take(data, s.events) && Take(data, s.lines) &&
            Take(data, s.blank_lines) && Take(data, s.bytes) && Take(data, s.raw_bytes) &&
            Take(data, s.late_reordered) && Take(data, s.late_beyond) && Take(data, s.rejected) &&
            Take(data, n);
  if (!ok || n > data.size() / sizeof(core::EventRecord)) {
    *error = "checkpoint: truncated header";
    return false;
  }
  pending_ = {};
  for (uint64_t i = 0; i < n; ++i) {
    core::EventRecord r;
    Take(data, r);
    pending_.push(r);
  }
  uint64_t len = 0;
  if (!Take(data, len) || len != data.size()) {
    *error = "checkpoint: truncated engine snapshot";
    return false;
  }
  if (!engine_->LoadSnapshot(data, error)) return false;
  stats_ = s;
  blank_base_ = s.blank_lines - parser_->blank_lines();
  return true;
}

std::string Pipeline::Report(TimeUs generated_at, bool final) {
  engine_->Flush();
  engine::ScanStats s = CurrentStats();
  if (!final) {
    auto rep = report::Build(*engine_);
    return report::ToJson(rep, *engine_, s, generated_at);
  }
  std::string snap;
  engine_->SaveSnapshot(snap);
  core::NameTable names;
  engine::EngineOptions eo = opt_.engine;
  engine::Engine scratch(eo, names);
  std::string err;
  if (!scratch.LoadSnapshot(snap, &err)) return "{\"error\":\"snapshot copy failed\"}";
  auto copy = pending_;
  while (!copy.empty()) {
    scratch.Push(copy.top());
    copy.pop();
  }
  scratch.Finish();
  auto rep = report::Build(scratch);
  return report::ToJson(rep, scratch, s, generated_at);
}

}  // namespace dg::serve
