// JsonWriter: a small streaming JSON emitter that appends to a std::string.
//
// Design: the product writes JSON in three places (reports, simulated traffic, eval results). All
// are append-only, so a writer that tracks "need a comma" per nesting level and escapes strings
// per RFC 8259 is enough; it never builds a DOM. Written by hand because simdjson (our parser)
// has no builder in the Debian version and the writer sits on the simulator's hot path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dg {

// Appends `s` to `out` as a JSON string literal (with quotes). Invalid UTF-8 bytes are replaced
// by U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Object key; must be followed by exactly one value or Begin*.
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view v);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  // Doubles are written with up to `precision` significant digits; NaN/inf become null.
  JsonWriter& Double(double v, int precision = 6);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Inserts pre-serialised JSON as one value.
  JsonWriter& Raw(std::string_view json);

  // Convenience: Key(k) then value.
  template <typename T>
  JsonWriter& Field(std::string_view k, const T& v);

 private:
  void BeforeValue();
  std::string& out_;
  std::vector<bool> first_{};  // one entry per open container: true until a member is written
  bool after_key_ = false;
};

template <typename T>
JsonWriter& JsonWriter::Field(std::string_view k, const T& v) {
  Key(k);
  if constexpr (std::is_same_v<T, bool>) {
    return Bool(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return Double(v);
  } else if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
    return Int(v);
  } else if constexpr (std::is_integral_v<T>) {
    return Uint(v);
  } else {
    return String(std::string_view(v));
  }
}

}  // namespace dg
