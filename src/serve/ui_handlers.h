// The analyst UI of `serve`: pages and assets under /ui, the login form and session cookie, and
// the JSON endpoints for cases and actions (/v1/session, /v1/cases, /v1/case, /v1/actions,
// /v1/audit), which accept the admin bearer token or a UI session (web_auth.h; the router has
// checked either, and the CSRF token of a session). Case queries run on the ingest thread (the
// only owner of the engine); actions are stored by the ActionStore on the HTTP thread (one
// SQLite commit) and take effect in the decider at once.
#pragma once

#include <string>

#include "common/time.h"
#include "report/cases.h"
#include "report/report.h"
#include "serve/actions.h"
#include "serve/config.h"
#include "serve/interfaces.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/router.h"
#include "serve/store.h"
#include "serve/web_auth.h"

namespace dg::serve {

class UiHandlers {
 public:
  UiHandlers(const ServeConfig& cfg, const Clock& clock, const Authenticator& auth,
             SessionStore& sessions, IngestRunner& ingest, ActionStore& actions, Store& store,
             ServeMetrics& metrics)
      : cfg_(cfg),
        clock_(clock),
        auth_(auth),
        sessions_(sessions),
        ingest_(ingest),
        actions_(actions),
        store_(store),
        metrics_(metrics),
        params_(metrics) {}
  static bool IsUiPath(const std::string& path) {
    return path == "/ui" || path.rfind("/ui/", 0) == 0;
  }
  // /ui, /ui/app.js, /ui/app.css, POST /ui/login, POST /ui/logout (no prior authentication).
  void HandleUi(HttpRequest& req, Reply& reply);
  // /v1/session, /v1/cases, /v1/case, /v1/actions, /v1/audit; false if `req` is none of them.
  bool HandleCaseApi(HttpRequest& req, Reply& reply, const Caller& caller);

 private:
  report::CaseInputs CaseInputsFor(IngestState& st, const report::Report& rep);

  const ServeConfig& cfg_;
  const Clock& clock_;
  const Authenticator& auth_;
  SessionStore& sessions_;
  IngestRunner& ingest_;
  ActionStore& actions_;
  Store& store_;
  ServeMetrics& metrics_;
  Params params_;
};

}  // namespace dg::serve
