// ChunkedVector<T, N>: an append-only sequence stored in fixed chunks of N elements.
//
// Per-account state is ~1.9 KB an account and a shard holds up to millions of them. A std::vector
// grows by doubling, so it copies everything on each growth, briefly holds old and new buffers,
// and leaves up to half its capacity as slack (resident once reused heap memory backs it). Chunks
// of N elements never move, so references stay valid while the sequence grows, growth costs one
// allocation per N elements, and the slack is below one chunk per container.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace dg {

template <typename T, size_t N = 64>
class ChunkedVector {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return chunks_[i / N][i % N]; }
  const T& operator[](size_t i) const { return chunks_[i / N][i % N]; }
  T& back() { return (*this)[size_ - 1]; }
  const T& back() const { return (*this)[size_ - 1]; }

  T& emplace_back() {
    if (size_ % N == 0) chunks_.push_back(std::make_unique<T[]>(N));
    ++size_;
    return back();
  }
  // Appends default-constructed elements until there are n (append-only: never shrinks).
  void grow_to(size_t n) {
    while (size_ < n) emplace_back();
  }
  void clear() {
    chunks_.clear();
    size_ = 0;
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace dg
