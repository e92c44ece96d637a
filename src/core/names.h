// NameTable: the readable names behind hashes (account ids, end users, networks, agents), kept
// once each for evidence and reports. Featurizers on several threads insert through a per-thread
// cache of recently sent keys, so the table's mutex is taken only when a key was not seen
// lately, not per event. Each kind holds at most `cap` names (bounded memory); beyond it names show
// as hashes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dg::core {

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
  kApiKey,
  kCount
};

// Storage: per kind, an open-addressing table of {hash, offset, length} (16 bytes a slot, linear
// probing, at most 3/4 full) over an arena of 1 MiB character blocks: no allocation per name, which
// with std::unordered_map<uint64_t, std::string> cost ~70 bytes a name at millions of accounts.
class NameTable {
 public:
  // Names longer than this are kept truncated (they are labels in evidence, not keys).
  static constexpr size_t kMaxNameBytes = 1024;

  explicit NameTable(size_t cap_per_kind = 4'000'000) : cap_(cap_per_kind) {}
  void Insert(NameKind kind, uint64_t hash, std::string_view name);
  // The name, or "#<hex hash>" when unknown.
  std::string Get(NameKind kind, uint64_t hash) const;
  bool Has(NameKind kind, uint64_t hash) const;
  size_t size(NameKind kind) const;
  // Every name of a kind, by hash (snapshots).
  std::vector<std::pair<uint64_t, std::string>> Sorted(NameKind kind) const;

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // block << 20 | position in block
    uint32_t len = 0;     // 0 = empty slot (names are never empty)
  };
  struct Kind {
    std::vector<Slot> slots;  // power-of-two size
    size_t count = 0;
    std::vector<std::unique_ptr<char[]>> blocks;
    size_t block_used = 0;  // bytes used in blocks.back()
  };
  static constexpr size_t kBlockBits = 20;
  // Slot holding `hash`, or the empty slot where it would go (the table is never full).
  static const Slot* Find(const Kind& k, uint64_t hash);
  static std::string_view NameOf(const Kind& k, const Slot& s);

  size_t cap_;
  mutable std::mutex mu_;
  Kind kinds_[static_cast<size_t>(NameKind::kCount)];
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

}  // namespace dg::core
