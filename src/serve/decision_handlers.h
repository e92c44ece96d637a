// The gateway's hot path: POST /v1/decide (a JSON body, a JSON answer) and /v1/authz (headers
// in, headers and an OpenAI-shaped denial out: Envoy ext_authz, nginx auth_request). Both run
// inline on the HTTP thread against the lock-free VerdictView (through the Decider) and share
// one decision path, Record(): decide, count by action, and log every decision that would not
// allow to the store's decision log. The router has checked the decision token already.
#pragma once

#include <string>

#include "common/time.h"
#include "serve/config.h"
#include "serve/decider.h"
#include "serve/interfaces.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/store.h"

namespace dg::serve {

class DecisionHandlers {
 public:
  DecisionHandlers(const ServeConfig& cfg, const Clock& clock, Decider& decider,
                   const IngestRunner& ingest, Store& store, ServeMetrics& metrics)
      : cfg_(cfg),
        clock_(clock),
        decider_(decider),
        ingest_(ingest),
        store_(store),
        metrics_(metrics),
        params_(metrics) {}
  HttpResponse Decide(const HttpRequest& req);  // POST /v1/decide
  HttpResponse Authz(const HttpRequest& req);   // /v1/authz[/...], any method

 private:
  // The one decision path: decides `in`, counts it and logs it (for `account`).
  Decision Record(const DecisionInput& in, const std::string& account);

  const ServeConfig& cfg_;
  const Clock& clock_;
  Decider& decider_;
  const IngestRunner& ingest_;
  Store& store_;
  ServeMetrics& metrics_;
  Params params_;
};

}  // namespace dg::serve
