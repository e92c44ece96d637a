// The driver core shared by scan and serve: record numbering and the reorder buffer.
#include "engine/reorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <queue>
#include <random>

namespace dg::engine {
namespace {

EventRecord Rec(TimeUs ts, uint64_t line) {
  EventRecord r{};
  r.ts = ts;
  r.line = line;
  r.seq = RecordSeq(0, line, 1);
  return r;
}

std::vector<uint64_t> Lines(const std::vector<EventRecord>& rs) {
  std::vector<uint64_t> out;
  for (const auto& r : rs) out.push_back(r.line);
  return out;
}

TEST(Reorder, SeqOrdersBySourceThenLineThenIndex) {
  EXPECT_LT(RecordSeq(0, 7, 1), RecordSeq(0, 8, 1));
  EXPECT_LT(RecordSeq(0, 7, 1), RecordSeq(0, 7, 2));
  EXPECT_LT(RecordSeq(0, 1u << 20, 255), RecordSeq(1, 1, 1));
  EXPECT_EQ(RecordSeq(2, 5, 257), (uint64_t{2} << 48) | (5u << 8) | 1u);
}

TEST(Reorder, HoldsRecordsUntilTheWatermarkPasses) {
  ReorderBuffer b(10);
  std::vector<EventRecord> out;
  auto sink = [&](const EventRecord& r) { out.push_back(r); };
  b.Add(Rec(100, 1));
  b.Release(false, sink);
  EXPECT_TRUE(out.empty());  // watermark 90
  b.Add(Rec(105, 2));
  b.Add(Rec(111, 3));  // watermark 101: releases ts 100
  b.Release(false, sink);
  EXPECT_EQ(Lines(out), (std::vector<uint64_t>{1}));
  EXPECT_EQ(b.pending(), 2u);
  b.Release(true, sink);  // end of input: everything
  EXPECT_EQ(Lines(out), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(b.pending(), 0u);
}

TEST(Reorder, CountsLateArrivalsAndStillReleasesThem) {
  ReorderBuffer b(10);
  uint64_t reordered = 0, beyond = 0;
  std::vector<EventRecord> out;
  auto sink = [&](const EventRecord& r) { out.push_back(r); };
  b.Add(Rec(100, 1), reordered, beyond);
  b.Add(Rec(120, 2), reordered, beyond);
  b.Release(false, sink);                 // watermark 110 releases ts 100
  b.Add(Rec(115, 3), reordered, beyond);  // out of order, within the lateness
  b.Add(Rec(50, 4), reordered, beyond);   // older than what was released
  EXPECT_EQ(reordered, 1u);
  EXPECT_EQ(beyond, 1u);
  b.Release(false, sink);  // the late record is released where it lands
  b.Release(true, sink);
  EXPECT_EQ(Lines(out), (std::vector<uint64_t>{1, 4, 3, 2}));
}

// The reference: one heap and the watermark rule (what serve's pipeline used to keep).
struct OneHeap {
  TimeUs lateness;
  std::priority_queue<EventRecord, std::vector<EventRecord>, LaterRecord> heap;
  TimeUs max_ts = INT64_MIN;
  void Add(const EventRecord& r) {
    max_ts = std::max(max_ts, r.ts);
    heap.push(r);
  }
  void Release(bool end, std::vector<EventRecord>& out) {
    const TimeUs w = end ? INT64_MAX : max_ts - lateness;
    while (!heap.empty() && heap.top().ts <= w) {
      out.push_back(heap.top());
      heap.pop();
    }
  }
};

// The in-order queue and the heap together give exactly what one heap gives, for any arrival
// order and any release points; Pending() and Restore() continue it unchanged.
TEST(Reorder, SameOutputAsOneHeapWhateverTheArrivalOrder) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const TimeUs lateness = static_cast<TimeUs>(rng() % 50);
    ReorderBuffer b(lateness);
    OneHeap ref{lateness};
    std::vector<EventRecord> out, want;
    for (uint64_t i = 1; i <= 300; ++i) {
      // Mostly in order, some late, some far behind the lateness.
      const TimeUs jitter = rng() % 4 == 0 ? static_cast<TimeUs>(rng() % 120) : 0;
      const EventRecord r = Rec(static_cast<TimeUs>(i * 3) - jitter, i);
      b.Add(r);
      ref.Add(r);
      if (rng() % 5 == 0) {
        b.Release(false, [&](const EventRecord& x) { out.push_back(x); });
        ref.Release(false, want);
      }
      if (i == 150) {  // a checkpoint and a restore in the middle
        ReorderBuffer restored(lateness);
        restored.Restore(b.max_ts(), b.released_ts(), b.Pending());
        EXPECT_EQ(Lines(restored.Pending()), Lines(b.Pending()));
        b = restored;
      }
    }
    b.Release(true, [&](const EventRecord& x) { out.push_back(x); });
    ref.Release(true, want);
    ASSERT_EQ(Lines(out), Lines(want)) << "trial " << trial;
  }
}

TEST(Reorder, WithAmpleLatenessTheOutputIsFullySorted) {
  std::mt19937_64 rng(11);
  std::vector<EventRecord> in;
  for (uint64_t i = 1; i <= 500; ++i) in.push_back(Rec(static_cast<TimeUs>(rng() % 100), i));
  ReorderBuffer b(1000);
  std::vector<EventRecord> out;
  for (const auto& r : in) {
    b.Add(r);
    b.Release(false, [&](const EventRecord& r) { out.push_back(r); });
  }
  EXPECT_TRUE(out.empty());
  const auto pending = b.Pending();
  EXPECT_EQ(b.pending(), in.size());  // Pending() releases nothing
  b.Release(true, [&](const EventRecord& r) { out.push_back(r); });
  EXPECT_EQ(Lines(out), Lines(pending));
  std::vector<EventRecord> sorted = in;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
  });
  EXPECT_EQ(Lines(out), Lines(sorted));
}

}  // namespace
}  // namespace dg::engine
