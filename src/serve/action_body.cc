// See action_body.h.
#include "serve/action_body.h"

#include <simdjson.h>

namespace dg::serve {

std::optional<ActionBodyError> ParseActionBody(std::string_view text, ActionRow* out) {
  *out = ActionRow{};
  // The DOM parser validates the whole document (unlike On-Demand, which reads lazily).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return ActionBodyError{"", "body must be a JSON object"};
  }
  std::string kind;
  bool have_kind = false;
  for (auto [k, value] : obj) {
    const std::string key(k);
    std::string* dst = key == "kind"     ? &kind
                       : key == "target" ? &out->target
                       : key == "scope"  ? &out->scope
                       : key == "action" ? &out->action
                       : key == "note"   ? &out->note
                                         : nullptr;
    if (!dst) continue;
    std::string_view v;
    if (value.get_string().get(v) != simdjson::SUCCESS) {
      return ActionBodyError{key, "'" + key + "' must be a string"};
    }
    *dst = std::string(v);
    if (dst == &kind) have_kind = true;
  }
  if (!have_kind) return ActionBodyError{"kind", "'kind' is required"};
  const auto tk = ParseTargetKind(kind);
  if (!tk) return ActionBodyError{"kind", "'kind' must be account, api_key, end_user or cluster"};
  out->kind = *tk;
  if (out->target.empty()) return ActionBodyError{"target", "'target' is required"};
  if (out->action.empty()) return ActionBodyError{"action", "'action' is required"};
  return std::nullopt;
}

}  // namespace dg::serve
