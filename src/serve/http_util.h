// HTTP request helpers that never throw: URL decoding, number parsing and query-string lookup.
//
// Design: everything a client controls (target, query, headers) is parsed through these
// functions, and each one reports failure in its return value (std::optional, a status enum)
// instead of an exception, so a malformed request can only ever produce an HTTP 400 and never
// unwind through the server. Numbers use std::from_chars: the whole string must be consumed,
// no sign, space or base prefix is skipped, and out-of-range values are rejected rather than
// clamped or wrapped. The functions are pure (no Service state), so they are unit-tested and
// fuzzed on their own (tests/serve/http_util_test.cc, fuzz/http_request_fuzz.cc).
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace dg::serve {

// Decodes %XX escapes. `plus_is_space`: '+' means ' ' (query strings, form encoding); in a
// path '+' is a literal plus. A '%' not followed by two hex digits (bad or truncated escape)
// gives nullopt.
std::optional<std::string> UrlDecode(std::string_view s, bool plus_is_space = true);

// Why ParseNumber failed.
enum class NumberError { kNone, kEmpty, kInvalid, kOutOfRange };
std::string_view NumberErrorText(NumberError e);

// Parses a decimal number of type T (integral or floating point). The whole string must be a
// number: no leading '+' or space, no trailing bytes; '-' is refused for unsigned types.
// Out-of-range values give nullopt (and kOutOfRange in *why), never a clamped or wrapped value.
template <class T>
std::optional<T> ParseNumber(std::string_view s, NumberError* why = nullptr) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "ParseNumber: numbers only");
  NumberError err = NumberError::kNone;
  T value{};
  if (s.empty()) {
    err = NumberError::kEmpty;
  } else {
    const char* end = s.data() + s.size();
    std::from_chars_result r;
    if constexpr (std::is_floating_point_v<T>) {
      r = std::from_chars(s.data(), end, value);
    } else {
      r = std::from_chars(s.data(), end, value, 10);
    }
    if (r.ec == std::errc::result_out_of_range) {
      err = NumberError::kOutOfRange;
    } else if (r.ec != std::errc() || r.ptr != end) {
      err = NumberError::kInvalid;
    }
  }
  if (why) *why = err;
  if (err != NumberError::kNone) return std::nullopt;
  return value;
}

// One query parameter, looked up by its (raw, undecoded) name. Absent, present (value decoded,
// '+' as space; a bare `name` without '=' has the value "1"), or malformed (a bad escape in its
// value). The first occurrence of a repeated name wins.
struct QueryParam {
  enum class Status { kAbsent, kPresent, kMalformed };
  Status status = Status::kAbsent;
  std::string value;  // decoded when present, empty otherwise
  bool absent() const { return status == Status::kAbsent; }
  bool present() const { return status == Status::kPresent; }
  bool malformed() const { return status == Status::kMalformed; }
  // The value when present, else `fallback` (absent or malformed).
  std::string value_or(std::string_view fallback) const {
    return present() ? value : std::string(fallback);
  }
};
QueryParam GetQueryParam(std::string_view query, std::string_view name);

// Splits a request target into path and query ("/a?b=c" -> "/a", "b=c").
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// The OpenAI-shaped error body: {"error":{"message","type","param","code"}}; an empty `param`
// or `code` is written as null.
std::string ErrorJson(std::string_view type, std::string_view message, std::string_view param = {},
                      std::string_view code = {});

// Inflates a gzip or zlib body (POST /v1/events) into *out, refusing to grow it beyond `cap`
// bytes. False for a corrupt, truncated or oversized stream; never throws.
bool Gunzip(std::string_view in, size_t cap, std::string* out);

}  // namespace dg::serve
