// See scan.h.
#include "engine/scan.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <queue>

#include "common/worker_pool.h"
#include "engine/featurizer.h"
#include "ingest/input.h"
#include "ingest/parser.h"

namespace dg::engine {
namespace {

// What one worker produced from one block.
struct ParsedBlock {
  std::vector<EventRecord> records;
  std::vector<ingest::RejectSample> rejects;  // line, reason, detail (source filled later)
  uint64_t lines = 0;
};

class BlockSink final : public ingest::ExchangeSink {
 public:
  BlockSink(Featurizer& f, uint16_t source) : featurizer_(f), source_(source) {}
  void Reset(ParsedBlock* out) { out_ = out; }
  void OnExchange(const ingest::Exchange& ex, uint64_t line) override {
    out_->records.emplace_back();
    featurizer_.Featurize(ex, source_, line, out_->records.back());
    out_->records.back().seq =
        (static_cast<uint64_t>(source_) << 48) | (line << 8) | (out_->records.size() & 0xff);
  }
  void OnReject(uint64_t line, ingest::RejectReason reason, std::string_view detail) override {
    out_->rejects.push_back({std::string(), line, reason, std::string(detail)});
  }

 private:
  Featurizer& featurizer_;
  uint16_t source_;
  ParsedBlock* out_ = nullptr;
};

struct Worker {
  std::unique_ptr<ingest::BlockParser> parser;
  std::unique_ptr<Featurizer> featurizer;
};

struct ByTime {
  bool operator()(const EventRecord& a, const EventRecord& b) const {
    if (a.ts != b.ts) return a.ts > b.ts;
    return a.seq > b.seq;
  }
};

struct Source {
  std::string path;
  uint16_t index = 0;
  std::unique_ptr<ingest::BlockReader> reader;
  std::string format;
  std::vector<Worker> workers;
  std::vector<ingest::Block> blocks;
  std::vector<ParsedBlock> parsed;
  std::priority_queue<EventRecord, std::vector<EventRecord>, ByTime> pending;
  std::deque<EventRecord> released;
  TimeUs max_ts = INT64_MIN;
  TimeUs released_ts = INT64_MIN;
  bool exhausted = false;
  bool error_reported = false;
};

}  // namespace

ScanStats RunScan(const ScanOptions& opt, Engine& engine, NameTable& names,
                  const ProgressFn& progress) {
  ScanStats stats;
  WorkerPool pool(opt.threads);
  const size_t nworkers = static_cast<size_t>(pool.threads());
  uint64_t total_raw = 0;
  std::vector<std::unique_ptr<Source>> sources;

  auto add_reject = [&](const std::string& path, ingest::RejectSample r) {
    stats.rejected.Add(r.reason);
    if (stats.samples.size() < opt.max_reject_samples) {
      r.source = path;
      stats.samples.push_back(std::move(r));
    }
  };

  for (size_t i = 0; i < opt.inputs.size(); ++i) {
    const std::string& path = opt.inputs[i];
    std::string error;
    auto stream = ingest::OpenByteStream(path, &error);
    if (!stream) {
      stats.unreadable.push_back(error);
      continue;
    }
    struct stat st;
    if (path != "-" && ::stat(path.c_str(), &st) == 0)
      total_raw += static_cast<uint64_t>(st.st_size);
    auto src = std::make_unique<Source>();
    src->path = path;
    src->index = static_cast<uint16_t>(i);
    src->reader = std::make_unique<ingest::BlockReader>(std::move(stream), opt.block_bytes,
                                                        opt.max_line_bytes);
    src->blocks.resize(nworkers);
    src->parsed.resize(nworkers);
    sources.push_back(std::move(src));
  }

  // Reads up to nworkers blocks of a source, parses them in parallel, and moves the records
  // into its reorder buffer, releasing what the watermark allows.
  auto fill = [&](Source& s) {
    size_t n = 0;
    while (n < nworkers) {
      if (!s.reader->Next(s.blocks[n])) {
        if (!s.blocks[n].oversized.empty()) ++n;  // an oversized line at EOF still counts
        s.exhausted = true;
        break;
      }
      ++n;
    }
    if (!s.reader->error().empty() && !s.error_reported) {
      s.error_reported = true;
      stats.unreadable.push_back(fmt::format("{}: read error after {} bytes: {}", s.path,
                                             s.reader->bytes_read(), s.reader->error()));
    }
    if (s.workers.empty() && n > 0) {
      if (opt.format == "auto") {
        const auto& b = s.blocks[0];
        s.format =
            ingest::DetectFormat(std::string_view(b.buf.data(), std::min<size_t>(b.len, 1 << 20)));
      } else {
        s.format = opt.format;
      }
      stats.formats.push_back(fmt::format("{}: {}", s.path, s.format));
      ingest::ParserOptions po;
      po.format = s.format;
      po.max_line_bytes = opt.max_line_bytes;
      po.use_iterate_many = opt.use_iterate_many;
      for (size_t w = 0; w < nworkers; ++w) {
        s.workers.push_back(
            {std::make_unique<ingest::BlockParser>(po), std::make_unique<Featurizer>(names)});
      }
    }
    pool.Run(n, [&](size_t i) {
      ParsedBlock& pb = s.parsed[i];
      pb.records.clear();
      pb.rejects.clear();
      pb.lines = s.blocks[i].n_lines + s.blocks[i].oversized.size();
      BlockSink sink(*s.workers[i].featurizer, s.index);
      sink.Reset(&pb);
      s.workers[i].parser->Parse(s.blocks[i], sink);
    });
    for (size_t i = 0; i < n; ++i) {
      ParsedBlock& pb = s.parsed[i];
      stats.lines += pb.lines;
      for (auto& r : pb.rejects) add_reject(s.path, std::move(r));
      for (const auto& r : pb.records) {
        if (r.ts < s.max_ts) {
          if (r.ts < s.released_ts) {
            ++stats.late_beyond;
          } else {
            ++stats.late_reordered;
          }
        }
        s.max_ts = std::max(s.max_ts, r.ts);
        s.pending.push(r);
      }
    }
    const TimeUs watermark = s.exhausted ? INT64_MAX : s.max_ts - opt.lateness;
    while (!s.pending.empty() && s.pending.top().ts <= watermark) {
      s.released.push_back(s.pending.top());
      s.released_ts = std::max(s.released_ts, s.pending.top().ts);
      s.pending.pop();
    }
  };

  uint64_t since_progress = 0;
  for (;;) {
    Source* best = nullptr;
    bool any = false;
    for (auto& sp : sources) {
      Source& s = *sp;
      while (s.released.empty() && !s.exhausted) fill(s);
      if (s.released.empty()) continue;
      any = true;
      if (!best) {
        best = &s;
        continue;
      }
      const auto& a = s.released.front();
      const auto& b = best->released.front();
      if (a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq)) best = &s;
    }
    if (!any) break;
    engine.Push(best->released.front());
    best->released.pop_front();
    ++stats.events;
    if (progress && ++since_progress >= 65536) {
      since_progress = 0;
      stats.raw_bytes = 0;
      stats.bytes = 0;
      for (auto& s : sources) {
        stats.raw_bytes += s->reader->raw_bytes_read();
        stats.bytes += s->reader->bytes_read();
      }
      progress(stats, total_raw);
    }
  }
  engine.Finish();
  stats.raw_bytes = 0;
  stats.bytes = 0;
  for (auto& s : sources) {
    stats.raw_bytes += s->reader->raw_bytes_read();
    stats.bytes += s->reader->bytes_read();
    for (auto& w : s->workers) stats.blank_lines += w.parser->blank_lines();
  }
  if (progress) progress(stats, total_raw);
  return stats;
}

}  // namespace dg::engine
