// StateTable: a shard's account states by position, each either resident (its own heap block)
// or evicted to the EvictStore (a stub naming its row).
//
// One word per position: a pointer to the resident AccountState, or (row id << 1) | 1 when the
// account is evicted. Positions never move and resident states never move while resident, so
// the engine's positional indexes (by-account map, directory, linker index) stay valid across
// eviction; an evicted account costs this word plus those indexes, not its ~1.9 KiB state.
// Each state is its own allocation so that an evicted one's memory goes back to the allocator and
// is reused by the next account created or restored.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>

#include "common/chunked_vector.h"
#include "state/account_state.h"

namespace dg::engine {

class StateTable {
 public:
  StateTable() = default;
  ~StateTable() { clear(); }
  StateTable(const StateTable&) = delete;
  StateTable& operator=(const StateTable&) = delete;
  StateTable(StateTable&& o) noexcept : cells_(std::move(o.cells_)) { o.cells_ = {}; }
  StateTable& operator=(StateTable&& o) noexcept {
    if (this != &o) {
      clear();
      cells_ = std::move(o.cells_);
      o.cells_ = {};
    }
    return *this;
  }

  size_t size() const { return cells_.size(); }
  bool empty() const { return cells_.empty(); }
  // The resident state at `i` (it must be resident; see get()).
  state::AccountState& operator[](size_t i) {
    assert(loaded(i));
    return *reinterpret_cast<state::AccountState*>(cells_[i]);
  }
  const state::AccountState& operator[](size_t i) const {
    assert(loaded(i));
    return *reinterpret_cast<const state::AccountState*>(cells_[i]);
  }
  // The resident state at `i`, or nullptr if it is evicted.
  const state::AccountState* get(size_t i) const {
    return loaded(i) ? reinterpret_cast<const state::AccountState*>(cells_[i]) : nullptr;
  }
  bool loaded(size_t i) const { return (cells_[i] & 1) == 0; }
  // The store row of an evicted state.
  uint64_t row(size_t i) const { return cells_[i] >> 1; }
  state::AccountState& back() { return (*this)[size() - 1]; }

  state::AccountState& emplace_back() {
    auto p = std::make_unique<state::AccountState>();
    cells_.emplace_back() = reinterpret_cast<uintptr_t>(p.get());
    return *p.release();
  }
  // Appends an evicted position whose state is in store row `row`.
  void push_evicted(uint64_t row) { cells_.emplace_back() = (row << 1) | 1; }
  void grow_to(size_t n) {
    while (size() < n) emplace_back();
  }
  // Takes the state at `i` out (it must be resident), leaving a stub naming store row `row`.
  std::unique_ptr<state::AccountState> Release(size_t i, uint64_t row) {
    std::unique_ptr<state::AccountState> p(&(*this)[i]);
    cells_[i] = (row << 1) | 1;
    return p;
  }
  // Puts a restored state back at evicted position `i`.
  void Put(size_t i, std::unique_ptr<state::AccountState> s) {
    assert(!loaded(i));
    cells_[i] = reinterpret_cast<uintptr_t>(s.release());
  }
  void clear() {
    for (size_t i = 0; i < cells_.size(); ++i) {
      if (loaded(i)) delete reinterpret_cast<state::AccountState*>(cells_[i]);
    }
    cells_.clear();
  }

 private:
  ChunkedVector<uintptr_t, 1024> cells_;
};

}  // namespace dg::engine
