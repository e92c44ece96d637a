// libFuzzer target for the analyst action body (ParseActionBody, what POST /v1/actions runs
// before the ActionStore). Invariants: no crash, exception or sanitizer report; a refused body
// names a message; an accepted one has a known kind, a non-empty target and action; parsing
// twice gives the same result; every string is no longer than the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serve/action_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dg::serve::ActionRow a, b;
  const auto ea = dg::serve::ParseActionBody(bytes, &a);
  const auto eb = dg::serve::ParseActionBody(bytes, &b);
  if (ea.has_value() != eb.has_value()) std::abort();
  if (ea) {
    if (ea->message.empty() || ea->param != eb->param) std::abort();
    return 0;
  }
  if (a.target.empty() || a.action.empty() || a.target != b.target || a.kind != b.kind)
    std::abort();
  for (const auto* s : {&a.target, &a.scope, &a.action, &a.note}) {
    if (s->size() > size) std::abort();
  }
  if (dg::serve::TargetKindName(a.kind).empty()) std::abort();
  return 0;
}
