// Idle-account eviction: the report is the same with and without it (for several idle times and
// thread counts, with accounts really leaving memory and coming back), and start-up pruning
// deletes exactly the rows no stub names. (A checkpoint taken while accounts are evicted, restored
// and continued: tests/serve/serve_evict_test.cc.)
#include <gtest/gtest.h>

#include <filesystem>

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
  void SetUp() override {
    std::string accounts;
    testutil::WriteAll(dir_ / "events.jsonl",
                       testutil::SmallTraffic(42, 80, &accounts, 40, /*tenant=*/true));
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
    return report::ToJson(rep, eng, st, 0);
  }
  testutil::ScopedTempDir dir_ = testutil::TempDir("evict");
};

TEST_F(EvictTest, ReportUnchangedWhileAccountsLeaveAndReturn) {
  const std::string base = Scan(1, 0);
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
