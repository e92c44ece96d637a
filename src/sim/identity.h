// Identity material for simulated accounts: autonomous systems per network class (with real
// ASNs / organisation names and /16 prefixes they announce), IPv4 addresses inside them, TLS
// client fingerprints (JA4-shaped, stable per client library) and the per-model latency profile.
// Design: static tables, pure functions of an Rng or a string, so identities are deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/rng.h"

namespace dg::sim {

struct AsnInfo {
  uint32_t asn;
  std::string_view org;
  std::vector<std::pair<uint8_t, uint8_t>> prefixes16;  // first two octets of announced /16s
  std::string_view country = {};  // where the network serves its users; empty: many countries
};

// Network classes: residential, cloud, office, mobile, vpn, relay (privacy-relay egress).
const std::vector<AsnInfo>& AsnsFor(std::string_view network);
// A random /24 (as its first three octets packed into uint32: a<<16|b<<8|c) inside `asn`.
uint32_t RandomSubnet(const AsnInfo& asn, Rng& rng);
std::string IpInSubnet(uint32_t subnet24, Rng& rng);

// JA4-like TLS fingerprint derived from the client library family and major version in `ua`;
// `variant` (0..2) models the host's TLS stack (OpenSSL / runtime build) for the same library.
std::string FingerprintFor(std::string_view user_agent, int variant = 0);

struct ModelProfile {
  bool reasoning;
  double ttft_ms;
  double tokens_per_s;
};
ModelProfile ProfileFor(std::string_view model);

// Lower-case hex of `bytes` random bytes.
std::string RandomHex(Rng& rng, int chars);

}  // namespace dg::sim
