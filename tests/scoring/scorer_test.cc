// The scorer's structure: only harvest evidence flags; pace, concealment and coordination raise
// harvest evidence and never flag alone; weights stay within the bounds the model declares. The
// hard-negative personas of the supporting families (phones, relays, VPNs, shared keys, SaaS apps
// running all night, companies on the same SDKs) each trip one detector hard, and the test fails
// if that detector is allowed to flag by itself under the shipped model.
#include "scoring/scorer.h"

#include <gtest/gtest.h>

#include <map>

namespace dg::scoring {
namespace {

class ScorerTest : public ::testing::Test {
 protected:
  ScorerTest() : scorer_(ScoringModel::Builtin()) {}
  // Strengths with the named detectors set, the others 0.
  std::vector<double> With(const std::map<std::string, double>& set) const {
    std::vector<double> s(scorer_.detectors().size(), 0.0);
    for (const auto& [name, v] : set) {
      bool found = false;
      for (size_t i = 0; i < s.size(); ++i) {
        if (scorer_.detectors()[i]->name() == name) {
          s[i] = v;
          found = true;
        }
      }
      EXPECT_TRUE(found) << name;
    }
    return s;
  }
  bool Flags(const std::map<std::string, double>& set) const {
    return scorer_.Flags(scorer_.ScoreOf(With(set)));
  }
  Scorer scorer_;
};

TEST_F(ScorerTest, EveryDetectorHasAFamilyAndTheHarvestFamilyIsNotEmpty) {
  std::map<detectors::Family, int> n;
  for (size_t i = 0; i < scorer_.detectors().size(); ++i) ++n[scorer_.FamilyOf(i)];
  EXPECT_GE(n[detectors::Family::kHarvest], 5);
  EXPECT_EQ(scorer_.FamilyOf(0), detectors::Family::kHarvest);  // output_volume
  for (const char* name : {"client_rotation", "around_the_clock", "coordinated_accounts"}) {
    for (size_t i = 0; i < scorer_.detectors().size(); ++i) {
      if (scorer_.detectors()[i]->name() == name) {
        EXPECT_NE(scorer_.FamilyOf(i), detectors::Family::kHarvest) << name;
      }
    }
  }
}

// A phone alternating between Wi-Fi and its carrier, a privacy relay, a VPN toggler, a remote team
// sharing a key: client_rotation at full strength. A SaaS app running all night: around_the_clock.
// Ten companies on the same SDK versions, linked: coordinated_accounts. Together or apart, with no
// harvest evidence they stay at `none`.
TEST_F(ScorerTest, ConcealmentPaceAndCoordinationNeverFlagAlone) {
  const double floor_score = scorer_.ScoreOf(With({}));
  for (const char* name : {"client_rotation", "around_the_clock", "coordinated_accounts"}) {
    const double s = scorer_.ScoreOf(With({{name, 1.0}}));
    EXPECT_FALSE(scorer_.Flags(s)) << name;
    EXPECT_DOUBLE_EQ(s, floor_score) << name;
    EXPECT_EQ(scorer_.LevelOf(s), kNone) << name;
  }
  const auto all =
      With({{"client_rotation", 1}, {"around_the_clock", 1}, {"coordinated_accounts", 1}});
  EXPECT_FALSE(scorer_.Flags(scorer_.ScoreOf(all)));
  EXPECT_EQ(scorer_.GateOf(all), 0.0);
}

// A student or researcher collecting a small dataset with a system prompt that says so:
// stated_purpose at full strength. Alone it is worth a review (low or medium), not a flag; with
// another harvest signal (reasoning traces asked for on every request) it flags.
// Hard negative of stated_purpose: a student collecting a few dozen answers for a course
// project's dataset, saying so in the system prompt, with task-style prompts (instruction_pool
// partly supported). Intent counts with scale or stealth, so the words alone add nothing; the
// same words from a client rotating networks (the peer set's extractors), or beside a harvest
// at scale, do. At full scale and without harvest evidence the weight's floor keeps it below the
// flag.
TEST_F(ScorerTest, StatedPurposeWithoutScaleOrStealthStaysBelowTheFlag) {
  const auto student = With({{"stated_purpose", 1.0}, {"instruction_pool", 0.45}});
  EXPECT_EQ(scorer_.IntentScaleOf(student), 0.0);
  EXPECT_FALSE(scorer_.Flags(scorer_.ScoreOf(student)));
  const auto rotating =
      With({{"stated_purpose", 1.0}, {"cot_elicitation", 0.3}, {"client_rotation", 1.0}});
  EXPECT_EQ(scorer_.IntentScaleOf(rotating), 1.0);
  EXPECT_TRUE(scorer_.Flags(scorer_.ScoreOf(rotating)));
  EXPECT_FALSE(Flags({{"cot_elicitation", 0.3}, {"client_rotation", 1.0}}));
  // The scale taken is output_volume's strength; other harvest detectors do not make scale.
  EXPECT_DOUBLE_EQ(
      scorer_.IntentScaleOf(
          With({{"stated_purpose", 1.0}, {"output_volume", 0.4}, {"instruction_pool", 1.0}})),
      0.4);
  const double full_scale_alone =
      scorer_.ScoreOf(With({{"stated_purpose", 1.0}, {"around_the_clock", 1.0}}));
  EXPECT_FALSE(scorer_.Flags(full_scale_alone));
  EXPECT_GE(scorer_.LevelOf(full_scale_alone), kLow);
  // The report's contributions say the student's stated purpose added nothing.
  const auto c = scorer_.Contributions(student);
  for (size_t i = 0; i < c.size(); ++i) {
    if (scorer_.FamilyOf(i) == detectors::Family::kIntent) {
      EXPECT_EQ(c[i], 0.0);
    }
  }
}

// instruction_pool's support at a person's pace (DetectorsTest.InstructionPoolAtAPersonsPace)
// stays below the flag alone, and a little more harvest evidence beside it flags.
TEST_F(ScorerTest, InstructionPoolAtAPersonsPaceAlone) {
  EXPECT_FALSE(Flags({{"instruction_pool", 0.6}}));
  EXPECT_GE(scorer_.LevelOf(scorer_.ScoreOf(With({{"instruction_pool", 0.6}}))), kMedium);
  EXPECT_TRUE(Flags({{"instruction_pool", 1.0}}));
}

// Concealment raises harvest evidence: the same moderate harvest flags when the account also
// rotates a proxy pool, and the gate opens with the harvest evidence.
TEST_F(ScorerTest, ConcealmentRaisesHarvestEvidence) {
  const auto harvest = With({{"template_harvest", 0.8}, {"output_volume", 0.5}});
  const auto both =
      With({{"template_harvest", 0.8}, {"output_volume", 0.5}, {"client_rotation", 1}});
  EXPECT_GT(scorer_.ScoreOf(both), scorer_.ScoreOf(harvest));
  EXPECT_EQ(scorer_.GateOf(both), 1.0);
  EXPECT_TRUE(scorer_.Flags(scorer_.ScoreOf(both)));
  // Weak harvest evidence lets only part of the concealment evidence count.
  const auto weak = With({{"template_harvest", 0.2}, {"client_rotation", 1}});
  EXPECT_GT(scorer_.GateOf(weak), 0.0);
  EXPECT_LT(scorer_.GateOf(weak), 1.0);
  EXPECT_FALSE(scorer_.Flags(scorer_.ScoreOf(weak)));
}

// A quiet member of a linked cluster that harvests: the cluster's harvest evidence opens the
// member's gate (it adds nothing to the member's harvest sum), so the member's own rotation
// counts. Without it the same member stays at `none`.
TEST_F(ScorerTest, AClustersHarvestOpensItsMembersGate) {
  const auto member = With({{"client_rotation", 1.0}});
  EXPECT_EQ(scorer_.GateOf(member), 0.0);
  EXPECT_EQ(scorer_.GateOf(member, 0.9), 1.0);
  EXPECT_GT(scorer_.ScoreOf(member, 0.9), scorer_.ScoreOf(member));
  EXPECT_DOUBLE_EQ(scorer_.ScoreOf(With({}), 0.9), scorer_.ScoreOf(With({})));
}

// Score() on a real state and ScoreOf() on its strengths agree.
TEST_F(ScorerTest, ScoreOfAgreesWithScore) {
  state::AccountState s;
  for (int i = 0; i < 80; ++i) {
    core::EventRecord r;
    r.ts = 1'700'000'000LL * kUsPerSec + i * 60LL * kUsPerSec;
    r.prompt.chars = 80;
    r.prompt.exact_hash = 1000 + i;
    r.prompt.prefix_hash = 7;
    r.prompt_tokens = 30;
    r.completion_tokens = 700;
    r.user_agent = 1 + i % 5;
    r.ip_prefix = 100 + i % 7;
    r.asn = 10 + i % 4;
    s.Update(r);
  }
  detectors::PeerBaselines peers;
  peers.median_output_per_day = 20'000;
  peers.peers = 500;
  std::array<uint8_t, state::kMaxDetectors> st{};
  for (double outside : {0.0, 0.5}) {
    const double score = scorer_.Score({s, peers}, &st, outside);
    std::vector<double> v;
    for (size_t i = 0; i < scorer_.detectors().size(); ++i)
      v.push_back(scorer_.detectors()[i]->Strength({s, peers}));
    EXPECT_NEAR(score, scorer_.ScoreOf(v, outside), 1e-9) << outside;
  }
}

// The founding case's naive harvester: ~300x the peer median, templated, around the clock.
TEST_F(ScorerTest, ExtremeHarvestFlags) {
  EXPECT_TRUE(
      Flags({{"output_volume", 1.0}, {"template_harvest", 0.6}, {"around_the_clock", 1.0}}));
  EXPECT_TRUE(Flags({{"output_volume", 1.0}, {"template_harvest", 1.0}}));
}

TEST_F(ScorerTest, ContributionsAddUpToTheLogit) {
  const auto s = With({{"template_harvest", 0.3}, {"client_rotation", 1}, {"output_volume", 0.7}});
  double logit = scorer_.model().bias;
  for (double c : scorer_.Contributions(s)) logit += c;
  EXPECT_NEAR(scorer_.ScoreOf(s), 1.0 / (1.0 + std::exp(-logit)), 1e-12);
}

TEST(ScoringModelTest, WeightsOutsideTheirBoundsAreRefused) {
  const std::string base =
      "version = \"t\"\nbias = -2\n[weights]\noutput_volume = 1.0\n[bounds]\noutput_volume = "
      "[1.5, 4.0]\n";
  try {
    ScoringModel::FromToml(base, "m.toml");
    FAIL() << "a weight below its floor must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("output_volume"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bounds"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ScoringModel::FromToml("[weights]\noutput_volume = -0.5\n", "m.toml"),
               std::runtime_error);
  EXPECT_THROW(ScoringModel::FromToml("[bounds]\noutput_volume = [3, 1]\n", "m.toml"),
               std::runtime_error);
  EXPECT_THROW(ScoringModel::FromToml("[gate]\nharvest_low = 0.5\nharvest_high = 0.2\n", "m.toml"),
               std::runtime_error);
  EXPECT_NO_THROW(ScoringModel::FromToml(
      "[weights]\noutput_volume = 2.0\n[bounds]\noutput_volume = [1.5, 4.0]\n", "m.toml"));
  // Numbers that are not finite (found by the scoring_model fuzz target: a NaN weight loaded and
  // scored NaN).
  for (const char* bad :
       {"[weights]\noutput_volume = nan\n", "[weights]\noutput_volume = inf\n", "bias = nan\n",
        "bias = -inf\n", "[bounds]\noutput_volume = [nan, 4]\n", "[levels]\nhigh = nan\n"}) {
    EXPECT_THROW(ScoringModel::FromToml(bad, "m.toml"), std::runtime_error) << bad;
  }
}

// The shipped model declares a floor for every harvest detector, so no fit can zero the obvious.
TEST(ScoringModelTest, ShippedModelHasHarvestFloors) {
  const auto m = ScoringModel::Builtin();
  Scorer scorer(m);
  for (size_t i = 0; i < scorer.detectors().size(); ++i) {
    if (scorer.FamilyOf(i) != detectors::Family::kHarvest) continue;
    const std::string name(scorer.detectors()[i]->name());
    bool bounded = false;
    for (const auto& [n, b] : m.bounds) {
      if (n == name) {
        bounded = true;
        EXPECT_GT(b.floor, 0.0) << name;
      }
    }
    EXPECT_TRUE(bounded) << name;
    EXPECT_GT(scorer.WeightOf(i), 0.0) << name;
  }
}

}  // namespace
}  // namespace dg::scoring
