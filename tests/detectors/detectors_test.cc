// Each detector on small crafted streams: the behaviour it is for fires it, and the legitimate
// look-alike named in docs/DETECTION.md does not.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string_view>

#include "common/hash.h"
#include "common/rng.h"
#include "detectors/detector.h"
#include "features/phrases.h"
#include "state/account_state.h"

namespace dg::detectors {
namespace {

using core::EventRecord;
using state::AccountState;

// A few-shot prompt: kShotBytes of fixed examples (seven of its eight anchor chunks) before a
// varying question (the eighth), as the featurizer sees it.
constexpr uint32_t kShotBytes = 3000;
void FewShot(int i, EventRecord& r) {
  for (uint32_t a = 0; a < core::kAnchors; ++a) {
    r.prompt.anchor_hash[a] = a + 1 < core::kAnchors ? a + 1 : 0x9e3779b9u * (i + 1);
    r.prompt.anchor_len[a] = 390;
  }
  r.prompt.bytes = r.input_chars = kShotBytes + 120;
  r.prompt_tokens = 800;
  r.prompt.prefix_hash = 1;
  r.prompt.suffix_hash = 2;
  r.prompt.phrase_mask = features::kCotElicit;  // "Let's think step by step." after each shot
}

class DetectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& d : MakeBuiltinDetectors()) by_name_[std::string(d->name())] = std::move(d);
    peers_.median_output_per_day = 20'000;
    peers_.peers = 500;
  }
  double Strength(const std::string& name, const AccountState& s) {
    return by_name_.at(name)->Strength({s, peers_});
  }
  // n requests built by `make(i, rng)`, one every `gap_s` seconds.
  AccountState Stream(int n, double gap_s,
                      const std::function<void(int, EventRecord&, Rng&)>& make) {
    AccountState s;
    Rng rng(9);
    for (int i = 0; i < n; ++i) {
      EventRecord r;
      r.ts = 1'700'000'000LL * kUsPerSec + static_cast<TimeUs>(i * gap_s * kUsPerSec);
      r.prompt.chars = 80;
      r.prompt.exact_hash = rng.Next();
      r.prompt.simhash = rng.Next();
      r.prompt.skeleton_hash = rng.Next();
      r.prompt.prefix_hash = rng.Next();
      r.prompt.suffix_hash = rng.Next();
      r.prompt_tokens = 40;
      r.completion_tokens = 300;
      r.temperature = 0.7f;
      r.user_agent = 77;
      r.ip_prefix = 88;
      make(i, r, rng);
      s.Update(r);
    }
    return s;
  }
  // n few-shot requests (FewShot) at one temperature, one every `gap_s` seconds.
  AccountState FewShotRun(int n, double gap_s, float temperature) {
    return Stream(n, gap_s, [temperature](int i, EventRecord& r, Rng&) {
      FewShot(i, r);
      r.temperature = temperature;
    });
  }
  // The state of a cluster of `members` (an empty state with no member, then each Combine()d).
  static AccountState ClusterOf(std::initializer_list<const AccountState*> members) {
    AccountState cluster;
    cluster.members = 0;
    for (const AccountState* m : members) cluster.Combine(*m);
    return cluster;
  }
  std::map<std::string, std::unique_ptr<Detector>> by_name_;
  PeerBaselines peers_;
};

TEST_F(DetectorsTest, ExtractionParams) {
  auto prober = Stream(60, 30, [](int i, EventRecord& r, Rng&) {
    r.top_logprobs = 20;
    r.flags |= core::kFlagLogprobs;
    r.logit_bias_entries = 1 + i % 4;
    r.max_tokens = 1;
    r.completion_tokens = 1;
  });
  EXPECT_GT(Strength("extraction_params", prober), 0.9);
  auto sampler = Stream(60, 30, [](int, EventRecord& r, Rng&) {
    r.n = 8;
    r.temperature = 1.0f;
  });
  EXPECT_GT(Strength("extraction_params", sampler), 0.7);
  // An evaluation harness at temperature 0 with a logprob now and then.
  auto harness = Stream(200, 30, [](int i, EventRecord& r, Rng&) {
    r.temperature = 0;
    if (i % 20 == 0) r.top_logprobs = 5;
  });
  EXPECT_LT(Strength("extraction_params", harness), 0.05);
  // Too few requests to say anything.
  auto few = Stream(5, 30, [](int, EventRecord& r, Rng&) { r.top_logprobs = 20; });
  EXPECT_EQ(Strength("extraction_params", few), 0.0);
}

// Benchmark evaluation (a hard negative): top_logprobs=5 with max_tokens=1 over one benchmark
// scores multiple-choice answers. It must not reach the strength at which extraction_params
// flagged alone; the same logprobs over generated answers, or one-token probes with logit_bias,
// do.
TEST_F(DetectorsTest, ExtractionParamsVersusBenchmarkScoring) {
  auto bench = Stream(1500, 2, [](int, EventRecord& r, Rng&) {
    r.top_logprobs = 5;
    r.flags |= core::kFlagLogprobs;
    r.max_tokens = 1;
    r.completion_tokens = 1;
    r.temperature = 0;
  });
  EXPECT_LE(Strength("extraction_params", bench), 0.3);
  auto sequences = Stream(200, 30, [](int, EventRecord& r, Rng&) {
    r.top_logprobs = 5;
    r.flags |= core::kFlagLogprobs;
  });
  EXPECT_GT(Strength("extraction_params", sequences), 0.9);
}

// An app with many end users (a tutoring app whose system prompt asks for step-by-step answers, a
// document translation tool on one wrapper) is judged per end user: the prompt-style detectors do
// not judge the account as a whole. An account naming a fresh "end user" on every request is not
// an app, and gets no such exemption.
TEST_F(DetectorsTest, AppsAreJudgedPerEndUserNotByTheirOwnPromptStyle) {
  auto tutoring = Stream(600, 20, [](int i, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 600;
    r.end_user = HashMix(7, 1000 + i % 40);
  });
  EXPECT_EQ(Strength("cot_elicitation", tutoring), 0.0);
  // A young app in its first hour: 60 requests from 32 pupils (follow-up turns, a few returning),
  // where the step-by-step system prompt alone would already flag the account.
  auto young = Stream(60, 20, [](int i, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 300;
    r.end_user = HashMix(7, 2000 + (i * 8) / 15);
  });
  EXPECT_EQ(Strength("cot_elicitation", young), 0.0);
  // Younger still, as a stress world drew it: 53 requests from 37 pupils (1.43 each), most not
  // yet back.
  auto younger = Stream(53, 20, [](int i, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 350;
    r.end_user = HashMix(7, 3000 + (i * 7) / 10);
  });
  EXPECT_LT(younger.requests / younger.EndUsers(), 1.5);  // 37 pupils, estimated
  EXPECT_EQ(Strength("cot_elicitation", younger), 0.0);
  // Ids mostly fresh (one request in ten names an id seen before, 1.1 each): not an app.
  auto mostly_fresh = Stream(600, 20, [](int i, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 600;
    r.end_user = HashMix(7, 1000 + static_cast<uint64_t>(i % 10 == 9 ? i - 1 : i));
  });
  EXPECT_GT(Strength("cot_elicitation", mostly_fresh), 0.9);
  auto fresh_ids = Stream(600, 20, [](int i, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 600;
    r.end_user = HashMix(7, 1000 + i);
  });
  EXPECT_GT(Strength("cot_elicitation", fresh_ids), 0.9);
}

// Batch document translation (a hard negative): one wrapper, distinct long documents, outputs about
// as long as the inputs. Neither the instruction pool nor the translation-pairs figure speaks.
TEST_F(DetectorsTest, DocumentTranslationIsNotAnInstructionPoolOrPairHarvest) {
  auto docs = Stream(800, 60, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = features::kTranslation | features::kTaskStyle;
    r.prompt.prefix_hash = 1 + i % 5;  // the wrapper, one per target language
    r.prompt_tokens = 1400;
    r.completion_tokens = 1500;
  });
  EXPECT_LT(Strength("instruction_pool", docs), 0.1);
  EXPECT_LT(Strength("datagen_phrases", docs), 0.1);
  auto pairs = Stream(800, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = features::kTranslation;
    r.prompt_tokens = 45;
    r.completion_tokens = 60;
  });
  EXPECT_GT(Strength("datagen_phrases", pairs), 0.9);
}

TEST_F(DetectorsTest, CotElicitationNeedsLongAnswers) {
  auto harvester = Stream(80, 60, [](int, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 900;
  });
  EXPECT_GT(Strength("cot_elicitation", harvester), 0.9);
  auto classifier = Stream(80, 60, [](int, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 3;
  });
  EXPECT_LT(Strength("cot_elicitation", classifier), 0.5);
  auto chatty = Stream(80, 60, [](int i, EventRecord& r, Rng&) {
    if (i % 20 == 0) r.prompt.phrase_mask = features::kCotElicit;  // "step by step" now and then
  });
  EXPECT_EQ(Strength("cot_elicitation", chatty), 0.0);
}

// Support grows with what was taken: a reasoning harvester whose answers run to thousands of
// tokens has taken more by its 8th request than a student asking a dozen step-by-step homework
// questions (the legitimate user this could hit) takes in a week, and is judged on its shares from
// there. The student, a dozen requests and a few thousand output tokens, is not yet judged.
TEST_F(DetectorsTest, SupportGrowsWithTheOutputsTaken) {
  auto cot = [](int tokens) {
    return [tokens](int, EventRecord& r, Rng&) {
      r.prompt.phrase_mask = features::kCotElicit;
      r.completion_tokens = tokens;
    };
  };
  auto harvester = Stream(8, 60, cot(6000));
  EXPECT_GT(Strength("cot_elicitation", harvester), 0.9);
  auto student = Stream(12, 600, cot(500));
  EXPECT_EQ(Strength("cot_elicitation", student), 0.0);
  // Not from a handful of requests, however long their answers: shares need a sample.
  auto few = Stream(5, 60, cot(20000));
  EXPECT_EQ(Strength("cot_elicitation", few), 0.0);
  // A template is a property of the set of prompts (Sample::kStructural): a writer who asks for
  // a dozen long articles with the same opening (the legitimate user this could hit; behind a
  // VPN, concealment would open the gate beside it) is not judged before the template
  // detector's own minimum sample, whatever the articles' length.
  auto writer = Stream(12, 600, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
    r.completion_tokens = 5000;
  });
  EXPECT_EQ(Strength("template_harvest", writer), 0.0);
}

// Saying that the answers go into a training set: a few dozen requests that carry it most of the
// time settle it; an ML engineer who mentions a dataset of their own now and then does not.
TEST_F(DetectorsTest, StatedPurposeFromAFewDozenRequests) {
  auto harvester = Stream(30, 1, [](int i, EventRecord& r, Rng&) {
    if (i % 5 < 2) r.system_phrase_mask = features::kTrainPurpose;  // 2 of its 5 system prompts
    r.completion_tokens = 20;
  });
  EXPECT_GT(Strength("stated_purpose", harvester), 0.9);
  auto young = Stream(
      4, 1, [](int, EventRecord& r, Rng&) { r.system_phrase_mask = features::kTrainPurpose; });
  EXPECT_EQ(Strength("stated_purpose", young), 0.0);  // four requests say little
  auto engineer = Stream(60, 600, [](int i, EventRecord& r, Rng&) {
    if (i % 30 == 0) r.prompt.phrase_mask = features::kTrainPurpose;
  });
  EXPECT_EQ(Strength("stated_purpose", engineer), 0.0);
}

TEST_F(DetectorsTest, TemplateHarvestVersusBatchJobAndRag) {
  auto harvest = Stream(200, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
  });
  EXPECT_GT(Strength("template_harvest", harvest), 0.9);
  auto batch = Stream(200, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
    r.completion_tokens = 2;  // one label per call
  });
  EXPECT_EQ(Strength("template_harvest", batch), 0.0);
  // A paragraph per answer is a generated answer; an extraction job's record (a few fields of
  // JSON) is a label.
  auto paragraphs = Stream(200, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
    r.completion_tokens = 150;
  });
  EXPECT_GT(Strength("template_harvest", paragraphs), 0.9);
  auto records = Stream(200, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
    r.completion_tokens = 55;
  });
  EXPECT_EQ(Strength("template_harvest", records), 0.0);
  auto rag = Stream(200, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
    r.prompt_tokens = 3000;  // long context in, short answer out
    r.completion_tokens = 250;
  });
  EXPECT_EQ(Strength("template_harvest", rag), 0.0);
  // An evaluation sweep re-running the same prompts at temperature 0.
  auto sweep = Stream(200, 60, [](int i, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
    r.prompt.exact_hash = 1000 + i % 20;
    r.temperature = 0;
  });
  EXPECT_EQ(Strength("template_harvest", sweep), 0.0);
}

// Eight solved examples, then the question: an evaluation harness's chain-of-thought prompt, and
// a harvester's. The harvester samples at a temperature; its answers run longer than the
// questions, though not than the whole prompt, and the examples it resends are not new input.
TEST_F(DetectorsTest, FewShotHarvestIsJudgedOnTheQuestionsNotTheExamples) {
  auto harvest = FewShotRun(400, 30, 0.8f);
  EXPECT_GT(Strength("template_harvest", harvest), 0.9);
  EXPECT_GT(Strength("cot_elicitation", harvest), 0.9);
}

// The legitimate user: an 8-shot chain-of-thought benchmark run (GSM8K: 1,319 questions, each
// once, at temperature 0, in one sitting). Neither the template nor the reasoning detector may
// flag it; a greedy sweep far beyond a benchmark's size is a harvest again.
TEST_F(DetectorsTest, FewShotEvaluationRunIsNotAHarvest) {
  auto eval = FewShotRun(1319, 2, 0);
  EXPECT_EQ(Strength("template_harvest", eval), 0.0);
  EXPECT_EQ(Strength("cot_elicitation", eval), 0.0);
  auto greedy = FewShotRun(20000, 2, 0);
  EXPECT_GT(Strength("cot_elicitation", greedy), 0.9);
}

TEST_F(DetectorsTest, InstructionPoolVersusPeopleAndCodingAgents) {
  // A script's pace (a minute apart); at a person's, InstructionPoolAtAPersonsPace.
  auto pool = Stream(
      100, 60, [](int, EventRecord& r, Rng&) { r.prompt.phrase_mask = features::kTaskStyle; });
  EXPECT_GT(Strength("instruction_pool", pool), 0.8);
  auto person = Stream(100, 600, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = i % 3 == 0 ? features::kTaskStyle : features::kFirstPerson;
  });
  EXPECT_EQ(Strength("instruction_pool", person), 0.0);
  auto agent = Stream(100, 60, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = features::kTaskStyle;
    r.n_assistant = static_cast<uint16_t>(i % 8);  // long conversations: few openers
  });
  EXPECT_LT(Strength("instruction_pool", agent), 0.2);
}

// An instruction pool harvested with a follow-up per task ("Can you add more detail?") resends
// each answer with it: judged on all its input it looks input-heavy, judged on what each request
// asks (an opening's prompt, a follow-up's new message) it is the pool it is. A reader whose
// follow-ups each paste a new chapter to summarise stays input-heavy.
TEST_F(DetectorsTest, FollowUpsAreJudgedOnTheirNewMessage) {
  auto conversation = [](int i, EventRecord& r, uint32_t follow_bytes, bool fresh_follow_up) {
    const bool follow = i % 2 == 1;
    r.n_assistant = follow ? 1 : 0;
    r.prompt.phrase_mask = follow ? 0u : static_cast<uint32_t>(features::kTaskStyle);
    r.prompt.bytes = follow ? follow_bytes : 120;
    r.prompt.anchor_hash[0] = follow && !fresh_follow_up ? 7 : 1000 + static_cast<uint32_t>(i);
    r.prompt.anchor_len[0] = static_cast<uint16_t>(std::min<uint32_t>(r.prompt.bytes, 2048));
    r.input_chars = follow ? 120 + 1600 + follow_bytes : 120;  // task, answer, new message
    r.prompt_tokens = static_cast<int64_t>(r.input_chars / 4);
    r.completion_tokens = 400;
  };
  auto pool = Stream(120, 60, [&](int i, EventRecord& r, Rng&) { conversation(i, r, 40, false); });
  EXPECT_LT(pool.OutputInputRatio(), 2.0);
  EXPECT_GT(pool.OutputInstructionRatio(), 2.5);
  EXPECT_GT(Strength("instruction_pool", pool), 0.6);
  auto reader =
      Stream(120, 600, [&](int i, EventRecord& r, Rng&) { conversation(i, r, 6000, true); });
  EXPECT_LT(reader.OutputInstructionRatio(), 1.0);
  EXPECT_EQ(Strength("instruction_pool", reader), 0.0);
}

// An end user is compared with its host's other end users: two dozen task-style openings stand
// out against a router whose customers chat, young or not, and do not against an app whose users
// all send tasks. Judged alone, as an account, two dozen openings are not enough.
TEST_F(DetectorsTest, InstructionPoolEndUserAgainstItsHost) {
  auto user = Stream(
      24, 30, [](int, EventRecord& r, Rng&) { r.prompt.phrase_mask = features::kTaskStyle; });
  auto chat_router = Stream(2000, 5, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = i % 10 == 0 ? features::kTaskStyle : features::kFirstPerson;
  });
  chat_router.Combine(user);  // the host's state holds its end users' traffic
  auto task_app = Stream(2000, 5, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = i % 10 < 9 ? uint32_t{features::kTaskStyle} : 0u;
  });
  task_app.Combine(user);
  auto& d = *by_name_.at("instruction_pool");
  const double alone = d.Strength({user, peers_});
  const double in_router = d.Strength({user, peers_, &chat_router});
  const double in_app = d.Strength({user, peers_, &task_app});
  EXPECT_LT(alone, 0.25);
  EXPECT_GT(in_router, 0.9);
  EXPECT_LT(in_app, 0.25);
  // The explanation names what it stands against: the account's other end users, or its other
  // keys when the unit is a key.
  DetectorInput as_user{user, peers_, &chat_router};
  EXPECT_NE(d.Explain(as_user, core::NameTable{}).find("openings of the account's other end users"),
            std::string::npos);
  DetectorInput as_key{user, peers_, &chat_router};
  as_key.host_by_key = true;
  EXPECT_NE(d.Explain(as_key, core::NameTable{}).find("openings of the account's other keys"),
            std::string::npos);
  // A young router: 80 openings of its other end users are a baseline already, taken as a sample
  // of its own (two-proportion test); 30 are not.
  auto young_router = Stream(80, 5, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = i % 10 == 0 ? features::kTaskStyle : features::kFirstPerson;
  });
  young_router.Combine(user);
  EXPECT_GT(d.Strength({user, peers_, &young_router}), 0.9);
  auto newborn_router = Stream(30, 5, [](int i, EventRecord& r, Rng&) {
    r.prompt.phrase_mask = i % 10 == 0 ? features::kTaskStyle : features::kFirstPerson;
  });
  newborn_router.Combine(user);
  EXPECT_EQ(d.Strength({user, peers_, &newborn_router}), alone);
  // Too few openings to say anything, host or not.
  auto newcomer =
      Stream(4, 30, [](int, EventRecord& r, Rng&) { r.prompt.phrase_mask = features::kTaskStyle; });
  EXPECT_EQ(d.Strength({newcomer, peers_, &chat_router}), 0.0);
}

// A tutoring app whose system prompt asks for step-by-step answers: every one of its end users'
// requests carries it, so it says nothing of one of them (the end user stays at 0); an end user
// of a chat router who asks for reasoning traces on every request, where the router's other end
// users do not, is judged as an account would be.
TEST_F(DetectorsTest, CotElicitationEndUserAgainstItsHost) {
  auto cot_user = [](int, EventRecord& r, Rng&) {
    r.system_phrase_mask = features::kCotElicit;
    r.completion_tokens = 600;
  };
  auto pupil = Stream(60, 60, cot_user);
  auto tutoring_app = Stream(3000, 5, cot_user);
  tutoring_app.Combine(pupil);
  auto harvester = Stream(60, 60, cot_user);
  auto chat_router = Stream(3000, 5, [](int i, EventRecord& r, Rng&) {
    if (i % 50 == 0) r.prompt.phrase_mask = features::kCotElicit;
    r.completion_tokens = 600;
  });
  chat_router.Combine(harvester);
  auto& d = *by_name_.at("cot_elicitation");
  EXPECT_GT(d.Strength({pupil, peers_}), 0.9);  // judged alone, it would look like a harvester
  EXPECT_EQ(d.Strength({pupil, peers_, &tutoring_app}), 0.0);
  EXPECT_GT(d.Strength({harvester, peers_, &chat_router}), 0.9);
}

TEST_F(DetectorsTest, ClientRotation) {
  auto rotating = Stream(60, 300, [](int, EventRecord& r, Rng& rng) {
    // Real indicator values are XXH3 hashes; sketches rely on their bits being uniform.
    r.user_agent = HashMix(100 + rng.Below(6), 1);
    r.ip_prefix = HashMix(200 + rng.Below(10), 2);
  });
  EXPECT_GT(Strength("client_rotation", rotating), 0.7);
  auto steady =
      Stream(60, 300, [](int i, EventRecord& r, Rng&) { r.ip_prefix = HashMix(200 + i % 2, 2); });
  EXPECT_EQ(Strength("client_rotation", steady), 0.0);
  EXPECT_TRUE(rotating.RotatesAgents());
  EXPECT_EQ(rotating.Agents(), 6.0);  // exact for an account
  EXPECT_FALSE(steady.RotatesAgents());
  // An app naming its end users relays their clients' agents.
  auto relay = Stream(60, 300, [](int i, EventRecord& r, Rng& rng) {
    r.user_agent = HashMix(100 + rng.Below(6), 1);
    r.end_user = HashMix(static_cast<uint64_t>(i % 30), 3);
  });
  EXPECT_FALSE(relay.RotatesAgents());
}

// Networks changing between requests minutes apart: a proxy pool shows it within a handful of
// requests; two alternating networks, hops hours apart, and one trip do not make a rotation.
TEST_F(DetectorsTest, NetworkHopsWithinSessions) {
  const uint64_t asns[] = {7922, 3320, 5089, 3215, 6830};
  // Four requests, each from the next ISP of a residential proxy pool, 2 minutes apart.
  auto proxy = Stream(4, 120, [&](int i, EventRecord& r, Rng&) { r.asn = asns[i % 5] + 1; });
  EXPECT_EQ(proxy.session_pairs, 3u);
  EXPECT_EQ(proxy.network_hops, 3u);
  EXPECT_EQ(proxy.Asns(), 4.0);
  EXPECT_GT(Strength("client_rotation", proxy), 0.9);  // before any spread figure can speak
  // Scored as an end user of a host, the networks are the host's servers': no rotation.
  EXPECT_EQ(by_name_.at("client_rotation")->Strength({proxy, peers_, &proxy}), 0.0);
  const std::string text =
      by_name_.at("client_rotation")->Explain({proxy, peers_}, core::NameTable{});
  EXPECT_NE(text.find("3 of 3 requests sent within 30 minutes"), std::string::npos) << text;
  // A phone alternating between Wi-Fi and a mobile network: two ASNs, half strength at most.
  auto phone = Stream(40, 120, [&](int i, EventRecord& r, Rng&) { r.asn = asns[i % 2] + 1; });
  EXPECT_EQ(phone.Asns(), 2.0);
  EXPECT_LE(Strength("client_rotation", phone), 0.5);
  // The same two networks, but a different client every couple of requests (three agents in
  // turn): not one device flipping between Wi-Fi and cellular. A developer who uses two tools
  // on that phone is still one device.
  auto rotator = Stream(10, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2] + 1;
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i / 2 % 3), 1);
  });
  EXPECT_TRUE(rotator.RotatesAgents(state::kRotationStartAgents));
  EXPECT_FALSE(rotator.RotatesAgents());  // three agents start a rotation; four make one
  EXPECT_GT(Strength("client_rotation", rotator), 0.9);
  auto two_tools = Stream(10, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2] + 1;
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i / 2 % 2), 1);
  });
  EXPECT_LE(Strength("client_rotation", two_tools), 0.5);
  // The same pool, one request every two hours: no session to hop within.
  auto slow = Stream(40, 7200, [&](int i, EventRecord& r, Rng&) { r.asn = asns[i % 5] + 1; });
  EXPECT_EQ(slow.session_pairs, 0u);
  EXPECT_EQ(Strength("client_rotation", slow), 0.0);
  // A person on one ISP who travels twice (hotel, then a café): hops are a small share.
  auto traveller = Stream(60, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = (i == 20 ? asns[1] : i == 40 ? asns[2] : asns[0]) + 1;
  });
  EXPECT_EQ(traveller.network_hops, 4u);
  EXPECT_EQ(Strength("client_rotation", traveller), 0.0);
  // A cluster's state sums its members' hops and estimates its ASNs from the merged filter.
  const AccountState cluster = ClusterOf({&proxy, &phone});
  EXPECT_EQ(cluster.network_hops, proxy.network_hops + phone.network_hops);
  EXPECT_EQ(cluster.session_pairs, proxy.session_pairs + phone.session_pairs);
  EXPECT_NEAR(cluster.Asns(), 4.0, 1.0);
}

// Two ASNs alternating within sessions: a phone's Wi-Fi and carrier stay in one country, a VPN
// switched on and off keeps its client; two exits of a proxy pool in two countries, reached from
// more than one client, are not one person's networks.
TEST_F(DetectorsTest, NetworkHopsAcrossBorders) {
  const uint64_t asns[] = {701, 2856};    // one ISP in each of two countries
  const uint8_t countries[] = {225, 77};  // libGeoIP ids; any distinct non-zero values
  auto two_agents = [](int i) { return HashMix(100 + static_cast<uint64_t>(i / 2 % 2), 1); };
  auto pool = Stream(4, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2];
    r.country = countries[i % 2];
    r.user_agent = two_agents(i);
  });
  EXPECT_EQ(pool.network_hops, 3u);
  EXPECT_EQ(pool.border_hops, 3u);
  EXPECT_EQ(pool.geo_pairs, 0u);  // pairs with ASNs are judged by ASN
  EXPECT_EQ(pool.Asns(), 2.0);
  EXPECT_GT(Strength("client_rotation", pool), 0.9);
  const std::string text =
      by_name_.at("client_rotation")->Explain({pool, peers_}, core::NameTable{});
  EXPECT_NE(text.find("(3 of these hops crossed a border, from 2 client agents)"),
            std::string::npos)
      << text;
  // One client switching a VPN on and off: half strength at most.
  auto vpn = Stream(4, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2];
    r.country = countries[i % 2];
  });
  EXPECT_EQ(vpn.border_hops, 3u);
  EXPECT_LE(Strength("client_rotation", vpn), 0.5);
  // A phone with two tools on Wi-Fi and its carrier, both at home.
  auto phone = Stream(4, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2];
    r.country = countries[0];
    r.user_agent = two_agents(i);
  });
  EXPECT_EQ(phone.network_hops, 3u);
  EXPECT_EQ(phone.border_hops, 0u);
  EXPECT_LE(Strength("client_rotation", phone), 0.5);
  // Three hops between two networks, one of them known to cross a border (request 2's address
  // has no country, and request 3 is in the last known one), two clients: not yet.
  const uint8_t once_countries[] = {countries[0], countries[1], 0, countries[1]};
  auto once = Stream(4, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2];
    r.country = once_countries[i];
    r.user_agent = two_agents(i);
  });
  EXPECT_EQ(once.network_hops, 3u);
  EXPECT_EQ(once.border_hops, 1u);
  EXPECT_LE(Strength("client_rotation", once), 0.5);
  // A request without a country between two crossings neither counts nor breaks the chain.
  auto gap = Stream(5, 120, [&](int i, EventRecord& r, Rng&) {
    r.asn = asns[i % 2];
    r.country = i == 2 ? 0 : countries[i % 2];
    r.user_agent = two_agents(i);
  });
  EXPECT_EQ(gap.border_hops, 2u);  // 0->1 and 3->4: 2 has no country, 3 is in the last known
  const AccountState cluster = ClusterOf({&pool, &vpn});
  EXPECT_EQ(cluster.border_hops, pool.border_hops + vpn.border_hops);
}

// Without ASNs (or within one ISP), addresses changing within sessions: a client drawing agents
// and /24s independently rotates; a phone on a carrier's NAT pool, and three people sharing one
// key, each on their own network with their own client, do not.
TEST_F(DetectorsTest, AddressChangesWithRotatingClient) {
  auto script = Stream(10, 120, [](int i, EventRecord& r, Rng&) {
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i / 2 % 3), 1);  // per conversation
    r.ip_prefix = HashMix(200 + static_cast<uint64_t>(i % 3), 2);       // per request
  });
  EXPECT_EQ(script.network_hops, 0u);  // no ASN given
  EXPECT_EQ(script.prefix_pairs, 9u);
  EXPECT_EQ(script.prefix_hops, 9u);
  EXPECT_EQ(script.prefix_distinct, 3);
  EXPECT_GT(script.combo_distinct, 3);
  EXPECT_GT(Strength("client_rotation", script), 0.9);
  const std::string text =
      by_name_.at("client_rotation")->Explain({script, peers_}, core::NameTable{});
  EXPECT_NE(text.find("9 of 9 requests sent within 30 minutes of the previous one changed /24"),
            std::string::npos)
      << text;
  auto phone = Stream(10, 120, [](int i, EventRecord& r, Rng&) {
    r.user_agent = HashMix(100, 1);
    r.ip_prefix = HashMix(200 + static_cast<uint64_t>(i), 2);
  });
  EXPECT_EQ(Strength("client_rotation", phone), 0.0);
  auto team = Stream(12, 120, [](int i, EventRecord& r, Rng&) {
    const auto person = static_cast<uint64_t>(i % 3);
    r.user_agent = HashMix(100 + person, 1);
    r.ip_prefix = HashMix(200 + person, 2);
  });
  EXPECT_TRUE(team.RotatesAgents(state::kRotationStartAgents));
  EXPECT_EQ(team.prefix_hops, 11u);
  EXPECT_EQ(team.combo_distinct, 3);
  EXPECT_EQ(Strength("client_rotation", team), 0.0);
}

// A remote team sharing one key across countries: five people, each on an own client and an
// own network (ISP), their requests interleaved around the clock. Agents and networks spread
// and hop like a proxy pool's, but each agent keeps its network and each network is seen again
// and again: people, not rotation. The look-alikes still rotate: a script drawing the same five
// agents and networks independently, and one client behind a pool handing out a fresh exit per
// request.
TEST_F(DetectorsTest, ATeamSharingAKeyIsPeopleNotRotation) {
  auto team = Stream(600, 60, [](int i, EventRecord& r, Rng&) {
    const auto person = static_cast<uint64_t>(i % 5);
    r.user_agent = HashMix(100 + person, 1);
    r.ip_prefix = HashMix(200 + person, 2);
    r.asn = 1000 + static_cast<uint32_t>(person);
  });
  EXPECT_GT(team.network_hops, 500u);
  EXPECT_EQ(team.combo_distinct, 5);
  EXPECT_EQ(SharedByPeople(team), 1.0);
  EXPECT_LT(Strength("client_rotation", team), 0.05);
  const std::string text =
      by_name_.at("client_rotation")->Explain({team, peers_}, core::NameTable{});
  EXPECT_NE(text.find("people sharing one key"), std::string::npos) << text;
  // The team's first requests: too few a network to tell people from a small pool.
  auto first = Stream(40, 60, [](int i, EventRecord& r, Rng&) {
    const auto person = static_cast<uint64_t>(i % 5);
    r.user_agent = HashMix(100 + person, 1);
    r.ip_prefix = HashMix(200 + person, 2);
    r.asn = 1000 + static_cast<uint32_t>(person);
  });
  EXPECT_EQ(SharedByPeople(first), 0.0);
  auto script = Stream(600, 60, [](int i, EventRecord& r, Rng&) {
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i % 5), 1);
    const auto net = static_cast<uint64_t>(i * 7 % 11 % 5);
    r.ip_prefix = HashMix(200 + net, 2);
    r.asn = 1000 + static_cast<uint32_t>(net);
  });
  EXPECT_GT(script.combo_distinct, 5);
  EXPECT_EQ(SharedByPeople(script), 0.0);
  EXPECT_GT(Strength("client_rotation", script), 0.9);
  auto pool = Stream(600, 60, [](int i, EventRecord& r, Rng&) {
    r.ip_prefix = HashMix(5000 + static_cast<uint64_t>(i), 2);
    r.asn = 2000 + static_cast<uint32_t>(i % 40);
  });
  EXPECT_EQ(SharedByPeople(pool), 0.0);
  EXPECT_GT(Strength("client_rotation", pool), 0.9);
}

// A script behind a proxy pool keeps each identity's take small on purpose: its harvest shares
// are read from kTakenMinRequests requests, as a large take's are. The same dozen task-style
// openings from one client on one network (a student's first evening), or from three people
// sharing one key, each with an own client on an own network, still wait for the usual sample.
TEST_F(DetectorsTest, ScriptedRotationSettlesHarvestSharesEarly) {
  auto tasks = [](EventRecord& r) {
    r.prompt.phrase_mask = features::kTaskStyle;
    r.completion_tokens = 400;  // 12 x 400 tokens: far below a large take
  };
  auto script = Stream(12, 120, [&](int i, EventRecord& r, Rng&) {
    tasks(r);
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i % 4), 1);
    r.ip_prefix = HashMix(200 + static_cast<uint64_t>(i * 7 % 5), 2);
  });
  EXPECT_GT(ScriptedRotation(script), 0.9);
  EXPECT_GT(Strength("instruction_pool", script), 0.9);
  const std::string text =
      by_name_.at("client_rotation")->Explain({script, peers_}, core::NameTable{});
  EXPECT_NE(text.find("its harvest shares count from 8 requests"), std::string::npos) << text;
  auto student = Stream(12, 120, [&](int, EventRecord& r, Rng&) { tasks(r); });
  EXPECT_EQ(ScriptedRotation(student), 0.0);
  EXPECT_LT(Strength("instruction_pool", student), 0.1);
  auto team = Stream(12, 120, [&](int i, EventRecord& r, Rng&) {
    tasks(r);
    const auto person = static_cast<uint64_t>(i % 3);
    r.user_agent = HashMix(100 + person, 1);
    r.ip_prefix = HashMix(200 + person, 2);
  });
  EXPECT_EQ(ScriptedRotation(team), 0.0);
  EXPECT_LT(Strength("instruction_pool", team), 0.1);
  // Below kTakenMinRequests nothing is settled, however the client rotates.
  auto few = Stream(6, 120, [&](int i, EventRecord& r, Rng&) {
    tasks(r);
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i % 4), 1);
    r.ip_prefix = HashMix(200 + static_cast<uint64_t>(i * 7 % 5), 2);
  });
  EXPECT_EQ(Strength("instruction_pool", few), 0.0);
}

// A scripted client's follow-ups are the script's: a multi-turn harvest that asks each task once
// and follows it up twice is an instruction pool however few of its requests open. The
// legitimate users it could hit, a developer refining generated drafts turn by turn and a team
// sharing a key (each person on their own client and network), keep the follow-ups' hold.
TEST_F(DetectorsTest, ScriptedClientsFollowUpsAreItsHarvest) {
  auto conversations = [](int i, EventRecord& r) {
    const bool follow = i % 3 != 0;
    r.n_assistant = follow ? 1 : 0;
    r.prompt.phrase_mask = follow ? 0u : static_cast<uint32_t>(features::kTaskStyle);
    r.prompt.bytes = follow ? 30 : 120;
    r.prompt.anchor_hash[0] = follow ? 7 : 1000 + static_cast<uint32_t>(i);
    r.prompt.anchor_len[0] = static_cast<uint16_t>(r.prompt.bytes);
    r.input_chars = follow ? 120 + 1600 + 30 : 120;  // task, answer, a generic follow-up
    r.prompt_tokens = static_cast<int64_t>(r.input_chars / 4);
    r.completion_tokens = 400;
  };
  auto script = Stream(90, 120, [&](int i, EventRecord& r, Rng&) {
    conversations(i, r);
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i % 4), 1);
    r.ip_prefix = HashMix(200 + static_cast<uint64_t>(i * 7 % 5), 2);
  });
  EXPECT_GT(ScriptedRotation(script), 0.9);
  EXPECT_NEAR(script.Share(script.first_turns), 1.0 / 3, 0.01);
  EXPECT_GT(Strength("instruction_pool", script), 0.6);
  auto developer = Stream(90, 120, [&](int i, EventRecord& r, Rng&) { conversations(i, r); });
  EXPECT_EQ(ScriptedRotation(developer), 0.0);
  EXPECT_LT(Strength("instruction_pool", developer), 0.3);
  auto team = Stream(90, 120, [&](int i, EventRecord& r, Rng&) {
    conversations(i, r);
    const auto person = static_cast<uint64_t>(i / 3 % 3);
    r.user_agent = HashMix(100 + person, 1);
    r.ip_prefix = HashMix(200 + person, 2);
  });
  EXPECT_EQ(ScriptedRotation(team), 0.0);
  EXPECT_LT(Strength("instruction_pool", team), 0.3);
}

// A content app (marketing copy: a blog post, a product description, social posts) wraps the
// topic its user typed in one of a few feature templates: task-style openings, every prompt
// distinct, long answers, at a script's pace. Its openings are its templates, not a pool of
// tasks: template_harvest judges them (three most common openings), instruction_pool does not.
// A pool's openings (instruction-tuning tasks) spread over many kinds.
TEST_F(DetectorsTest, InstructionPoolIsNotAnAppsFewFeatureTemplates) {
  auto requests = [](int kinds) {
    return [kinds](int i, EventRecord& r, Rng&) {
      r.prompt.phrase_mask = static_cast<uint32_t>(features::kTaskStyle);
      r.prompt.anchor_hash[0] = static_cast<uint32_t>(r.prompt.exact_hash);
      r.prompt.anchor_len[0] = 120;
      r.prompt.prefix_hash = HashMix(300 + static_cast<uint64_t>(i % kinds), 3);
    };
  };
  const auto app = Stream(300, 60, requests(3));
  EXPECT_GT(app.prefixes.TopNShare(3), 0.95);
  EXPECT_LT(Strength("instruction_pool", app), 0.05);
  const auto pool = Stream(300, 60, requests(40));
  EXPECT_LT(pool.prefixes.TopNShare(3), 0.4);
  EXPECT_GT(Strength("instruction_pool", pool), 0.95);
}

// A pool is harvested at a script's pace. A student collecting a small dataset, or a developer
// asking for tasks, sends a few an hour; over a week they reach the 60 openings and the 40k tokens
// that settle an account judged alone. At that pace the account's own support stops at
// kPersonPaceSupport (below the flag alone: ScorerTest.InstructionPoolAtAPersonsPaceAlone); the
// same requests from a script, or from a client rotating its agent and network, count in full.
TEST_F(DetectorsTest, InstructionPoolAtAPersonsPace) {
  const TimeUs start = 1'700'000'000LL * kUsPerSec;
  auto task = [](int i, EventRecord& r) {
    r.prompt.phrase_mask = static_cast<uint32_t>(features::kTaskStyle);
    r.prompt.anchor_hash[0] = static_cast<uint32_t>(r.prompt.exact_hash);
    r.prompt.anchor_len[0] = 120;
  };
  // Sessions of 8 requests 30 s apart, one every 14 hours: 120 openings over a week.
  auto sessions = [&](int i, EventRecord& r) {
    r.ts = start + (i / 8) * 14 * kUsPerHour + (i % 8) * 30 * kUsPerSec;
  };
  auto student = Stream(120, 30, [&](int i, EventRecord& r, Rng&) {
    task(i, r);
    sessions(i, r);
  });
  EXPECT_GE(student.output_tokens, 36'000u);
  EXPECT_LT(student.requests / static_cast<double>(student.active_hours), 10);
  EXPECT_NEAR(Strength("instruction_pool", student), 0.6, 0.01);
  auto explain = [&](const AccountState& s) {
    return by_name_.at("instruction_pool")->Explain({s, peers_}, core::NameTable{});
  };
  EXPECT_NE(explain(student).find("requests per hour with a request (a person's pace)"),
            std::string::npos)
      << explain(student);
  // The same tasks from a script, 60 an hour.
  auto script = Stream(120, 60, [&](int i, EventRecord& r, Rng&) { task(i, r); });
  EXPECT_GT(Strength("instruction_pool", script), 0.95);
  EXPECT_EQ(explain(script).find("a person's pace"), std::string::npos) << explain(script);
  // At the student's pace from a client that draws its agent and /24 afresh for each request.
  auto rotating = Stream(120, 30, [&](int i, EventRecord& r, Rng&) {
    task(i, r);
    sessions(i, r);
    r.user_agent = HashMix(100 + static_cast<uint64_t>(i % 4), 1);
    r.ip_prefix = HashMix(200 + static_cast<uint64_t>(i * 7 % 5), 2);
  });
  EXPECT_GT(ScriptedRotation(rotating), 0.9);
  EXPECT_GT(Strength("instruction_pool", rotating), 0.9);
  // A cluster's members each at a person's pace are judged as one operator.
  auto classmate = Stream(120, 30, [&](int i, EventRecord& r, Rng& rng) {
    r.prompt.exact_hash = rng.Next();
    task(i, r);
    sessions(i, r);
  });
  EXPECT_GT(Strength("instruction_pool", ClusterOf({&student, &classmate})), 0.95);
}

// Where the log has no ASNs, countries stand in for them: a proxy pool's exits change country
// between requests minutes apart; a cloud service's regions, one network (ASN) spanning
// countries, and a phone do not count.
TEST_F(DetectorsTest, CountryHopsWithoutAsn) {
  const uint8_t countries[] = {225, 77, 109, 31};  // libGeoIP ids; any distinct non-zero values
  auto two_agents = [](int i) { return HashMix(100 + static_cast<uint64_t>(i / 2 % 2), 1); };
  auto pool = Stream(4, 120, [&](int i, EventRecord& r, Rng&) {
    r.country = countries[i % 4];
    r.user_agent = two_agents(i);
  });
  EXPECT_EQ(pool.geo_pairs, 3u);
  EXPECT_EQ(pool.geo_hops, 3u);
  EXPECT_EQ(pool.Countries(), 4.0);
  EXPECT_GT(Strength("client_rotation", pool), 0.9);
  const std::string text =
      by_name_.at("client_rotation")->Explain({pool, peers_}, core::NameTable{});
  EXPECT_NE(text.find("3 of 3 requests sent within 30 minutes of the previous one with no ASN in "
                      "the log came from another country, 4 countries in all"),
            std::string::npos)
      << text;
  // A service calling from servers in several cloud regions: one client build...
  auto regions =
      Stream(40, 120, [&](int i, EventRecord& r, Rng&) { r.country = countries[i % 3]; });
  EXPECT_EQ(regions.geo_hops, 39u);
  EXPECT_EQ(Strength("client_rotation", regions), 0.0);
  // ...or relaying its named end users.
  auto relay = Stream(40, 120, [&](int i, EventRecord& r, Rng&) {
    r.country = countries[i % 3];
    r.user_agent = two_agents(i);
    r.end_user = HashMix(300 + static_cast<uint64_t>(i % 5), 3);
  });
  EXPECT_EQ(Strength("client_rotation", relay), 0.0);
  // With ASNs on both sides of a pair the ASN decides: one network spanning countries (a CDN's
  // edge) is not a change of network.
  auto edge = Stream(40, 120, [&](int i, EventRecord& r, Rng&) {
    r.country = countries[i % 4];
    r.user_agent = two_agents(i);
    r.asn = 13335 + 1;
  });
  EXPECT_EQ(edge.geo_pairs, 0u);
  EXPECT_EQ(edge.network_hops, 0u);
  EXPECT_EQ(Strength("client_rotation", edge), 0.0);
  // Two countries (a VPN switched on and off): half strength at most.
  auto vpn = Stream(40, 120, [&](int i, EventRecord& r, Rng&) {
    r.country = countries[i / 3 % 2];
    r.user_agent = two_agents(i);
  });
  EXPECT_LE(Strength("client_rotation", vpn), 0.5);
  // A cluster sums its members' country hops and merges their countries.
  const AccountState cluster = ClusterOf({&pool, &vpn});
  EXPECT_EQ(cluster.geo_hops, pool.geo_hops + vpn.geo_hops);
  EXPECT_NEAR(cluster.Countries(), 4.0, 1.0);
}

// A cluster has many clients by nature: it rotates only when most members each do.
TEST_F(DetectorsTest, ClusterRotationNeedsRotatingMembers) {
  auto quiet_rotator = Stream(12, 900, [](int i, EventRecord& r, Rng&) {
    r.user_agent = HashMix(100 + i % 5, 1);  // the same five agents, in turn
  });
  EXPECT_EQ(Strength("client_rotation", quiet_rotator), 0.0);  // too few requests alone
  AccountState script;
  script.members = 0;
  for (int i = 0; i < 10; ++i) script.Combine(quiet_rotator);
  EXPECT_EQ(script.rotating_members, 10u);
  EXPECT_GT(Strength("client_rotation", script), 0.7);
  EXPECT_NEAR(script.Agents(), 5.0, 1.0);  // estimated from the merged filter

  AccountState team;  // ten people, one client each (different ones)
  team.members = 0;
  for (int m = 0; m < 10; ++m) {
    team.Combine(Stream(12, 900, [m](int, EventRecord& r, Rng&) {
      r.user_agent = HashMix(100 + static_cast<uint64_t>(m), 1);
    }));
  }
  EXPECT_EQ(team.rotating_members, 0u);
  EXPECT_EQ(Strength("client_rotation", team), 0.0);
}

TEST_F(DetectorsTest, OutputVolumeAgainstPeersAndPerEndUser) {
  auto heavy = Stream(500, 60, [](int, EventRecord& r, Rng&) { r.completion_tokens = 2000; });
  EXPECT_GT(Strength("output_volume", heavy), 0.9);  // ~2.9M/day against a 20k median
  auto saas = Stream(500, 60, [](int i, EventRecord& r, Rng&) {
    r.completion_tokens = 2000;
    r.end_user = HashMix(static_cast<uint64_t>(i), 3);  // 500 end users: measured per end user
  });
  EXPECT_LT(Strength("output_volume", saas), 0.3);
  PeerBaselines few = peers_;
  few.peers = 5;
  EXPECT_EQ(by_name_.at("output_volume")->Strength({heavy, few}), 0.0);
}

// A harvester running flat out is at its daily rate within its first hour: 60 answers of 900
// tokens in 50 minutes is ~1.5M tokens a day. Someone trying the API in a burst (ten requests in
// a few minutes) is too few requests to say anything; full support takes 60.
// A campaign that spreads its take over new accounts, each under its peers' median, is one
// operator: its cluster is measured as a whole. The legitimate user: an established company whose
// hundred accounts run one internal template, measured per member.
TEST_F(DetectorsTest, OutputVolumeOfNewAccountsActingAsOneIsTheirSum) {
  AccountState member = Stream(40, 3600, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
  });
  EXPECT_EQ(Strength("output_volume", member), 0.0);  // ~7k tokens a day against a 20k median
  AccountState campaign;
  campaign.members = 0;
  member.registry.created_at = member.first_ts - kUsPerDay;
  for (int i = 0; i < 100; ++i) campaign.Combine(member);
  EXPECT_EQ(campaign.fresh_members, 100u);
  EXPECT_GT(Strength("output_volume", campaign), 0.5);
  AccountState company;
  company.members = 0;
  member.registry.created_at = member.first_ts - 400 * kUsPerDay;
  for (int i = 0; i < 100; ++i) company.Combine(member);
  EXPECT_EQ(Strength("output_volume", company), 0.0);
}

TEST_F(DetectorsTest, OutputVolumeSeesAFlatOutHarvesterInItsFirstHour) {
  auto bulk = Stream(60, 50, [](int, EventRecord& r, Rng&) { r.completion_tokens = 900; });
  EXPECT_GT(Strength("output_volume", bulk), 0.4);
  auto burst = Stream(10, 15, [](int, EventRecord& r, Rng&) { r.completion_tokens = 900; });
  EXPECT_EQ(Strength("output_volume", burst), 0.0);
}

// Output per day is per day of use. A person who used the API on three days of a month took
// what they took on those days, not a thirtieth of it a day: spread over the month, the median of
// such peers thins out (over a month of the stress family, from ~21k to 1.1k tokens a day) and a
// team's steady daily use reads as a hundred times it. Over two days, and for an account used
// every day, the span and the days of use agree.
TEST_F(DetectorsTest, OutputVolumeIsARatePerDayOfUse) {
  const TimeUs start = 1'700'006'400LL * kUsPerSec;  // a UTC midnight
  auto three_days = Stream(30, 60, [&](int i, EventRecord& r, Rng&) {
    r.ts = start + (i / 10) * 14 * kUsPerDay + (i % 10) * 60 * kUsPerSec;  // days 0, 14 and 28
    r.completion_tokens = 2000;
  });
  EXPECT_EQ(three_days.active_days, 3u);
  EXPECT_NEAR(three_days.OutputPerDay(), 20'000, 1);
  auto daily = Stream(290, 60, [&](int i, EventRecord& r, Rng&) {
    r.ts = start + (i / 10) * kUsPerDay + (i % 10) * 60 * kUsPerSec;  // days 0 to 28
    r.completion_tokens = 2000;
  });
  EXPECT_EQ(daily.active_days, 29u);
  const double span_days = static_cast<double>(daily.last_ts - daily.first_ts) / kUsPerDay;
  EXPECT_NEAR(daily.OutputPerDay(), 580'000 / span_days, 1);
  auto two_days = Stream(50, 3000, [](int, EventRecord& r, Rng&) { r.completion_tokens = 2000; });
  EXPECT_NEAR(two_days.ActiveDays(),
              static_cast<double>(two_days.last_ts - two_days.first_ts) / kUsPerDay, 1e-9);
}

TEST_F(DetectorsTest, CoordinatedAccountsOnlyForClustersOfFreshAccounts) {
  AccountState cluster;
  cluster.members = 0;
  AccountState member = Stream(40, 60, [](int, EventRecord& r, Rng&) {
    r.prompt.prefix_hash = 1;
    r.prompt.suffix_hash = 2;
  });
  member.registry.created_at = member.first_ts - kUsPerDay;
  for (int i = 0; i < 8; ++i) cluster.Combine(member);
  EXPECT_EQ(cluster.members, 8u);
  EXPECT_EQ(cluster.fresh_members, 8u);
  EXPECT_GT(Strength("coordinated_accounts", cluster), 0.9);
  EXPECT_EQ(Strength("coordinated_accounts", member), 0.0);  // a lone account
  AccountState old_company;
  old_company.members = 0;
  member.registry.created_at = member.first_ts - 400 * kUsPerDay;
  for (int i = 0; i < 8; ++i) old_company.Combine(member);
  EXPECT_EQ(Strength("coordinated_accounts", old_company), 0.0);
}

TEST_F(DetectorsTest, EveryDetectorExplainsWithFigures) {
  auto s = Stream(100, 60, [](int, EventRecord& r, Rng&) { r.top_logprobs = 20; });
  core::NameTable names;
  for (auto& [name, d] : by_name_) {
    const std::string text = d->Explain({s, peers_}, names);
    EXPECT_FALSE(text.empty()) << name;
    EXPECT_NE(text.find_first_of("0123456789"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace dg::detectors
