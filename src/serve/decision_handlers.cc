// See decision_handlers.h.
#include "serve/decision_handlers.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/hash.h"
#include "common/json_writer.h"
#include "scoring/scorer.h"
#include "serve/decide_body.h"

namespace dg::serve {
namespace {

// OpenAI's reset format: "1s", "6m0s", "1h2m3s".
std::string ResetString(double s) {
  const int64_t ms = static_cast<int64_t>(std::ceil(s * 1000));
  if (ms < 1000) return fmt::format("{}ms", ms);
  int64_t secs = (ms + 999) / 1000;
  std::string out;
  if (secs >= 3600) out += fmt::format("{}h", secs / 3600), secs %= 3600;
  if (secs >= 60 || !out.empty()) out += fmt::format("{}m", secs / 60), secs %= 60;
  out += fmt::format("{}s", secs);
  return out;
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

Decision DecisionHandlers::Record(const DecisionInput& in, const std::string& account) {
  Decision d = decider_.Decide(in, ingest_.Lagging(), cfg_.fail_open);
  metrics_.CountDecision(d.would);
  if (cfg_.log_decisions && d.would != Action::kAllow) {
    store_.LogDecision({clock_.Now(), account, std::string(ActionName(d.action)),
                        std::string(ActionName(d.would)), JoinComma(d.reasons)});
  }
  return d;
}

HttpResponse DecisionHandlers::Decide(const HttpRequest& req) {
  const auto t0 = std::chrono::steady_clock::now();
  DecideBody body;
  if (auto err = ParseDecideBody(req.body, &body)) {
    return params_.BadRequest(err->param, err->message, err->code);
  }
  const Decision d = Record(body.Input(), body.account_id);

  std::string out;
  out.reserve(256);
  JsonWriter w(out);
  w.BeginObject();
  w.Field("action", ActionName(d.action));
  w.Key("reasons").BeginArray();
  for (const auto& r : d.reasons) w.String(r);
  w.EndArray();
  if (d.retry_after_s > 0) w.Field("retry_after_s", d.retry_after_s);
  if (!d.strip.empty()) {
    w.Key("strip").BeginArray();
    for (const auto& s : d.strip) w.String(s);
    w.EndArray();
  }
  if (d.cap_n || d.cap_max_tokens) {
    w.Key("caps").BeginObject();
    if (d.cap_n) w.Field("n", d.cap_n);
    if (d.cap_max_tokens) w.Field("max_tokens", d.cap_max_tokens);
    w.EndObject();
  }
  if (d.shadow) {
    w.Field("shadow", true);
    w.Field("would", ActionName(d.would));
  }
  w.Key("account").BeginObject();
  w.Field("known", d.known);
  w.Field("level", scoring::LevelName(d.verdict.level));
  w.Field("flagged", d.verdict.flagged);
  w.Field("score", static_cast<double>(d.verdict.score));
  w.EndObject();
  w.EndObject();
  metrics_.ObserveDecideLatency(
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  return JsonAnswer(200, std::move(out));
}

HttpResponse DecisionHandlers::Authz(const HttpRequest& req) {
  std::string gateway;
  if (auto bad = params_.String(req, "gateway", &gateway)) return std::move(*bad);
  const bool nginx = gateway == "nginx" || req.Header("x-dg-gateway") == "nginx";
  DecisionInput in;
  std::string account = req.Header(cfg_.account_header);
  if (account.empty()) account = req.Header("x-dg-account");
  std::string key = req.Header("x-dg-api-key-id");
  const std::string auth = req.Header("authorization");
  if (key.empty() && auth.rfind("Bearer ", 0) == 0) {
    // Never the secret itself: a short hash names the key.
    key = fmt::format("key_{:012x}", Hash64(std::string_view(auth).substr(7)) >> 16);
  }
  if (account.empty()) account = key;
  std::string ip = req.Header("x-real-ip");
  if (ip.empty())
    ip = req.Header("x-forwarded-for").substr(0, req.Header("x-forwarded-for").find(','));
  if (account.empty()) {
    return ApiError(nginx ? 403 : 401, "invalid_request_error", "no account on the request",
                    "missing_account");
  }
  in.account_id = account;
  in.api_key_id = key;
  in.end_user = req.Header("x-dg-end-user");
  in.client_ip = ip;
  in.user_agent = req.Header("user-agent");
  const Decision d = Record(in, account);
  HttpResponse r;
  const std::string reasons = JoinComma(d.reasons);
  r.headers.emplace_back("x-dg-action", std::string(ActionName(d.action)));
  if (!reasons.empty()) r.headers.emplace_back("x-dg-reasons", reasons);
  if (d.shadow) r.headers.emplace_back("x-dg-would", std::string(ActionName(d.would)));
  auto rate = [&](const RateInfo& ri, const char* what) {
    if (!ri.set) return;
    r.headers.emplace_back(fmt::format("x-ratelimit-limit-{}", what),
                           fmt::format("{}", static_cast<int64_t>(ri.limit)));
    r.headers.emplace_back(fmt::format("x-ratelimit-remaining-{}", what),
                           fmt::format("{}", static_cast<int64_t>(std::floor(ri.remaining))));
    r.headers.emplace_back(fmt::format("x-ratelimit-reset-{}", what), ResetString(ri.reset_s));
  };
  rate(d.requests, "requests");
  rate(d.tokens, "tokens");
  switch (d.action) {
    case Action::kAllow:
    case Action::kDegrade: {
      r.status = 200;
      const std::string strip = JoinComma(d.strip);
      if (!strip.empty()) r.headers.emplace_back("x-dg-strip", strip);
      if (d.cap_n) r.headers.emplace_back("x-dg-cap-n", std::to_string(d.cap_n));
      if (d.cap_max_tokens)
        r.headers.emplace_back("x-dg-cap-max-tokens", std::to_string(d.cap_max_tokens));
      r.body = fmt::format(R"({{"action":"{}"}})", ActionName(d.action));
      return r;
    }
    case Action::kThrottle: {
      const int64_t retry = static_cast<int64_t>(std::max(1.0, d.retry_after_s));
      auto e = ApiError(nginx ? 401 : 429, "requests",
                        fmt::format("Rate limit reached for account {}: please try again in {}s.",
                                    account, retry),
                        "rate_limit_exceeded");
      e.headers = std::move(r.headers);
      e.headers.emplace_back("retry-after", std::to_string(retry));
      e.headers.emplace_back("x-dg-retry-after", std::to_string(retry));
      if (nginx) e.headers.emplace_back("www-authenticate", "distillguard");
      return e;
    }
    case Action::kBlock: {
      auto e = ApiError(403, "permission_error",
                        fmt::format("Access for account {} has been suspended.", account),
                        "account_blocked");
      e.headers = std::move(r.headers);
      return e;
    }
  }
  return r;
}

}  // namespace dg::serve
