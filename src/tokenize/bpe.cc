// See bpe.h.
#include "tokenize/bpe.h"

#include <algorithm>
#include <queue>

namespace dg::tokenize {
namespace {

constexpr size_t kLinearMax = 48;  // pieces up to this many bytes use the linear scan
constexpr uint32_t kNoRank = UINT32_MAX;

uint64_t Key(uint32_t l, uint32_t r) { return (static_cast<uint64_t>(l) << 32) | r; }

}  // namespace

Bpe::Bpe() { std::fill(std::begin(byte_id_), std::end(byte_id_), int64_t{-1}); }

void Bpe::AddToken(std::string_view bytes, uint32_t id) {
  vocab_.insert_or_assign(std::string(bytes), id);
  if (bytes.size() == 1) byte_id_[static_cast<unsigned char>(bytes[0])] = id;
}

void Bpe::AddMerge(uint32_t left, uint32_t right, uint32_t rank, uint32_t merged) {
  merges_.insert_or_assign(Key(left, right), Merge{rank, merged});
}

std::optional<uint32_t> Bpe::Find(std::string_view bytes) const {
  auto it = vocab_.find(bytes);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const Bpe::Merge* Bpe::FindMerge(uint32_t left, uint32_t right) const {
  auto it = merges_.find(Key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void Bpe::InitialSymbols(std::string_view piece, std::vector<uint32_t>* syms) const {
  syms->clear();
  bool last_unk = false;
  for (unsigned char b : piece) {
    const int64_t id = byte_id_[b];
    if (id >= 0) {
      syms->push_back(static_cast<uint32_t>(id));
      last_unk = false;
    } else if (unk_) {
      if (!(fuse_unk_ && last_unk)) syms->push_back(*unk_);
      last_unk = true;
    }
  }
}

void Bpe::Encode(std::string_view piece, std::vector<uint32_t>* out) const {
  if (piece.empty()) return;
  if (direct_lookup_ && piece.size() > 1) {
    if (auto id = Find(piece)) {
      out->push_back(*id);
      return;
    }
  }
  if (piece.size() <= kLinearMax) {
    EncodeLinear(piece, out);
  } else {
    EncodeHeap(piece, out);
  }
}

void Bpe::EncodeLinear(std::string_view piece, std::vector<uint32_t>* out) const {
  // syms[i] with the rank/id of merging syms[i] and syms[i+1]: find the minimum, merge, update
  // the two neighbouring pair ranks. O(n^2) but no allocation beyond the small vectors.
  thread_local std::vector<uint32_t> syms;
  thread_local std::vector<Merge> pair;
  InitialSymbols(piece, &syms);
  if (syms.size() > 1) {
    pair.resize(syms.size() - 1);
    auto rank_at = [&](size_t i) {
      const Merge* m = FindMerge(syms[i], syms[i + 1]);
      return m ? *m : Merge{kNoRank, 0};
    };
    for (size_t i = 0; i + 1 < syms.size(); ++i) pair[i] = rank_at(i);
    while (!pair.empty()) {
      size_t best = 0;
      for (size_t i = 1; i < pair.size(); ++i) {
        if (pair[i].rank < pair[best].rank) best = i;
      }
      if (pair[best].rank == kNoRank) break;
      syms[best] = pair[best].id;
      syms.erase(syms.begin() + static_cast<ptrdiff_t>(best) + 1);
      pair.erase(pair.begin() + static_cast<ptrdiff_t>(best));
      if (best < pair.size()) pair[best] = rank_at(best);
      if (best > 0) pair[best - 1] = rank_at(best - 1);
    }
  }
  out->insert(out->end(), syms.begin(), syms.end());
}

void Bpe::EncodeHeap(std::string_view piece, std::vector<uint32_t>* out) const {
  // A doubly linked list of symbols; the heap holds candidate merges (rank, left position,
  // merged id). A popped candidate is stale if its left symbol was merged away, has no right
  // neighbour any more, or the current pair no longer merges into the same id.
  std::vector<uint32_t> id;
  InitialSymbols(piece, &id);
  const size_t n = id.size();
  if (n < 2) {
    out->insert(out->end(), id.begin(), id.end());
    return;
  }
  std::vector<int64_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int64_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int64_t>(i + 1) : -1;
  }
  struct Cand {
    uint32_t rank;
    uint32_t pos;
    uint32_t merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Cand> storage;
  storage.reserve(n);
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap(std::greater<Cand>(),
                                                                        std::move(storage));
  auto push = [&](int64_t l) {
    if (l < 0 || next[l] < 0) return;
    if (const Merge* m = FindMerge(id[l], id[next[l]])) {
      heap.push(Cand{m->rank, static_cast<uint32_t>(l), m->id});
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int64_t>(i));
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    const int64_t l = c.pos;
    if (!alive[l] || next[l] < 0) continue;
    const Merge* m = FindMerge(id[l], id[next[l]]);
    if (!m || m->id != c.merged) continue;
    const int64_t r = next[l];
    id[l] = c.merged;
    alive[r] = false;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    push(prev[l]);
    push(l);
  }
  for (int64_t i = 0; i >= 0; i = next[i]) out->push_back(id[i]);
}

}  // namespace dg::tokenize
