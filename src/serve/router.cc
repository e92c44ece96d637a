// See router.h.
#include "serve/router.h"

#include <fmt/format.h>

#include "serve/actions.h"
#include "serve/admin_handlers.h"
#include "serve/decision_handlers.h"
#include "serve/ui_handlers.h"

namespace dg::serve {
namespace {

// The one method a known endpoint accepts (others get 405), or nullptr: /healthz, /metrics and
// /v1/authz answer any method (probes and gateway subrequests use several).
const char* AllowedMethod(std::string_view path) {
  if (path == "/v1/decide" || path == "/v1/events" || path == "/v1/admin/checkpoint" ||
      path == "/v1/admin/reload" || path == "/v1/actions" || path == "/ui/login" ||
      path == "/ui/logout")
    return "POST";
  if (path == "/v1/cases" || path == "/v1/case" || path == "/v1/audit" || path == "/v1/session")
    return "GET";
  if (path == "/v1/report" || path == "/v1/alerts" || path.rfind("/v1/accounts/", 0) == 0 ||
      path.rfind("/v1/clusters/", 0) == 0)
    return "GET";
  return nullptr;
}

// Token comparison whose time does not depend on where the strings differ (only on the length
// of the presented one), so a client cannot find a token byte by byte.
bool TokenEquals(std::string_view got, std::string_view want) {
  unsigned diff = got.size() == want.size() ? 0u : 1u;
  for (size_t i = 0; i < got.size(); ++i) {
    diff |= static_cast<unsigned char>(got[i] ^ (want.empty() ? 0 : want[i % want.size()]));
  }
  return diff == 0;
}

}  // namespace

bool ValidAnalystName(std::string_view s) {
  if (s.empty() || s.size() > kMaxWhoBytes) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool Authenticator::Admin(const HttpRequest& req) const {
  return TokenEquals(req.Header("authorization"), "Bearer " + cfg_.admin_token);
}

bool Authenticator::Decision(const HttpRequest& req) const {
  if (cfg_.decision_token.empty()) return true;
  return TokenEquals(req.Header("x-distillguard-token"), cfg_.decision_token) || Admin(req);
}

Caller Authenticator::Authenticate(const HttpRequest& req) const {
  Caller c;
  if (Admin(req)) {
    c.ok = true;
    const std::string who = req.Header("x-dg-analyst");
    c.who = ValidAnalystName(who) ? who : "admin-token";
    return c;
  }
  if (auto id = CookieValue(req.Header("cookie"), "dg_session")) {
    if (auto s = sessions_.Find(*id)) {
      c.ok = true;
      c.session = true;
      c.who = s->user;
      c.csrf = s->csrf;
      c.session_id = s->id;
    }
  }
  return c;
}

void Router::Handle(HttpRequest req, Reply reply) {
  ++metrics_.requests;
  const std::string& p = req.path;
  if (const char* allow = AllowedMethod(p); allow && req.method != allow) {
    ++metrics_.bad_requests;
    auto r = ApiError(405, "invalid_request_error",
                      fmt::format("method {} is not allowed on {}; use {}", req.method, p, allow),
                      "method_not_allowed");
    r.headers.emplace_back("allow", allow);
    return reply(std::move(r));
  }
  const bool decide = p == "/v1/decide" && req.method == "POST";
  const bool authz = p == "/v1/authz" || p.rfind("/v1/authz/", 0) == 0;
  if (decide || authz) {
    if (!auth_.Decision(req))
      return reply(ApiError(401, "invalid_request_error", "decision token required"));
    return reply(decide ? decisions_.Decide(req) : decisions_.Authz(req));
  }
  if (p == "/healthz") return reply(admin_.Health());
  if (p == "/metrics") return reply(admin_.Metrics());
  if (UiHandlers::IsUiPath(p)) return ui_.HandleUi(req, reply);
  const Caller caller = auth_.Authenticate(req);
  if (!caller.ok) {
    ++metrics_.auth_failures;
    auto r =
        ApiError(401, "invalid_request_error", "missing or wrong bearer token", "unauthorized");
    r.headers.emplace_back("www-authenticate", "Bearer");
    return reply(std::move(r));
  }
  if (caller.session) {
    // A browser session reads and acts on cases; it never ingests or checkpoints, and every
    // request that changes something carries the session's CSRF token.
    if (req.method != "GET" && req.method != "HEAD" &&
        !ConstantTimeEquals(req.Header("x-csrf-token"), caller.csrf)) {
      ++metrics_.auth_failures;
      return reply(
          ApiError(403, "invalid_request_error", "missing or wrong CSRF token", "csrf_failed"));
    }
    if (p == "/v1/events" || p == "/v1/admin/checkpoint") {
      return reply(
          ApiError(403, "invalid_request_error", "not allowed for a browser session", "forbidden"));
    }
  }
  if (p == "/v1/events" && req.method == "POST") return admin_.Events(req, reply);
  if (ui_.HandleCaseApi(req, reply, caller)) return;
  return admin_.Handle(req, reply);
}

}  // namespace dg::serve
