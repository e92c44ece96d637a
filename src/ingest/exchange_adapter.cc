// The native adapter: the exchange-log contract (../shared/spec/exchange-log.md). One pass over
// the record's fields in whatever order they come; unknown fields are skipped by simdjson
// without being parsed. A wrong type on an optional field drops that field only; a missing or
// unusable `ts` / `account_id` rejects the record.
#include <cmath>
#include <cstring>

#include "ingest/adapter.h"

namespace dg::ingest {
namespace json {

using simdjson::ondemand::json_type;

bool GetString(simdjson::ondemand::value v, std::string_view& out) {
  return !v.get_string().get(out);
}
bool GetNumber(simdjson::ondemand::value v, double& out) { return !v.get_double().get(out); }
bool GetInt(simdjson::ondemand::value v, int64_t& out) {
  json_type t;
  if (v.type().get(t) || t != json_type::number) return false;
  double d;
  if (v.get_double().get(d) || !std::isfinite(d) || std::fabs(d) > 9e18) return false;
  out = static_cast<int64_t>(d);
  return true;
}
bool GetBool(simdjson::ondemand::value v, bool& out) { return !v.get_bool().get(out); }

RejectReason GetTimestamp(simdjson::ondemand::value v, TimeUs& out) {
  json_type t;
  if (v.type().get(t)) return RejectReason::kBadTs;
  if (t == json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return RejectReason::kBadTs;
    auto parsed = ParseRfc3339(s);
    if (!parsed) return RejectReason::kBadTs;
    out = *parsed;
    return RejectReason::kNone;
  }
  if (t == json_type::number) {
    double d;
    if (v.get_double().get(d)) return RejectReason::kBadTs;
    if (d > 1e11 && d < 1e14) d /= 1000.0;  // epoch milliseconds
    auto parsed = FromEpochSeconds(d);
    if (!parsed) return RejectReason::kBadTs;
    out = *parsed;
    return RejectReason::kNone;
  }
  return RejectReason::kBadTs;
}

bool Fatal(simdjson::error_code e) {
  return e != simdjson::SUCCESS && e != simdjson::INCORRECT_TYPE &&
         e != simdjson::NUMBER_OUT_OF_RANGE;
}

namespace {

// Calls on_string(value) for each text value of a message's content: the content itself when it
// is a string, each string of a content array, and each part's "text" / "input_text" field.
// Returns false on a JSON syntax error (the record must be rejected).
template <typename OnString>
bool ForEachContentString(simdjson::ondemand::value v, OnString&& on_string) {
  json_type t;
  if (v.type().get(t)) return false;
  if (t == json_type::string) {
    on_string(v);
    return true;
  }
  if (t != json_type::array) return true;
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto elem : arr) {
    simdjson::ondemand::value ev;
    if (elem.get(ev)) return false;
    json_type et;
    if (ev.type().get(et)) return false;
    if (et == json_type::string) {
      on_string(ev);
      continue;
    }
    if (et != json_type::object) continue;
    simdjson::ondemand::object part;
    if (ev.get_object().get(part)) return false;
    for (auto f : part) {
      std::string_view key;
      if (f.unescaped_key().get(key)) return false;
      if (key == "text" || key == "input_text") {
        simdjson::ondemand::value fv;
        if (!f.value().get(fv)) on_string(fv);
      }
    }
  }
  return true;
}

}  // namespace

bool AddContent(simdjson::ondemand::value v, TextParts& parts, uint32_t& chars) {
  return ForEachContentString(v, [&](simdjson::ondemand::value sv) {
    std::string_view s;
    if (!sv.get_string().get(s)) {
      parts.Add(s);
      chars += static_cast<uint32_t>(s.size());
    }
  });
}

// The length of response text as written in the JSON, escapes included: the engine keeps only a
// size for responses, so their text is never unescaped (responses are most of a record's bytes).
bool AddRawLength(simdjson::ondemand::value v, uint32_t& chars) {
  return ForEachContentString(v, [&](simdjson::ondemand::value sv) {
    json_type t;
    if (sv.type().get(t) || t != json_type::string) return;
    const std::string_view raw = sv.raw_json_token();
    chars += static_cast<uint32_t>(raw.size() >= 2 ? raw.size() - 2 : 0);
  });
}

}  // namespace json

namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

ReasoningEffort ParseEffort(std::string_view s) {
  if (s == "high") return ReasoningEffort::kHigh;
  if (s == "medium") return ReasoningEffort::kMedium;
  if (s == "low") return ReasoningEffort::kLow;
  if (s == "minimal" || s == "none") return ReasoningEffort::kMinimal;
  return ReasoningEffort::kUnset;
}

FinishReason ParseFinish(std::string_view s) {
  if (s == "stop" || s == "end_turn" || s == "completed") return FinishReason::kStop;
  if (s == "length" || s == "max_tokens" || s == "incomplete") return FinishReason::kLength;
  if (s == "tool_calls" || s == "function_call" || s == "tool_use") return FinishReason::kToolCalls;
  if (s == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

// One chat message {role, content}.
bool ParseMessage(value v, Exchange& ex) {
  object m;
  if (auto e = v.get_object().get(m)) return !json::Fatal(e);
  // Role may come after content, so collect content parts in a temporary and attribute at end.
  std::string_view role;
  TextParts parts;
  uint32_t chars = 0;
  for (auto f : m) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    if (key == "role") {
      json::GetString(f.value(), role);
    } else if (key == "content") {
      if (!json::AddContent(f.value(), parts, chars)) return false;
    }
  }
  ++ex.n_messages;
  ex.input_chars += chars;
  if (role == "system" || role == "developer") {
    ++ex.n_system;
    for (uint8_t i = 0; i < parts.count; ++i) ex.system_text.Add(parts.parts[i]);
  } else if (role == "assistant") {
    ++ex.n_assistant;
  } else if (role == "tool" || role == "function") {
    ++ex.n_tool;
  } else {
    ++ex.n_user;
    ex.last_user_text = parts;
  }
  return true;
}

bool ParseMessages(value v, Exchange& ex) {
  json_type t;
  if (v.type().get(t)) return false;
  if (t == json_type::string) {  // `input` / `prompt` as a plain string
    std::string_view s;
    if (json::GetString(v, s)) {
      ++ex.n_messages;
      ++ex.n_user;
      ex.last_user_text.Clear();
      ex.last_user_text.Add(s);
      ex.input_chars += static_cast<uint32_t>(s.size());
    }
    return true;
  }
  if (t != json_type::array) return true;
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto elem : arr) {
    value ev;
    if (elem.get(ev)) return false;
    json_type et;
    if (ev.type().get(et)) return false;
    if (et == json_type::object) {
      if (!ParseMessage(ev, ex)) return false;
    } else if (et == json_type::string) {  // legacy `prompt: ["…", "…"]`
      std::string_view s;
      if (json::GetString(ev, s)) {
        ++ex.n_messages;
        ++ex.n_user;
        ex.last_user_text.Clear();
        ex.last_user_text.Add(s);
        ex.input_chars += static_cast<uint32_t>(s.size());
      }
    }
  }
  return true;
}

bool ParseRequest(value v, Exchange& ex) {
  object req;
  if (auto e = v.get_object().get(req)) return !json::Fatal(e);
  for (auto f : req) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    value fv;
    if (f.value().get(fv)) return false;
    int64_t i;
    double d;
    bool b;
    std::string_view s;
    switch (key.empty() ? 0 : key[0]) {
      case 'm':
        if (key == "model") {
          json::GetString(fv, ex.model);
        } else if (key == "messages") {
          if (!ParseMessages(fv, ex)) return false;
        } else if (key == "max_tokens" || key == "max_completion_tokens" ||
                   key == "max_output_tokens") {
          if (json::GetInt(fv, i))
            ex.max_tokens = static_cast<int32_t>(std::clamp<int64_t>(i, -1, 1 << 30));
        }
        break;
      case 'i':
        if (key == "input") {
          if (!ParseMessages(fv, ex)) return false;
        } else if (key == "instructions") {
          if (json::GetString(fv, s)) {
            ex.system_text.Add(s);
            ++ex.n_system;
            ex.input_chars += static_cast<uint32_t>(s.size());
          }
        }
        break;
      case 'p':
        if (key == "prompt" && !ParseMessages(fv, ex)) return false;
        break;
      case 'n':
        if (key == "n" && json::GetInt(fv, i))
          ex.n = static_cast<int32_t>(std::clamp<int64_t>(i, 0, 1 << 20));
        break;
      case 'u':
        if (key == "user") json::GetString(fv, ex.body_user);
        break;
      case 't':
        if (key == "temperature" && json::GetNumber(fv, d)) {
          ex.temperature = static_cast<float>(d);
        } else if (key == "top_p" && json::GetNumber(fv, d)) {
          ex.top_p = static_cast<float>(d);
        } else if (key == "top_logprobs" && json::GetInt(fv, i)) {
          ex.top_logprobs = static_cast<int32_t>(std::clamp<int64_t>(i, 0, 1 << 20));
        } else if (key == "tools") {
          simdjson::ondemand::array arr;
          size_t count = 0;
          if (!fv.get_array().get(arr) && !arr.count_elements().get(count))
            ex.has_tools = count > 0;
        }
        break;
      case 'l':
        if (key == "logprobs") {
          if (json::GetBool(fv, b)) {
            ex.logprobs = b;
          } else if (json::GetInt(fv, i)) {  // legacy completions: logprobs = k
            ex.logprobs = i > 0;
            ex.top_logprobs = static_cast<int32_t>(std::clamp<int64_t>(i, 0, 1 << 20));
          }
        } else if (key == "logit_bias") {
          object lb;
          size_t count = 0;
          if (!fv.get_object().get(lb) && !lb.count_fields().get(count)) {
            ex.logit_bias_entries = static_cast<int32_t>(count);
          }
        }
        break;
      case 's':
        if (key == "seed") {
          json_type t;
          ex.has_seed = !fv.type().get(t) && t == json_type::number;
        } else if (key == "stream" && json::GetBool(fv, b)) {
          ex.stream = b;
        } else if (key == "safety_identifier") {
          json::GetString(fv, ex.body_safety_identifier);
        } else if (key == "system" && json::GetString(fv, s)) {  // Anthropic-style top-level system
          ex.system_text.Add(s);
          ++ex.n_system;
          ex.input_chars += static_cast<uint32_t>(s.size());
        }
        break;
      case 'r':
        if (key == "reasoning_effort" && json::GetString(fv, s)) {
          ex.reasoning_effort = ParseEffort(s);
        } else if (key == "reasoning") {
          object r;
          if (!fv.get_object().get(r)) {
            for (auto rf : r) {
              std::string_view rk;
              if (rf.unescaped_key().get(rk)) break;
              if (rk == "effort" && json::GetString(rf.value(), s))
                ex.reasoning_effort = ParseEffort(s);
            }
          }
        } else if (key == "response_format") {
          object rf;
          if (!fv.get_object().get(rf)) {
            for (auto ff : rf) {
              std::string_view fk;
              if (ff.unescaped_key().get(fk)) break;
              if (fk == "type" && json::GetString(ff.value(), s)) {
                ex.json_output = s == "json_object" || s == "json_schema";
              }
            }
          }
        }
        break;
      default:
        break;
    }
  }
  return true;
}

bool ParseUsage(value v, Exchange& ex) {
  object u;
  if (auto e = v.get_object().get(u)) return !json::Fatal(e);
  for (auto f : u) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    int64_t i;
    if (key == "prompt_tokens" || key == "input_tokens") {
      if (json::GetInt(f.value(), i)) ex.prompt_tokens = std::max<int64_t>(i, 0);
    } else if (key == "completion_tokens" || key == "output_tokens") {
      if (json::GetInt(f.value(), i)) ex.completion_tokens = std::max<int64_t>(i, 0);
    } else if (key == "completion_tokens_details" || key == "output_tokens_details") {
      object d;
      if (f.value().get_object().get(d)) continue;
      for (auto df : d) {
        std::string_view dk;
        if (df.unescaped_key().get(dk)) break;
        if (dk == "reasoning_tokens" && json::GetInt(df.value(), i))
          ex.reasoning_tokens = std::max<int64_t>(i, 0);
      }
    }
  }
  return true;
}

bool ParseChoices(value v, Exchange& ex) {
  simdjson::ondemand::array arr;
  if (auto e = v.get_array().get(arr)) return !json::Fatal(e);
  for (auto elem : arr) {
    object c;
    if (auto e = elem.get_object().get(c)) {
      if (json::Fatal(e)) return false;
      continue;
    }
    ++ex.n_choices;
    for (auto f : c) {
      std::string_view key;
      if (f.unescaped_key().get(key)) return false;
      std::string_view s;
      if (key == "finish_reason") {
        if (json::GetString(f.value(), s) && ex.finish_reason == FinishReason::kUnknown) {
          ex.finish_reason = ParseFinish(s);
        }
      } else if (key == "message" || key == "delta") {
        object m;
        if (f.value().get_object().get(m)) continue;
        for (auto mf : m) {
          std::string_view mk;
          if (mf.unescaped_key().get(mk)) break;
          if (mk == "content" || mk == "reasoning_content") {
            simdjson::ondemand::value mv;
            if (mf.value().get(mv)) return false;
            if (!json::AddRawLength(mv, ex.output_chars)) return false;
          }
        }
      } else if (key == "text") {
        simdjson::ondemand::value tv;
        if (f.value().get(tv)) return false;
        if (!json::AddRawLength(tv, ex.output_chars)) return false;
      }
    }
  }
  return true;
}

bool ParseResponse(value v, Exchange& ex) {
  object r;
  if (auto e = v.get_object().get(r)) return !json::Fatal(e);
  for (auto f : r) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    int64_t i;
    if (key == "status" || key == "status_code") {
      if (json::GetInt(f.value(), i)) ex.status = static_cast<int32_t>(i);
    } else if (key == "usage") {
      if (!ParseUsage(f.value(), ex)) return false;
    } else if (key == "choices") {
      if (!ParseChoices(f.value(), ex)) return false;
    } else if (key == "error") {
      json_type t;
      if (!f.value().type().get(t) && t != json_type::null && ex.status < 0) ex.status = 500;
    }
  }
  return true;
}

}  // namespace

namespace json {
bool ParseMessageList(simdjson::ondemand::value v, Exchange& ex) { return ParseMessages(v, ex); }
bool ParseResponseObject(simdjson::ondemand::value v, Exchange& ex) { return ParseResponse(v, ex); }
}  // namespace json

namespace {

class ExchangeAdapter final : public Adapter {
 public:
  std::string_view name() const override { return "exchange"; }
  RejectReason Parse(object obj, Exchange& ex, ExchangeSink& sink, uint64_t line,
                     std::string& detail) override {
    ex.Reset();
    bool have_ts = false, have_account = false;
    RejectReason ts_error = RejectReason::kNone;
    bool bad_account = false;
    for (auto f : obj) {
      std::string_view key;
      if (f.unescaped_key().get(key)) return RejectReason::kInvalidJson;
      value v;
      if (f.value().get(v)) return RejectReason::kInvalidJson;
      if (key == "ts") {
        ts_error = json::GetTimestamp(v, ex.ts);
        have_ts = true;
      } else if (key == "account_id") {
        have_account = true;
        if (!json::GetString(v, ex.account_id)) bad_account = true;
      } else if (key == "request") {
        if (!ParseRequest(v, ex)) return RejectReason::kInvalidJson;
      } else if (key == "response") {
        if (!ParseResponse(v, ex)) return RejectReason::kInvalidJson;
      } else if (key == "request_id") {
        json::GetString(v, ex.request_id);
      } else if (key == "api_key_id") {
        json::GetString(v, ex.api_key_id);
      } else if (key == "end_user") {
        json::GetString(v, ex.end_user);
      } else if (key == "client_ip") {
        json::GetString(v, ex.client_ip);
      } else if (key == "user_agent") {
        json::GetString(v, ex.user_agent);
      } else if (key == "client_fingerprint") {
        json::GetString(v, ex.client_fingerprint);
      } else if (key == "client_asn") {
        int64_t asn;
        if (json::GetInt(v, asn)) ex.client_asn = asn;
      } else if (key == "client_asn_org") {
        json::GetString(v, ex.client_asn_org);
      } else if (key == "endpoint") {
        json::GetString(v, ex.endpoint);
      } else if (key == "latency_ms") {
        double d;
        if (json::GetNumber(v, d)) ex.latency_ms = static_cast<float>(d);
      }
    }
    if (!have_ts) return RejectReason::kMissingTs;
    if (ts_error != RejectReason::kNone) return ts_error;
    if (bad_account) {
      detail = "account_id is not a string";
      return RejectReason::kBadAccount;
    }
    if (!have_account || ex.account_id.empty()) return RejectReason::kMissingAccount;
    sink.OnExchange(ex, line);
    return RejectReason::kNone;
  }
};

}  // namespace

std::unique_ptr<Adapter> MakeExchangeAdapter() { return std::make_unique<ExchangeAdapter>(); }

}  // namespace dg::ingest
