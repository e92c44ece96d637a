// Micro-benchmarks of ingest (issue 7): BlockParser on a block of realistic exchange lines (the
// demo scenario), with simdjson iterate_many over runs of lines (the default) versus one
// `iterate` per line, with a counting sink (parsing + the exchange adapter alone) and with the
// Featurizer (the parsing thread's whole job: text features, Hyperscan phrases, hashes, names).
// Reports bytes/s and items (records)/s; the parser and featurizer are reused across iterations,
// as on the hot path.
#include <benchmark/benchmark.h>

#include "bench_data.h"

namespace {

using dg::bench::CountingSink;
using dg::bench::FeaturizingSink;
using dg::bench::MakeBlock;

// ~4 MiB: the scan driver's block size.
const dg::ingest::Block& TheBlock() {
  static const dg::ingest::Block b = [] {
    size_t n = 0, bytes = 0;
    const auto& lines = dg::bench::DemoLines();
    while (n < lines.size() && bytes < (4u << 20)) bytes += lines[n++].size();
    return MakeBlock(0, n);
  }();
  return b;
}

void BM_Parse(benchmark::State& state, bool iterate_many) {
  const auto& b = TheBlock();
  dg::ingest::ParserOptions po;
  po.use_iterate_many = iterate_many;
  dg::ingest::BlockParser parser(po);
  CountingSink sink;
  for (auto _ : state) {
    parser.Parse(b, sink);
    benchmark::DoNotOptimize(sink.checksum);
  }
  if (sink.rejects) state.SkipWithError("rejected lines");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.len));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.n_lines));
}
BENCHMARK_CAPTURE(BM_Parse, iterate_many, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Parse, per_line, false)->Unit(benchmark::kMillisecond);

void BM_ParseFeaturize(benchmark::State& state) {
  const auto& b = TheBlock();
  dg::ingest::ParserOptions po;
  dg::ingest::BlockParser parser(po);
  dg::core::NameTable names;
  FeaturizingSink sink(names);
  for (auto _ : state) {
    parser.Parse(b, sink);
    benchmark::DoNotOptimize(sink.exchanges);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.len));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.n_lines));
}
BENCHMARK(BM_ParseFeaturize)->Unit(benchmark::kMillisecond);

// BlockReader on an in-memory file: line splitting, carrying and padding (no parsing).
void BM_BlockReader(benchmark::State& state) {
  const auto& b = TheBlock();
  auto path = std::filesystem::temp_directory_path() /
              ("dg-bench-block-" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 8; ++i) out.write(b.buf.data(), static_cast<std::streamsize>(b.len));
  }
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::string err;
    dg::ingest::BlockReader reader(dg::ingest::OpenByteStream(path.string(), &err), 4u << 20,
                                   1u << 20);
    dg::ingest::Block blk;
    while (reader.Next(blk)) benchmark::DoNotOptimize(blk.len);
    bytes += reader.bytes_read();
  }
  std::filesystem::remove(path);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_BlockReader)->Unit(benchmark::kMillisecond);

}  // namespace
