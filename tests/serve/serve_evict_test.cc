// The service with idle-account eviction on, and policy hot reload.
// Eviction: bodies applied through a Pipeline whose engine evicts idle accounts to a durable
// store, with checkpoints and simulated crashes (the pipeline dropped, restored from the last
// checkpoint, the bodies since replayed, as after kill -9) at random body boundaries; the final
// report must be scan's byte for byte while rows written after the checkpoint are pruned.
// Reload: a new [policy] takes effect at once, a bad file keeps the old one, and rate-limit
// buckets and engine state survive the reload.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "common/rng.h"
#include "engine/account_registry.h"
#include "engine/scan.h"
#include "report/report.h"
#include "serve/pipeline.h"
#include "serve/service.h"
#include "testutil/testutil.h"

namespace dg::serve {
namespace {

std::string ScanReport(const std::string& path, const std::string& accounts, TimeUs lateness) {
  core::NameTable names;
  engine::Engine eng(engine::EngineOptions{}, names);
  engine::LoadAccountRegistry(accounts, eng, names);
  engine::ScanOptions so;
  so.inputs = {path};
  so.lateness = lateness;
  auto stats = engine::RunScan(so, eng, names);
  return report::ToJson(report::Build(eng), eng, stats, 0);
}

TEST(PipelineEvict, CrashesAndCheckpointsWithEvictionMatchScan) {
  auto dir = testutil::TempDir("pipeline-evict");
  std::string accounts;
  const std::string jsonl = testutil::SmallTraffic(23, 60, &accounts, 40, /*tenant=*/true);
  const auto events = dir / "events.jsonl", reg = dir / "accounts.jsonl";
  testutil::WriteAll(events, jsonl);
  testutil::WriteAll(reg, accounts);
  const TimeUs lateness = 5 * kUsPerMin;
  const std::string want = ScanReport(events.string(), reg.string(), lateness);

  PipelineOptions po;
  po.lateness = lateness;
  po.evict = {.idle = 20 * kUsPerMin, .path = (dir / "evicted.db").string(), .durable = true};
  auto make = [&] {
    auto p = std::make_unique<Pipeline>(po);
    std::string err;
    EXPECT_TRUE(p->EnableEviction(&err)) << err;
    engine::LoadAccountRegistry(reg.string(), p->engine(), p->names());
    return p;
  };
  Rng rng(9);
  std::vector<std::string> bodies;
  for (size_t pos = 0; pos < jsonl.size();) {
    size_t end = pos;
    for (int i = static_cast<int>(rng.Range(1, 150)); i > 0 && end < jsonl.size(); --i) {
      end = jsonl.find('\n', end) + 1;
    }
    bodies.push_back(jsonl.substr(pos, end - pos));
    pos = end;
  }
  auto pipe = make();
  std::string err;
  ASSERT_TRUE(pipe->engine().PruneEvictStore(&err)) << err;
  std::string blob = pipe->Checkpoint();
  pipe->engine().EvictCheckpointDone();
  uint64_t blob_seq = 1;  // first body not in the checkpoint
  uint64_t evictions = 0, restores = 0;
  int crashes = 0;
  for (uint64_t seq = 1; seq <= bodies.size(); ++seq) {
    pipe->Apply(seq, bodies[seq - 1]);
    const uint64_t r = rng.Below(12);
    if (r == 0) {  // checkpoint
      blob = pipe->Checkpoint();
      pipe->engine().EvictCheckpointDone();
      blob_seq = seq + 1;
    } else if (r == 1) {  // kill -9: whatever was evicted since the checkpoint is on disk
      const auto c = pipe->engine().evict_counters();
      evictions += c.evictions;
      restores += c.restores;
      pipe.reset();
      pipe = make();
      ASSERT_TRUE(pipe->Restore(blob, &err)) << err;
      for (uint64_t s = blob_seq; s <= seq; ++s) pipe->Apply(s, bodies[s - 1]);
      ++crashes;
    }
  }
  const auto c = pipe->engine().evict_counters();
  evictions += c.evictions;
  restores += c.restores;
  EXPECT_GT(crashes, 3);
  EXPECT_GT(evictions, 100u);
  EXPECT_GT(restores, 20u);
  EXPECT_GT(pipe->engine().evict_stats().evicted, 0u);
  EXPECT_EQ(pipe->Report(0, /*final=*/true), want);
  // The live state is untouched by the report (its copy read evicted accounts back).
  EXPECT_GT(pipe->engine().evict_stats().evicted, 0u);
  EXPECT_EQ(pipe->engine().evict_counters().errors, 0u);
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteConfig("");
    cfg_.listen = "127.0.0.1:0";
    cfg_.data_dir = (dir_ / "data").string();
    cfg_.admin_token = "t";
    cfg_.fsync = false;
    cfg_.log_decisions = false;
    cfg_.config_path = (dir_ / "serve.toml").string();
    LoadConfigFile(cfg_.config_path, cfg_);
    service_ = std::make_unique<Service>(cfg_, clock_);
    std::string err;
    ASSERT_TRUE(service_->Start(&err)) << err;
  }
  void TearDown() override { service_->Stop(); }
  void WriteConfig(const std::string& policy_extra) {
    std::ofstream(dir_ / "serve.toml") << "[policy]\n"
                                          "[policy.limits.account_requests]\n"
                                          "rate = 0.001\nburst = 2\n"
                                       << policy_extra;
  }
  HttpResponse Call(std::string method, std::string path, std::string body = "") {
    HttpRequest req;
    req.method = std::move(method);
    req.path = req.target = std::move(path);
    req.body = std::move(body);
    req.headers["authorization"] = "Bearer t";
    std::promise<HttpResponse> done;
    auto got = done.get_future();
    service_->Handle(std::move(req), [&](HttpResponse r) { done.set_value(std::move(r)); });
    return got.get();
  }
  std::string Decide(const char* account) {
    return Call("POST", "/v1/decide", fmt::format(R"({{"account_id":"{}"}})", account)).body;
  }
  testutil::ScopedTempDir dir_ = testutil::TempDir("serve-reload");
  ServeConfig cfg_;
  SystemClock clock_;
  std::unique_ptr<Service> service_;
};

TEST_F(ReloadTest, NewPolicyAppliesAtOnceAndStateIsKept) {
  ASSERT_NE(Decide("acct-x").find(R"("action":"allow")"), std::string::npos);
  ASSERT_NE(Decide("acct-x").find(R"("action":"allow")"), std::string::npos);
  // The burst of 2 is spent: the third is refused.
  ASSERT_EQ(Decide("acct-x").find(R"("action":"allow")"), std::string::npos);
  EXPECT_NE(Decide("acct-y").find(R"("action":"allow")"), std::string::npos);

  WriteConfig("[policy.block]\naccounts = [\"acct-y\"]\n");
  auto r = Call("POST", "/v1/admin/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(Decide("acct-y").find(R"("action":"block")"), std::string::npos);
  // acct-x's bucket was kept across the reload: still refused.
  EXPECT_EQ(Decide("acct-x").find(R"("action":"allow")"), std::string::npos);

  // A bad file is refused with its reason; the policy in force stays.
  std::ofstream(dir_ / "serve.toml") << "[policy]\nflagged = \"obliterate\"\n";
  r = Call("POST", "/v1/admin/reload");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("obliterate"), std::string::npos) << r.body;
  EXPECT_NE(Decide("acct-y").find(R"("action":"block")"), std::string::npos);
  // Admin only.
  HttpRequest anon;
  anon.method = "POST";
  anon.path = anon.target = "/v1/admin/reload";
  std::promise<HttpResponse> done;
  service_->Handle(std::move(anon), [&](HttpResponse x) { done.set_value(std::move(x)); });
  EXPECT_EQ(done.get_future().get().status, 401);
  const std::string metrics = Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("distillguard_policy_reloads_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("distillguard_policy_reload_failures_total 1\n"), std::string::npos);
}

}  // namespace
}  // namespace dg::serve
