// See names.h.
#include "core/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace dg::core {

const NameTable::Slot* NameTable::Find(const Kind& k, uint64_t hash) {
  const size_t mask = k.slots.size() - 1;
  for (size_t i = (hash ^ (hash >> 32)) & mask;; i = (i + 1) & mask) {
    const Slot& s = k.slots[i];
    if (s.len == 0 || s.hash == hash) return &s;
  }
}

std::string_view NameTable::NameOf(const Kind& k, const Slot& s) {
  return {k.blocks[s.offset >> kBlockBits].get() + (s.offset & ((1u << kBlockBits) - 1)), s.len};
}

void NameTable::Insert(NameKind kind, uint64_t hash, std::string_view name) {
  if (name.empty()) return;
  if (name.size() > kMaxNameBytes) name = name.substr(0, kMaxNameBytes);
  std::lock_guard lock(mu_);
  Kind& k = kinds_[static_cast<size_t>(kind)];
  if (k.slots.empty()) k.slots.resize(1024);
  if (Find(k, hash)->len != 0) return;
  if (k.count >= cap_) return;
  if ((k.count + 1) * 4 > k.slots.size() * 3) {  // grow at 3/4 full
    std::vector<Slot> old(k.slots.size() * 2);
    old.swap(k.slots);
    for (const Slot& s : old) {
      if (s.len != 0) *const_cast<Slot*>(Find(k, s.hash)) = s;
    }
  }
  constexpr size_t kBlock = size_t{1} << kBlockBits;
  if (k.blocks.empty() || k.block_used + name.size() > kBlock) {
    // Offsets are 32 bits (12 of block, 20 within it): 4 GiB of names per kind at most.
    if (k.blocks.size() >= (size_t{1} << (32 - kBlockBits))) return;
    k.blocks.push_back(std::make_unique<char[]>(kBlock));
    k.block_used = 0;
  }
  std::memcpy(k.blocks.back().get() + k.block_used, name.data(), name.size());
  Slot* slot = const_cast<Slot*>(Find(k, hash));
  slot->hash = hash;
  slot->offset = static_cast<uint32_t>(((k.blocks.size() - 1) << kBlockBits) | k.block_used);
  slot->len = static_cast<uint32_t>(name.size());
  k.block_used += name.size();
  ++k.count;
}

std::string NameTable::Get(NameKind kind, uint64_t hash) const {
  std::lock_guard lock(mu_);
  const Kind& k = kinds_[static_cast<size_t>(kind)];
  if (!k.slots.empty()) {
    const Slot* s = Find(k, hash);
    if (s->len != 0) return std::string(NameOf(k, *s));
  }
  return fmt::format("#{:016x}", hash);
}

bool NameTable::Has(NameKind kind, uint64_t hash) const {
  std::lock_guard lock(mu_);
  const Kind& k = kinds_[static_cast<size_t>(kind)];
  return !k.slots.empty() && Find(k, hash)->len != 0;
}

size_t NameTable::size(NameKind kind) const {
  std::lock_guard lock(mu_);
  return kinds_[static_cast<size_t>(kind)].count;
}

std::vector<std::pair<uint64_t, std::string>> NameTable::Sorted(NameKind kind) const {
  std::lock_guard lock(mu_);
  const Kind& k = kinds_[static_cast<size_t>(kind)];
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(k.count);
  for (const Slot& s : k.slots) {
    if (s.len != 0) out.emplace_back(s.hash, std::string(NameOf(k, s)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dg::core
