// See ui_handlers.h.
#include "serve/ui_handlers.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/json_writer.h"
#include "report/html.h"
#include "serve/action_body.h"
#include "serve/pipeline.h"

namespace dg::serve {
namespace {

HttpResponse Page(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("content-security-policy", std::string(report::kUiCsp));
  r.headers.emplace_back("x-content-type-options", "nosniff");
  r.headers.emplace_back("referrer-policy", "no-referrer");
  r.headers.emplace_back("cache-control", "no-store");
  r.headers.emplace_back("x-frame-options", "DENY");
  return r;
}

HttpResponse Redirect(std::string_view to) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain";
  r.headers.emplace_back("location", std::string(to));
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("cache-control", "no-store");
  r.headers.emplace_back("x-content-type-options", "nosniff");
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view message, std::string_view code,
                           std::string_view param = {}) {
  return JsonResponse(status, ErrorJson("invalid_request_error", message, param, code));
}

}  // namespace

void UiHandlers::HandleUi(HttpRequest& req, Reply& reply) {
  const std::string& p = req.path;
  if (p == "/ui/app.js" || p == "/ui/app.css") {
    HttpResponse r;
    r.content_type = p == "/ui/app.js" ? "text/javascript; charset=utf-8" : "text/css";
    r.body = std::string(p == "/ui/app.js" ? report::UiScript() : report::UiStyle());
    r.headers.emplace_back("x-content-type-options", "nosniff");
    r.headers.emplace_back("cache-control", "no-cache");
    return reply(std::move(r));
  }
  if (p == "/ui/login" && req.method == "POST") {
    const auto form = ParseForm(req.body);
    if (!form) {
      ++metrics_.bad_requests;
      return reply(Page(400, report::UiLoginPage(true)));
    }
    std::string user, token;
    for (const auto& [k, v] : *form) {
      if (k == "user" && user.empty()) user = v;
      if (k == "token" && token.empty()) token = v;
    }
    if (!ConstantTimeEquals(token, cfg_.admin_token) || !ValidAnalystName(user)) {
      ++metrics_.auth_failures;
      return reply(Page(401, report::UiLoginPage(true)));
    }
    const WebSession s = sessions_.Create(user);
    HttpResponse r = Redirect("/ui/");
    r.headers.emplace_back("set-cookie", SessionCookie(s.id, 12 * 3600 * kUsPerSec));
    return reply(std::move(r));
  }
  const Caller caller = auth_.Authenticate(req);
  if (p == "/ui/logout" && req.method == "POST") {
    if (caller.session) {
      // Logging out is an action too: it needs the CSRF token (a form field or the header).
      std::string token = req.Header("x-csrf-token");
      if (token.empty()) {
        if (auto form = ParseForm(req.body)) {
          for (const auto& [k, v] : *form) {
            if (k == "csrf") token = v;
          }
        }
      }
      if (!ConstantTimeEquals(token, caller.csrf)) {
        return reply(ErrorResponse(403, "missing or wrong CSRF token", "csrf_failed"));
      }
      sessions_.Remove(caller.session_id);
    }
    HttpResponse r = Redirect("/ui/");
    r.headers.emplace_back("set-cookie", SessionCookie({}, 0));
    return reply(std::move(r));
  }
  if ((p == "/ui" || p == "/ui/") && (req.method == "GET" || req.method == "HEAD")) {
    if (!caller.session && !caller.ok) return reply(Page(200, report::UiLoginPage(false)));
    return reply(Page(200, report::UiAppPage()));
  }
  return reply(ErrorResponse(404, "no such page", "not_found"));
}

report::CaseInputs UiHandlers::CaseInputsFor(IngestState& st, const report::Report& rep) {
  report::CaseInputs in;
  in.engine = &st.pipeline().engine();
  in.report = &rep;
  in.activity = &st.activity();
  in.samples = &st.samples();
  in.shadow = cfg_.policy.shadow;
  in.live = true;
  in.generated_at = ReportTime(cfg_, clock_);
  auto states = std::make_shared<decltype(actions_.States())>(actions_.States());
  in.state = [states](std::string_view kind, std::string_view scope, std::string_view target) {
    std::pair<std::string, std::string> out{"open", "none"};
    const auto k = ParseTargetKind(kind);
    if (!k) return out;
    auto it = states->find({static_cast<uint8_t>(*k), std::string(scope), std::string(target)});
    if (it != states->end()) {
      out.first = it->second.status;
      out.second = std::string(OverrideName(it->second.override_));
    }
    return out;
  };
  auto would = std::make_shared<decltype(store_.WouldCounts())>(store_.WouldCounts());
  in.would = [would](std::string_view account) {
    auto it = would->find(std::string(account));
    return it == would->end() ? std::array<uint64_t, 4>{} : it->second;
  };
  return in;
}

bool UiHandlers::HandleCaseApi(HttpRequest& req, Reply& reply, const Caller& caller) {
  const std::string& p = req.path;
  if (p == "/v1/session") {
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Field("user", caller.who).Field("csrf", caller.csrf);
    w.Field("session", caller.session).Field("shadow", cfg_.policy.shadow).EndObject();
    reply(JsonResponse(200, std::move(out)));
    return true;
  }
  if (p == "/v1/cases") {
    ingest_.Run(reply, [this](IngestState& st, const Reply& reply) {
      st.pipeline().Flush();
      const auto rep = report::Build(st.pipeline().engine());
      reply(JsonResponse(200, report::QueueJson(CaseInputsFor(st, rep))));
    });
    return true;
  }
  if (p == "/v1/case") {
    report::CaseRef ref;
    for (auto [name, dst] :
         {std::pair{"kind", &ref.kind}, {"id", &ref.id}, {"scope", &ref.scope}}) {
      if (auto bad = params_.String(req, name, dst)) {
        reply(std::move(*bad));
        return true;
      }
    }
    if (!ParseTargetKind(ref.kind) || ref.id.empty()) {
      reply(params_.BadRequest("kind",
                               "kind (cluster, account, end_user, api_key) and id are required"));
      return true;
    }
    if (ref.kind == "key") ref.kind = "api_key";
    ingest_.Run(reply, [this, ref](IngestState& st, const Reply& reply) {
      st.pipeline().Flush();
      const auto rep = report::Build(st.pipeline().engine());
      const auto in = CaseInputsFor(st, rep);
      const auto accounts = report::CaseAccounts(in, ref);
      ActionRow only;
      only.kind = *ParseTargetKind(ref.kind);
      only.scope = ref.scope;
      only.target = ref.id;
      std::vector<std::pair<std::string, std::string>> extras = {
          {"decisions", store_.DecisionsOf(accounts, 50)},
          {"alerts", store_.AlertsOf(accounts, 50)},
          {"audit", AuditJson(actions_.Audit(0, 200, &only))},
      };
      auto json = report::CaseJson(in, ref, extras);
      if (!json) return reply(ErrorResponse(404, "unknown case", "not_found"));
      reply(JsonResponse(200, std::move(*json)));
    });
    return true;
  }
  if (p == "/v1/audit") {
    int64_t since = 0, limit = 1000;
    if (auto bad = params_.Number(req, "since", &since)) {
      reply(std::move(*bad));
      return true;
    }
    if (auto bad = params_.Number(req, "limit", &limit)) {
      reply(std::move(*bad));
      return true;
    }
    limit = std::clamp<int64_t>(limit, 0, 10000);
    std::string kind;
    ActionRow only;
    if (auto bad = params_.String(req, "kind", &kind)) {
      reply(std::move(*bad));
      return true;
    }
    if (!kind.empty()) {
      const auto k = ParseTargetKind(kind);
      if (!k) {
        reply(params_.BadRequest("kind", "kind must be account, api_key, end_user or cluster"));
        return true;
      }
      only.kind = *k;
      for (auto [name, dst] : {std::pair{"scope", &only.scope}, {"target", &only.target}}) {
        if (auto bad = params_.String(req, name, dst)) {
          reply(std::move(*bad));
          return true;
        }
      }
    }
    reply(JsonResponse(200, AuditJson(actions_.Audit(since, static_cast<int>(limit),
                                                     kind.empty() ? nullptr : &only))));
    return true;
  }
  if (p == "/v1/actions") {
    ActionRow in;
    if (auto err = ParseActionBody(req.body, &in)) {
      reply(params_.BadRequest(err->param, err->message, "invalid_body"));
      return true;
    }
    in.who = caller.who;
    ActionRow stored;
    std::string error;
    if (!actions_.Record(in, clock_.Now(), &stored, &error)) {
      reply(params_.BadRequest({}, error, "invalid_action"));
      return true;
    }
    const CaseState st = actions_.State(stored.kind, stored.scope, stored.target);
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Key("action").Raw(ActionJson(stored));
    w.Field("status", st.status).Field("override", OverrideName(st.override_)).EndObject();
    reply(JsonResponse(200, std::move(out)));
    return true;
  }
  return false;
}

}  // namespace dg::serve
