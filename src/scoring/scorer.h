// Scorer: combines detector strengths into a score in [0, 1] with a logistic model,
//   score = sigmoid(bias + sum_i weight_i * strength_i),
// maps scores to levels, and decides `flagged` (level >= the flag level, "high" by default: the
// level at which the default policy throttles). The weights are a versioned model (TOML) so a
// fitted model can replace the built-in one without a rebuild.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/detector.h"

namespace dg::scoring {

enum Level : uint8_t { kNone = 0, kLow, kMedium, kHigh, kCritical };
std::string_view LevelName(uint8_t level);

struct ScoringModel {
  std::string version = "builtin-0.1";
  double bias = -4.0;
  std::vector<std::pair<std::string, double>> weights;  // detector name -> weight
  // Lower score bounds of low, medium, high, critical.
  std::array<double, 4> level_thresholds = {0.2, 0.4, 0.7, 0.9};
  uint8_t flag_level = kHigh;
  // An end user of a multi-tenant account (a router's customer, an app's user) is flagged from
  // this level: a false flag there surfaces one end-user id to the account and throttles it,
  // and leaves the paying account alone, so the evidence bar is lower than for an account.
  uint8_t end_user_flag_level = kMedium;
  // The shipped model (models/default.toml, embedded at build time).
  static ScoringModel Builtin();
  // Loads a TOML model file; throws std::runtime_error with file and reason on error.
  static ScoringModel FromFile(const std::string& path);
  // Parses TOML text; `origin` names it in errors.
  static ScoringModel FromToml(std::string_view text, const std::string& origin);
};

class Scorer {
 public:
  explicit Scorer(ScoringModel model);
  // Per-event: the score of a state; optionally each detector's strength (x255, in detector order).
  double Score(const detectors::DetectorInput& in,
               std::array<uint8_t, state::kMaxDetectors>* strengths = nullptr) const;
  // The model's weight of detector `i` (in detectors() order).
  double WeightOf(size_t i) const { return weights_[i]; }
  uint8_t LevelOf(double score) const;
  bool Flags(double score) const { return LevelOf(score) >= model_.flag_level; }
  bool FlagsEndUser(double score) const { return LevelOf(score) >= model_.end_user_flag_level; }
  const std::vector<std::unique_ptr<detectors::Detector>>& detectors() const { return detectors_; }
  const ScoringModel& model() const { return model_; }

 private:
  ScoringModel model_;
  std::vector<std::unique_ptr<detectors::Detector>> detectors_;
  std::vector<double> weights_;  // aligned with detectors_
};

}  // namespace dg::scoring
