// libFuzzer target for the record parser: the input bytes are fed, as a log file would be,
// through BlockReader (tiny blocks, so lines straddle block boundaries) and BlockParser for
// every registered format, with both the iterate_many and the per-line path, then through the
// featurizer. Invariants: no crash or sanitizer report; every reported line number lies within
// the input; the two parse paths agree on what was accepted and rejected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/names.h"
#include "engine/featurizer.h"
#include "ingest/adapter.h"
#include "ingest/input.h"
#include "ingest/parser.h"

namespace {

// A ByteStream over the fuzzer's buffer.
class MemStream final : public dg::ingest::ByteStream {
 public:
  MemStream(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  int64_t Read(char* buf, size_t n) override {
    size_t k = std::min(n, n_ - pos_);
    std::memcpy(buf, d_ + pos_, k);
    pos_ += k;
    return static_cast<int64_t>(k);
  }
  const std::string& error() const override { return err_; }
  uint64_t raw_bytes_read() const override { return pos_; }

 private:
  const uint8_t* d_;
  size_t n_, pos_ = 0;
  std::string err_;
};

struct Outcome {
  std::vector<uint64_t> accepted, rejected;
};

class Sink final : public dg::ingest::ExchangeSink {
 public:
  Sink(dg::engine::Featurizer& f, Outcome& o, uint64_t max_line) : f_(f), o_(o), max_(max_line) {}
  void OnExchange(const dg::ingest::Exchange& ex, uint64_t line) override {
    if (line == 0 || line > max_) std::abort();
    if (ex.account_id.empty()) std::abort();
    dg::core::EventRecord r;
    f_.Featurize(ex, 0, line, r);
    o_.accepted.push_back(line);
  }
  void OnReject(uint64_t line, dg::ingest::RejectReason, std::string_view) override {
    if (line == 0 || line > max_) std::abort();
    o_.rejected.push_back(line);
  }

 private:
  dg::engine::Featurizer& f_;
  Outcome& o_;
  uint64_t max_;
};

Outcome Run(const uint8_t* data, size_t size, const std::string& format, bool iterate_many,
            dg::engine::Featurizer& featurizer) {
  uint64_t lines = 1;
  for (size_t i = 0; i < size; ++i) lines += data[i] == '\n';
  dg::ingest::ParserOptions po;
  po.format = format;
  po.max_line_bytes = 4096;
  po.use_iterate_many = iterate_many;
  dg::ingest::BlockParser parser(po);
  dg::ingest::BlockReader reader(std::make_unique<MemStream>(data, size), 512, po.max_line_bytes);
  dg::ingest::Block block;
  Outcome o;
  Sink sink(featurizer, o, lines);
  while (reader.Next(block)) parser.Parse(block, sink);
  if (!block.oversized.empty()) parser.Parse(block, sink);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dg::core::NameTable names;
  static dg::engine::Featurizer featurizer(names);
  for (const auto& format : dg::ingest::AdapterNames()) {
    Outcome a = Run(data, size, format, true, featurizer);
    Outcome b = Run(data, size, format, false, featurizer);
    if (a.accepted != b.accepted || a.rejected != b.rejected) std::abort();
  }
  (void)dg::ingest::DetectFormat(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
