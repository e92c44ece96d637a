// policy.require_watermarking: which decisions strip a client's watermarking opt-out
// ("watermarking" in Decision::strip, sent as x-dg-strip), for each setting, and its TOML key.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/hash.h"
#include "common/time.h"
#include "core/event.h"
#include "serve/config.h"
#include "serve/decider.h"

namespace dg::serve {
namespace {

bool Strips(const Decision& d) {
  return std::find(d.strip.begin(), d.strip.end(), "watermarking") != d.strip.end();
}

struct World {
  VerdictView view;
  FixedClock clock{1'000'000'000};
  World() {
    AccountVerdict flagged;
    flagged.flagged = true;
    flagged.level = 3;
    AccountVerdict cluster;
    cluster.cluster_flagged = true;
    AccountVerdict medium;
    medium.level = 2;
    const uint64_t shared = Hash64("shared", core::kHashAccount);
    AccountVerdict key;
    key.flagged = true;
    view.Update({{Hash64("flagged", core::kHashAccount), flagged},
                 {Hash64("member", core::kHashAccount), cluster},
                 {Hash64("medium", core::kHashAccount), medium},
                 {shared, AccountVerdict{}},
                 {VerdictView::ApiKeyKey(shared, Hash64("k-bad", core::kHashApiKey)), key}});
  }
};

Decision DecideFor(Decider& d, const char* account, const char* key = "") {
  DecisionInput in;
  in.account_id = account;
  in.api_key_id = key;
  return d.Decide(in, false, true);
}

TEST(RequireWatermarking, OffNeverStrips) {
  World w;
  Policy p;
  Decider d(p, w.view, {}, w.clock);
  EXPECT_FALSE(Strips(DecideFor(d, "flagged")));
  EXPECT_FALSE(Strips(DecideFor(d, "nobody")));
}

TEST(RequireWatermarking, FlaggedStripsForFlaggedAccountsClustersAndKeysOnly) {
  World w;
  Policy p;
  p.require_watermarking = WatermarkRequirement::kFlagged;
  p.level_action[2] = Action::kDegrade;  // a medium account is degraded but not flagged
  Decider d(p, w.view, {}, w.clock);
  Decision first = DecideFor(d, "flagged");
  EXPECT_EQ(first.action, Action::kDegrade);  // within the throttled allowance
  EXPECT_TRUE(Strips(first));
  // Refused (429) requests carry it too: harmless, and the header set stays the same.
  EXPECT_TRUE(Strips(DecideFor(d, "flagged")));
  EXPECT_TRUE(Strips(DecideFor(d, "member")));
  EXPECT_TRUE(Strips(DecideFor(d, "shared", "k-bad")));
  EXPECT_FALSE(Strips(DecideFor(d, "shared", "k-good")));
  Decision medium = DecideFor(d, "medium");
  EXPECT_EQ(medium.action, Action::kDegrade);
  EXPECT_FALSE(Strips(medium));
  EXPECT_FALSE(Strips(DecideFor(d, "nobody")));
}

TEST(RequireWatermarking, ContainedAlsoStripsForDegradedAndRateLimited) {
  World w;
  Policy p;
  p.require_watermarking = WatermarkRequirement::kContained;
  p.level_action[2] = Action::kDegrade;
  p.account_requests = {1.0 / 3600, 1};  // one request an hour, then rate-limited
  Decider d(p, w.view, {}, w.clock);
  EXPECT_TRUE(Strips(DecideFor(d, "medium")));
  Decision ok = DecideFor(d, "quiet");
  EXPECT_EQ(ok.action, Action::kAllow);
  EXPECT_FALSE(Strips(ok));
  Decision limited = DecideFor(d, "quiet");
  EXPECT_EQ(limited.action, Action::kThrottle);
  EXPECT_TRUE(Strips(limited));
}

TEST(RequireWatermarking, AlwaysStripsExceptBlockAndShadow) {
  World w;
  Policy p;
  p.require_watermarking = WatermarkRequirement::kAlways;
  p.block_accounts.insert("banned");
  Decider d(p, w.view, {}, w.clock);
  EXPECT_TRUE(Strips(DecideFor(d, "nobody")));
  EXPECT_FALSE(Strips(DecideFor(d, "banned")));  // never reaches the model
  Policy shadow = p;
  shadow.shadow = true;
  Decider s(shadow, w.view, {}, w.clock);
  EXPECT_FALSE(Strips(DecideFor(s, "nobody")));  // shadow mode enforces nothing
}

TEST(RequireWatermarking, ConfigKey) {
  ServeConfig c;
  LoadConfigText("[policy]\nrequire_watermarking = \"contained\"\n", c);
  EXPECT_EQ(c.policy.require_watermarking, WatermarkRequirement::kContained);
  EXPECT_EQ(WatermarkRequirementName(c.policy.require_watermarking), "contained");
  EXPECT_THROW(LoadConfigText("[policy]\nrequire_watermarking = \"sometimes\"\n", c),
               std::runtime_error);
}

}  // namespace
}  // namespace dg::serve
