// The analyst UI of `serve`: pages and assets under /ui, the login form and session cookie, and
// the JSON endpoints for cases and actions (/v1/session, /v1/cases, /v1/case, /v1/actions,
// /v1/audit), which accept the admin bearer token or a UI session (web_auth.h). Case queries run
// on the ingest thread (the only owner of the engine); actions are stored by the ActionStore on
// the HTTP thread (one SQLite commit) and take effect in the decider at once.
#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>

#include "common/file_util.h"
#include "common/json_writer.h"
#include "report/html.h"
#include "serve/action_body.h"
#include "serve/service.h"

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

// A name an analyst may go by: printable, no control characters, 1 to 64 bytes.
bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > kMaxWhoBytes) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

constexpr char kUiStatePrefix[] = "ui-state-";

template <typename T>
void Put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

}  // namespace

bool Service::IsUiPath(const std::string& p) const { return p == "/ui" || p.rfind("/ui/", 0) == 0; }

Service::Caller Service::Authenticate(const HttpRequest& req) {
  Caller c;
  if (Authorized(req)) {
    c.ok = true;
    const std::string who = req.Header("x-dg-analyst");
    c.who = ValidName(who) ? who : "admin-token";
    return c;
  }
  if (auto id = CookieValue(req.Header("cookie"), "dg_session")) {
    if (auto s = sessions_->Find(*id)) {
      c.ok = true;
      c.session = true;
      c.who = s->user;
      c.csrf = s->csrf;
      c.session_id = s->id;
    }
  }
  return c;
}

void Service::HandleUi(HttpRequest& req, Reply& reply) {
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
      ++m_bad_requests_;
      return reply(Page(400, report::UiLoginPage(true)));
    }
    std::string user, token;
    for (const auto& [k, v] : *form) {
      if (k == "user" && user.empty()) user = v;
      if (k == "token" && token.empty()) token = v;
    }
    if (!ConstantTimeEquals(token, cfg_.admin_token) || !ValidName(user)) {
      ++m_auth_failures_;
      return reply(Page(401, report::UiLoginPage(true)));
    }
    const WebSession s = sessions_->Create(user);
    HttpResponse r = Redirect("/ui/");
    r.headers.emplace_back("set-cookie", SessionCookie(s.id, 12 * 3600 * kUsPerSec));
    return reply(std::move(r));
  }
  const Caller caller = Authenticate(req);
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
      sessions_->Remove(caller.session_id);
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

report::CaseInputs Service::CaseInputsFor(const report::Report& rep) {
  report::CaseInputs in;
  in.engine = &pipeline_->engine();
  in.report = &rep;
  in.activity = &activity_;
  in.samples = &samples_;
  in.shadow = cfg_.policy.shadow;
  in.live = true;
  in.generated_at = GeneratedAt();
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

bool Service::HandleCaseApi(HttpRequest& req, Reply& reply, const Caller& caller) {
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
    RunOnIngest(reply, [this](const Reply& reply) {
      pipeline_->Flush();
      const auto rep = report::Build(pipeline_->engine());
      reply(JsonResponse(200, report::QueueJson(CaseInputsFor(rep))));
    });
    return true;
  }
  if (p == "/v1/case") {
    report::CaseRef ref;
    for (auto [name, dst] :
         {std::pair{"kind", &ref.kind}, {"id", &ref.id}, {"scope", &ref.scope}}) {
      if (auto bad = StringParam(req, name, dst)) {
        reply(std::move(*bad));
        return true;
      }
    }
    if (!ParseTargetKind(ref.kind) || ref.id.empty()) {
      reply(BadRequest("kind", "kind (cluster, account, end_user, api_key) and id are required"));
      return true;
    }
    if (ref.kind == "key") ref.kind = "api_key";
    RunOnIngest(reply, [this, ref](const Reply& reply) {
      pipeline_->Flush();
      const auto rep = report::Build(pipeline_->engine());
      const auto in = CaseInputsFor(rep);
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
    if (auto bad = NumberParam(req, "since", &since)) {
      reply(std::move(*bad));
      return true;
    }
    if (auto bad = NumberParam(req, "limit", &limit)) {
      reply(std::move(*bad));
      return true;
    }
    limit = std::clamp<int64_t>(limit, 0, 10000);
    std::string kind;
    ActionRow only;
    if (auto bad = StringParam(req, "kind", &kind)) {
      reply(std::move(*bad));
      return true;
    }
    if (!kind.empty()) {
      const auto k = ParseTargetKind(kind);
      if (!k) {
        reply(BadRequest("kind", "kind must be account, api_key, end_user or cluster"));
        return true;
      }
      only.kind = *k;
      for (auto [name, dst] : {std::pair{"scope", &only.scope}, {"target", &only.target}}) {
        if (auto bad = StringParam(req, name, dst)) {
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
      reply(BadRequest(err->param, err->message, "invalid_body"));
      return true;
    }
    in.who = caller.who;
    ActionRow stored;
    std::string error;
    if (!actions_.Record(in, clock_.Now(), &stored, &error)) {
      reply(BadRequest({}, error, "invalid_action"));
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

bool Service::SaveUiState(std::string* error) {
  const uint64_t seq = pipeline_->next_seq();
  std::string blob;
  Put(blob, seq);
  std::string part;
  activity_.Save(part);
  Put(blob, static_cast<uint64_t>(part.size()));
  blob += part;
  part.clear();
  samples_.Save(part);
  Put(blob, static_cast<uint64_t>(part.size()));
  blob += part;
  const std::string name = fmt::format("{}{}.bin", kUiStatePrefix, seq);
  if (!WriteFileAtomically(cfg_.data_dir + "/" + name, blob, error)) return false;
  // Older states belong to older checkpoints; the newest checkpoint is written right after this.
  if (DIR* d = ::opendir(cfg_.data_dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string f = e->d_name;
      if (f.rfind(kUiStatePrefix, 0) == 0 && f != name) {
        // Keep the state of the checkpoint still on disk until the new one replaces it.
        const std::string prev = fmt::format("{}{}.bin", kUiStatePrefix, last_ui_state_seq_);
        if (f != prev) ::unlink((cfg_.data_dir + "/" + f).c_str());
      }
    }
    ::closedir(d);
  }
  last_ui_state_seq_ = seq;
  return true;
}

void Service::LoadUiState() {
  const uint64_t seq = pipeline_->next_seq();
  last_ui_state_seq_ = seq;
  const std::string path = fmt::format("{}/{}{}.bin", cfg_.data_dir, kUiStatePrefix, seq);
  if (::access(path.c_str(), F_OK) != 0) {
    if (seq > 1)
      fmt::print(stderr,
                 "distillguard serve: no UI state for the checkpoint (plots start empty)\n");
    return;
  }
  std::string data, error;
  if (!ReadFile(path, &data, &error)) {
    fmt::print(stderr, "distillguard serve: {}\n", error);
    return;
  }
  std::string_view in(data);
  auto take = [&](uint64_t& v) {
    if (in.size() < 8) return false;
    std::memcpy(&v, in.data(), 8);
    in.remove_prefix(8);
    return true;
  };
  uint64_t s = 0, n = 0;
  bool ok =
      take(s) && s == seq && take(n) && n <= in.size() && activity_.Load(in.substr(0, n), &error);
  if (ok) {
    in.remove_prefix(n);
    ok = take(n) && n <= in.size() && samples_.Load(in.substr(0, n), &error);
  }
  if (!ok) {
    fmt::print(stderr, "distillguard serve: UI state unreadable ({}); plots start empty\n", error);
    activity_ = engine::Activity{};
  }
}

}  // namespace dg::serve
