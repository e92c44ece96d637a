// Unit tests of the serve components: WAL framing and torn-tail recovery, GCRA buckets, config
// parsing, the decider, and the property the crash test relies on: checkpoint + restore at any
// body boundary, then replay, gives the same final report as `scan` of the same events.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "common/hash.h"
#include "engine/account_registry.h"
#include "engine/scan.h"
#include "report/report.h"
#include "serve/config.h"
#include "serve/decider.h"
#include "serve/gcra.h"
#include "serve/pipeline.h"
#include "serve/service.h"
#include "serve/wal.h"
#include "testutil/testutil.h"

namespace dg::serve {
namespace {

TEST(Wal, AppendReopenReplay) {
  auto dir = testutil::TempDir("wal");
  {
    Wal w;
    std::string err;
    ASSERT_TRUE(w.Open(dir.string(), 64, &err)) << err;
    EXPECT_EQ(w.Append("first\n"), 1u);
    EXPECT_EQ(w.Append("second batch of lines\n", 77), 2u);
    EXPECT_EQ(w.Append("third\n"), 3u);
    EXPECT_TRUE(w.Sync());
    EXPECT_GE(w.segments(), 2u);  // 64-byte segments roll over
  }
  Wal w;
  std::string err;
  ASSERT_TRUE(w.Open(dir.string(), 64, &err)) << err;
  EXPECT_EQ(w.next_seq(), 4u);
  EXPECT_EQ(w.last_aux(), 77u);
  std::vector<std::string> got;
  ASSERT_TRUE(w.Replay(
      2, [&](uint64_t, uint64_t, std::string_view p) { got.emplace_back(p); }, &err));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "second batch of lines\n");
  EXPECT_EQ(got[1], "third\n");
  w.DropBefore(3);
  got.clear();
  ASSERT_TRUE(w.Replay(
      3, [&](uint64_t, uint64_t, std::string_view p) { got.emplace_back(p); }, &err));
  EXPECT_EQ(got.size(), 1u);
}

TEST(Wal, TornTailIsDropped) {
  auto dir = testutil::TempDir("waltorn");
  std::string path;
  {
    Wal w;
    std::string err;
    ASSERT_TRUE(w.Open(dir.string(), 1 << 20, &err)) << err;
    w.Append("one\n");
    w.Append("two\n");
    w.Sync();
  }
  for (auto& e : std::filesystem::directory_iterator(dir)) path = e.path().string();
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 2);  // cut the last record short
  Wal w;
  std::string err;
  ASSERT_TRUE(w.Open(dir.string(), 1 << 20, &err)) << err;
  EXPECT_EQ(w.next_seq(), 2u);
  EXPECT_EQ(w.Append("two again\n"), 2u);
  w.Sync();
  std::vector<std::string> got;
  ASSERT_TRUE(w.Replay(
      1, [&](uint64_t, uint64_t, std::string_view p) { got.emplace_back(p); }, &err));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "two again\n");
}

TEST(Gcra, BurstThenRate) {
  Gcra g;
  RateLimit l{10, 5};  // 10/s, burst 5
  int64_t now = 1'000'000'000;
  int allowed = 0;
  for (int i = 0; i < 8; ++i) allowed += g.Take(1, l, 1, now).allowed;
  EXPECT_EQ(allowed, 5);
  auto r = g.Take(1, l, 1, now);
  EXPECT_FALSE(r.allowed);
  EXPECT_NEAR(r.retry_after_s, 0.1, 1e-6);
  EXPECT_TRUE(g.Take(1, l, 1, now + 100'000).allowed);
  EXPECT_TRUE(g.Take(2, l, 1, now).allowed);  // other key
}

TEST(Config, ParsesPolicy) {
  ServeConfig c;
  LoadConfigText(R"(
admin_token = "t"
[engine]
lateness_s = 0
geoip = "none"
[policy]
shadow = true
flagged = "block"
end_user_flagged = "degrade"
levels = { medium = "degrade" }
[policy.throttled]
rate = 2.0
burst = 3
[policy.limits.account_requests]
rate = 100
burst = 200
[policy.allow]
accounts = ["good"]
[[policy.detector]]
name = "logprob_harvest"
min_strength = 0.4
action = "degrade"
)",
                 c);
  EXPECT_EQ(c.admin_token, "t");
  EXPECT_EQ(c.lateness_s, 0);
  EXPECT_EQ(c.geoip_path, "none");
  EXPECT_TRUE(c.policy.shadow);
  EXPECT_EQ(c.policy.flagged_action, Action::kBlock);
  EXPECT_EQ(c.policy.end_user_flagged_action, Action::kDegrade);
  EXPECT_EQ(c.policy.level_action[2], Action::kDegrade);
  EXPECT_EQ(c.policy.throttled.rate, 2.0);
  EXPECT_EQ(c.policy.account_requests.burst, 200);
  EXPECT_TRUE(c.policy.allow_accounts.count("good"));
  ASSERT_EQ(c.policy.detectors.size(), 1u);
  EXPECT_EQ(c.policy.detectors[0].action, Action::kDegrade);
  EXPECT_THROW(LoadConfigText("[policy]\nflagged = \"explode\"\n", c), std::runtime_error);
}

TEST(Decider, VerdictsListsAndThrottle) {
  Policy p;
  p.allow_accounts.insert("vip");
  p.block_accounts.insert("banned");
  VerdictView view;
  AccountVerdict v;
  v.flagged = true;
  v.level = 3;
  view.Update({{Hash64("bad", engine::kHashAccount), v}});
  FixedClock clock(1'000'000'000);
  Decider d(p, view, {}, clock);
  DecisionInput in;
  in.account_id = "nobody";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  in.account_id = "banned";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kBlock);
  in.account_id = "vip";
  EXPECT_EQ(d.Decide(in, true, false).action, Action::kAllow);
  in.account_id = "bad";
  auto first = d.Decide(in, false, true);  // within the throttled allowance: degraded
  EXPECT_EQ(first.action, Action::kDegrade);
  auto second = d.Decide(in, false, true);
  EXPECT_EQ(second.action, Action::kThrottle);
  EXPECT_GE(second.retry_after_s, 1);
  in.account_id = "nobody";
  d.Decide(in, true, false);  // fail closed when lagging: the throttled allowance, then 429
  EXPECT_EQ(d.Decide(in, true, false).action, Action::kThrottle);
  p.shadow = true;
  auto shadow = d.Decide(in, true, false);
  EXPECT_EQ(shadow.action, Action::kAllow);
  EXPECT_EQ(shadow.would, Action::kThrottle);
}

// An end user flagged on its own within a router is contained alone: its requests are
// throttled on its own allowance, the router's other end users and the router itself pass.
TEST(Decider, FlaggedEndUserIsContainedAloneWithinItsAccount) {
  Policy p;
  VerdictView view;
  const uint64_t router = Hash64("router", engine::kHashAccount);
  AccountVerdict quiet;  // the router: judged as a whole, not flagged
  AccountVerdict eu;
  eu.flagged = true;
  eu.level = 2;
  view.Update({{router, quiet},
               {VerdictView::EndUserKey(router, Hash64("pool-9", engine::kHashEndUser)), eu}});
  FixedClock clock(1'000'000'000);
  Decider d(p, view, {}, clock);
  DecisionInput in;
  in.account_id = "router";
  in.end_user = "pool-9";
  auto first = d.Decide(in, false, true);
  EXPECT_EQ(first.action, Action::kDegrade);  // within its throttled allowance
  EXPECT_NE(std::find(first.reasons.begin(), first.reasons.end(), "flagged:end_user"),
            first.reasons.end());
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kThrottle);
  in.end_user = "cust-1";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  in.end_user = {};
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  // The same end-user id under another account is another person.
  in.account_id = "other-app";
  in.end_user = "pool-9";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  // Policy: what a flagged end user gets.
  Policy blocking;
  blocking.end_user_flagged_action = Action::kBlock;
  Decider strict(blocking, view, {}, clock);
  in.account_id = "router";
  EXPECT_EQ(strict.Decide(in, false, true).action, Action::kBlock);
}

// The live service: an end user flagged on its own inside a router is published to the
// decision path and throttled there, while the router's other end users pass.
TEST(ServiceTest, FlaggedEndUserIsContainedAtTheGateway) {
  auto dir = testutil::TempDir("serve-enduser");
  ServeConfig cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.data_dir = dir.string();
  cfg.admin_token = "t";
  cfg.fsync = false;
  cfg.lateness_s = 0;
  cfg.log_decisions = false;
  SystemClock clock;
  Service service(cfg, clock);
  std::string err;
  ASSERT_TRUE(service.Start(&err)) << err;
  auto call = [&](std::string method, std::string path, std::string body) {
    HttpRequest req;
    req.method = std::move(method);
    req.path = req.target = std::move(path);
    req.body = std::move(body);
    req.headers["authorization"] = "Bearer t";
    std::promise<HttpResponse> done;
    auto got = done.get_future();
    service.Handle(std::move(req), [&](HttpResponse r) { done.set_value(std::move(r)); });
    return got.get();
  };
  auto lines = testutil::RouterWithPoolEndUser(*ParseRfc3339("2025-04-01T00:00:00Z"));
  std::stable_sort(lines.begin(), lines.end());
  std::string body;
  for (auto& [ts, l] : lines) body += l + "\n";
  ASSERT_EQ(call("POST", "/v1/events", body).status, 200);
  auto decide = [&](const char* end_user) {
    return call("POST", "/v1/decide",
                fmt::format(R"({{"account_id":"router","end_user":"{}"}})", end_user))
        .body;
  };
  std::string pool;
  for (int i = 0; i < 500; ++i) {  // ingest and publish are asynchronous
    pool = decide("pool-9");
    if (pool.find("flagged:end_user") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(pool.find("flagged:end_user"), std::string::npos) << pool;
  EXPECT_EQ(pool.find(R"("action":"allow")"), std::string::npos) << pool;
  const std::string customer = decide("cust-1");
  EXPECT_NE(customer.find(R"("action":"allow")"), std::string::npos) << customer;
  service.Stop();
  std::filesystem::remove_all(dir);
}

std::string ScanReport(const std::string& path, const std::string& accounts, TimeUs lateness) {
  engine::NameTable names;
  engine::EngineOptions eo;
  engine::Engine eng(eo, names);
  if (!accounts.empty()) engine::LoadAccountRegistry(accounts, eng, names);
  engine::ScanOptions so;
  so.inputs = {path};
  so.lateness = lateness;
  auto stats = engine::RunScan(so, eng, names);
  return report::ToJson(report::Build(eng), eng, stats, 0);
}

std::vector<std::string> SplitBodies(const std::string& jsonl, Rng& rng) {
  std::vector<std::string> bodies;
  size_t pos = 0;
  while (pos < jsonl.size()) {
    size_t end = pos;
    const int lines = static_cast<int>(rng.Range(1, 120));
    for (int i = 0; i < lines && end < jsonl.size(); ++i) {
      end = jsonl.find('\n', end);
      end = end == std::string::npos ? jsonl.size() : end + 1;
    }
    bodies.push_back(jsonl.substr(pos, end - pos));
    pos = end;
  }
  return bodies;
}

// Bodies applied with checkpoint/restore into fresh pipelines at random boundaries, finished,
// must give scan's report byte for byte.
TEST(Pipeline, CheckpointRestoreMatchesScan) {
  auto dir = testutil::TempDir("pipeline");
  std::string accounts;
  std::string jsonl = testutil::SmallTraffic(11, 40, &accounts, 40, /*tenant=*/true);
  // Shuffle a little within the lateness so the reorder buffer has work to do.
  std::vector<std::string> lines;
  for (size_t p = 0; p < jsonl.size();) {
    size_t e = jsonl.find('\n', p);
    lines.push_back(jsonl.substr(p, e - p + 1));
    p = e + 1;
  }
  Rng rng(5);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (rng.Below(10) == 0) std::swap(lines[i - 1], lines[i]);
  }
  lines.insert(lines.begin() + 100, "not json\n");
  jsonl.clear();
  for (auto& l : lines) jsonl += l;
  const auto events = dir / "events.jsonl", reg = dir / "accounts.jsonl";
  std::ofstream(events) << jsonl;
  std::ofstream(reg) << accounts;
  const TimeUs lateness = 5 * kUsPerMin;
  const std::string want = ScanReport(events.string(), reg.string(), lateness);

  PipelineOptions po;
  po.lateness = lateness;
  auto make = [&] {
    auto p = std::make_unique<Pipeline>(po);
    engine::LoadAccountRegistry(reg.string(), p->engine(), p->names());
    return p;
  };
  auto pipe = make();
  const auto bodies = SplitBodies(jsonl, rng);
  uint64_t seq = 1;
  int restores = 0;
  for (const auto& b : bodies) {
    pipe->Apply(seq++, b);
    if (rng.Below(8) == 0) {
      std::string blob = pipe->Checkpoint();
      pipe = make();
      std::string err;
      ASSERT_TRUE(pipe->Restore(blob, &err)) << err;
      ++restores;
    }
  }
  EXPECT_GT(restores, 2);
  // The router's end users were promoted to their own states (restored with the engine).
  EXPECT_NE(want.find("\"end_user\":\"eu-"), std::string::npos);
  EXPECT_EQ(pipe->Report(0, /*final=*/true), want);
}

TEST(EngineSnapshot, RejectsCorruption) {
  engine::NameTable names;
  engine::Engine eng({}, names);
  std::string snap;
  eng.SaveSnapshot(snap);
  std::string err;
  engine::NameTable names2;
  engine::Engine other({}, names2);
  EXPECT_TRUE(other.LoadSnapshot(snap, &err)) << err;
  snap[snap.size() / 2] ^= 1;
  EXPECT_FALSE(other.LoadSnapshot(snap, &err));
  EXPECT_FALSE(other.LoadSnapshot("garbage", &err));
}

}  // namespace
}  // namespace dg::serve
