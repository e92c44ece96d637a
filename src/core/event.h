// EventRecord: one exchange after feature extraction, owned and fixed-size (no pointers), so it
// can wait in the reorder buffer, cross threads, and be replayed without touching the input
// again. Strings become 64-bit XXH3 hashes (seeded per kind); the few names an analyst needs to
// read (account ids, end users, networks, agents) are kept once each in the NameTable.
#pragma once

#include <cstdint>
#include <type_traits>

#include "common/time.h"
#include "core/text_features.h"

namespace dg::core {

enum EventFlags : uint16_t {
  kFlagLogprobs = 1u << 0,
  kFlagSeed = 1u << 1,
  kFlagStream = 1u << 2,
  kFlagTools = 1u << 3,
  kFlagJsonOutput = 1u << 4,
  kFlagHasSystem = 1u << 5,
  kFlagError = 1u << 6,  // response status >= 400 or an error object
};

struct EventRecord {
  TimeUs ts = 0;
  uint64_t seq = 0;  // arrival order: source index in the top 16 bits, then line order
  uint64_t account = 0;
  uint64_t api_key = 0, end_user = 0, ip = 0, ip_prefix = 0, user_agent = 0, fingerprint = 0,
           model = 0, asn = 0;
  TextFeatures prompt{};     // the last user message
  uint64_t system_hash = 0;  // normalised hash of all system text (0 = none)
  // Hash of the client's request parameters (limits, sampling, flags; not the model).
  uint64_t param_signature = 0;
  uint32_t system_phrase_mask = 0;
  // Request.
  int32_t n = 1;
  float temperature = -1, top_p = -1;
  int32_t max_tokens = -1, top_logprobs = 0, logit_bias_entries = 0;
  int8_t reasoning_effort = -1;
  uint16_t flags = 0;
  uint16_t n_messages = 0, n_user = 0, n_assistant = 0;
  uint32_t input_chars = 0;
  uint32_t system_bytes = 0;  // bytes of all system text
  // Response.
  int32_t status = -1;
  int64_t prompt_tokens = 0, completion_tokens = 0, reasoning_tokens = 0;
  uint32_t output_chars = 0;
  float latency_ms = -1;
  uint8_t finish_reason = 0;
  uint8_t country = 0;  // client country (features::CountryDb id; 0 = unknown)
  uint16_t source = 0;
  uint64_t line = 0;
};
static_assert(std::is_trivially_copyable_v<EventRecord>);

// Seeds that keep indicator kinds apart in hash space.
enum HashKind : uint64_t {
  kHashAccount = 0x6163636f756e74ULL,
  kHashApiKey = 0x6170696b6579ULL,
  kHashEndUser = 0x656e6475736572ULL,
  kHashIp = 0x6970ULL,
  kHashIpPrefix = 0x6970707265666978ULL,
  kHashUserAgent = 0x7561ULL,
  kHashFingerprint = 0x6670ULL,
  kHashModel = 0x6d6f64656cULL,
  kHashAsn = 0x61736eULL,
  kHashPayment = 0x7061796d656e74ULL,
  kHashEmailDomain = 0x656d61696cULL,
};

}  // namespace dg::core
