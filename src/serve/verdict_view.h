// VerdictView: what the decision path knows about accounts, published by the ingest thread and
// read lock-free by HTTP threads. The view is split in 64 shards (by account hash); each shard is
// an immutable hash map behind an atomically swapped shared_ptr, so a publish copies only the
// shards whose verdicts changed and a reader pays one atomic load and one hash lookup.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/hash.h"
#include "state/account_state.h"

namespace dg::serve {

struct AccountVerdict {
  float score = 0;
  uint8_t level = 0;
  bool flagged = false;
  bool by_cluster = false;
  bool cluster_flagged = false;
  uint8_t cluster_level = 0;
  // Hash of the account id of the cluster's root (the cluster is "C-<root id>"; 0 = unknown):
  // the key of analyst overrides on the cluster (serve/actions.h).
  uint64_t cluster_root = 0;
  std::array<uint8_t, state::kMaxDetectors> strength{};  // detector strengths at the peak x255
  bool operator==(const AccountVerdict&) const = default;
};

class VerdictView {
 public:
  static constexpr size_t kShards = 64;
  using Map = std::unordered_map<uint64_t, AccountVerdict>;

  VerdictView() {
    for (auto& s : shards_) s.store(std::make_shared<const Map>());
  }
  // The key an end user's own verdict is published under: its hash within its account's (an
  // end-user id means something only within the account that names it).
  static uint64_t EndUserKey(uint64_t account, uint64_t end_user) {
    return HashMix(account ^ 0x656e642d75736572ULL, end_user);
  }
  // The key an API key's own verdict is published under, likewise within its account.
  static uint64_t ApiKeyKey(uint64_t account, uint64_t api_key) {
    return HashMix(account ^ 0x6170692d6b657973ULL, api_key);
  }
  // Returns false if the account is unknown.
  bool Find(uint64_t account, AccountVerdict* out) const {
    auto m = shards_[ShardOf(account)].load(std::memory_order_acquire);
    auto it = m->find(account);
    if (it == m->end()) return false;
    *out = it->second;
    return true;
  }
  // Publishes changed verdicts (ingest thread only).
  void Update(const std::vector<std::pair<uint64_t, AccountVerdict>>& changes) {
    std::array<std::shared_ptr<Map>, kShards> next;
    for (const auto& [account, v] : changes) {
      auto& n = next[ShardOf(account)];
      if (!n) n = std::make_shared<Map>(*shards_[ShardOf(account)].load());
      (*n)[account] = v;
    }
    for (size_t i = 0; i < kShards; ++i) {
      if (next[i])
        shards_[i].store(std::shared_ptr<const Map>(std::move(next[i])), std::memory_order_release);
    }
  }
  size_t size() const {
    size_t n = 0;
    for (const auto& s : shards_) n += s.load()->size();
    return n;
  }

 private:
  static size_t ShardOf(uint64_t account) { return (account >> 52) % kShards; }
  std::array<std::atomic<std::shared_ptr<const Map>>, kShards> shards_;
};

}  // namespace dg::serve
