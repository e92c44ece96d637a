// Featurizer: Exchange (borrowed views) -> EventRecord (owned, fixed-size). One per parsing
// thread; it owns the thread's TextFeaturizer (Hyperscan scratch) and NameSender. This is where
// the per-event text work happens, once, on the parsing thread, so nothing downstream touches
// text again.
//
// System prompts repeat: an app sends one system prompt with every request. Their features are
// kept in a small direct-mapped cache keyed by a raw 64-bit hash and length of the text, so a
// repeated system prompt costs one XXH3 pass instead of the tokeniser and the phrase scan. The
// cached values are a pure function of the text, so the cache changes no result.
#pragma once

#include <array>
#include <string_view>

#include "core/event.h"
#include "core/names.h"
#include "features/geo.h"
#include "features/text.h"
#include "ingest/exchange.h"

namespace dg::engine {

// The shared types of core/ (EventRecord, hash kinds, names) are used unqualified here.
using namespace core;

// A client address parsed once (network byte order; IPv4 in the first 4 bytes).
struct ParsedIp {
  unsigned char addr[16] = {};
  bool v6 = false;
};
bool ParseIp(std::string_view ip, ParsedIp& out);
std::string_view IpPrefix(const ParsedIp& ip, char* buf);

// "203.0.113.0/24" for IPv4, "2001:db8:1::/48" for IPv6; empty view if `ip` is not an address.
// `buf` must hold at least 64 bytes.
std::string_view IpPrefix(std::string_view ip, char* buf);

class Featurizer {
 public:
  // `geo` gives each event's country (EventRecord::country); borrowed, must outlive this.
  explicit Featurizer(NameTable& names,
                      const features::CountryDb& geo = features::CountryDb::Default());
  void Featurize(const ingest::Exchange& ex, uint16_t source, uint64_t line, EventRecord& out);

 private:
  struct SystemEntry {
    uint64_t raw = 0;  // XXH3 of the parts and their lengths; 0 = empty slot
    uint64_t exact_hash = 0;
    uint32_t phrase_mask = 0;
  };
  static constexpr size_t kSystemCache = 1024;

  features::TextFeaturizer text_;
  NameSender names_;
  const features::CountryDb& geo_;
  std::array<SystemEntry, kSystemCache> system_cache_{};
};

}  // namespace dg::engine
