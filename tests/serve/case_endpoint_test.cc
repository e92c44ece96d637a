// serve's case endpoints: GET /v1/case-files and /v1/case-files/{id} build the flagged clusters' case
// files from the live state (golden input: one flagged cluster of two), with the decisions logged
// for the members (actions taken) and forensics attached by POST /v1/case-files/{id}/forensics, which
// are kept in SQLite across a restart; bad input is refused with 400/404/405.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "common/time.h"
#include "report/case_file.h"
#include "serve/config.h"
#include "serve/service.h"
#include "testutil/testutil.h"

namespace dg::serve {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(DG_SOURCE_DIR) / "tests/report/data/golden";

HttpResponse Call(Service& service, std::string method, std::string target, std::string body = {}) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = target;
  const auto q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? std::string() : target.substr(q + 1);
  req.body = std::move(body);
  req.headers["authorization"] = "Bearer t";
  std::promise<HttpResponse> done;
  auto got = done.get_future();
  service.Handle(std::move(req), [&](HttpResponse r) { done.set_value(std::move(r)); });
  return got.get();
}

ServeConfig Config(const fs::path& dir) {
  ServeConfig cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.data_dir = dir.string();
  cfg.admin_token = "t";
  cfg.fsync = false;
  cfg.lateness_s = 0;
  cfg.accounts_path = (kGolden / "accounts.jsonl").string();
  cfg.geoip_path = "none";
  return cfg;
}

// Polls `target` until `pred` holds for its answer (ingest and the decision log are async).
HttpResponse Await(Service& s, const std::string& target,
                   const std::function<bool(const HttpResponse&)>& pred) {
  HttpResponse r;
  for (int i = 0; i < 500; ++i) {
    r = Call(s, "GET", target);
    if (pred(r)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return r;
}

TEST(ServiceTest, CaseFilesWithActionsAndForensicsSurviveRestart) {
  auto dir = testutil::TempDir("serve-cases");
  const char kRadio[] =
      R"({"scheme":"vllm-gumbel","suspect_texts":40,"pooled":{"scored":900,"statistic":1400,"log10_p":-61.5},"bad_lines":0})";
  {
    SystemClock clock;
    Service service(Config(dir), clock);
    std::string err;
    ASSERT_TRUE(service.Start(&err)) << err;
    ASSERT_EQ(
        Call(service, "POST", "/v1/events", testutil::ReadAll(kGolden / "events.jsonl")).status,
        200);
    auto list = Await(service, "/v1/case-files?final=1", [](const HttpResponse& r) {
      return r.body.find("C-cot-harvester") != std::string::npos;
    });
    ASSERT_EQ(list.status, 200);
    ASSERT_NE(list.body.find(R"("cluster_id":"C-cot-harvester")"), std::string::npos) << list.body;
    auto attach =
        Call(service, "POST", "/v1/case-files/C-cot-harvester/forensics?label=suspect%20model", kRadio);
    ASSERT_EQ(attach.status, 200) << attach.body;
    EXPECT_NE(attach.body.find(R"("kind":"radioactivity")"), std::string::npos);
    EXPECT_EQ(Call(service, "POST", "/v1/case-files/C-cot-harvester/forensics", "{nope").status, 400);
    EXPECT_EQ(Call(service, "POST", "/v1/case-files/no-such-cluster/forensics", kRadio).status, 404);
    EXPECT_EQ(Call(service, "GET", "/v1/case-files/C-cot-harvester/forensics").status, 405);
    EXPECT_EQ(Call(service, "GET", "/v1/case-files/C-cot-harvester?format=pdf").status, 400);
    // Decisions for a member (once its flag is published: throttled) are the actions taken.
    auto one = Await(service, "/v1/case-files/C-cot-harvester?final=1", [&](const HttpResponse& r) {
      Call(service, "POST", "/v1/decide", R"({"account_id":"cot-harvester"})");
      return r.body.find(R"("account_id":"cot-harvester","action")") != std::string::npos;
    });
    ASSERT_EQ(one.status, 200);
    report::Case c;
    ASSERT_TRUE(report::ParseCase(one.body, &c, &err)) << err;
    EXPECT_EQ(c.members.size(), 2u);
    ASSERT_FALSE(c.actions.empty()) << one.body;
    EXPECT_EQ(c.actions[0].account_id, "cot-harvester");
    EXPECT_NE(c.actions[0].action, "allow");
    ASSERT_EQ(c.forensics.size(), 1u);
    EXPECT_EQ(c.forensics[0].label, "suspect model");
    EXPECT_DOUBLE_EQ(c.forensics[0].log10_p, -61.5);
    auto md = Call(service, "GET", "/v1/case-files/C-cot-harvester?format=md&final=1");
    EXPECT_EQ(md.content_type, "text/markdown; charset=utf-8");
    EXPECT_NE(md.body.find("# Case C-cot-harvester"), std::string::npos);
    EXPECT_NE(md.body.find("10^-61.50"), std::string::npos);
    service.Stop();
  }
  // Restart on the same data directory: the attachment is still there.
  SystemClock clock;
  Service again(Config(dir), clock);
  std::string err;
  ASSERT_TRUE(again.Start(&err)) << err;
  auto one = Await(again, "/v1/case-files/C-cot-harvester?final=1",
                   [](const HttpResponse& r) { return r.status == 200; });
  ASSERT_EQ(one.status, 200) << one.body;
  report::Case c;
  ASSERT_TRUE(report::ParseCase(one.body, &c, &err)) << err;
  ASSERT_EQ(c.forensics.size(), 1u);
  EXPECT_EQ(c.forensics[0].label, "suspect model");
  again.Stop();
}

}  // namespace
}  // namespace dg::serve
