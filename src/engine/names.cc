// See names.h.
#include "engine/names.h"

#include <fmt/format.h>

namespace dg::engine {

void NameTable::Insert(NameKind kind, uint64_t hash, std::string_view name) {
  std::lock_guard lock(mu_);
  auto& m = maps_[static_cast<size_t>(kind)];
  if (m.size() >= cap_) return;
  m.try_emplace(hash, name);
}

std::string NameTable::Get(NameKind kind, uint64_t hash) const {
  std::lock_guard lock(mu_);
  const auto& m = maps_[static_cast<size_t>(kind)];
  auto it = m.find(hash);
  if (it != m.end()) return it->second;
  return fmt::format("#{:016x}", hash);
}

bool NameTable::Has(NameKind kind, uint64_t hash) const {
  std::lock_guard lock(mu_);
  return maps_[static_cast<size_t>(kind)].count(hash) > 0;
}

size_t NameTable::size(NameKind kind) const {
  std::lock_guard lock(mu_);
  return maps_[static_cast<size_t>(kind)].size();
}

}  // namespace dg::engine
