// Why an input line was rejected. Counted per reason in the report; the first few are printed
// with file and line.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace dg::ingest {

enum class RejectReason : uint8_t {
  kNone = 0,
  kTooLong,         // longer than the line cap
  kInvalidUtf8,     // not UTF-8
  kNulByte,         // contains a NUL byte
  kInvalidJson,     // not one JSON value (syntax error, truncated, trailing data, trailing comma)
  kNotObject,       // JSON but not an object
  kMissingTs,       // no ts
  kBadTs,           // ts present but not RFC 3339 / epoch seconds
  kMissingAccount,  // no account_id, or empty
  kBadAccount,      // account_id not a string
  kBadShape,        // an adapter's required structure is missing (e.g. OTLP without spans)
  kCount
};

constexpr std::array<std::string_view, static_cast<size_t>(RejectReason::kCount)>
    kRejectReasonNames = {"none",           "too_long",     "invalid_utf8",
                          "nul_byte",       "invalid_json", "not_object",
                          "missing_ts",     "bad_ts",       "missing_account_id",
                          "bad_account_id", "bad_shape"};

inline std::string_view RejectReasonName(RejectReason r) {
  return kRejectReasonNames[static_cast<size_t>(r)];
}

struct RejectCounts {
  std::array<uint64_t, static_cast<size_t>(RejectReason::kCount)> by_reason{};
  uint64_t total() const {
    uint64_t t = 0;
    for (auto c : by_reason) t += c;
    return t;
  }
  void Add(RejectReason r) { ++by_reason[static_cast<size_t>(r)]; }
  void Merge(const RejectCounts& o) {
    for (size_t i = 0; i < by_reason.size(); ++i) by_reason[i] += o.by_reason[i];
  }
};

// One rejected line, as shown to the user.
struct RejectSample {
  std::string source;
  uint64_t line = 0;
  RejectReason reason = RejectReason::kNone;
  std::string detail;
};

}  // namespace dg::ingest
