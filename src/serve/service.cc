// See service.h.
#include "serve/service.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include "common/file_util.h"
#include "serve/admin_handlers.h"
#include "serve/decision_handlers.h"
#include "serve/http_server.h"
#include "serve/ingest_worker.h"
#include "serve/router.h"
#include "serve/ui_handlers.h"
#include "serve/wal_writer.h"

namespace dg::serve {

Service::Service(ServeConfig config, const Clock& clock) : cfg_(std::move(config)), clock_(clock) {}

Service::~Service() { Stop(); }

uint16_t Service::port() const { return http_ ? http_->port() : 0; }

bool Service::Start(std::string* error) {
  if (cfg_.admin_token.empty()) {
    *error = "an admin token is required (admin_token / --admin-token)";
    return false;
  }
  ::mkdir(cfg_.data_dir.c_str(), 0755);
  if (!store_.Open(cfg_.data_dir + "/distillguard.db", error)) return false;
  if (!actions_.Open(cfg_.data_dir + "/actions.db", error)) return false;
  sessions_ = std::make_unique<SessionStore>(clock_, &SessionStore::SystemRandom);
  wal_ = std::make_unique<WalWriter>(cfg_, clock_, metrics_, stop_);
  if (!wal_->Open(error)) return false;
  ingest_ = std::make_unique<IngestWorker>(cfg_, clock_, store_, view_, *wal_, metrics_, stop_);
  if (!ingest_->Recover(error)) return false;

  decider_ = std::make_unique<Decider>(cfg_.policy, view_, ingest_->detector_names(), clock_);
  decider_->SetOverrides(&actions_);
  auth_ = std::make_unique<Authenticator>(cfg_, *sessions_);
  decisions_ =
      std::make_unique<DecisionHandlers>(cfg_, clock_, *decider_, *ingest_, store_, metrics_);
  admin_ = std::make_unique<AdminHandlers>(cfg_, clock_, *wal_, *ingest_, store_, *this, metrics_);
  ui_ = std::make_unique<UiHandlers>(cfg_, clock_, *auth_, *sessions_, *ingest_, actions_, store_,
                                     metrics_);
  router_ = std::make_unique<Router>(metrics_, *auth_, *decisions_, *admin_, *ui_);

  store_.StartThreads(cfg_.webhook_url, cfg_.webhook_max_attempts);
  wal_->Start([this](std::vector<std::pair<uint64_t, std::string>> bodies, int64_t now) {
    ingest_->EnqueueDurable(std::move(bodies), now);
  });
  ingest_->Start();

  http_ = std::make_unique<HttpServer>(*this);
  std::string host = cfg_.listen;
  uint16_t port = 8088;
  if (auto c = cfg_.listen.rfind(':'); c != std::string::npos) {
    host = cfg_.listen.substr(0, c);
    const auto p = ParseNumber<uint16_t>(std::string_view(cfg_.listen).substr(c + 1));
    if (!p) {
      *error = "bad listen address " + cfg_.listen + " (the port must be a number 0-65535)";
      return false;
    }
    port = *p;
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (!http_->Listen(host, port, error)) return false;
  http_->Start(cfg_.http_threads);
  if (!cfg_.port_file.empty()) {
    WriteFileAtomically(cfg_.port_file, std::to_string(http_->port()) + "\n", nullptr);
  }
  ingest_->StartTail();
  return true;
}

void Service::Handle(HttpRequest req, Reply reply) {
  if (!router_) {
    return reply(ApiError(503, "server_error", "the service is not started"));
  }
  router_->Handle(std::move(req), std::move(reply));
}

void Service::Wait(bool signals) {
  if (signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([this, set] {
      int sig = 0;
      while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        std::string err;
        if (ReloadPolicy(&err)) {
          fmt::print(stderr, "distillguard serve: SIGHUP: policy reloaded from {}\n",
                     cfg_.config_path);
        } else {
          fmt::print(stderr, "distillguard serve: SIGHUP: policy not reloaded: {}\n", err);
        }
      }
      std::lock_guard lock(stop_mu_);
      stopped_ = true;
      stop_cv_.notify_all();
    }).detach();
  }
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait(lock, [&] { return stopped_; });
}

bool Service::ReloadPolicy(std::string* error) {
  std::lock_guard lock(reload_mu_);
  auto fail = [&](std::string msg) {
    ++metrics_.reload_failures;
    *error = std::move(msg);
    return false;
  };
  if (cfg_.config_path.empty())
    return fail("serve was started without --config: nothing to reload");
  if (!decider_) return fail("the service is not started");
  Policy p;
  try {
    p = LoadPolicyFile(cfg_.config_path);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (cfg_.shadow_flag >= 0) p.shadow = cfg_.shadow_flag == 1;  // the command line still wins
  decider_->SetPolicy(p);
  ++metrics_.reloads;
  return true;
}

bool Service::shadow() const { return decider_ && decider_->policy()->shadow; }

void Service::Stop() {
  if (stop_.exchange(true)) return;
  {
    std::lock_guard lock(stop_mu_);
    stopped_ = true;
    stop_cv_.notify_all();
  }
  if (http_) http_->Stop();
  if (wal_) wal_->Join();
  if (ingest_) {
    ingest_->Join();
    ingest_->FinalCheckpoint();
  }
  store_.Stop();
}

}  // namespace dg::serve
