// Activity (hourly buckets, peer medians, bounded history) and PromptSamples (bounded, ordered,
// distinct, UTF-8-safe cuts), and their serialisation.
#include "engine/activity.h"

#include <gtest/gtest.h>

namespace dg::engine {
namespace {

core::EventRecord Ev(uint64_t account, TimeUs ts, int64_t out) {
  core::EventRecord r;
  r.account = account;
  r.ts = ts;
  r.completion_tokens = out;
  return r;
}

constexpr TimeUs kHour = 3600 * kUsPerSec;

TEST(Activity, HourlyBucketsAndPeerMedians) {
  Activity a;
  const TimeUs t0 = 1000 * kHour;
  for (int i = 0; i < 10; ++i) a.OnEvent(Ev(1, t0 + i, 100));  // heavy
  a.OnEvent(Ev(2, t0 + 5, 10));
  a.OnEvent(Ev(3, t0 + 6, 20));
  a.OnEvent(Ev(3, t0 + 7, 20));
  a.OnEvent(Ev(1, t0 + kHour, 50));  // closes hour 1000
  const auto* v = a.Of(1);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].hour, 1000u);
  EXPECT_EQ((*v)[0].requests, 10u);
  EXPECT_EQ((*v)[0].output_tokens, 1000u);
  const auto p = a.Peers(1000);
  EXPECT_EQ(p.accounts, 3u);
  EXPECT_EQ(p.median_requests, 2);        // 10, 1, 2
  EXPECT_EQ(p.median_output, 40);         // 1000, 10, 40
  EXPECT_EQ(a.Peers(1001).accounts, 1u);  // the open hour, computed on the spot
  EXPECT_EQ(a.Peers(999).accounts, 0u);
  // A late event lands in its own hour's bucket.
  a.OnEvent(Ev(2, t0 - kHour, 7));
  ASSERT_EQ(a.Of(2)->size(), 2u);
  EXPECT_EQ(a.Of(2)->front().hour, 999u);
}

TEST(Activity, HistoryIsBoundedAndRoundTrips) {
  Activity a;
  for (uint32_t h = 0; h < Activity::kMaxHours + 50; ++h) a.OnEvent(Ev(7, (5000 + h) * kHour, 1));
  const auto* v = a.Of(7);
  ASSERT_EQ(v->size(), Activity::kMaxHours);
  EXPECT_EQ(v->front().hour, 5050u);
  std::string blob;
  a.Save(blob);
  Activity b;
  std::string err;
  ASSERT_TRUE(b.Load(blob, &err)) << err;
  ASSERT_EQ(b.Of(7)->size(), Activity::kMaxHours);
  EXPECT_EQ(b.Peers(5100).accounts, a.Peers(5100).accounts);
  EXPECT_FALSE(b.Load(blob.substr(0, blob.size() - 3), &err));
  EXPECT_EQ(b.accounts(), 0u);  // a failed load leaves it empty, not half-filled
}

ingest::TextParts Text(std::string_view s) {
  ingest::TextParts t;
  t.Add(s);
  return t;
}

TEST(PromptSamples, KeepsEarliestDistinctSamplesBounded) {
  PromptSamples s(/*max_templates=*/2);
  s.Offer(1, 30, Text("third"));
  s.Offer(1, 10, Text("first"));
  s.Offer(1, 20, Text("second"));
  s.Offer(1, 40, Text("fourth"));
  s.Offer(1, 5, Text("first"));  // same text again: not a second sample
  auto got = s.Get(1);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "first");
  EXPECT_EQ(got[2], "third");
  s.Offer(2, 1, Text("<script>alert(1)</script>"));
  EXPECT_EQ(s.Get(2).at(0), "<script>alert(1)</script>");  // kept verbatim: the UI shows text
  s.Offer(1, 50, Text("x"));  // template 1 seen again: kept when room is needed
  s.Offer(3, 1, Text("new"));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_FALSE(s.Get(1).empty());
  EXPECT_TRUE(s.Get(2).empty());
  std::string blob;
  s.Save(blob);
  PromptSamples t(2);
  std::string err;
  ASSERT_TRUE(t.Load(blob, &err)) << err;
  EXPECT_EQ(t.Get(1), s.Get(1));
}

TEST(PromptSamples, CutsAtCharacterBoundaries) {
  std::string s(PromptSamples::kMaxChars - 1, 'a');
  s += "\xC3\xA9\xC3\xA9";  // é é straddling the cut
  const std::string cut = JoinText(Text(s), PromptSamples::kMaxChars);
  EXPECT_EQ(cut.substr(0, PromptSamples::kMaxChars - 1),
            std::string(PromptSamples::kMaxChars - 1, 'a'));
  EXPECT_EQ(cut.substr(PromptSamples::kMaxChars - 1), "\xE2\x80\xA6");
}

}  // namespace
}  // namespace dg::engine
