// Indicator posting: what an account offers the linker, built from exchanges through the
// featurizer as the engine builds it, and how each named threshold decides it.
#include "linking/posting.h"

#include <gtest/gtest.h>

#include <string>

#include "core/names.h"
#include "engine/featurizer.h"
#include "ingest/exchange.h"

namespace dg::linking {
namespace {

struct Client {
  std::string opening = "You are a data generator. Produce one worked example about";
  std::string ending = "Answer in JSON with fields question and answer.";
  bool wrapped = true;
  std::string ip = "203.0.113.7";
  int64_t created_days_before = 60;
  int agents = 1;  // user agents used in turn, one per request
};

// A distinct word for each n (digits would collapse into one skeleton token).
std::string Word(int n) {
  std::string w = "w";
  for (n += 1; n > 0; n /= 26) w += static_cast<char>('a' + n % 26);
  return w;
}

state::AccountState Drive(const Client& c, int requests) {
  core::NameTable names;
  engine::Featurizer f(names);
  state::AccountState s;
  for (int i = 0; i < requests; ++i) {
    // The varying content ends the prompt unless a constant ending wraps it.
    std::string prompt = c.opening + " chemistry, " + Word(i) + " " + Word(i * 7 + 3) + " " +
                         Word(i * 13 + 5) + " " + Word(i * 31 + 11);
    if (c.wrapped) prompt += " " + c.ending;
    ingest::Exchange ex;
    ex.ts = (100 * kUsPerDay) + i * 1'000'000LL;
    ex.account_id = "acct";
    ex.model = "gpt-4o";
    ex.temperature = 0.7f;
    ex.max_tokens = 512;
    ex.client_ip = c.ip;
    // The exchange holds views: the agent's text lives as long as the exchange.
    const std::string agent = "OpenAI/Python 1." + std::to_string(40 + i % c.agents) + ".0";
    ex.user_agent = agent;
    ex.last_user_text.Add(prompt);
    ex.n_messages = ex.n_user = 1;
    ex.status = 200;
    ex.completion_tokens = 300;
    core::EventRecord r{};
    f.Featurize(ex, 0, static_cast<uint64_t>(i), r);
    s.Update(r);
  }
  s.registry.payment = 0x1234;
  s.registry.created_at = (100 - c.created_days_before) * kUsPerDay;
  return s;
}

bool Has(const Posts& p, IndicatorKind kind) {
  for (const auto& [k, v] : p) {
    if (k == kind) return true;
  }
  return false;
}

TEST(PostingTest, RegistryValuesArePostedFromTheFirstRequestTheRestWithTraffic) {
  const PostingOptions opt;
  const Posts early = CollectPosts(Drive({}, 2), opt);
  EXPECT_TRUE(Has(early, kPayment));
  EXPECT_FALSE(Has(early, kIpPrefix));
  EXPECT_FALSE(Has(early, kClientStack));
  const Posts later = CollectPosts(Drive({}, 6), opt);
  EXPECT_TRUE(Has(later, kIpPrefix));
  EXPECT_TRUE(Has(later, kClientStack));
  PostingOptions strict = opt;
  strict.min_requests = 7;
  EXPECT_FALSE(Has(CollectPosts(Drive({}, 6), strict), kIpPrefix));
}

TEST(PostingTest, ATemplateNeedsOneOpeningAcrossManyDistinctPrompts) {
  const PostingOptions opt;
  // A handful of similar prompts is not a template.
  EXPECT_FALSE(Has(CollectPosts(Drive({}, 9), opt), kTemplate));
  const Posts p = CollectPosts(Drive({}, 30), opt);
  EXPECT_TRUE(Has(p, kTemplate));
  PostingOptions fewer = opt;
  fewer.template_min_requests = 5;
  EXPECT_TRUE(Has(CollectPosts(Drive({}, 9), fewer), kTemplate));
}

TEST(PostingTest, FreshTemplateOnlyForAFullWrapperOfAFreshAccount) {
  PostingOptions opt;
  opt.fresh_account_age = 14 * kUsPerDay;
  Client fresh;
  fresh.created_days_before = 2;
  EXPECT_TRUE(Has(CollectPosts(Drive(fresh, 30), opt), kFreshTemplate));
  EXPECT_FALSE(Has(CollectPosts(Drive({}, 30), opt), kFreshTemplate));  // 60 days old
  Client open = fresh;
  open.wrapped = false;  // an opening without a constant ending is no full wrapper
  EXPECT_FALSE(Has(CollectPosts(Drive(open, 30), opt), kFreshTemplate));
  // The composite differs from its parts.
  const Posts p = CollectPosts(Drive(fresh, 30), opt);
  uint64_t tmpl = 0, composite = 0;
  for (const auto& [k, v] : p) {
    if (k == kTemplate) tmpl = v;
    if (k == kFreshTemplate) composite = v;
  }
  EXPECT_NE(tmpl, composite);
}

// A fresh account's full wrapper is posted from its first requests (min_requests), with the
// value it keeps later, so a new member of a campaign links before its outputs add up; not for an
// older account, an opening without an ending, or a client whose early prompts vary in shape.
TEST(PostingTest, FreshTemplateFromTheFirstRequestsThatCarryIt) {
  PostingOptions opt;
  opt.fresh_account_age = 14 * kUsPerDay;
  Client fresh;
  fresh.created_days_before = 2;
  auto composite = [&](const state::AccountState& s) {
    for (const auto& [k, v] : CollectPosts(s, opt)) {
      if (k == kFreshTemplate) return v;
    }
    return uint64_t{0};
  };
  EXPECT_EQ(composite(Drive(fresh, 4)), 0u);  // below min_requests
  const uint64_t early = composite(Drive(fresh, 5));
  EXPECT_NE(early, 0u);
  EXPECT_EQ(early, composite(Drive(fresh, 30)));
  EXPECT_FALSE(Has(CollectPosts(Drive(fresh, 5), opt), kTemplate));  // the plain template waits
  EXPECT_EQ(composite(Drive({}, 5)), 0u);                            // 60 days old
  Client open = fresh;
  open.wrapped = false;
  EXPECT_EQ(composite(Drive(open, 5)), 0u);
  PostingOptions strict = opt;
  strict.fresh_template_min_share = 1.01;  // no early share is enough: only from 10 requests
  bool any = false;
  for (const auto& [k, v] : CollectPosts(Drive(fresh, 5), strict)) any |= k == kFreshTemplate;
  EXPECT_FALSE(any);
}

TEST(PostingTest, SignatureChangesWithThePostsAndWithSuspicionAndIsNeverZero) {
  const PostingOptions opt;
  const Posts a = CollectPosts(Drive({}, 30), opt);
  Client other;
  other.ip = "198.51.100.9";
  const Posts b = CollectPosts(Drive(other, 30), opt);
  EXPECT_EQ(PostSignature(a, false), PostSignature(a, false));
  EXPECT_NE(PostSignature(a, false), PostSignature(b, false));
  EXPECT_NE(PostSignature(a, false), PostSignature(a, true));
  EXPECT_NE(PostSignature(Posts{}, false), 0u);
}

// A client stack is the account's client: posted when one fingerprint and one agent lead. People
// sharing a key (five members, each an own agent, in turn) or a script rotating agents have none;
// posting whichever pair led at each epoch would, over days, tie them to anyone who drew the same.
// Two clients, one in half the requests (a developer's laptop and a server), still post.
TEST(PostingTest, ClientStackIsPostedForADominantClientOnly) {
  const PostingOptions opt;
  Client team;
  team.agents = 5;
  EXPECT_FALSE(Has(CollectPosts(Drive(team, 60), opt), kClientStack));
  Client two;
  two.agents = 2;
  EXPECT_TRUE(Has(CollectPosts(Drive(two, 60), opt), kClientStack));
  EXPECT_TRUE(Has(CollectPosts(Drive({}, 60), opt), kClientStack));
}

}  // namespace
}  // namespace dg::linking
