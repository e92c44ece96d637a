// Shared input for the micro-benchmarks: realistic exchange-log lines from the simulator (the
// demo scenario, built-in prompts), generated once per process into a temporary directory and
// kept in memory, plus helpers to turn them into Exchanges and EventRecords the way the scan
// path does (BlockParser + Featurizer).
#pragma once

#include <simdjson.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/names.h"
#include "engine/featurizer.h"
#include "ingest/input.h"
#include "ingest/parser.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace dg::bench {

// The repository root: $DG_SOURCE_DIR, or the first ancestor of the working directory holding
// scenarios/demo.toml (make bench runs from the root; build/bench/ works too).
inline std::filesystem::path RepoRoot() {
  if (const char* env = std::getenv("DG_SOURCE_DIR")) return env;
  auto p = std::filesystem::current_path();
  for (int i = 0; i < 6 && !p.empty(); ++i, p = p.parent_path()) {
    if (std::filesystem::exists(p / "scenarios" / "demo.toml")) return p;
  }
  throw std::runtime_error("bench: cannot find scenarios/demo.toml; set DG_SOURCE_DIR");
}

// All lines of the demo scenario's events.jsonl (~33k exchanges, ~40 MB), '\n'-terminated.
inline const std::vector<std::string>& DemoLines() {
  static const std::vector<std::string> lines = [] {
    auto dir = std::filesystem::temp_directory_path() /
               ("dg-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    sim::SimOptions opt;
    opt.out_dir = dir.string();
    opt.seed_given = true;
    opt.seed = 7;
    sim::Simulate(sim::LoadScenarioFile((RepoRoot() / "scenarios" / "demo.toml").string()), opt);
    std::vector<std::string> out;
    std::ifstream in(dir / "events.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(line + "\n");
    std::filesystem::remove_all(dir);
    return out;
  }();
  return lines;
}

// A padded block holding lines [first, first + count) of the demo stream.
inline ingest::Block MakeBlock(size_t first, size_t count) {
  const auto& lines = DemoLines();
  ingest::Block b;
  std::string text;
  for (size_t i = first; i < first + count && i < lines.size(); ++i, ++b.n_lines) text += lines[i];
  b.buf.assign(text.begin(), text.end());
  b.len = text.size();
  b.buf.resize(b.len + simdjson::SIMDJSON_PADDING, '\0');
  b.first_line = first + 1;
  return b;
}

// A sink that only counts (the parsing cost alone).
class CountingSink final : public ingest::ExchangeSink {
 public:
  void OnExchange(const ingest::Exchange& ex, uint64_t) override {
    ++exchanges;
    checksum += static_cast<uint64_t>(ex.ts) ^ ex.account_id.size();
  }
  void OnReject(uint64_t, ingest::RejectReason, std::string_view) override { ++rejects; }
  uint64_t exchanges = 0, rejects = 0, checksum = 0;
};

// A sink that featurizes every exchange into EventRecords (the parsing thread's whole job).
class FeaturizingSink final : public ingest::ExchangeSink {
 public:
  explicit FeaturizingSink(core::NameTable& names) : featurizer_(names) {}
  void OnExchange(const ingest::Exchange& ex, uint64_t line) override {
    core::EventRecord r;
    featurizer_.Featurize(ex, 0, line, r);
    if (keep) records.push_back(r);
    ++exchanges;
  }
  void OnReject(uint64_t, ingest::RejectReason, std::string_view) override {}
  bool keep = false;
  uint64_t exchanges = 0;
  std::vector<core::EventRecord> records;

 private:
  engine::Featurizer featurizer_;
};

// The demo stream as EventRecords, in stream order.
inline const std::vector<core::EventRecord>& DemoRecords() {
  static const std::vector<core::EventRecord> records = [] {
    static core::NameTable names;
    ingest::ParserOptions po;
    ingest::BlockParser parser(po);
    FeaturizingSink sink(names);
    sink.keep = true;
    const size_t n = DemoLines().size();
    for (size_t first = 0; first < n; first += 4096) {
      ingest::Block b = MakeBlock(first, 4096);
      parser.Parse(b, sink);
    }
    return std::move(sink.records);
  }();
  return records;
}

}  // namespace dg::bench
