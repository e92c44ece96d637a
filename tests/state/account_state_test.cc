// AccountState: the parameter profile (what a client always / sometimes / never sets), built
// from exchanges through the featurizer as the engine builds it.
#include "state/account_state.h"

#include <gtest/gtest.h>

#include <string>

#include "core/names.h"
#include "engine/featurizer.h"
#include "ingest/exchange.h"
#include "testutil/testutil.h"

namespace dg::state {
namespace {

struct Habits {
  std::string model = "gpt-4o";
  float temperature = 0.3f;
  int max_tokens = 512;
  int top_logprobs = -1;
  int stream_every = 0;  // stream one request in this many (0 = never)
  int n = -1;
};

AccountState Drive(const Habits& h, int requests, int seed = 0) {
  core::NameTable names;
  engine::Featurizer f(names);
  AccountState s;
  for (int i = 0; i < requests; ++i) {
    const std::string prompt = "Translate sentence " + std::to_string(seed * 1000 + i);
    ingest::Exchange ex;
    ex.ts = i * 1'000'000LL;
    ex.account_id = "acct";
    ex.model = h.model;
    ex.temperature = h.temperature;
    ex.max_tokens = h.max_tokens;
    ex.n = h.n;
    if (h.top_logprobs > 0) {
      ex.logprobs = true;
      ex.top_logprobs = h.top_logprobs;
    }
    ex.stream = h.stream_every > 0 && i % h.stream_every == 0;
    ex.last_user_text.Add(prompt);
    ex.n_messages = ex.n_user = 1;
    ex.status = 200;
    ex.completion_tokens = 40;
    core::EventRecord r{};
    f.Featurize(ex, 0, static_cast<uint64_t>(i), r);
    s.Update(r);
  }
  return s;
}

TEST(ParamProfileTest, ScriptHabitsMatchAcrossModelsAndPrompts) {
  Habits a;
  Habits b = a;
  b.model = "gpt-4o-mini";  // a script pointed at another model keeps its habits
  EXPECT_EQ(Drive(a, 60, 1).ParamProfile(), Drive(b, 60, 2).ParamProfile());
  EXPECT_NE(Drive(a, 60).ParamProfile(), 0u);
}

TEST(ParamProfileTest, DifferentHabitsDiffer) {
  const Habits base;
  const uint64_t p = Drive(base, 60).ParamProfile();
  Habits t = base;
  t.temperature = 0.0f;  // another constant value
  EXPECT_NE(Drive(t, 60).ParamProfile(), p);
  Habits m = base;
  m.max_tokens = 1024;
  EXPECT_NE(Drive(m, 60).ParamProfile(), p);
  Habits lp = base;
  lp.top_logprobs = 20;
  EXPECT_NE(Drive(lp, 60).ParamProfile(), p);
  Habits st = base;
  st.stream_every = 3;  // sometimes streams
  EXPECT_NE(Drive(st, 60).ParamProfile(), p);
}

TEST(ParamProfileTest, LevelsAreNeverSometimesAlways) {
  Habits h;
  h.top_logprobs = 20;
  h.stream_every = 2;
  const auto levels = Drive(h, 100).ParamLevels();
  auto level = [&](std::string_view name) {
    for (size_t i = 0; i < kParamHabits; ++i) {
      if (kParamHabitNames[i] == name) return static_cast<int>(levels[i]);
    }
    ADD_FAILURE() << "no habit " << name;
    return -1;
  };
  EXPECT_EQ(level("logprobs"), 2);
  EXPECT_EQ(level("top_logprobs >= 5"), 2);
  EXPECT_EQ(level("stream"), 1);
  EXPECT_EQ(level("n > 1"), 0);
  EXPECT_EQ(level("seed"), 0);
}

TEST(ParamProfileTest, RandomisedParametersHaveNoSignatureButKeepTheirHabits) {
  // n drawn per request: no parameter set holds 80% of requests, so the profile says "varies",
  // identically for two accounts that draw alike.
  auto run = [](int offset) {
    core::NameTable names;
    engine::Featurizer f(names);
    AccountState s;
    for (int i = 0; i < 80; ++i) {
      const std::string prompt = "Write function " + std::to_string(offset + i);
      ingest::Exchange ex;
      ex.ts = i * 1'000'000LL;
      ex.model = "gpt-4.1";
      ex.n = 4 + (i + offset) % 9;
      ex.temperature = 1.1f;
      ex.last_user_text.Add(prompt);
      ex.n_messages = ex.n_user = 1;
      ex.status = 200;
      core::EventRecord r{};
      f.Featurize(ex, 0, static_cast<uint64_t>(i), r);
      s.Update(r);
    }
    return s;
  };
  const AccountState a = run(0), b = run(5);
  EXPECT_LT(a.params.TopShare(), 0.8);
  EXPECT_EQ(a.ParamProfile(), b.ParamProfile());
}

using testutil::WordBlock;

// Share of an account's input bytes that were new to it, over `requests` requests whose system
// text and user message `make(i, system, user)` fills.
template <typename Make>
double NovelShare(int requests, Make make) {
  core::NameTable names;
  engine::Featurizer f(names);
  AccountState s;
  for (int i = 0; i < requests; ++i) {
    std::string system, user;
    make(i, system, user);
    ingest::Exchange ex;
    ex.ts = i * 1'000'000LL;
    ex.model = "gpt-4o";
    if (!system.empty()) ex.system_text.Add(system);
    ex.last_user_text.Add(user);
    ex.input_chars = static_cast<uint32_t>(system.size() + user.size());
    ex.n_messages = system.empty() ? 1 : 2;
    ex.n_user = 1;
    ex.status = 200;
    core::EventRecord r{};
    f.Featurize(ex, 0, static_cast<uint64_t>(i), r);
    s.Update(r);
  }
  return static_cast<double>(s.novel_bytes) / static_cast<double>(s.input_chars);
}

std::string Question(int i) {
  return "Question: a farmer has " + std::to_string(i * 7 + 3) + " sheep and sells " +
         std::to_string(i % 5 + 1) + " of them each week. How many are left?";
}

TEST(NovelBytesTest, ARepeatedPreambleCountsOnce) {
  const std::string shots = WordBlock(1, 3000);
  // An 8-shot prompt: the same 3 KB of examples before each short question. Most of the input
  // was seen before (the estimate, from sampled chunks, is coarse: the question's chunk also
  // holds the tail of the examples).
  EXPECT_LT(NovelShare(200, [&](int i, std::string&, std::string& u) { u = shots + Question(i); }),
            0.25);
  // The same examples as a system prompt: only the questions are new.
  EXPECT_LT(NovelShare(200,
                       [&](int i, std::string& sys, std::string& u) {
                         sys = shots;
                         u = Question(i);
                       }),
            0.1);
  // Distinct documents, in the user message or as a retrieved context in the system text: all
  // new.
  EXPECT_GT(
      NovelShare(200, [&](int i, std::string&, std::string& u) { u = WordBlock(100 + i, 3000); }),
      0.9);
  EXPECT_GT(NovelShare(200,
                       [&](int i, std::string& sys, std::string& u) {
                         sys = WordBlock(100 + i, 3000);
                         u = Question(i);
                       }),
            0.9);
}

}  // namespace
}  // namespace dg::state
