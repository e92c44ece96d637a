// BlockParser: turns a Block of JSON lines into Exchanges (or rejections), one parser per thread.
//
// Lines are first screened without parsing (length cap, NUL bytes, UTF-8 via simdjson's SIMD
// validator); runs of screened lines go to simdjson On-Demand `iterate_many`, which amortises
// stage 1 over the run. Each document must span exactly its line (checked with the stream's
// source()); at the first anomaly (syntax error, two values on a line, a value spanning lines)
// the rest of the run falls back to per-line `iterate`, which pins the error to its line. Good
// records therefore cost one stage-1 pass and no allocation; bad records cost a little more and
// never take their neighbours down with them. A line that holds a JSON array of objects is read
// as one record per element.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "ingest/adapter.h"
#include "ingest/input.h"

namespace dg::ingest {

struct ParserOptions {
  std::string format = "exchange";  // a registered adapter name (not "auto")
  size_t max_line_bytes = 1 << 20;
  bool use_iterate_many = true;
};

class BlockParser {
 public:
  // Throws std::invalid_argument for an unknown format (configuration time, not data path).
  explicit BlockParser(const ParserOptions& options);
  // Parses every line of `b`, calling `sink` in line order.
  void Parse(const Block& b, ExchangeSink& sink);
  uint64_t blank_lines() const { return blank_lines_; }

 private:
  struct Line {
    const char* begin;  // first non-blank byte
    size_t len;         // up to the last non-blank byte
    uint64_t number;
  };
  void ParseRunStreaming(const char* buf_end, size_t first, size_t last, ExchangeSink& sink);
  void ParseLine(const Line& line, const char* buf_end, ExchangeSink& sink);
  // Doc is ondemand::document (a line on its own) or document_reference (a document of a
  // stream, whose next line, if any, starts at `next_line`). Either way the walk must end at the
  // line's end. Returns false when the record had a JSON syntax error (the stream cannot be
  // trusted after).
  template <typename Doc>
  bool ParseDocument(Doc& doc, const Line& line, ExchangeSink& sink,
                     const char* next_line = nullptr);

  ParserOptions options_;
  std::unique_ptr<Adapter> adapter_;
  simdjson::ondemand::parser stream_parser_;
  simdjson::ondemand::parser line_parser_;
  std::vector<Line> lines_;  // reused
  Exchange scratch_;
  std::string detail_;
  uint64_t blank_lines_ = 0;
};

}  // namespace dg::ingest
