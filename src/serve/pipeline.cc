// See pipeline.h.
#include "serve/pipeline.h"

#include <cstring>

#include "report/report.h"

namespace dg::serve {
namespace {

constexpr char kMagic[8] = {'D', 'G', 'P', 'I', 'P', 'E', '0', '1'};

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

Pipeline::Pipeline(PipelineOptions options) : opt_(std::move(options)), reorder_(opt_.lateness) {
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
  rejects_.clear();
  engine::RecordSink sink(*featurizer_, 0, &records_, &rejects_, opt_.samples);
  parser_->Parse(block_, sink);
  for (const auto& r : rejects_) stats_.rejected.Add(r.reason);
  for (const auto& r : records_) reorder_.Add(r, stats_.late_reordered, stats_.late_beyond);
  stats_.events += records_.size();
  reorder_.Release(false, [&](const core::EventRecord& r) { engine_->Push(r); });
}

engine::ScanStats Pipeline::CurrentStats() const {
  engine::ScanStats s = stats_;
  s.blank_lines = blank_base_ + parser_->blank_lines();
  return s;
}

bool Pipeline::EnableEviction(std::string* error) {
  if (opt_.evict.idle <= 0) return true;
  return engine_->EnableEviction(opt_.evict, error);
}

void Pipeline::WithAllAccounts(const std::function<void(const engine::Engine&)>& fn) {
  engine_->Flush();
  if (!engine_->evicting()) return fn(*engine_);
  std::string snap;
  engine_->SaveSnapshot(snap);
  core::NameTable names;
  engine::Engine scratch(opt_.engine, names);
  scratch.ShareEvictStore(*engine_);
  std::string err;
  if (!scratch.LoadSnapshot(snap, &err)) return fn(*engine_);  // not reached: our own snapshot
  scratch.RestoreAll();
  fn(scratch);
}

std::string Pipeline::Checkpoint() {
  engine_->EvictCheckpointBegin();
  engine_->Flush();
  std::string out(kMagic, sizeof(kMagic));
  const engine::ScanStats s = CurrentStats();
  Put(out, next_seq_);
  Put(out, next_line_);
  Put(out, reorder_.max_ts());
  Put(out, reorder_.released_ts());
  Put(out, s.events);
  Put(out, s.lines);
  Put(out, s.blank_lines);
  Put(out, s.bytes);
  Put(out, s.raw_bytes);
  Put(out, s.late_reordered);
  Put(out, s.late_beyond);
  Put(out, s.rejected);
  const std::vector<core::EventRecord> pending = reorder_.Pending();
  Put<uint64_t>(out, pending.size());
  for (const auto& r : pending) Put(out, r);
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
  TimeUs max_ts = 0, released_ts = 0;
  bool ok = Take(data, next_seq_) && Take(data, next_line_) && Take(data, max_ts) &&
            Take(data, released_ts) && Take(data, s.events) && Take(data, s.lines) &&
            Take(data, s.blank_lines) && Take(data, s.bytes) && Take(data, s.raw_bytes) &&
            Take(data, s.late_reordered) && Take(data, s.late_beyond) && Take(data, s.rejected) &&
            Take(data, n);
  if (!ok || n > data.size() / sizeof(core::EventRecord)) {
    *error = "checkpoint: truncated header";
    return false;
  }
  std::vector<core::EventRecord> pending(n);
  for (auto& r : pending) Take(data, r);
  reorder_.Restore(max_ts, released_ts, pending);
  uint64_t len = 0;
  if (!Take(data, len) || len != data.size()) {
    *error = "checkpoint: truncated engine snapshot";
    return false;
  }
  if (!engine_->LoadSnapshot(data, error)) return false;
  if (!engine_->PruneEvictStore(error)) return false;
  stats_ = s;
  blank_base_ = s.blank_lines - parser_->blank_lines();
  return true;
}

std::string Pipeline::Report(TimeUs generated_at, bool final) {
  engine_->Flush();
  engine::ScanStats s = CurrentStats();
  if (!final) {
    std::string out;
    WithAllAccounts([&](const engine::Engine& e) {
      out = report::ToJson(report::Build(e), e, s, generated_at);
    });
    return out;
  }
  std::string snap;
  engine_->SaveSnapshot(snap);
  core::NameTable names;
  engine::EngineOptions eo = opt_.engine;
  engine::Engine scratch(eo, names);
  scratch.ShareEvictStore(*engine_);
  std::string err;
  if (!scratch.LoadSnapshot(snap, &err)) return "{\"error\":\"snapshot copy failed\"}";
  for (const auto& r : reorder_.Pending()) scratch.Push(r);
  scratch.Finish();
  scratch.RestoreAll();
  auto rep = report::Build(scratch);
  return report::ToJson(rep, scratch, s, generated_at);
}

}  // namespace dg::serve
