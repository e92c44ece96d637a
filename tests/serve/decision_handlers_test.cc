// The gateway handlers through their narrow interfaces, without a Service or its threads:
// POST /v1/decide and /v1/authz share one decision path, so both count by action in the metrics
// and log a decision that would not allow to the store; an allowed one is counted, not logged.
#include "serve/decision_handlers.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace dg::serve {
namespace {

// An ingest thread that is never behind and never runs anything (the handlers do not queue).
class IdleIngest final : public IngestRunner {
 public:
  void Run(Reply reply, Task) override { reply(ApiError(500, "server_error", "no ingest")); }
  bool Lagging() const override { return false; }
  double LagSeconds() const override { return 0; }
  uint64_t processed_seq() const override { return 0; }
};

TEST(DecisionHandlers, DecideAndAuthzShareOneDecisionPath) {
  auto dir = testutil::TempDir("decisions");
  Store store;
  std::string err;
  ASSERT_TRUE(store.Open((dir / "distillguard.db").string(), &err)) << err;
  store.StartThreads("", 1);
  Policy p;
  p.block_accounts.insert("banned");
  VerdictView view;
  FixedClock clock(1'000'000'000);
  Decider decider(p, view, {}, clock);
  ServeConfig cfg;
  ServeMetrics metrics;
  IdleIngest ingest;
  DecisionHandlers h(cfg, clock, decider, ingest, store, metrics);

  HttpRequest decide;
  decide.method = "POST";
  decide.path = "/v1/decide";
  decide.body = R"({"account_id":"banned"})";
  const HttpResponse d = h.Decide(decide);
  EXPECT_EQ(d.status, 200);
  EXPECT_NE(d.body.find(R"("action":"block")"), std::string::npos) << d.body;

  HttpRequest authz;
  authz.method = "GET";
  authz.path = "/v1/authz";
  authz.headers["x-dg-account"] = "banned";
  const HttpResponse a = h.Authz(authz);
  EXPECT_EQ(a.status, 403);
  EXPECT_NE(a.body.find("account_blocked"), std::string::npos) << a.body;
  authz.headers["x-dg-account"] = "nobody";
  EXPECT_EQ(h.Authz(authz).status, 200);

  store.Stop();  // drains the decision log writer
  auto counts = store.WouldCounts();
  EXPECT_EQ(counts["banned"][static_cast<size_t>(Action::kBlock)], 2u);
  EXPECT_EQ(counts.count("nobody"), 0u);
  const std::string m = metrics.Render(store, 0);
  EXPECT_NE(m.find(R"(distillguard_decisions_total{action="block"} 2)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(distillguard_decisions_total{action="allow"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("distillguard_decide_seconds_count 1\n"), std::string::npos) << m;
}

}  // namespace
}  // namespace dg::serve
