// Known indicators: lists of indicators of compromise from threat intelligence or partner
// providers (account ids, payment fingerprints, client TLS fingerprints, user agents, email
// domains, CIDR ranges), each attributed to a named operator. Accounts that match are attributed
// ("linked to known operator X") with the evidence; a match on an identifying indicator (account
// id, payment instrument, client fingerprint) also flags the account.
//
// The file format is JSON Lines, one indicator per line, and is also what `scan
// --export-indicators` writes for flagged clusters, so lists can be shared between providers:
//   {"type": "payment_fingerprint", "value": "pf_…", "operator": "…", "source": "…", "note": "…"}
// Types: account_id, payment_fingerprint, client_fingerprint, user_agent, email_domain, cidr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dg::linking {

enum class KnownKind : uint8_t {
  kAccountId,
  kPaymentFingerprint,
  kClientFingerprint,
  kUserAgent,
  kEmailDomain,
  kCidr
};
std::string_view KnownKindName(KnownKind k);
std::optional<KnownKind> KnownKindFromName(std::string_view name);
// Matches on these identify an operator well enough to flag the account.
inline bool Identifying(KnownKind k) {
  return k == KnownKind::kAccountId || k == KnownKind::kPaymentFingerprint ||
         k == KnownKind::kClientFingerprint;
}

struct KnownIndicator {
  KnownKind kind;
  std::string value;
  std::string operator_name;
  std::string source;
  std::string note;
};

class IndicatorList {
 public:
  // Loads a JSONL list. Bad lines are skipped and described in *errors ("path:line: reason").
  // Returns false only if the file cannot be read.
  bool Load(const std::string& path, std::vector<std::string>* errors);
  void Add(KnownIndicator ind);
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const KnownIndicator& at(size_t i) const { return items_[i]; }

  // Exact-value lookup by the engine's hash of the value (see core/event.h HashKind); returns
  // index + 1, or 0.
  uint32_t MatchHash(KnownKind kind, uint64_t hash) const;
  // Whether a listed CIDR contains all of `prefix` ("a.b.c.0/24" or "x:y:z::/48"), the network
  // granularity the engine keeps per account; index + 1, or 0.
  uint32_t MatchPrefix(std::string_view prefix) const;

 private:
  struct Cidr {
    bool v6;
    uint8_t bytes[16];
    int bits;
    uint32_t index;
  };
  static std::optional<Cidr> ParseCidr(std::string_view s);
  static bool Overlap(const Cidr& a, const Cidr& b);
  std::vector<KnownIndicator> items_;
  std::unordered_map<uint64_t, uint32_t> by_hash_;  // (kind-seeded hash) -> index + 1
  std::vector<Cidr> cidrs_;
};

}  // namespace dg::linking
