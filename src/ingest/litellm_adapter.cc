// LiteLLM proxy `SpendLogs` rows exported as JSON (one row per line, or an array of rows on a
// line). Mapping: request_id; api_key (LiteLLM stores a hash) → api_key_id; startTime /
// endTime (ISO 8601, often without a zone: read as UTC) → ts, latency; model; prompt_tokens /
// completion_tokens; requester_ip_address → client_ip; end_user; messages and response (objects
// or JSON-encoded strings) → conversation and choices; metadata.headers["user-agent"]. The paying
// account is the first present of metadata.user_api_key_org_id, team_id,
// metadata.user_api_key_team_id, user, metadata.user_api_key_user_id, api_key.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ingest/adapter.h"

namespace dg::ingest {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

// ISO 8601 with an optional zone: "2025-01-02T03:04:05.123456" is UTC.
std::optional<TimeUs> ParseLiteLlmTime(std::string_view s) {
  if (auto t = ParseRfc3339(s)) return t;
  if (s.size() < 19 || s.size() > 40) return std::nullopt;
  char buf[48];
  std::memcpy(buf, s.data(), s.size());
  std::memcpy(buf + s.size(), "Z", 1);
  return ParseRfc3339(std::string_view(buf, s.size() + 1));
}

class LiteLlmAdapter final : public Adapter {
 public:
  std::string_view name() const override { return "litellm"; }

  RejectReason Parse(object obj, Exchange& ex, ExchangeSink& sink, uint64_t line,
                     std::string& detail) override {
    ex.Reset();
    // Rows of one line (an exported array) are delivered together at the end of the line, so
    // each row decodes its embedded JSON strings into its own pooled buffers.
    row_ = line == last_line_ ? row_ + 1 : 0;
    last_line_ = line;
    if (row_ >= pool_.size()) pool_.push_back(std::make_unique<Embedded>());
    std::string_view start, end, api_key;
    std::string_view account[6];  // by preference, see the header comment
    bool have_start = false;
    for (auto f : obj) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return RejectReason::kInvalidJson;
      value v;
      if (f.value().get(v)) return RejectReason::kInvalidJson;
      int64_t i;
      if (k == "startTime") {
        have_start = json::GetString(v, start);
        if (!have_start) {
          double d;
          if (json::GetNumber(v, d)) {
            if (auto t = FromEpochSeconds(d > 1e11 ? d / 1000 : d)) {
              ex.ts = *t;
              have_start = true;
              start = "#";
            }
          }
        }
      } else if (k == "endTime") {
        json::GetString(v, end);
      } else if (k == "request_id") {
        json::GetString(v, ex.request_id);
      } else if (k == "api_key") {
        json::GetString(v, api_key);
      } else if (k == "model") {
        json::GetString(v, ex.model);
      } else if (k == "prompt_tokens") {
        if (json::GetInt(v, i)) ex.prompt_tokens = i;
      } else if (k == "completion_tokens") {
        if (json::GetInt(v, i)) ex.completion_tokens = i;
      } else if (k == "requester_ip_address") {
        json::GetString(v, ex.client_ip);
      } else if (k == "end_user") {
        json::GetString(v, ex.end_user);
      } else if (k == "team_id") {
        json::GetString(v, account[1]);
      } else if (k == "user") {
        json::GetString(v, account[3]);
      } else if (k == "call_type") {
        json::GetString(v, ex.endpoint);
      } else if (k == "status") {
        std::string_view s;
        if (json::GetString(v, s) && s == "failure") ex.status = 500;
      } else if (k == "metadata") {
        if (!ParseMetadata(v, ex, account)) return RejectReason::kInvalidJson;
      } else if (k == "messages") {
        if (!ParseEmbedded(v, ex, /*response=*/false)) return RejectReason::kInvalidJson;
      } else if (k == "response") {
        if (!ParseEmbedded(v, ex, /*response=*/true)) return RejectReason::kInvalidJson;
      }
    }
    if (!have_start) return RejectReason::kMissingTs;
    if (start != "#") {
      auto t = ParseLiteLlmTime(start);
      if (!t) return RejectReason::kBadTs;
      ex.ts = *t;
      if (auto e = ParseLiteLlmTime(end); e && *e >= *t) {
        ex.latency_ms = static_cast<float>(*e - *t) / 1000.0f;
      }
    }
    ex.api_key_id = api_key;
    account[5] = api_key;
    for (auto a : account) {
      if (!a.empty()) {
        ex.account_id = a;
        break;
      }
    }
    if (ex.account_id.empty()) {
      detail = "row has no org, team, user or api_key";
      return RejectReason::kMissingAccount;
    }
    if (ex.status < 0) ex.status = 200;
    sink.OnExchange(ex, line);
    return RejectReason::kNone;
  }

 private:
  bool ParseMetadata(value v, Exchange& ex, std::string_view* account) {
    object m;
    if (auto e = v.get_object().get(m)) return !json::Fatal(e);  // a string or null: ignore
    for (auto f : m) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return false;
      value fv;
      if (f.value().get(fv)) return false;
      if (k == "user_api_key_org_id") {
        json::GetString(fv, account[0]);
      } else if (k == "user_api_key_team_id") {
        json::GetString(fv, account[2]);
      } else if (k == "user_api_key_user_id") {
        json::GetString(fv, account[4]);
      } else if (k == "headers") {
        object h;
        if (fv.get_object().get(h)) continue;
        for (auto hf : h) {
          std::string_view hk;
          if (hf.unescaped_key().get(hk)) return false;
          if (hk == "user-agent" || hk == "User-Agent") json::GetString(hf.value(), ex.user_agent);
        }
      }
    }
    return true;
  }

  // `messages` (array, or {"messages": [...]}) or `response` (object with choices/usage), given
  // as JSON or as a JSON-encoded string (parsed with this adapter's own parser; the views stay
  // valid until the next row).
  bool ParseEmbedded(value v, Exchange& ex, bool response) {
    json_type t;
    if (v.type().get(t)) return false;
    if (t == json_type::string) {
      std::string_view s;
      if (!json::GetString(v, s) || s.empty()) return true;
      Embedded& e = *pool_[row_];
      auto& buf = response ? e.response_buf : e.messages_buf;
      auto& parser = response ? e.response_parser : e.messages_parser;
      buf.assign(s);
      buf.append(simdjson::SIMDJSON_PADDING, ' ');
      simdjson::ondemand::document doc;
      if (parser.iterate(buf.data(), s.size(), buf.size()).get(doc))
        return true;  // not JSON: ignore
      value inner;
      if (doc.get_value().get(inner)) return true;
      return ParseEmbeddedValue(inner, ex, response) ||
             true;  // a bad embedded string is not the row's fault
    }
    return ParseEmbeddedValue(v, ex, response);
  }

  bool ParseEmbeddedValue(value v, Exchange& ex, bool response) {
    json_type t;
    if (v.type().get(t)) return false;
    if (!response) {
      if (t == json_type::array) return json::ParseMessageList(v, ex);
      if (t != json_type::object) return true;
      object o;
      if (v.get_object().get(o)) return false;
      for (auto f : o) {
        std::string_view k;
        if (f.unescaped_key().get(k)) return false;
        if (k == "messages") {
          value mv;
          if (f.value().get(mv) || !json::ParseMessageList(mv, ex)) return false;
        }
      }
      return true;
    }
    if (t != json_type::object) return true;
    return json::ParseResponseObject(v, ex);
  }

  struct Embedded {
    simdjson::ondemand::parser messages_parser, response_parser;
    std::string messages_buf, response_buf;
  };
  std::vector<std::unique_ptr<Embedded>> pool_;
  size_t row_ = 0;
  uint64_t last_line_ = 0;
};

}  // namespace

std::unique_ptr<Adapter> MakeLiteLlmAdapter() { return std::make_unique<LiteLlmAdapter>(); }

}  // namespace dg::ingest
