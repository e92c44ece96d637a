// See parser.h.
#include "ingest/parser.h"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

#include "common/utf8.h"

namespace dg::ingest {
namespace {

inline bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
// JSON allows no raw control character but whitespace: outside a string only tab, CR and LF
// separate tokens, inside one they must be escaped. A stream of documents (iterate_many) let a
// record with one between two tokens through where the line on its own was refused (found by the
// record parser fuzzer), so lines are screened for them before either path parses.
inline bool IsControl(char ch) {
  const auto c = static_cast<uint8_t>(ch);
  return c < 0x20 && c != '\t' && c != '\r';
}
inline bool HasControlByte(const char* s, const char* e) {
  // Eight bytes at a time: a word with no byte below 0x20 (the usual case: tabs are rare on one
  // JSON line) is passed over whole; one with such a byte is looked at byte by byte.
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  for (; e - s >= 8; s += 8) {
    uint64_t x;
    std::memcpy(&x, s, 8);
    if (((x - kOnes * 0x20) & ~x & kHigh) == 0) continue;
    for (int i = 0; i < 8; ++i) {
      if (IsControl(s[i])) return true;
    }
  }
  for (; s < e; ++s) {
    if (IsControl(*s)) return true;
  }
  return false;
}

// Holds what an adapter emitted for one record until the record is known to be valid JSON.
class PendingSink final : public ExchangeSink {
 public:
  void OnExchange(const Exchange& ex, uint64_t line) override {
    if (count_ == items_.size()) items_.emplace_back();
    items_[count_++] = {ex, line};
  }
  void OnReject(uint64_t line, RejectReason reason, std::string_view detail) override {
    if (rejects_count_ == rejects_.size()) rejects_.emplace_back();
    auto& r = rejects_[rejects_count_++];
    r.line = line;
    r.reason = reason;
    r.detail.assign(detail);
  }
  void Flush(ExchangeSink& out) {
    // Per-item rejections (e.g. one bad span in an OTLP batch) and exchanges share the line.
    for (size_t i = 0; i < rejects_count_; ++i) {
      out.OnReject(rejects_[i].line, rejects_[i].reason, rejects_[i].detail);
    }
    for (size_t i = 0; i < count_; ++i) out.OnExchange(items_[i].first, items_[i].second);
    Clear();
  }
  void Clear() {
    count_ = 0;
    rejects_count_ = 0;
  }

 private:
  struct Reject {
    uint64_t line;
    RejectReason reason;
    std::string detail;
  };
  std::vector<std::pair<Exchange, uint64_t>> items_;
  size_t count_ = 0;
  std::vector<Reject> rejects_;
  size_t rejects_count_ = 0;
};

thread_local PendingSink t_pending;

}  // namespace

BlockParser::BlockParser(const ParserOptions& options)
    : options_(options), adapter_(MakeAdapter(options.format)) {
  if (!adapter_)
    throw std::invalid_argument(fmt::format("unknown input format '{}'", options.format));
}

void BlockParser::Parse(const Block& b, ExchangeSink& sink) {
  for (const auto& o : b.oversized) {
    sink.OnReject(
        o.line, RejectReason::kTooLong,
        fmt::format("line of {} bytes exceeds the cap of {}", o.bytes, options_.max_line_bytes));
  }
  // Split and screen lines; runs of good lines go to iterate_many.
  lines_.clear();
  const char* p = b.buf.data();
  const char* end = p + b.len;
  const char* buf_end = b.buf.data() + b.buf.size();
  uint64_t number = b.first_line;
  size_t run_start = 0;
  auto flush_run = [&](size_t upto) {
    if (upto > run_start) {
      if (options_.use_iterate_many && upto - run_start > 1) {
        ParseRunStreaming(buf_end, run_start, upto, sink);
      } else {
        for (size_t i = run_start; i < upto; ++i) ParseLine(lines_[i], buf_end, sink);
      }
    }
  };
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    const size_t raw_len = static_cast<size_t>(line_end - p);
    const char* s = p;
    const char* e = line_end;
    while (s < e && IsBlank(*s)) ++s;
    while (e > s && IsBlank(e[-1])) --e;
    RejectReason reason = RejectReason::kNone;
    if (s == e) {
      ++blank_lines_;
    } else if (raw_len > options_.max_line_bytes) {
      reason = RejectReason::kTooLong;
    } else if (std::memchr(s, '\0', static_cast<size_t>(e - s)) != nullptr) {
      reason = RejectReason::kNulByte;
    } else if (HasControlByte(s, e)) {
      reason = RejectReason::kInvalidJson;
    } else if (!IsValidUtf8(std::string_view(s, static_cast<size_t>(e - s)))) {
      reason = RejectReason::kInvalidUtf8;
    }
    if (s == e || reason != RejectReason::kNone) {
      flush_run(lines_.size());
      if (reason != RejectReason::kNone) {
        sink.OnReject(number, reason,
                      reason == RejectReason::kTooLong
                          ? fmt::format("line of {} bytes exceeds the cap of {}", raw_len,
                                        options_.max_line_bytes)
                          : std::string());
      }
      lines_.clear();
      run_start = 0;
    } else {
      lines_.push_back({s, static_cast<size_t>(e - s), number});
    }
    ++number;
    p = line_end + 1;
  }
  flush_run(lines_.size());
  lines_.clear();
}

void BlockParser::ParseRunStreaming(const char* buf_end, size_t first, size_t last,
                                    ExchangeSink& sink) {
  const Line& f = lines_[first];
  const Line& l = lines_[last - 1];
  const char* run_begin = f.begin;
  const size_t run_len = static_cast<size_t>(l.begin + l.len - run_begin);
  const size_t batch = std::max<size_t>(options_.max_line_bytes + 64, 1 << 20);
  simdjson::ondemand::document_stream stream;
  size_t i = first;
  if (!stream_parser_.iterate_many(reinterpret_cast<const uint8_t*>(run_begin), run_len, batch)
           .get(stream)) {
    for (auto it = stream.begin(); it != stream.end() && i < last; ++it) {
      const Line& line = lines_[i];
      if (it.error()) break;
      // The document must be exactly this line.
      if (run_begin + it.current_index() != line.begin) break;
      std::string_view src = it.source();
      if (src.size() != line.len) break;
      simdjson::ondemand::document_reference doc;
      if ((*it).get(doc)) break;
      // Arrays of records go line by line: in a stream, a trailing comma (`[{…},]`) came back as
      // a non-object element instead of a syntax error (found by the record parser fuzzer).
      simdjson::ondemand::json_type type;
      if (doc.type().get(type) || type == simdjson::ondemand::json_type::array) break;
      const bool syntax_ok =
          ParseDocument(doc, line, sink, i + 1 < last ? lines_[i + 1].begin : nullptr);
      ++i;
      // A syntax error found while iterating leaves the stream's position in doubt: the rest of
      // the run is parsed line by line.
      if (!syntax_ok) break;
    }
  }
  // Whatever the stream could not vouch for is parsed line by line.
  for (; i < last; ++i) ParseLine(lines_[i], buf_end, sink);
}

void BlockParser::ParseLine(const Line& line, const char* buf_end, ExchangeSink& sink) {
  simdjson::ondemand::document doc;
  const size_t capacity = static_cast<size_t>(buf_end - line.begin);
  if (auto err = line_parser_.iterate(line.begin, line.len, capacity).get(doc)) {
    sink.OnReject(line.number, RejectReason::kInvalidJson, simdjson::error_message(err));
    return;
  }
  ParseDocument(doc, line, sink);
}

template <typename Doc>
bool BlockParser::ParseDocument(Doc& doc, const Line& line, ExchangeSink& sink,
                                const char* next_line) {
  PendingSink& pending = t_pending;
  pending.Clear();
  simdjson::ondemand::json_type type;
  if (auto err = doc.type().get(type)) {
    sink.OnReject(line.number, RejectReason::kInvalidJson, simdjson::error_message(err));
    return false;
  }
  RejectReason reason = RejectReason::kNone;
  detail_.clear();
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) {
      reason = RejectReason::kInvalidJson;
    } else {
      reason = adapter_->Parse(obj, scratch_, pending, line.number, detail_);
    }
  } else if (type == simdjson::ondemand::json_type::array) {
    // An exported array of records on one line: each element is a record.
    simdjson::ondemand::array arr;
    if (doc.get_array().get(arr)) {
      reason = RejectReason::kInvalidJson;
    } else {
      size_t objects = 0, others = 0;
      for (auto elem : arr) {
        simdjson::ondemand::object obj;
        if (auto err = elem.get_object().get(obj)) {
          if (err != simdjson::INCORRECT_TYPE) {
            reason = RejectReason::kInvalidJson;
            break;
          }
          ++others;
          continue;
        }
        ++objects;
        detail_.clear();
        RejectReason r = adapter_->Parse(obj, scratch_, pending, line.number, detail_);
        if (r == RejectReason::kInvalidJson) {
          reason = r;
          break;
        }
        if (r != RejectReason::kNone) pending.OnReject(line.number, r, detail_);
      }
      // An array with no records in it is one bad line; stray non-objects among records are
      // rejected one by one.
      if (reason == RejectReason::kNone && objects == 0) {
        reason = RejectReason::kNotObject;
      } else if (reason == RejectReason::kNone) {
        for (size_t k = 0; k < others; ++k) {
          pending.OnReject(line.number, RejectReason::kNotObject, "array element is not an object");
        }
      }
    }
  } else {
    reason = RejectReason::kNotObject;
  }
  // The adapter must have walked the whole line. On-demand skips the values it is not asked for
  // by counting brackets, so a malformed one (`{"1"{...}` without its colon) can leave the walk
  // short of the line's end: that is content the record does not explain. When the walk is done,
  // a lone document has no token left; a document of a stream has the next line's first token
  // next, or none after the run's last line.
  const char* next = nullptr;
  if (reason == RejectReason::kNone && !doc.current_location().get(next)) {
    bool trailing = true;
    if constexpr (!std::is_same_v<Doc, simdjson::ondemand::document>) {
      trailing = next != next_line;
    }
    if (trailing) {
      reason = RejectReason::kInvalidJson;
      detail_ = "trailing content after the JSON value";
    }
  }
  if (reason != RejectReason::kNone) {
    // A broken record emits nothing, even what the adapter produced before the error.
    pending.Clear();
    sink.OnReject(line.number, reason, detail_);
    return reason != RejectReason::kInvalidJson;
  }
  pending.Flush(sink);
  return true;
}

}  // namespace dg::ingest
