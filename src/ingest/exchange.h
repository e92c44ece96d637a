// Exchange: one API exchange as the adapters see it, before feature extraction.
//
// Every string is a view borrowed from the input block or the parser's string buffer, valid only
// while the adapter's sink runs: the featurizer turns it into an owned, fixed-size EventRecord
// (core/event.h) before the next record is parsed. Nothing here allocates, so one Exchange is
// reused for every record a thread parses.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/time.h"

namespace dg::ingest {

// Up to kMaxParts text pieces of one logical text (message content parts, several messages).
struct TextParts {
  static constexpr size_t kMaxParts = 8;
  std::array<std::string_view, kMaxParts> parts{};
  uint8_t count = 0;
  uint32_t total_chars = 0;  // includes parts beyond kMaxParts
  void Clear() {
    count = 0;
    total_chars = 0;
  }
  void Add(std::string_view s) {
    total_chars += static_cast<uint32_t>(s.size());
    if (count < kMaxParts && !s.empty()) parts[count++] = s;
  }
  bool empty() const { return total_chars == 0; }
};

enum class ReasoningEffort : int8_t { kUnset = -1, kMinimal = 0, kLow = 1, kMedium = 2, kHigh = 3 };

enum class FinishReason : uint8_t { kUnknown = 0, kStop, kLength, kToolCalls, kContentFilter };

struct Exchange {
  TimeUs ts = 0;
  std::string_view request_id, account_id, api_key_id, end_user, client_ip, user_agent,
      client_fingerprint, client_asn_org, endpoint, model;
  // The end user the request body names (OpenAI's `safety_identifier`, else `user`): stands in
  // for `end_user` when the gateway did not set it (Exchange::EndUser()).
  std::string_view body_safety_identifier, body_user;
  int64_t client_asn = -1;

  // Request parameters (-1 = absent).
  int32_t n = -1;
  float temperature = -1.0f;
  float top_p = -1.0f;
  int32_t max_tokens = -1;
  bool logprobs = false;
  int32_t top_logprobs = -1;
  int32_t logit_bias_entries = 0;
  bool has_seed = false;
  bool stream = false;
  ReasoningEffort reasoning_effort = ReasoningEffort::kUnset;
  bool has_tools = false;
  bool json_output = false;  // response_format json_object / json_schema

  // Conversation structure.
  uint16_t n_messages = 0, n_system = 0, n_user = 0, n_assistant = 0, n_tool = 0;
  TextParts system_text;     // all system / developer / instructions text
  TextParts last_user_text;  // the last user message (or `prompt` / `input` for other endpoints)
  uint32_t input_chars = 0;  // all message text

  // Response.
  int32_t status = -1;
  int64_t prompt_tokens = -1, completion_tokens = -1, reasoning_tokens = -1;
  uint16_t n_choices = 0;
  FinishReason finish_reason = FinishReason::kUnknown;
  uint32_t output_chars = 0;  // bytes of the response text as written in JSON (not unescaped)
  float latency_ms = -1.0f;

  void Reset() { *this = Exchange{}; }
  // The end user: the gateway's `end_user`, else the body's `safety_identifier`, else `user`.
  std::string_view EndUser() const {
    return !end_user.empty()                 ? end_user
           : !body_safety_identifier.empty() ? body_safety_identifier
                                             : body_user;
  }
};

}  // namespace dg::ingest
