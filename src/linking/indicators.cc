// See indicators.h.
#include "linking/indicators.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#include <fstream>

#include "common/hash.h"
#include "core/event.h"

namespace dg::linking {
namespace {

uint64_t SeedOf(KnownKind k) {
  switch (k) {
    case KnownKind::kAccountId:
      return core::kHashAccount;
    case KnownKind::kPaymentFingerprint:
      return core::kHashPayment;
    case KnownKind::kClientFingerprint:
      return core::kHashFingerprint;
    case KnownKind::kUserAgent:
      return core::kHashUserAgent;
    case KnownKind::kEmailDomain:
      return core::kHashEmailDomain;
    case KnownKind::kCidr:
      return 0;
  }
  return 0;
}

uint64_t Key(KnownKind k, uint64_t hash) { return hash ^ (static_cast<uint64_t>(k) << 56); }

}  // namespace

std::string_view KnownKindName(KnownKind k) {
  switch (k) {
    case KnownKind::kAccountId:
      return "account_id";
    case KnownKind::kPaymentFingerprint:
      return "payment_fingerprint";
    case KnownKind::kClientFingerprint:
      return "client_fingerprint";
    case KnownKind::kUserAgent:
      return "user_agent";
    case KnownKind::kEmailDomain:
      return "email_domain";
    case KnownKind::kCidr:
      return "cidr";
  }
  return "unknown";
}

std::optional<KnownKind> KnownKindFromName(std::string_view n) {
  for (auto k : {KnownKind::kAccountId, KnownKind::kPaymentFingerprint, KnownKind::kClientFingerprint,
                 KnownKind::kUserAgent, KnownKind::kEmailDomain, KnownKind::kCidr}) {
    if (KnownKindName(k) == n) return k;
  }
  return std::nullopt;
}

std::optional<IndicatorList::Cidr> IndicatorList::ParseCidr(std::string_view s) {
  Cidr c{};
  size_t slash = s.find('/');
  std::string addr(s.substr(0, slash));
  c.v6 = addr.find(':') != std::string::npos;
  if (inet_pton(c.v6 ? AF_INET6 : AF_INET, addr.c_str(), c.bytes) != 1) return std::nullopt;
  const int max_bits = c.v6 ? 128 : 32;
  c.bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view b = s.substr(slash + 1);
    if (b.empty() || b.size() > 3) return std::nullopt;
    int v = 0;
    for (char ch : b) {
      if (ch < '0' || ch > '9') return std::nullopt;
      v = v * 10 + (ch - '0');
    }
    if (v > max_bits) return std::nullopt;
    c.bits = v;
  }
  return c;
}

// True when the listed range `a` contains all of `b` (an account's /24 or /48). A listed range
// narrower than the account's network cannot be confirmed from the network alone, so it does not
// match: attributing a whole /24 to one listed address would be wrong.
bool IndicatorList::Overlap(const Cidr& a, const Cidr& b) {
  if (a.v6 != b.v6 || a.bits > b.bits) return false;
  const int bits = a.bits;
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8, bit = 7 - i % 8;
    if (((a.bytes[byte] >> bit) & 1) != ((b.bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

void IndicatorList::Add(KnownIndicator ind) {
  const auto index = static_cast<uint32_t>(items_.size());
  if (ind.kind == KnownKind::kCidr) {
    auto c = ParseCidr(ind.value);
    if (!c) return;
    c->index = index;
    cidrs_.push_back(*c);
  } else {
    by_hash_.try_emplace(Key(ind.kind, Hash64(ind.value, SeedOf(ind.kind))), index + 1);
  }
  items_.push_back(std::move(ind));
}

bool IndicatorList::Load(const std::string& path, std::vector<std::string>* errors) {
  std::ifstream in(path);
  if (!in) return false;
  simdjson::dom::parser parser;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::dom::element e;
    if (auto err = parser.parse(line).get(e)) {
      errors->push_back(fmt::format("{}:{}: {}", path, lineno, simdjson::error_message(err)));
      continue;
    }
    std::string_view type, value, op, source, note;
    if (e["type"].get(type) || e["value"].get(value) || value.empty()) {
      errors->push_back(fmt::format("{}:{}: needs string \"type\" and \"value\"", path, lineno));
      continue;
    }
    auto kind = KnownKindFromName(type);
    if (!kind) {
      errors->push_back(fmt::format("{}:{}: unknown indicator type '{}'", path, lineno, type));
      continue;
    }
    if (*kind == KnownKind::kCidr && !ParseCidr(value)) {
      errors->push_back(fmt::format("{}:{}: '{}' is not a CIDR range", path, lineno, value));
      continue;
    }
    if (e["operator"].get(op)) op = {};
    if (e["source"].get(source)) source = {};
    if (e["note"].get(note)) note = {};
    Add({*kind, std::string(value), std::string(op.empty() ? "unnamed operator" : op),
         std::string(source), std::string(note)});
  }
  return true;
}

uint32_t IndicatorList::MatchHash(KnownKind kind, uint64_t hash) const {
  if (hash == 0 || by_hash_.empty()) return 0;
  auto it = by_hash_.find(Key(kind, hash));
  return it == by_hash_.end() ? 0 : it->second;
}

uint32_t IndicatorList::MatchPrefix(std::string_view prefix) const {
  if (cidrs_.empty()) return 0;
  auto p = ParseCidr(prefix);
  if (!p) return 0;
  for (const auto& c : cidrs_) {
    if (Overlap(c, *p)) return c.index + 1;
  }
  return 0;
}

}  // namespace dg::linking
