// The admin API (bearer token, or a UI session where the router allows it): POST /v1/events
// (bodies to the WAL, answered after the fsync), GET /v1/alerts, /v1/report, /v1/accounts/{id},
// /v1/clusters/{id}, the case files (GET /v1/case-files[/{id}], POST .../forensics), POST
// /v1/admin/reload and /v1/admin/checkpoint; and the unauthenticated probes /healthz and
// /metrics. Anything that reads the engine runs on the ingest thread (IngestRunner), so these
// handlers hold no engine state of their own.
#pragma once

#include <string>

#include "common/time.h"
#include "engine/engine.h"
#include "serve/config.h"
#include "serve/interfaces.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/store.h"

namespace dg::serve {

class AdminHandlers {
 public:
  AdminHandlers(const ServeConfig& cfg, const Clock& clock, BodySink& wal, IngestRunner& ingest,
                Store& store, PolicyReloader& reloader, ServeMetrics& metrics)
      : cfg_(cfg),
        clock_(clock),
        wal_(wal),
        ingest_(ingest),
        store_(store),
        reloader_(reloader),
        metrics_(metrics),
        params_(metrics) {}
  void Events(HttpRequest& req, Reply& reply);  // POST /v1/events
  void Handle(HttpRequest& req, Reply& reply);  // the rest of the admin API (404 if unknown)
  HttpResponse Health();                        // GET /healthz
  HttpResponse Metrics();                       // GET /metrics

 private:
  // GET /v1/case-files, GET /v1/case-files/{id}[?format=md], POST
  // /v1/case-files/{id}/forensics[?label=].
  void Cases(HttpRequest& req, Reply& reply);
  void AnswerAccountOrCluster(const engine::Engine& eng, const std::string& id, bool is_account,
                              const Reply& reply);

  const ServeConfig& cfg_;
  const Clock& clock_;
  BodySink& wal_;
  IngestRunner& ingest_;
  Store& store_;
  PolicyReloader& reloader_;
  ServeMetrics& metrics_;
  Params params_;
};

}  // namespace dg::serve
