// Router: every request's first stop. It counts the request, answers 405 to a known path asked
// with the wrong method, checks who is calling (the decision token for /v1/decide and /v1/authz;
// the admin bearer token or a UI session, with its CSRF token, for the rest), answers 401/403
// itself, and hands the request to the handler that owns its path. Handlers never see an
// unauthenticated request (the UI's login page and assets excepted). All errors it writes are
// OpenAI-shaped (request.h).
#pragma once

#include <string>

#include "serve/config.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/web_auth.h"

namespace dg::serve {

class AdminHandlers;
class DecisionHandlers;
class UiHandlers;

// Who is calling, from the admin bearer token or the UI session cookie.
struct Caller {
  bool ok = false;
  bool session = false;  // authenticated by the session cookie (CSRF applies)
  std::string who, csrf, session_id;
};

// The token checks (constant time) and the session lookup, shared by the router and the UI.
class Authenticator {
 public:
  Authenticator(const ServeConfig& cfg, SessionStore& sessions) : cfg_(cfg), sessions_(sessions) {}
  bool Admin(const HttpRequest& req) const;     // Authorization: Bearer <admin token>
  bool Decision(const HttpRequest& req) const;  // the decision token (or the admin token)
  Caller Authenticate(const HttpRequest& req) const;

 private:
  const ServeConfig& cfg_;
  SessionStore& sessions_;
};

// A name an analyst may go by: printable, no control characters, 1 to 64 bytes.
bool ValidAnalystName(std::string_view s);

class Router {
 public:
  Router(ServeMetrics& metrics, const Authenticator& auth, DecisionHandlers& decisions,
         AdminHandlers& admin, UiHandlers& ui)
      : metrics_(metrics), auth_(auth), decisions_(decisions), admin_(admin), ui_(ui) {}
  // Any HTTP thread. `reply` may be called later from another thread.
  void Handle(HttpRequest req, Reply reply);

 private:
  ServeMetrics& metrics_;
  const Authenticator& auth_;
  DecisionHandlers& decisions_;
  AdminHandlers& admin_;
  UiHandlers& ui_;
};

}  // namespace dg::serve
