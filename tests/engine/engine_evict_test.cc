// Idle-account eviction: the report is the same with and without it (for several idle times and
// thread counts, with accounts really leaving memory and coming back), and start-up pruning
// deletes exactly the rows no stub names. (A checkpoint taken while accounts are evicted, restored
// and continued: tests/serve/serve_evict_test.cc.)
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/hash.h"
#include "engine/account_registry.h"
#include "engine/engine.h"
#include "engine/scan.h"
#include "report/report.h"
#include "state/evict_store.h"
#include "testutil/testutil.h"

namespace dg::engine {
namespace {

namespace fs = std::filesystem;

class EvictTest : public ::testing::Test {
 protected:
  // SmallTraffic (ordinary accounts come and go all day), plus a router with end users and a
  // company with two API keys, both silent from 10:00 to 16:00 each day: their end-user and key
  // trackers must leave memory with them and come back.
  void SetUp() override {
    std::string accounts;
    const std::string small = testutil::SmallTraffic(42, 80, &accounts, 40, /*tenant=*/true);
    std::vector<std::pair<std::string, std::string>> lines;  // (ts text, line): RFC 3339 sorts
    for (size_t p = 0; p < small.size();) {
      const size_t e = small.find('\n', p);
      const size_t ts = small.find("\"ts\":\"", p) + 6;
      lines.emplace_back(small.substr(ts, small.find('"', ts) - ts), small.substr(p, e - p));
      p = e + 1;
    }
    const TimeUs t0 = *ParseRfc3339("2025-03-03T00:00:00Z");
    auto quiet = [&](TimeUs ts) {
      const TimeUs tod = (ts - t0) % kUsPerDay;
      return tod >= 10 * kUsPerHour && tod < 16 * kUsPerHour;
    };
    for (auto& [ts, line] : testutil::RouterWithPoolEndUser(t0)) {
      if (!quiet(ts)) lines.emplace_back(FormatRfc3339(ts), line);
    }
    for (int i = 0; i < 600; ++i) {
      testutil::ExchangeSpec x;
      x.ts = t0 + i * 240 * kUsPerSec;
      if (quiet(x.ts)) continue;
      x.account = "keyco";
      x.prompt = fmt::format("Summarise ticket {} for the support queue", i);
      std::string line = testutil::ExchangeLine(x);
      const std::string key = i % 3 ? "k-main" : "k-batch";
      line.replace(line.find("\"account_id\""), 0, "\"api_key_id\":\"" + key + "\",");
      lines.emplace_back(FormatRfc3339(x.ts), line);
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string all;
    for (const auto& [ts, line] : lines) all += line + "\n";
    testutil::WriteAll(dir_ / "events.jsonl", all);
    testutil::WriteAll(dir_ / "accounts.jsonl", accounts);
  }
  // Scans the events (optionally evicting after `idle`); returns the report JSON.
  std::string Scan(int threads, TimeUs idle, EvictStats* stats = nullptr) {
    NameTable names;
    EngineOptions eo;
    eo.threads = threads;
    Engine eng(eo, names);
    if (idle > 0) {
      std::string err;
      EXPECT_TRUE(eng.EnableEviction(
          {.idle = idle, .path = (dir_ / "scan.db").string(), .durable = false}, &err))
          << err;
    }
    LoadAccountRegistry((dir_ / "accounts.jsonl").string(), eng, names);
    ScanOptions so;
    so.inputs = {(dir_ / "events.jsonl").string()};
    so.threads = threads;
    auto st = RunScan(so, eng, names);
    if (stats) *stats = eng.evict_stats();
    eng.RestoreAll();
    auto rep = report::Build(eng);
    // The trackers' contents (the report shows only flagged units).
    std::string trackers;
    for (const auto* t : {eng.EndUsersOf(Hash64("router", kHashAccount)),
                          eng.KeysOf(Hash64("keyco", kHashAccount))}) {
      EXPECT_NE(t, nullptr);
      if (!t) continue;
      for (const auto& e : t->counts.entries()) {
        trackers += fmt::format("{}:{}:{} ", e.key, e.count, e.error);
      }
      for (const auto& sl : t->slots) {
        trackers +=
            fmt::format("\n{} {} {} {} {} {}", sl.unit, sl.seen, sl.state.requests,
                        sl.state.output_tokens, sl.state.last_ts, sl.state.verdict.peak_score);
      }
      trackers += "\n";
    }
    return report::ToJson(rep, eng, st, 0) + "\n" + trackers;
  }
  testutil::ScopedTempDir dir_ = testutil::TempDir("evict");
};

TEST_F(EvictTest, ReportUnchangedWhileAccountsLeaveAndReturn) {
  const std::string base = Scan(1, 0);
  // The router's end user is flagged on its own in the report.
  ASSERT_NE(base.find("pool-9"), std::string::npos);
  for (TimeUs idle : {20 * kUsPerMin, 2 * kUsPerHour}) {
    for (int threads : {1, 2}) {
      EvictStats st;
      EXPECT_EQ(base, Scan(threads, idle, &st)) << "idle " << idle << " threads " << threads;
      // Accounts really left memory and came back, and some were still out at the end.
      EXPECT_GT(st.evictions, 50u);
      EXPECT_GT(st.restores, 20u);
      EXPECT_GT(st.evicted, 0u);
      EXPECT_EQ(st.errors, 0u);
    }
  }
}

TEST_F(EvictTest, PruneDeletesRowsNoStubNames) {
  NameTable names;
  Engine eng(EngineOptions{}, names);
  std::string err;
  const std::string path = (dir_ / "prune.db").string();
  ASSERT_TRUE(eng.EnableEviction({.idle = 20 * kUsPerMin, .path = path}, &err)) << err;
  ScanOptions so;
  so.inputs = {(dir_ / "events.jsonl").string()};
  RunScan(so, eng, names);
  const auto st = eng.evict_stats();
  ASSERT_GT(st.evicted, 0u);
  ASSERT_GT(st.restores, 0u);
  state::EvictStore probe;
  ASSERT_TRUE(probe.Open(path, true, false, &err)) << err;
  // Durable mode keeps restored accounts' rows until a checkpoint no longer names them.
  EXPECT_GT(probe.Rows(), st.evicted);
  // A row written after the checkpoint a restart loads (no stub names it) goes too.
  ASSERT_TRUE(probe.Begin());
  ASSERT_NE(probe.Insert(1, "orphan"), 0u);
  ASSERT_TRUE(probe.Commit());
  ASSERT_TRUE(eng.PruneEvictStore(&err)) << err;
  EXPECT_EQ(probe.Rows(), st.evicted);
  // Every remaining row restores.
  eng.RestoreAll();
  EXPECT_EQ(eng.evict_stats().errors, 0u);
  EXPECT_EQ(eng.evict_stats().evicted, 0u);
}

}  // namespace
}  // namespace dg::engine
