// libFuzzer target for the POST /v1/decide body (ParseDecideBody, what DecisionHandlers::Decide
// runs before the decider). The input bytes are the body. Invariants: no crash, exception or
// sanitizer report; a refused body names a code and message; an accepted body has a non-empty
// account_id and request numbers that are -1 (absent) or clamped into [0, INT_MAX]; parsing the
// same bytes twice (the parser is thread_local and reused) gives the same result; every string
// field is a substring-sized copy (never longer than the body).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serve/decide_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dg::serve::DecideBody a, b;
  const auto ea = dg::serve::ParseDecideBody(bytes, &a);
  const auto eb = dg::serve::ParseDecideBody(bytes, &b);
  if (ea.has_value() != eb.has_value()) std::abort();
  if (ea) {
    if (ea->code.empty() || ea->message.empty() || ea->code != eb->code) std::abort();
    return 0;
  }
  if (a.account_id.empty() || a.account_id != b.account_id) std::abort();
  if (a.n < -1 || a.max_tokens < -1 || a.n != b.n || a.max_tokens != b.max_tokens) std::abort();
  for (const auto* s : {&a.account_id, &a.api_key_id, &a.end_user, &a.client_ip, &a.user_agent}) {
    if (s->size() > size) std::abort();
  }
  const dg::serve::DecisionInput in = a.Input();
  if (in.account_id != a.account_id || in.user_agent != a.user_agent) std::abort();
  return 0;
}
