// Writer / Reader: the byte encoding of snapshots and eviction rows. Scalars are written as
// their bytes (the host is little-endian; a snapshot is read back by the machine that wrote it
// or one like it), sequences as a 64-bit count and their elements, strings as a count and their
// bytes. Structures are never written whole: each type encodes its fields one by one (see
// state::AccountState::Save, linking::Linker::Save), so padding and layout never reach a file.
// The Reader never throws: a read past the end marks it failed (ok() false) and every later
// read fails too, so a decoder may read a section and test ok() once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dg {

// The keys of a hash map in ascending order: maps are written in key order so that equal states
// encode to equal bytes.
template <typename Map>
std::vector<typename Map::key_type> SortedKeys(const Map& m) {
  std::vector<typename Map::key_type> keys;
  keys.reserve(m.size());
  for (const auto& kv : m) keys.push_back(kv.first);
  std::sort(keys.begin(), keys.end());
  return keys;
}

template <typename T>
concept Scalar = std::is_arithmetic_v<T> || std::is_enum_v<T>;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <Scalar T>
  void Pod(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <Scalar T>
  void PodVec(const std::vector<T>& v) {
    Pod<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void Str(std::string_view s) {
    Pod<uint64_t>(s.size());
    out_.append(s.data(), s.size());
  }
  // The bytes of a trivially copyable structure, padding included: for records whose layout
  // the snapshot header pins (their size), not for state that changes from release to release.
  template <typename T>
  void Raw(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <typename T>
  void RawVec(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    Pod<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <Scalar T>
  bool Pod(T& v) {
    if (!ok_ || in_.size() - pos_ < sizeof(T)) return Fail();
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Bool(bool& v) {
    uint8_t b = 0;
    if (!Pod(b) || b > 1) return Fail();
    v = b != 0;
    return true;
  }
  // Reads a count of elements of at least `min_elem_size` bytes each, refusing one the rest of
  // the input cannot hold (so a corrupt count never allocates).
  bool Count(uint64_t& n, size_t min_elem_size) {
    if (!Pod(n)) return false;
    if (min_elem_size && n > (in_.size() - pos_) / min_elem_size) return Fail();
    return true;
  }
  template <Scalar T>
  bool PodVec(std::vector<T>& v) {
    uint64_t n;
    if (!Count(n, sizeof(T))) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  bool Str(std::string& s) {
    uint64_t n;
    if (!Count(n, 1)) return false;
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Raw(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!ok_ || in_.size() - pos_ < sizeof(T)) return Fail();
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  template <typename T>
  bool RawVec(std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t n;
    if (!Count(n, sizeof(T))) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  bool Fail() {
    ok_ = false;
    return false;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace dg
