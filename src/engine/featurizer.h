// Featurizer: Exchange (borrowed views) -> EventRecord (owned, fixed-size). One per parsing
// thread; it owns the thread's TextFeaturizer (Hyperscan scratch) and NameSender. This is where
// the per-event text work happens, once, on the parsing thread, so nothing downstream touches
// text again.
#pragma once

#include <string_view>

#include "engine/event.h"
#include "engine/names.h"
#include "features/text.h"
#include "ingest/exchange.h"

namespace dg::engine {

// "203.0.113.0/24" for IPv4, "2001:db8:1::/48" for IPv6; empty view if `ip` is not an address.
// `buf` must hold at least 64 bytes.
std::string_view IpPrefix(std::string_view ip, char* buf);

class Featurizer {
 public:
  explicit Featurizer(NameTable& names);
  void Featurize(const ingest::Exchange& ex, uint16_t source, uint64_t line, EventRecord& out);

 private:
  features::TextFeaturizer text_;
  NameSender names_;
};

}  // namespace dg::engine
