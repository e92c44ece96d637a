// distillguard train: the fit finds the informative detectors, keeps weights non-negative,
// weighs small campaigns like large ones, and calibrates the bias against benign accounts.
#include "scoring/train.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"

namespace dg::scoring {
namespace {

double WeightOf(const ScoringModel& m, const std::string& name) {
  for (const auto& [n, w] : m.weights) {
    if (n == name) return w;
  }
  return -1;
}

TEST(TrainTest, InformativeFeatureGetsWeightNoiseAndAntiFeaturesGetNone) {
  Rng rng(1);
  std::vector<TrainingExample> ex;
  for (int i = 0; i < 400; ++i) {
    const bool attack = i % 4 == 0;
    TrainingExample e;
    e.attack = attack;
    e.group = attack ? "camp" : "benign";
    e.x = {attack ? rng.Uniform(0.6, 1.0) : rng.Uniform(0.0, 0.3),  // informative
           rng.Uniform(),                                           // noise
           attack ? 0.0 : rng.Uniform(0.5, 1.0)};                   // says "benign"
    ex.push_back(e);
  }
  auto rep = FitModel(ex, {"signal", "noise", "anti"}, {}, ScoringModel{});
  EXPECT_GT(WeightOf(rep.model, "signal"), 3.0);
  EXPECT_LT(WeightOf(rep.model, "noise"), 0.5);
  EXPECT_EQ(WeightOf(rep.model, "anti"), 0.0);  // non-negative: evidence never lowers a score
  EXPECT_GT(rep.auroc, 0.99);
  EXPECT_EQ(rep.benign_flagged, 0u);
  EXPECT_GE(rep.attack_flagged, 90u);
}

TEST(TrainTest, SmallCampaignWeighsAsMuchAsALargeOne) {
  // 300 attack accounts show feature 0; 3 show only feature 1. Group balancing must still give
  // feature 1 enough weight to flag the small campaign.
  std::vector<TrainingExample> ex;
  for (int i = 0; i < 300; ++i) ex.push_back({{1.0, 0.0}, true, "big"});
  for (int i = 0; i < 3; ++i) ex.push_back({{0.0, 1.0}, true, "small"});
  for (int i = 0; i < 600; ++i) ex.push_back({{0.0, 0.0}, false, "benign"});
  auto rep = FitModel(ex, {"a", "b"}, {}, ScoringModel{});
  EXPECT_EQ(rep.attack_flagged, 303u);
  for (const auto& [g, f, n] : rep.attack_groups) EXPECT_EQ(f, n) << g;
}

// An account gives several states (mid-stream and final): they share its weight, and it counts
// once, at its highest score, in the report and against the benign budget.
TEST(TrainTest, AnAccountsStatesShareItsWeightAndCountOnceAtTheirPeak) {
  std::vector<TrainingExample> ex;
  // 50 attack accounts whose evidence (feature 0) shows only in their early states.
  for (uint64_t a = 1; a <= 50; ++a) {
    ex.push_back({{1.0, 0.0}, true, "early", a});
    for (int k = 0; k < 3; ++k) ex.push_back({{0.0, 0.0}, true, "early", a});
  }
  // 300 benign accounts with 10 quiet states each, and one whose first state looks hostile.
  for (uint64_t a = 1000; a < 1300; ++a) {
    for (int k = 0; k < 10; ++k) ex.push_back({{0.0, 0.0}, false, "benign", a});
  }
  ex.push_back({{0.0, 1.0}, false, "odd", 9999});
  for (int k = 0; k < 9; ++k) ex.push_back({{0.0, 0.0}, false, "odd", 9999});
  TrainOptions opt;
  opt.max_benign_fpr = 0.0;
  auto rep = FitModel(ex, {"a", "b"}, opt, ScoringModel{});
  EXPECT_EQ(rep.examples, ex.size());
  EXPECT_EQ(rep.attack, 50u);
  EXPECT_EQ(rep.benign, 301u);
  EXPECT_EQ(rep.attack_flagged, 50u);  // at their early, evidential state
  EXPECT_EQ(rep.benign_flagged, 0u);   // the odd account's one hostile state is held below
  ASSERT_FALSE(rep.closest_benign.empty());
  EXPECT_EQ(rep.closest_benign[0].first, "odd");
}

TEST(TrainTest, BiasKeepsBenignOutliersBelowTheFlagLevel) {
  std::vector<TrainingExample> ex;
  for (int i = 0; i < 100; ++i) ex.push_back({{1.0}, true, "camp"});
  for (int i = 0; i < 999; ++i) ex.push_back({{0.0}, false, "benign"});
  ex.push_back({{1.0}, false, "odd"});  // one benign account that looks just like an attacker
  TrainOptions opt;
  opt.max_benign_fpr = 0.0;
  auto rep = FitModel(ex, {"a"}, opt, ScoringModel{});
  EXPECT_EQ(rep.benign_flagged, 0u);
  EXPECT_LT(rep.model.bias, rep.fitted_bias);
  ASSERT_FALSE(rep.closest_benign.empty());
  EXPECT_EQ(rep.closest_benign[0].first, "odd");
}

TEST(TrainTest, ModelRoundTripsThroughToml) {
  ScoringModel m;
  m.version = "t1";
  m.bias = -2.5;
  m.weights = {{"output_volume", 1.25}, {"cot_elicitation", 4.0}};
  const std::string text = ModelToToml(m, "a comment\nover two lines");
  auto back = ScoringModel::FromToml(text, "mem");
  EXPECT_EQ(back.version, "t1");
  EXPECT_DOUBLE_EQ(back.bias, -2.5);
  ASSERT_EQ(back.weights.size(), 2u);
  EXPECT_DOUBLE_EQ(WeightOf(back, "cot_elicitation"), 4.0);
  EXPECT_DOUBLE_EQ(WeightOf(back, "output_volume"), 1.25);
  EXPECT_EQ(back.level_thresholds, m.level_thresholds);
  EXPECT_EQ(back.flag_level, kHigh);
  EXPECT_EQ(back.end_user_flag_level, kMedium);
  m.end_user_flag_level = kCritical;
  EXPECT_EQ(ScoringModel::FromToml(ModelToToml(m, "c"), "mem").end_user_flag_level, kCritical);
  try {
    ScoringModel::FromToml("end_user_flag_level = \"severe\"\n", "m.toml");
    FAIL() << "an unknown level must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("end_user_flag_level 'severe'"), std::string::npos)
        << e.what();
  }
}

TEST(TrainTest, AurocHandlesTiesAndSingleClass) {
  EXPECT_DOUBLE_EQ(Auroc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  EXPECT_DOUBLE_EQ(Auroc({0.5, 0.5}, {false, true}), 0.5);
  EXPECT_TRUE(std::isnan(Auroc({0.5, 0.7}, {true, true})));
}

TEST(TrainTest, ShippedModelLoadsAndNamesOnlyKnownDetectors) {
  const ScoringModel m = ScoringModel::Builtin();
  EXPECT_FALSE(m.version.empty());
  EXPECT_NO_THROW(Scorer{m});
}

}  // namespace
}  // namespace dg::scoring
