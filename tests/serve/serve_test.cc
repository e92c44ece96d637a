// Unit tests of the serve components: WAL framing and torn-tail recovery, GCRA buckets, config
// parsing, the decider, and the property the crash test relies on: checkpoint + restore at any
// body boundary, then replay, gives the same final report as `scan` of the same events. Also
// the live service against hostile clients on raw sockets (bad escapes, numbers, bodies, HTTP
// syntax, limits, a slow client): each gets its error status and the service keeps working.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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
#include "serve/http_util.h"
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
api_key_flagged = "block"
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
  EXPECT_EQ(c.policy.api_key_flagged_action, Action::kBlock);
  EXPECT_EQ(c.policy.level_action[2], Action::kDegrade);
  EXPECT_EQ(c.policy.throttled.rate, 2.0);
  EXPECT_EQ(c.policy.account_requests.burst, 200);
  EXPECT_TRUE(c.policy.allow_accounts.count("good"));
  ASSERT_EQ(c.policy.detectors.size(), 1u);
  EXPECT_EQ(c.policy.detectors[0].action, Action::kDegrade);
  EXPECT_THROW(LoadConfigText("[policy]\nflagged = \"explode\"\n", c), std::runtime_error);
  // Numbers outside an integer key's range are refused, not converted (undefined behaviour;
  // found by fuzz/serve_config_fuzz.cc).
  EXPECT_THROW(LoadConfigText("[http]\nmax_body_bytes = -1\n", c), std::runtime_error);
  EXPECT_THROW(LoadConfigText("[http]\nthreads = 3e12\n", c), std::runtime_error);
  EXPECT_THROW(LoadConfigText("[http]\nthreads = nan\n", c), std::runtime_error);
  EXPECT_THROW(LoadConfigText("[durability]\nwal_segment_bytes = inf\n", c), std::runtime_error);
  ServeConfig ok;
  LoadConfigText("[http]\nthreads = 3.9\nmax_body_bytes = 0\n", ok);
  EXPECT_EQ(ok.http_threads, 3);
}

TEST(Decider, VerdictsListsAndThrottle) {
  Policy p;
  p.allow_accounts.insert("vip");
  p.block_accounts.insert("banned");
  VerdictView view;
  AccountVerdict v;
  v.flagged = true;
  v.level = 3;
  view.Update({{Hash64("bad", core::kHashAccount), v}});
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
  const uint64_t router = Hash64("router", core::kHashAccount);
  AccountVerdict quiet;  // the router: judged as a whole, not flagged
  AccountVerdict eu;
  eu.flagged = true;
  eu.level = 2;
  view.Update({{router, quiet},
               {VerdictView::EndUserKey(router, Hash64("pool-9", core::kHashEndUser)), eu}});
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

// An API key flagged on its own inside a company's account is contained alone: requests on that
// key are throttled, the company's other keys and the account pass.
TEST(Decider, FlaggedApiKeyIsContainedAloneWithinItsAccount) {
  Policy p;
  VerdictView view;
  const uint64_t acme = Hash64("acme", engine::kHashAccount);
  AccountVerdict quiet;  // the company: deferring to its keys, not flagged
  AccountVerdict key;
  key.flagged = true;
  key.level = 2;
  view.Update({{acme, quiet},
               {VerdictView::ApiKeyKey(acme, Hash64("key-leaked-9", engine::kHashApiKey)), key}});
  FixedClock clock(1'000'000'000);
  Decider d(p, view, {}, clock);
  DecisionInput in;
  in.account_id = "acme";
  in.api_key_id = "key-leaked-9";
  auto first = d.Decide(in, false, true);
  EXPECT_EQ(first.action, Action::kDegrade);  // within its throttled allowance
  EXPECT_NE(std::find(first.reasons.begin(), first.reasons.end(), "flagged:api_key"),
            first.reasons.end());
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kThrottle);
  in.api_key_id = "key-dev-1";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  in.api_key_id = {};
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  // The same key id under another account is another key.
  in.account_id = "other-co";
  in.api_key_id = "key-leaked-9";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  Policy blocking;
  blocking.api_key_flagged_action = Action::kBlock;
  Decider strict(blocking, view, {}, clock);
  in.account_id = "acme";
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

// ---------------------------------------------------------------------------------------------
// Hostile clients on raw sockets.

int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `bytes` on a fresh connection (then shuts down the write side when `shut_wr`), and
// reads until the server closes the connection or `timeout_s` passes. Returns all bytes read.
std::string RawExchange(uint16_t port, const std::string& bytes, bool shut_wr = false,
                        double timeout_s = 10) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "connect failed";
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (413, 400) before reading everything
    sent += static_cast<size_t>(n);
  }
  if (shut_wr) ::shutdown(fd, SHUT_WR);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  char buf[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return -1;
  return ParseNumber<int>(std::string_view(response).substr(9, 3)).value_or(-1);
}

std::string BodyOf(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : response.substr(p + 4);
}

// A request with Connection: close, so that the server ends the exchange after its answer.
std::string Req(std::string_view method, std::string_view target, std::string_view body = {},
                std::string_view extra_headers = {}, bool admin = true) {
  return fmt::format(
      "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{}{}Content-Length: {}\r\n\r\n{}",
      method, target, admin ? "Authorization: Bearer t\r\n" : "", extra_headers, body.size(), body);
}

uint64_t MetricValue(uint16_t port, std::string_view name) {
  const std::string body = BodyOf(RawExchange(port, Req("GET", "/metrics", {}, {}, false)));
  const std::string key = std::string("\n") + std::string(name) + " ";
  const auto p = body.find(key);
  if (p == std::string::npos) return UINT64_MAX;
  const auto start = p + key.size();
  return ParseNumber<uint64_t>(std::string_view(body).substr(start, body.find('\n', start) - start))
      .value_or(UINT64_MAX);
}

TEST(ServiceTest, HostileRequestsAreAnsweredAndTheServiceSurvives) {
  // Raw bytes with an embedded NUL: the length comes from the array, not from a count.
  static constexpr char kGarbage[] = "\x16\x03\x01\x02\x00\xff\xfe garbage\r\n\r\n";
  auto dir = testutil::TempDir("serve-hostile");
  ServeConfig cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.data_dir = dir.string();
  cfg.admin_token = "t";
  cfg.fsync = false;
  cfg.lateness_s = 0;
  cfg.log_decisions = false;
  cfg.read_timeout_s = 1;
  cfg.max_body_bytes = 256 << 10;
  SystemClock clock;
  Service service(cfg, clock);
  std::string err;
  ASSERT_TRUE(service.Start(&err)) << err;
  const uint16_t port = service.port();
  const uint64_t bad_before = MetricValue(port, "distillguard_bad_requests_total");
  ASSERT_EQ(bad_before, 0u);

  struct Case {
    std::string name, bytes;
    int want;
    std::string body_has;  // expected in the answer's body
    bool shut_wr = false;
  };
  const std::string gz_valid = testutil::Gzip("{\"ts\":\"2025-01-01T00:00:00Z\"}\n");
  const std::vector<Case> cases = {
      {"bad escape in authz query", Req("GET", "/v1/authz?gateway=%zz", {}, {}, false), 400,
       R"("param":"gateway")"},
      {"truncated escape at the end of the query",
       Req("GET", "/v1/authz?gateway=nginx%", {}, {}, false), 400,
       R"("type":"invalid_request_error")"},
      {"since not a number", Req("GET", "/v1/alerts?since=x"), 400, R"("param":"since")"},
      {"limit overflows", Req("GET", "/v1/alerts?limit=99999999999999999999"), 400, "out of range"},
      {"limit negative", Req("GET", "/v1/alerts?limit=-1"), 400, R"("param":"limit")"},
      {"limit bad escape", Req("GET", "/v1/alerts?limit=%"), 400, R"("param":"limit")"},
      {"limit huge but valid is clamped", Req("GET", "/v1/alerts?limit=5000000"), 200, "["},
      {"bad escape in the path", Req("GET", "/v1/accounts/%zz"), 400, R"("param":"account_id")"},
      {"truncated escape in the path", Req("GET", "/v1/clusters/abc%4"), 400,
       R"("param":"cluster_id")"},
      {"batch id not a number", Req("POST", "/v1/events", "x\n", "x-dg-batch-id: abc\r\n"), 400,
       R"("param":"x-dg-batch-id")"},
      {"batch id negative", Req("POST", "/v1/events", "x\n", "x-dg-batch-id: -1\r\n"), 400,
       R"("param":"x-dg-batch-id")"},
      {"batch id overflows",
       Req("POST", "/v1/events", "x\n", "x-dg-batch-id: 99999999999999999999999\r\n"), 400,
       "out of range"},
      {"garbage gzip events",
       Req("POST", "/v1/events", "\x1f\x8bgarbage", "Content-Encoding: gzip\r\n"), 400, "gzip"},
      {"truncated gzip events",
       Req("POST", "/v1/events", gz_valid.substr(0, gz_valid.size() / 2),
           "Content-Encoding: gzip\r\n"),
       400, "gzip"},
      // Bad lines in an event batch are the pipeline's business (counted as rejected, like
      // scan does): the batch itself is logged and acknowledged.
      {"bad JSON events are logged", Req("POST", "/v1/events", "not json\n{\"ts\":\n"), 200,
       R"("accepted":true)"},
      {"bad JSON decide", Req("POST", "/v1/decide", R"({"account_id":)", {}, false), 400,
       "invalid_body"},
      {"gzip garbage decide", Req("POST", "/v1/decide", "\x1f\x8b\x08garbage", {}, false), 400,
       "invalid_body"},
      {"decide without account", Req("POST", "/v1/decide", "{}", {}, false), 400,
       R"("param":"account_id")"},
      {"decide with absurd sizes",
       Req("POST", "/v1/decide",
           R"({"account_id":"a","request":{"n":99999999999,"max_tokens":-99999999999}})", {},
           false),
       200, "action"},
      {"oversized header",
       Req("GET", "/healthz", {}, "x-big: " + std::string(40 << 10, 'a') + "\r\n", false), 413,
       "request_too_large"},
      {"oversized body", Req("POST", "/v1/events", std::string((256 << 10) + 1, 'a')), 413,
       "request_too_large"},
      {"wrong method on decide", Req("GET", "/v1/decide", {}, {}, false), 405,
       "method_not_allowed"},
      {"wrong method on report", Req("DELETE", "/v1/report"), 405, "method_not_allowed"},
      {"unknown endpoint", Req("GET", "/v1/nothing"), 404, "not_found"},
      {"garbage bytes", std::string(kGarbage, sizeof(kGarbage) - 1), 400, "invalid_http"},
      {"garbage then close", "\x01\x02\x03 not http at all", 400, "invalid_http", true},
      {"request line without version", "GET /healthz\r\n\r\n", 400, "invalid_http"},
      {"header without colon", "GET /healthz HTTP/1.1\r\nbadheader\r\n\r\n", 400, "invalid_http"},
      {"bad chunk size",
       "POST /v1/decide HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400,
       "invalid_http"},
  };
  int bad_answers = 0;
  for (const auto& c : cases) {
    const std::string resp = RawExchange(port, c.bytes, c.shut_wr);
    const int status = StatusOf(resp);
    EXPECT_EQ(status, c.want) << c.name << ":\n" << resp.substr(0, 400);
    EXPECT_NE(BodyOf(resp).find(c.body_has), std::string::npos) << c.name << ":\n" << resp;
    if (status == 400 || status == 405 || status == 413) {
      ++bad_answers;
      EXPECT_NE(resp.find("Connection: close"), std::string::npos) << c.name;
      EXPECT_NE(BodyOf(resp).find(R"({"error":{"message":)"), std::string::npos) << c.name;
    }
  }

  // A slow client trickling a header, one byte every 200 ms, is cut off after read_timeout_s.
  {
    const int fd = ConnectLoopback(port);
    ASSERT_GE(fd, 0);
    const std::string slow = "GET /healthz HTTP/1.1\r\nx-slow: " + std::string(200, 'a');
    const auto t0 = std::chrono::steady_clock::now();
    double cut_after = -1;
    for (char ch : slow) {
      if (::send(fd, &ch, 1, MSG_NOSIGNAL) != 1) break;
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 200) > 0) {
        char b;
        if (::recv(fd, &b, 1, MSG_DONTWAIT) <= 0) break;  // closed by the server
      }
    }
    cut_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    EXPECT_GE(cut_after, 0.8);
    EXPECT_LT(cut_after, 3.0) << "a slow client was not cut off by the read timeout";
  }

  // Still alive and correct: health, an acknowledged batch, and its account in the report.
  const std::string health = RawExchange(port, Req("GET", "/healthz", {}, {}, false));
  EXPECT_EQ(StatusOf(health), 200) << health;
  EXPECT_NE(BodyOf(health).find(R"("status":"ok")"), std::string::npos);
  testutil::ExchangeSpec e;
  e.ts = *ParseRfc3339("2025-04-01T00:00:00Z");
  e.account = "hostile-survivor";
  e.prompt = "hello";
  const std::string ack = RawExchange(
      port, Req("POST", "/v1/events", testutil::ExchangeLine(e) + "\n", "x-dg-batch-id: 7\r\n"));
  EXPECT_EQ(StatusOf(ack), 200) << ack;
  EXPECT_NE(BodyOf(ack).find(R"("accepted":true)"), std::string::npos) << ack;
  const std::string report = RawExchange(port, Req("GET", "/v1/report?final=1"));
  EXPECT_EQ(StatusOf(report), 200);
  EXPECT_NE(BodyOf(report).find(R"("account_id":"hostile-survivor")"), std::string::npos)
      << report.substr(0, 2000);
  EXPECT_EQ(MetricValue(port, "distillguard_bad_requests_total"),
            static_cast<uint64_t>(bad_answers));
  EXPECT_EQ(MetricValue(port, "distillguard_request_exceptions_total"), 0u);
  service.Stop();
}

// A handler that answers and then throws must not answer twice.
TEST(ServiceTest, ReplyOnceAnswersOnce) {
  int calls = 0;
  Reply r = ReplyOnce([&](HttpResponse) { ++calls; });
  r(HttpResponse{});
  r(HttpResponse{});
  Reply copy = r;
  copy(HttpResponse{});
  EXPECT_EQ(calls, 1);
}

std::string ScanReport(const std::string& path, const std::string& accounts, TimeUs lateness) {
  core::NameTable names;
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
  core::NameTable names;
  engine::Engine eng({}, names);
  std::string snap;
  eng.SaveSnapshot(snap);
  std::string err;
  core::NameTable names2;
  engine::Engine other({}, names2);
  EXPECT_TRUE(other.LoadSnapshot(snap, &err)) << err;
  snap[snap.size() / 2] ^= 1;
  EXPECT_FALSE(other.LoadSnapshot(snap, &err));
  EXPECT_FALSE(other.LoadSnapshot("garbage", &err));
}

}  // namespace
}  // namespace dg::serve
