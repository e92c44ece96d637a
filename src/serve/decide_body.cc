// See decide_body.h.
#include "serve/decide_body.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>

namespace dg::serve {

DecisionInput DecideBody::Input() const {
  DecisionInput in;
  in.account_id = account_id;
  in.api_key_id = api_key_id;
  in.end_user = end_user;
  in.client_ip = client_ip;
  in.user_agent = user_agent;
  in.n = n;
  in.max_tokens = max_tokens;
  in.logprobs = logprobs;
  return in;
}

std::optional<DecideBodyError> ParseDecideBody(std::string_view text, DecideBody* out) {
  *out = DecideBody{};
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string body(text);
  std::string_view account, key, user, ip, ua, body_safety_id, body_user;
  simdjson::ondemand::document doc;
  if (parser.iterate(body).get(doc) != simdjson::SUCCESS) {
    return DecideBodyError{"", "body must be a JSON object", "invalid_body"};
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return DecideBodyError{"", "body must be a JSON object", "invalid_body"};
  }
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return DecideBodyError{"", "bad JSON", "invalid_body"};
    auto val = field.value();
    std::string_view* target = k == "account_id"   ? &account
                               : k == "api_key_id" ? &key
                               : k == "end_user"   ? &user
                               : k == "client_ip"  ? &ip
                               : k == "user_agent" ? &ua
                                                   : nullptr;
    if (target) {
      if (val.get_string().get(*target)) *target = {};
      continue;
    }
    if (k == "request") {
      simdjson::ondemand::object r;
      if (val.get_object().get(r)) continue;
      for (auto rf : r) {
        std::string_view rk;
        if (rf.unescaped_key().get(rk)) break;
        auto rv = rf.value();
        int64_t iv;
        bool bv;
        // Clamped into int: a client's 1e18 must not wrap into a negative count.
        auto to_int = [](int64_t v) {
          return static_cast<int>(std::clamp<int64_t>(v, 0, std::numeric_limits<int>::max()));
        };
        if (rk == "n" && !rv.get_int64().get(iv)) out->n = to_int(iv);
        if ((rk == "max_tokens" || rk == "max_completion_tokens" || rk == "max_output_tokens") &&
            !rv.get_int64().get(iv)) {
          out->max_tokens = to_int(iv);
        }
        if (rk == "logprobs" && !rv.get_bool().get(bv)) out->logprobs = bv;
        // The end user the body names (OpenAI's `safety_identifier`, else `user`), as scan reads
        // it (ingest::Exchange::EndUser): the decision looks up the same end user.
        if (rk == "safety_identifier" && rv.get_string().get(body_safety_id)) body_safety_id = {};
        if (rk == "user" && rv.get_string().get(body_user)) body_user = {};
      }
    }
  }
  // Strings are views into the parser's buffer: copy before the next parse on this thread.
  out->account_id = account;
  out->api_key_id = key;
  out->end_user = !user.empty() ? user : !body_safety_id.empty() ? body_safety_id : body_user;
  out->client_ip = ip;
  out->user_agent = ua;
  if (out->account_id.empty()) {
    return DecideBodyError{"account_id", "account_id is required", "missing_account"};
  }
  return std::nullopt;
}

}  // namespace dg::serve
