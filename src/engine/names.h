// NameTable: the readable names behind hashes (account ids, end users, networks, agents), kept
// once each for evidence and reports. Featurizers on several threads insert through a per-thread
// cache of recently sent keys, so the table's mutex is taken only when a key was not seen
// lately, not per event. Each kind holds at most `cap` names (bounded memory); beyond it names show
// as hashes.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dg::engine {

enum class NameKind : uint8_t {
  kAccount,
  kEndUser,
  kIpPrefix,
  kUserAgent,
  kFingerprint,
  kModel,
  kAsn,
  kPayment,
  kEmailDomain,
  kCount
};

class NameTable {
 public:
  explicit NameTable(size_t cap_per_kind = 4'000'000) : cap_(cap_per_kind) {}
  void Insert(NameKind kind, uint64_t hash, std::string_view name);
  // The name, or "#<hex hash>" when unknown.
  std::string Get(NameKind kind, uint64_t hash) const;
  bool Has(NameKind kind, uint64_t hash) const;
  size_t size(NameKind kind) const;

 private:
  size_t cap_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::string> maps_[static_cast<size_t>(NameKind::kCount)];
};

// Per-thread front of a NameTable.
class NameSender {
 public:
  explicit NameSender(NameTable& table) : table_(table) {}
  void Note(NameKind kind, uint64_t hash, std::string_view name) {
    if (name.empty()) return;
    const uint64_t key = hash ^ (static_cast<uint64_t>(kind) * 0x9E3779B97F4A7C15ULL);
    // A direct-mapped cache of recent keys answers the common case (the same account, agent or
    // network as a few events ago) without touching the hash set.
    // Otherwise the table itself (under its mutex) keeps the first name of each hash: no
    // per-thread copy of every key, which at millions of accounts cost more than the names.
    uint64_t& recent = recent_[(key ^ (key >> 29)) & (kRecent - 1)];
    if (recent == key && key != 0) return;
    recent = key;
    table_.Insert(kind, hash, name);
  }

 private:
  static constexpr size_t kRecent = 4096;
  NameTable& table_;
  std::array<uint64_t, kRecent> recent_{};
};

}  // namespace dg::engine
