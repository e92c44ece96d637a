// OpenTelemetry GenAI spans exported as OTLP/JSON (resourceSpans → scopeSpans → spans). One
// line may hold many spans; each span with GenAI attributes becomes one Exchange, a span without
// a usable account becomes a per-span rejection while the others still count.
//
// Attribute mapping (GenAI semantic conventions): gen_ai.request.model, gen_ai.usage.input_tokens
// / output_tokens (older prompt_tokens / completion_tokens), gen_ai.request.choice.count → n,
// gen_ai.request.seed, temperature, top_p, max_tokens, gen_ai.response.finish_reasons,
// gen_ai.input.messages and gen_ai.system_instructions (JSON-encoded strings), client.address,
// user_agent.original, enduser.id / user.id → end_user. There is no convention for the paying
// account, so the first of account.id, tenant.id, organization.id, gen_ai.openai.organization
// found on the span or its resource is used. ts = startTimeUnixNano; latency = end - start.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ingest/adapter.h"

namespace dg::ingest {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

constexpr std::string_view kAccountKeys[] = {"account.id", "tenant.id", "organization.id",
                                             "gen_ai.openai.organization"};

int AccountRank(std::string_view key) {
  for (size_t i = 0; i < std::size(kAccountKeys); ++i) {
    if (kAccountKeys[i] == key) return static_cast<int>(i);
  }
  return -1;
}

// An OTLP AnyValue: {"stringValue": …} | {"intValue": "12" or 12} | {"doubleValue": …} |
// {"boolValue": …} | {"arrayValue": {"values": [AnyValue…]}}.
struct AnyValue {
  std::string_view str;
  double num = NAN;
  bool is_bool = false, boolean = false;
  std::string_view first_array_string;
};

bool ReadAnyValue(value v, AnyValue& out) {
  object o;
  if (auto e = v.get_object().get(o)) return !json::Fatal(e);
  for (auto f : o) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return false;
    value fv;
    if (f.value().get(fv)) return false;
    if (k == "stringValue") {
      json::GetString(fv, out.str);
    } else if (k == "intValue" || k == "doubleValue") {
      json_type t;
      if (fv.type().get(t)) return false;
      if (t == json_type::string) {
        std::string_view s;
        if (json::GetString(fv, s)) out.num = std::strtod(std::string(s).c_str(), nullptr);
      } else {
        double d;
        if (json::GetNumber(fv, d)) out.num = d;
      }
    } else if (k == "boolValue") {
      out.is_bool = json::GetBool(fv, out.boolean);
    } else if (k == "arrayValue") {
      object av;
      if (fv.get_object().get(av)) continue;
      for (auto af : av) {
        std::string_view ak;
        if (af.unescaped_key().get(ak)) return false;
        if (ak != "values") continue;
        simdjson::ondemand::array arr;
        if (af.value().get_array().get(arr)) return false;
        for (auto el : arr) {
          AnyValue inner;
          value ev;
          if (el.get(ev) || !ReadAnyValue(ev, inner)) return false;
          if (out.first_array_string.empty()) out.first_array_string = inner.str;
        }
      }
    }
  }
  return true;
}

class OtlpAdapter final : public Adapter {
 public:
  std::string_view name() const override { return "otlp"; }

  RejectReason Parse(object obj, Exchange& ex, ExchangeSink& sink, uint64_t line,
                     std::string& detail) override {
    span_index_ = 0;
    bool any = false;
    for (auto f : obj) {
      std::string_view key;
      if (f.unescaped_key().get(key)) return RejectReason::kInvalidJson;
      if (key != "resourceSpans" && key != "resource_spans") continue;
      simdjson::ondemand::array rss;
      if (f.value().get_array().get(rss)) return RejectReason::kInvalidJson;
      for (auto rs : rss) {
        object rso;
        if (rs.get_object().get(rso)) return RejectReason::kInvalidJson;
        // The resource precedes its spans in exports; attributes seen there apply to them.
        resource_account_ = {};
        resource_rank_ = 100;
        for (auto rf : rso) {
          std::string_view rk;
          if (rf.unescaped_key().get(rk)) return RejectReason::kInvalidJson;
          if (rk == "resource") {
            object res;
            if (rf.value().get_object().get(res)) return RejectReason::kInvalidJson;
            for (auto af : res) {
              std::string_view ak;
              if (af.unescaped_key().get(ak)) return RejectReason::kInvalidJson;
              if (ak != "attributes") continue;
              value av;
              if (af.value().get(av) || !ReadAttributes(av, nullptr))
                return RejectReason::kInvalidJson;
            }
          } else if (rk == "scopeSpans" || rk == "scope_spans") {
            simdjson::ondemand::array sss;
            if (rf.value().get_array().get(sss)) return RejectReason::kInvalidJson;
            for (auto ss : sss) {
              object sso;
              if (ss.get_object().get(sso)) return RejectReason::kInvalidJson;
              for (auto sf : sso) {
                std::string_view sk;
                if (sf.unescaped_key().get(sk)) return RejectReason::kInvalidJson;
                if (sk != "spans") continue;
                simdjson::ondemand::array spans;
                if (sf.value().get_array().get(spans)) return RejectReason::kInvalidJson;
                for (auto sp : spans) {
                  object so;
                  if (sp.get_object().get(so)) return RejectReason::kInvalidJson;
                  RejectReason r = ParseSpan(so, ex, sink, line, detail);
                  if (r == RejectReason::kInvalidJson) return r;
                  any = true;
                }
              }
            }
          }
        }
      }
    }
    if (!any) {
      detail = "no spans";
      return RejectReason::kBadShape;
    }
    return RejectReason::kNone;
  }

 private:
  // Attributes of a span (into `ex`) or of the resource (ex == nullptr: account only).
  bool ReadAttributes(value attrs_v, Exchange* ex) {
    simdjson::ondemand::array attrs;
    if (attrs_v.get_array().get(attrs)) return false;
    for (auto a : attrs) {
      object ao;
      if (a.get_object().get(ao)) return false;
      std::string_view key;
      AnyValue av;
      for (auto af : ao) {
        std::string_view k;
        if (af.unescaped_key().get(k)) return false;
        value v;
        if (af.value().get(v)) return false;
        if (k == "key") {
          if (!json::GetString(v, key)) return false;
        } else if (k == "value") {
          if (!ReadAnyValue(v, av)) return false;
        }
      }
      const int rank = AccountRank(key);
      if (rank >= 0 && !av.str.empty()) {
        if (!ex && rank < resource_rank_) {
          resource_account_ = av.str;
          resource_rank_ = rank;
        } else if (ex && rank < span_rank_) {
          ex->account_id = av.str;
          span_rank_ = rank;
        }
      }
      if (ex) Apply(key, av, *ex);
    }
    return true;
  }

  void Apply(std::string_view key, const AnyValue& av, Exchange& ex) {
    auto num = [&](auto& field) {
      if (!std::isnan(av.num))
        field = static_cast<std::remove_reference_t<decltype(field)>>(av.num);
    };
    if (key == "gen_ai.request.model") {
      ex.model = av.str;
    } else if (key == "gen_ai.usage.input_tokens" || key == "gen_ai.usage.prompt_tokens") {
      num(ex.prompt_tokens);
    } else if (key == "gen_ai.usage.output_tokens" || key == "gen_ai.usage.completion_tokens") {
      num(ex.completion_tokens);
    } else if (key == "gen_ai.usage.reasoning_tokens") {
      num(ex.reasoning_tokens);
    } else if (key == "gen_ai.request.choice.count") {
      num(ex.n);
    } else if (key == "gen_ai.request.seed") {
      ex.has_seed = true;
    } else if (key == "gen_ai.request.temperature") {
      num(ex.temperature);
    } else if (key == "gen_ai.request.top_p") {
      num(ex.top_p);
    } else if (key == "gen_ai.request.max_tokens") {
      num(ex.max_tokens);
    } else if (key == "gen_ai.response.finish_reasons") {
      std::string_view r = av.first_array_string.empty() ? av.str : av.first_array_string;
      if (r == "stop")
        ex.finish_reason = FinishReason::kStop;
      else if (r == "length")
        ex.finish_reason = FinishReason::kLength;
      else if (r == "tool_calls")
        ex.finish_reason = FinishReason::kToolCalls;
      else if (r == "content_filter")
        ex.finish_reason = FinishReason::kContentFilter;
    } else if (key == "client.address") {
      ex.client_ip = av.str;
    } else if (key == "user_agent.original") {
      ex.user_agent = av.str;
    } else if (key == "enduser.id" || key == "user.id") {
      ex.end_user = av.str;
    } else if (key == "gen_ai.operation.name") {
      ex.endpoint = av.str;
    } else if (key == "gen_ai.input.messages" || key == "gen_ai.prompt") {
      ParseEmbeddedMessages(av.str, ex, false);
    } else if (key == "gen_ai.system_instructions") {
      ParseEmbeddedMessages(av.str, ex, true);
    } else if (key == "http.response.status_code") {
      num(ex.status);
    } else if (key == "error.type" && !av.str.empty() && ex.status < 0) {
      ex.status = 500;
    }
  }

  // gen_ai.input.messages is a JSON string: [{"role": "user", "parts": [{"type": "text",
  // "content": "…"}]}] (or OpenAI-style {"role","content"}). Each span gets its own parser and
  // buffer from a pool, so the text views stay valid until the line's exchanges are delivered.
  void ParseEmbeddedMessages(std::string_view json_text, Exchange& ex, bool system) {
    if (json_text.empty()) return;
    if (span_index_ >= pool_.size()) pool_.push_back(std::make_unique<Embedded>());
    Embedded& e = *pool_[span_index_];
    auto& buf = system ? e.system_buf : e.messages_buf;
    auto& parser = system ? e.system_parser : e.messages_parser;
    buf.assign(json_text);
    buf.append(simdjson::SIMDJSON_PADDING, ' ');
    simdjson::ondemand::document doc;
    if (parser.iterate(buf.data(), json_text.size(), buf.size()).get(doc)) return;
    simdjson::ondemand::array msgs;
    if (doc.get_array().get(msgs)) return;
    for (auto m : msgs) {
      object mo;
      if (m.get_object().get(mo)) return;
      std::string_view role;
      TextParts parts;
      uint32_t chars = 0;
      for (auto f : mo) {
        std::string_view k;
        if (f.unescaped_key().get(k)) return;
        value v;
        if (f.value().get(v)) return;
        if (k == "role") {
          json::GetString(v, role);
        } else if (k == "content") {
          if (!json::AddContent(v, parts, chars)) return;
        } else if (k == "parts") {
          simdjson::ondemand::array pa;
          if (v.get_array().get(pa)) continue;
          for (auto p : pa) {
            object po;
            if (p.get_object().get(po)) return;
            for (auto pf : po) {
              std::string_view pk;
              if (pf.unescaped_key().get(pk)) return;
              std::string_view s;
              if ((pk == "content" || pk == "text") && json::GetString(pf.value(), s)) {
                parts.Add(s);
                chars += static_cast<uint32_t>(s.size());
              }
            }
          }
        }
      }
      ++ex.n_messages;
      ex.input_chars += chars;
      if (system || role == "system" || role == "developer") {
        ++ex.n_system;
        for (uint8_t i = 0; i < parts.count; ++i) ex.system_text.Add(parts.parts[i]);
      } else if (role == "assistant") {
        ++ex.n_assistant;
      } else if (role == "tool") {
        ++ex.n_tool;
      } else {
        ++ex.n_user;
        ex.last_user_text = parts;
      }
    }
  }

  RejectReason ParseSpan(object so, Exchange& ex, ExchangeSink& sink, uint64_t line,
                         std::string& detail) {
    ex.Reset();
    span_rank_ = 100;
    double start = NAN, end = NAN;
    for (auto f : so) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return RejectReason::kInvalidJson;
      value v;
      if (f.value().get(v)) return RejectReason::kInvalidJson;
      if (k == "startTimeUnixNano" || k == "endTimeUnixNano") {
        json_type t;
        if (v.type().get(t)) return RejectReason::kInvalidJson;
        double d = NAN;
        if (t == json_type::string) {
          std::string_view s;
          if (json::GetString(v, s)) d = std::strtod(std::string(s).c_str(), nullptr);
        } else {
          json::GetNumber(v, d);
        }
        (k == "startTimeUnixNano" ? start : end) = d;
      } else if (k == "attributes") {
        if (!ReadAttributes(v, &ex)) return RejectReason::kInvalidJson;
      } else if (k == "spanId") {
        json::GetString(v, ex.request_id);
      }
    }
    ++span_index_;
    if (ex.account_id.empty()) ex.account_id = resource_account_;
    RejectReason r = RejectReason::kNone;
    if (std::isnan(start)) {
      r = RejectReason::kMissingTs;
    } else if (auto ts = FromEpochSeconds(start / 1e9)) {
      ex.ts = *ts;
    } else {
      r = RejectReason::kBadTs;
    }
    if (r == RejectReason::kNone && ex.account_id.empty()) {
      r = RejectReason::kMissingAccount;
      detail = "span has no account.id / tenant.id / organization.id attribute";
    }
    if (r != RejectReason::kNone) {
      sink.OnReject(line, r, detail);
      return r;
    }
    if (!std::isnan(end) && end >= start) ex.latency_ms = static_cast<float>((end - start) / 1e6);
    sink.OnExchange(ex, line);
    return RejectReason::kNone;
  }

  struct Embedded {
    simdjson::ondemand::parser messages_parser, system_parser;
    std::string messages_buf, system_buf;
  };
  std::vector<std::unique_ptr<Embedded>> pool_;
  size_t span_index_ = 0;
  std::string_view resource_account_;
  int resource_rank_ = 100, span_rank_ = 100;
};

}  // namespace

std::unique_ptr<Adapter> MakeOtlpAdapter() { return std::make_unique<OtlpAdapter>(); }

}  // namespace dg::ingest
