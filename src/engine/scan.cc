// See scan.h.
#include "engine/scan.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>

#include "common/worker_pool.h"
#include "engine/featurizer.h"
#include "engine/reorder.h"
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

struct Worker {
  std::unique_ptr<ingest::BlockParser> parser;
  std::unique_ptr<Featurizer> featurizer;
};

// One round of a source: up to nworkers blocks read and parsed together.
struct Round {
  std::vector<ingest::Block> blocks;
  std::vector<ParsedBlock> parsed;
  size_t n = 0;                       // blocks filled this round
  bool exhausted = false;             // the reader reached the end (or an error) in this round
  std::string read_error;             // set once, with the round in which the reader failed
  std::string format;                 // set on the round that created the workers
  uint64_t bytes = 0, raw_bytes = 0;  // reader position after this round
};

struct Source {
  std::string path;
  uint16_t index = 0;
  std::unique_ptr<ingest::BlockReader> reader;
  std::string format;
  std::vector<Worker> workers;
  // Two rounds: with more than one thread the next round is read and parsed in the background
  // while the engine consumes this one (double buffering); with one thread rounds run inline.
  Round rounds[2];
  int cur = 0;
  std::future<void> next;  // the background round in flight, if any
  explicit Source(TimeUs lateness) : reorder(lateness) {}
  ReorderBuffer reorder;
  std::deque<EventRecord> released;   // out of the reorder buffer, waiting for the merge
  uint64_t bytes = 0, raw_bytes = 0;  // reader position of the rounds consumed so far
  bool exhausted = false;
  bool reader_done = false;  // the reader will give nothing more (rounds may still be pending)
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
    auto src = std::make_unique<Source>(opt.lateness);
    src->path = path;
    src->index = static_cast<uint16_t>(i);
    src->reader = std::make_unique<ingest::BlockReader>(std::move(stream), opt.block_bytes,
                                                        opt.max_line_bytes);
    for (auto& round : src->rounds) {
      round.blocks.resize(nworkers);
      round.parsed.resize(nworkers);
    }
    sources.push_back(std::move(src));
  }

  std::mutex pool_mu;
  // Reads up to nworkers blocks of a source into `round` and parses them in parallel. Touches
  // only the source's reader, workers and the round, so it may run beside the engine.
  auto read_and_parse = [&](Source& s, Round& round) {
    round.n = 0;
    round.exhausted = false;
    round.read_error.clear();
    round.format.clear();
    while (round.n < nworkers) {
      if (!s.reader->Next(round.blocks[round.n])) {
        if (!round.blocks[round.n].oversized.empty()) ++round.n;  // an oversized line at EOF
        round.exhausted = true;
        break;
      }
      ++round.n;
    }
    if (!s.reader->error().empty()) {
      round.read_error = fmt::format("{}: read error after {} bytes: {}", s.path,
                                     s.reader->bytes_read(), s.reader->error());
    }
    round.bytes = s.reader->bytes_read();
    round.raw_bytes = s.reader->raw_bytes_read();
    if (s.workers.empty() && round.n > 0) {
      if (opt.format == "auto") {
        const auto& b = round.blocks[0];
        s.format =
            ingest::DetectFormat(std::string_view(b.buf.data(), std::min<size_t>(b.len, 1 << 20)));
      } else {
        s.format = opt.format;
      }
      round.format = s.format;
      ingest::ParserOptions po;
      po.format = s.format;
      po.max_line_bytes = opt.max_line_bytes;
      po.use_iterate_many = opt.use_iterate_many;
      for (size_t w = 0; w < nworkers; ++w) {
        s.workers.push_back(
            {std::make_unique<ingest::BlockParser>(po), std::make_unique<Featurizer>(names)});
      }
    }
    std::lock_guard<std::mutex> lock(pool_mu);  // sources may parse in the background at once
    pool.Run(round.n, [&](size_t i) {
      ParsedBlock& pb = round.parsed[i];
      pb.records.clear();
      pb.rejects.clear();
      pb.lines = round.blocks[i].n_lines + round.blocks[i].oversized.size();
      RecordSink sink(*s.workers[i].featurizer, s.index, &pb.records, &pb.rejects, opt.samples);
      s.workers[i].parser->Parse(round.blocks[i], sink);
    });
  };
  const bool prefetch = nworkers > 1;

  // Takes the source's next round (parsed in the background, or now), starts the one after it,
  // and moves the records into the reorder buffer, releasing what the watermark allows.
  auto fill = [&](Source& s) {
    if (s.next.valid()) {
      s.next.get();
      s.cur ^= 1;
    } else {
      read_and_parse(s, s.rounds[s.cur]);
    }
    Round& round = s.rounds[s.cur];
    s.reader_done = round.exhausted;
    if (prefetch && !s.reader_done) {
      Round& ahead = s.rounds[s.cur ^ 1];
      s.next =
          std::async(std::launch::async, [&, src = &s, r = &ahead] { read_and_parse(*src, *r); });
    }
    s.exhausted = s.reader_done;
    s.bytes = round.bytes;
    s.raw_bytes = round.raw_bytes;
    if (!round.read_error.empty() && !s.error_reported) {
      s.error_reported = true;
      stats.unreadable.push_back(round.read_error);
    }
    if (!round.format.empty()) stats.formats.push_back(fmt::format("{}: {}", s.path, round.format));
    for (size_t i = 0; i < round.n; ++i) {
      ParsedBlock& pb = round.parsed[i];
      stats.lines += pb.lines;
      for (auto& r : pb.rejects) add_reject(s.path, std::move(r));
      for (const auto& r : pb.records) s.reorder.Add(r, stats.late_reordered, stats.late_beyond);
    }
    s.reorder.Release(s.exhausted, [&](const EventRecord& r) { s.released.push_back(r); });
  };

  // Background rounds refer to the lambdas above: wait for them before those go out of scope
  // (only an exception leaves the loop below with a round in flight).
  struct WaitForRounds {
    std::vector<std::unique_ptr<Source>>& sources;
    ~WaitForRounds() {
      for (auto& s : sources) {
        if (s->next.valid()) s->next.wait();
      }
    }
  } wait_for_rounds{sources};

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
        stats.raw_bytes += s->raw_bytes;
        stats.bytes += s->bytes;
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
