// The body of an analyst action (POST /v1/actions, from the UI or a script), parsed apart from
// the Service so that it is unit-tested and fuzzed on its own (fuzz/action_body_fuzz.cc).
//
// Body: {"kind": "account"|"api_key"|"end_user"|"cluster", "target": "...", "scope"?: "...",
// "action": "confirm"|"dismiss"|"reopen"|"block"|"allow"|"clear", "note"?: "..."}. Unknown keys
// are ignored; a field of the wrong type is an error naming it. Semantic checks (sizes, scope
// required for keys and end users) are ActionStore::Record's. Never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "serve/actions.h"

namespace dg::serve {

struct ActionBodyError {
  std::string param, message;
};

// Parses `body` into *out (who and times are left for the caller); nullopt on success.
std::optional<ActionBodyError> ParseActionBody(std::string_view body, ActionRow* out);

}  // namespace dg::serve
