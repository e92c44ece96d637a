// See admin_handlers.h.
#include "serve/admin_handlers.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/hash.h"
#include "common/json_writer.h"
#include "report/case_file.h"
#include "report/report.h"
#include "scoring/scorer.h"
#include "serve/pipeline.h"

namespace dg::serve {
namespace {

constexpr int64_t kDefaultAlertsLimit = 1000, kMaxAlertsLimit = 10000;  // GET /v1/alerts?limit=

}  // namespace

HttpResponse AdminHandlers::Health() {
  return JsonAnswer(
      200, fmt::format(R"({{"status":"ok","lagging":{},"processed_seq":{},"last_batch_id":{}}})",
                       ingest_.Lagging(), ingest_.processed_seq(), wal_.last_aux()));
}

HttpResponse AdminHandlers::Metrics() {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics_.Render(store_, ingest_.LagSeconds());
  return r;
}

void AdminHandlers::Events(HttpRequest& req, Reply& reply) {
  // Optional client batch id (monotonic per deployment): makes retries after a lost answer
  // idempotent. Not combinable with --tail, which uses the same slot for its file offset.
  uint64_t batch_id = 0;
  if (const std::string id = req.Header("x-dg-batch-id"); !id.empty()) {
    NumberError why = NumberError::kNone;
    const auto v = ParseNumber<uint64_t>(id, &why);
    if (!v) {
      return reply(
          params_.BadRequest("x-dg-batch-id",
                             fmt::format("header x-dg-batch-id {}: expected a decimal integer "
                                         "in [0, 18446744073709551615]",
                                         NumberErrorText(why)),
                             "invalid_batch_id"));
    }
    batch_id = *v;
  }
  std::string body = std::move(req.body);
  const bool gz = req.Header("content-encoding").find("gzip") != std::string::npos ||
                  (body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
                   static_cast<unsigned char>(body[1]) == 0x8b);
  if (gz) {
    std::string plain;
    if (!Gunzip(body, cfg_.max_body_bytes, &plain)) {
      return reply(params_.BadRequest({}, "bad gzip body or body too large", "invalid_body"));
    }
    body = std::move(plain);
  }
  if (body.empty()) return reply(JsonAnswer(200, R"({"accepted":true,"seq":0,"bytes":0})"));
  const size_t bytes = body.size();
  wal_.Submit(std::move(body), batch_id, [reply, bytes](bool ok, uint64_t seq) {
    if (!ok) return reply(ApiError(503, "server_error", "write-ahead log unavailable"));
    reply(JsonAnswer(200, fmt::format(R"({{"accepted":true,"duplicate":{},"seq":{},"bytes":{}}})",
                                      seq == 0, seq, bytes)));
  });
}

void AdminHandlers::Cases(HttpRequest& req, Reply& reply) {
  std::string rest = req.path.substr(std::string_view("/v1/case-files").size());
  if (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
  std::string forensics_suffix = "/forensics";
  const bool attach =
      rest.size() > forensics_suffix.size() &&
      rest.compare(rest.size() - forensics_suffix.size(), std::string::npos, forensics_suffix) == 0;
  if (attach) rest.resize(rest.size() - forensics_suffix.size());
  const char* want = attach ? "POST" : "GET";
  if (req.method != want) {
    ++metrics_.bad_requests;
    auto r =
        ApiError(405, "invalid_request_error",
                 fmt::format("method {} is not allowed on {}; use {}", req.method, req.path, want),
                 "method_not_allowed");
    r.headers.emplace_back("allow", want);
    return reply(std::move(r));
  }
  const auto id = UrlDecode(rest, /*plus_is_space=*/false);
  if (!id)
    return reply(params_.BadRequest("cluster_id", "bad or truncated %-escape in the path",
                                    "invalid_encoding"));
  std::string format, label, final_s;
  if (auto bad = params_.String(req, "format", &format)) return reply(std::move(*bad));
  if (auto bad = params_.String(req, "final", &final_s)) return reply(std::move(*bad));
  // final=1: as if the input ended now (as GET /v1/report?final=1), computed on a copy.
  const bool final = final_s == "1" || final_s == "true";
  if (auto bad = params_.String(req, "label", &label)) return reply(std::move(*bad));
  if (!format.empty() && format != "json" && format != "md")
    return reply(params_.BadRequest("format", "query parameter 'format' must be json or md"));
  // The cases of the current state, built from the report contract (report/case_file.h).
  auto build = [this, final](Pipeline& pipeline, std::vector<report::Case>* cases,
                             std::string* err) {
    pipeline.Flush();
    const auto& eng = pipeline.engine();
    const TimeUs now = ReportTime(cfg_, clock_);
    return report::BuildCases(pipeline.Report(now, final),
                              report::ExportIndicators(report::Build(eng), eng), FormatRfc3339(now),
                              cases, err);
  };
  if (id->empty()) {
    return ingest_.Run(reply, [build](IngestState& st, const Reply& reply) {
      std::vector<report::Case> cases;
      std::string err;
      if (!build(st.pipeline(), &cases, &err)) return reply(ApiError(500, "server_error", err));
      std::string out;
      JsonWriter w(out);
      w.BeginObject().Key("cases").BeginArray();
      for (const auto& c : cases) {
        w.BeginObject().Field("cluster_id", c.cluster_id).Field("level", c.level);
        w.Key("score").Double(c.score, 4);
        w.Field("members", static_cast<int64_t>(c.members.size()));
        w.Field("first_flagged_at", c.first_flagged_at).EndObject();
      }
      w.EndArray().EndObject();
      reply(JsonAnswer(200, std::move(out)));
    });
  }
  std::string body = attach ? std::move(req.body) : std::string();
  return ingest_.Run(reply, [this, build, id = *id, attach, format, label, body = std::move(body)](
                                IngestState& st, const Reply& reply) {
    std::vector<report::Case> cases;
    std::string err;
    if (!build(st.pipeline(), &cases, &err)) return reply(ApiError(500, "server_error", err));
    auto it = std::find_if(cases.begin(), cases.end(),
                           [&](const report::Case& c) { return c.cluster_id == id; });
    if (it == cases.end())
      return reply(ApiError(404, "not_found", "no case: the cluster is unknown or not flagged"));
    report::Case& c = *it;
    const std::string now = FormatRfc3339(clock_.Now());
    if (attach) {
      // Validate (and summarise) before storing; the stored JSON is what was posted.
      report::Case probe;
      if (!report::AttachForensics(body, label.empty() ? "posted" : label, now, &probe, &err))
        return reply(params_.BadRequest({}, err, "invalid_body"));
      if (!store_.AddForensics({id, now, probe.forensics.back().label, body}, &err))
        return reply(ApiError(500, "server_error", err));
      const auto& f = probe.forensics.back();
      std::string out;
      JsonWriter w(out);
      w.BeginObject().Field("attached", true).Field("cluster_id", id).Field("kind", f.kind);
      w.Key("log10_p");
      if (f.has_p)
        w.Double(f.log10_p, 10);
      else
        w.Null();
      w.EndObject();
      return reply(JsonAnswer(200, std::move(out)));
    }
    std::vector<std::string> ids;
    for (const auto& m : c.members) ids.push_back(m.account_id);
    for (const auto& d : store_.SummariseDecisions(ids)) {
      c.actions.push_back({d.account_id, d.action, d.would, FormatRfc3339(d.first_us),
                           FormatRfc3339(d.last_us), d.count});
    }
    for (const auto& f : store_.Forensics(id)) {
      // Stored rows were validated when posted; one that no longer parses is skipped.
      report::AttachForensics(f.result, f.label, f.attached_at, &c, &err);
    }
    if (format == "md") {
      HttpResponse r = JsonAnswer(200, report::CaseToMarkdown(c));
      r.content_type = "text/markdown; charset=utf-8";
      return reply(std::move(r));
    }
    reply(JsonAnswer(200, report::CaseToJson(c)));
  });
}

void AdminHandlers::Handle(HttpRequest& req, Reply& reply) {
  const std::string p = req.path;
  if (p == "/v1/case-files" || p.rfind("/v1/case-files/", 0) == 0) return Cases(req, reply);
  if (p == "/v1/alerts" && req.method == "GET") {
    int64_t since = 0, limit = kDefaultAlertsLimit;
    if (auto bad = params_.Number(req, "since", &since)) return reply(std::move(*bad));
    if (auto bad = params_.Number(req, "limit", &limit)) return reply(std::move(*bad));
    if (limit < 0)
      return reply(params_.BadRequest("limit", "query parameter 'limit' must be >= 0"));
    limit = std::min(limit, kMaxAlertsLimit);  // one page at most; page on with since=
    return reply(JsonAnswer(200, store_.AlertsJson(since, static_cast<int>(limit))));
  }
  if (p == "/v1/report" && req.method == "GET") {
    std::string final_s;
    if (auto bad = params_.String(req, "final", &final_s)) return reply(std::move(*bad));
    const bool final = final_s == "1" || final_s == "true";
    return ingest_.Run(reply, [this, final](IngestState& st, const Reply& reply) {
      reply(JsonAnswer(200, st.pipeline().Report(ReportTime(cfg_, clock_), final)));
    });
  }
  if (p == "/v1/admin/reload" && req.method == "POST") {
    std::string err;
    if (!reloader_.ReloadPolicy(&err)) {
      return reply(ApiError(cfg_.config_path.empty() ? 409 : 400, "invalid_request_error", err,
                            "invalid_config"));
    }
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Field("reloaded", true).Field("config", cfg_.config_path);
    w.Field("shadow", reloader_.shadow()).EndObject();
    return reply(JsonAnswer(200, std::move(out)));
  }
  if (p == "/v1/admin/checkpoint" && req.method == "POST") {
    return ingest_.Run(reply, [](IngestState& st, const Reply& reply) {
      std::string err;
      if (!st.WriteCheckpoint(&err)) return reply(ApiError(500, "server_error", err));
      reply(JsonAnswer(
          200, fmt::format(R"({{"checkpoint":true,"seq":{}}})", st.pipeline().next_seq() - 1)));
    });
  }
  const bool is_account = p.rfind("/v1/accounts/", 0) == 0;
  const bool is_cluster = p.rfind("/v1/clusters/", 0) == 0;
  if ((is_account || is_cluster) && req.method == "GET") {
    // In a path '+' is a literal plus, not a space.
    const auto decoded = UrlDecode(std::string_view(p).substr(13), /*plus_is_space=*/false);
    if (!decoded) {
      return reply(params_.BadRequest(is_account ? "account_id" : "cluster_id",
                                      "bad or truncated %-escape in the path", "invalid_encoding"));
    }
    return ingest_.Run(reply,
                       [this, id = *decoded, is_account](IngestState& st, const Reply& reply) {
                         // With eviction on, on a copy holding every account (evicted ones read
                         // back).
                         st.pipeline().WithAllAccounts([&](const engine::Engine& eng) {
                           AnswerAccountOrCluster(eng, id, is_account, reply);
                         });
                       });
  }
  reply(ApiError(404, "not_found", "no such endpoint"));
}

void AdminHandlers::AnswerAccountOrCluster(const engine::Engine& eng, const std::string& id,
                                           bool is_account, const Reply& reply) {
  auto rep = report::Build(eng);
  std::string out;
  JsonWriter w(out);
  auto evidence = [&](const std::vector<report::EvidenceItem>& ev) {
    w.Key("evidence").BeginArray();
    for (const auto& e : ev) {
      w.BeginObject().Field("detector", e.detector).Field("weight", e.weight);
      w.Field("detail", e.detail).EndObject();
    }
    w.EndArray();
  };
  auto time_field = [&](const char* k, TimeUs t) {
    if (t < 0) {
      w.Key(k).Null();
    } else {
      w.Field(k, FormatRfc3339(t));
    }
  };
  if (is_account) {
    for (const auto& a : rep.accounts) {
      if (a.account_id != id) continue;
      w.BeginObject().Field("account_id", a.account_id).Field("score", a.score);
      w.Field("level", scoring::LevelName(a.level)).Field("flagged", a.flagged);
      time_field("first_flagged_at", a.first_flagged_at);
      w.Field("cluster_id", a.cluster_id);
      evidence(a.evidence);
      w.Key("stats").BeginObject().Field("requests", a.state->requests);
      w.Field("output_tokens", a.state->output_tokens).EndObject();
      w.EndObject();
      return reply(JsonAnswer(200, std::move(out)));
    }
    // Seen but not yet past its first barrier: answer from the raw state.
    if (const auto* s = eng.FindAccount(Hash64(id, core::kHashAccount))) {
      w.BeginObject()
          .Field("account_id", id)
          .Field("score", static_cast<double>(s->verdict.peak_score));
      w.Field("level", scoring::LevelName(s->verdict.level)).Field("flagged", s->verdict.flagged);
      time_field("first_flagged_at", s->verdict.flagged ? s->verdict.first_flagged_at : -1);
      w.Key("stats").BeginObject().Field("requests", s->requests);
      w.Field("output_tokens", s->output_tokens).EndObject();
      w.EndObject();
      return reply(JsonAnswer(200, std::move(out)));
    }
    return reply(ApiError(404, "not_found", "unknown account"));
  }
  for (const auto& c : rep.clusters) {
    if (c.cluster_id != id) continue;
    w.BeginObject().Field("cluster_id", c.cluster_id);
    w.Key("accounts").BeginArray();
    for (const auto& a : c.accounts) w.String(a);
    w.EndArray();
    w.Field("score", c.score).Field("level", scoring::LevelName(c.level));
    w.Field("flagged", c.flagged);
    time_field("first_flagged_at", c.first_flagged_at);
    evidence(c.evidence);
    w.EndObject();
    return reply(JsonAnswer(200, std::move(out)));
  }
  reply(ApiError(404, "not_found", "unknown cluster"));
}

}  // namespace dg::serve
