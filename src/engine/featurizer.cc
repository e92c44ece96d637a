// See featurizer.h.
#include "engine/featurizer.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/hash.h"

namespace {
constexpr uint64_t kHashSystemRaw = 0x5e57e3a1d0c0ffeeULL;
}  // namespace

namespace dg::engine {

bool ParseIp(std::string_view ip, ParsedIp& out) {
  if (ip.empty() || ip.size() > 45) return false;
  char tmp[64];
  std::memcpy(tmp, ip.data(), ip.size());
  tmp[ip.size()] = '\0';
  out.v6 = ip.find(':') != std::string_view::npos;
  return inet_pton(out.v6 ? AF_INET6 : AF_INET, tmp, out.addr) == 1;
}

std::string_view IpPrefix(const ParsedIp& ip, char* buf) {
  unsigned char addr[16];
  std::memcpy(addr, ip.addr, sizeof addr);
  if (!ip.v6) {
    addr[3] = 0;
    if (!inet_ntop(AF_INET, addr, buf, 48)) return {};
    size_t len = std::strlen(buf);
    std::memcpy(buf + len, "/24", 4);
    return {buf, len + 3};
  }
  std::memset(addr + 6, 0, 10);
  if (!inet_ntop(AF_INET6, addr, buf, 56)) return {};
  size_t len = std::strlen(buf);
  std::memcpy(buf + len, "/48", 4);
  return {buf, len + 3};
}

std::string_view IpPrefix(std::string_view ip, char* buf) {
  ParsedIp p;
  return ParseIp(ip, p) ? IpPrefix(p, buf) : std::string_view{};
}

Featurizer::Featurizer(NameTable& names, const features::CountryDb& geo)
    : names_(names), geo_(geo) {}

void Featurizer::Featurize(const ingest::Exchange& ex, uint16_t source, uint64_t line,
                           EventRecord& r) {
  r.ts = ex.ts;
  r.source = source;
  r.line = line;
  r.account = Hash64(ex.account_id, kHashAccount);
  names_.Note(NameKind::kAccount, r.account, ex.account_id);
  r.api_key = ex.api_key_id.empty() ? 0 : Hash64(ex.api_key_id, kHashApiKey);
  if (r.api_key) names_.Note(NameKind::kApiKey, r.api_key, ex.api_key_id);
  r.end_user = ex.EndUser().empty() ? 0 : Hash64(ex.EndUser(), kHashEndUser);
  if (r.end_user) names_.Note(NameKind::kEndUser, r.end_user, ex.EndUser());
  r.ip = ex.client_ip.empty() ? 0 : Hash64(ex.client_ip, kHashIp);
  ParsedIp addr;
  r.ip_prefix = 0;
  r.country = 0;
  if (ParseIp(ex.client_ip, addr)) {
    char prefix_buf[64];
    const std::string_view prefix = IpPrefix(addr, prefix_buf);
    r.ip_prefix = prefix.empty() ? 0 : Hash64(prefix, kHashIpPrefix);
    if (r.ip_prefix) names_.Note(NameKind::kIpPrefix, r.ip_prefix, prefix);
    if (addr.v6) {
      r.country = geo_.LookupV6(addr.addr);
    } else {
      uint32_t n;
      std::memcpy(&n, addr.addr, 4);
      r.country = geo_.LookupV4(ntohl(n));
    }
  }
  r.user_agent = ex.user_agent.empty() ? 0 : Hash64(ex.user_agent, kHashUserAgent);
  if (r.user_agent) names_.Note(NameKind::kUserAgent, r.user_agent, ex.user_agent);
  r.fingerprint =
      ex.client_fingerprint.empty() ? 0 : Hash64(ex.client_fingerprint, kHashFingerprint);
  if (r.fingerprint) names_.Note(NameKind::kFingerprint, r.fingerprint, ex.client_fingerprint);
  r.model = ex.model.empty() ? 0 : Hash64(ex.model, kHashModel);
  if (r.model) names_.Note(NameKind::kModel, r.model, ex.model);
  r.asn = ex.client_asn >= 0 ? static_cast<uint64_t>(ex.client_asn) + 1 : 0;
  if (r.asn && !ex.client_asn_org.empty()) names_.Note(NameKind::kAsn, r.asn, ex.client_asn_org);

  text_.Compute(
      std::span<const std::string_view>(ex.last_user_text.parts.data(), ex.last_user_text.count),
      r.prompt);
  if (!ex.system_text.empty()) {
    const std::span<const std::string_view> parts(ex.system_text.parts.data(),
                                                  ex.system_text.count);
    uint64_t raw = kHashSystemRaw;
    size_t bytes = 0;
    for (const auto& p : parts) {
      raw = XXH3_64bits_withSeed(p.data(), p.size(), raw + p.size());
      bytes += p.size();
    }
    r.system_bytes = static_cast<uint32_t>(std::min<size_t>(bytes, UINT32_MAX));
    raw |= 1;
    SystemEntry& e = system_cache_[(raw >> 20) & (kSystemCache - 1)];
    if (e.raw != raw) {
      features::TextFeatures sys;
      text_.Compute(parts, sys);
      e = {raw, sys.exact_hash, sys.phrase_mask};
    }
    r.system_hash = e.exact_hash ? e.exact_hash : 1;
    r.system_phrase_mask = e.phrase_mask;
  } else {
    r.system_hash = 0;
    r.system_phrase_mask = 0;
    r.system_bytes = 0;
  }

  r.n = ex.n < 0 ? 1 : ex.n;
  r.temperature = ex.temperature;
  r.top_p = ex.top_p;
  r.max_tokens = ex.max_tokens;
  r.top_logprobs = ex.top_logprobs < 0 ? 0 : ex.top_logprobs;
  r.logit_bias_entries = ex.logit_bias_entries;
  r.reasoning_effort = static_cast<int8_t>(ex.reasoning_effort);
  uint16_t f = 0;
  if (ex.logprobs || ex.top_logprobs > 0) f |= kFlagLogprobs;
  if (ex.has_seed) f |= kFlagSeed;
  if (ex.stream) f |= kFlagStream;
  if (ex.has_tools) f |= kFlagTools;
  if (ex.json_output) f |= kFlagJsonOutput;
  if (!ex.system_text.empty()) f |= kFlagHasSystem;
  if (ex.status >= 400) f |= kFlagError;
  r.flags = f;
  // Scripted clients send the same parameters every time; people and apps vary them. The model
  // is left out: an operator's script keeps its parameters when it is pointed at another model
  // (campaigns pick a model per account). The fields are packed into a byte buffer without
  // padding: hashing a struct would hash its padding bytes, which are indeterminate (they made
  // the signature differ between builds and runs).
  const int32_t fields[] = {r.n,
                            r.max_tokens,
                            r.top_logprobs,
                            r.logit_bias_entries > 0 ? 1 : 0,
                            static_cast<int32_t>(r.temperature * 1000),
                            static_cast<int32_t>(r.top_p * 1000),
                            r.reasoning_effort,
                            static_cast<int32_t>(f & ~(kFlagHasSystem | kFlagError))};
  r.param_signature = XXH3_64bits(fields, sizeof(fields));
  r.n_messages = ex.n_messages;
  r.n_user = ex.n_user;
  r.n_assistant = ex.n_assistant;
  r.input_chars = ex.input_chars;
  r.status = ex.status;
  r.prompt_tokens = ex.prompt_tokens < 0 ? 0 : ex.prompt_tokens;
  r.completion_tokens = ex.completion_tokens < 0 ? 0 : ex.completion_tokens;
  r.reasoning_tokens = ex.reasoning_tokens < 0 ? 0 : ex.reasoning_tokens;
  r.output_chars = ex.output_chars;
  r.latency_ms = ex.latency_ms;
  r.finish_reason = static_cast<uint8_t>(ex.finish_reason);
}

}  // namespace dg::engine
