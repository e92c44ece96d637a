// Scorer: combines detector strengths into a score in [0, 1] with a logistic model whose
// evidence has a structure (detectors::Family):
//   score = sigmoid(bias + H + gate * S + scale * I),
//   H = sum over harvest detectors of weight_i * strength_i,
//   S = sum over pace, concealment and coordination detectors of weight_i * strength_i,
//   I = sum over intent detectors (a stated training purpose) of weight_i * strength_i,
//   gate = Ramp(strongest harvest or intent strength, gate_low, gate_high),
//   scale = max(output_volume's strength, strongest pace, concealment or coordination strength).
// Only harvest evidence (what is taken) can flag; the other families (how it is taken) count in
// proportion to the harvest evidence beside them, so a phone hopping networks or a SaaS app
// running all night reaches `none` however strongly it shows it, and a campaign that both takes
// and hides is flagged sooner than one that only takes. Intent says why, not how much: it counts
// with the scale taken or with the means of taking it, never from words alone; like harvest it
// opens the gate, so a client that says its answers train a model and rotates a proxy pool to
// get them has both counted. Weights are
// non-negative and each lies within bounds the model file declares (floors keep the obvious from
// being fitted away, caps keep one detector from carrying a verdict); a fitted model outside its
// bounds is refused. Levels follow from the score; `flagged` is level >= the flag level ("high" by
// default: the level at which the default policy throttles). The model is versioned TOML, so a
// fitted model replaces the built-in one without a rebuild.
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

struct WeightBound {
  double floor = 0;
  double cap = 1e9;
};

struct ScoringModel {
  std::string version = "builtin-0.1";
  double bias = -4.0;
  std::vector<std::pair<std::string, double>> weights;      // detector name -> weight
  std::vector<std::pair<std::string, WeightBound>> bounds;  // detector name -> [floor, cap]
  // The harvest gate: supporting evidence counts not at all below gate_low's harvest strength,
  // fully from gate_high's.
  double gate_low = 0.1, gate_high = 0.4;
  // Lower score bounds of low, medium, high, critical.
  std::array<double, 4> level_thresholds = {0.2, 0.4, 0.7, 0.9};
  uint8_t flag_level = kHigh;
  // An end user of a multi-tenant account (a router's customer, an app's user) is flagged from
  // this level: a false flag there surfaces one end-user id to the account and throttles it,
  // and leaves the paying account alone, so the evidence bar is lower than for an account.
  uint8_t end_user_flag_level = kMedium;
  // The lower score bound of `level` (kLow .. kCritical).
  double Threshold(Level level) const { return level_thresholds[level - 1]; }
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
  // `outside_harvest`: harvest strength shown by the account's linked cluster, which opens the
  // gate as the account's own would (it adds nothing to H).
  double Score(const detectors::DetectorInput& in,
               std::array<uint8_t, state::kMaxDetectors>* strengths = nullptr,
               double outside_harvest = 0) const;
  // The strongest harvest or intent strength among `strengths` (x255, as Score() writes them).
  double StrongestHarvest(const std::array<uint8_t, state::kMaxDetectors>& strengths) const;
  // What a member of a flagged cluster takes of what the cluster is flagged for: the weighted
  // harvest detectors other than output volume (a scale, which a few requests do not show) on
  // which the cluster's strength (x255, as Score() writes them) is at least `cluster_min` and the
  // member's, read with its cluster's support (DetectorInput::lent_support), at least
  // `member_min`; bit i is detectors()[i]. With `first_only`, stops at the first.
  uint64_t SharedHarvest(const detectors::DetectorInput& member,
                         const std::array<uint8_t, state::kMaxDetectors>& cluster,
                         double cluster_min, double member_min, bool first_only = false) const;
  // The score of given strengths (in detectors() order), as Score() computes it.
  double ScoreOf(const std::vector<double>& strengths, double outside_harvest = 0) const;
  // The harvest gate of given strengths, in [0, 1].
  double GateOf(const std::vector<double>& strengths, double outside_harvest = 0) const;
  // The factor intent evidence counts at for given strengths, in [0, 1] (`scale` above).
  double IntentScaleOf(const std::vector<double>& strengths) const;
  // What each detector adds to the logit for given strengths: weight x strength, times the gate
  // for the supporting families and the intent scale for intent.
  std::vector<double> Contributions(const std::vector<double>& strengths,
                                    double outside_harvest = 0) const;
  // The fit's features: strengths with the supporting families' multiplied by the gate and
  // intent's by the intent scale, so that the logit is bias + sum(weight_i * feature_i).
  std::vector<double> Features(const std::vector<double>& strengths,
                               double outside_harvest = 0) const;
  // The model's weight of detector `i` (in detectors() order).
  double WeightOf(size_t i) const { return weights_[i]; }
  detectors::Family FamilyOf(size_t i) const { return detectors_[i]->family(); }
  uint8_t LevelOf(double score) const;
  bool Flags(double score) const { return LevelOf(score) >= model_.flag_level; }
  bool FlagsEndUser(double score) const { return LevelOf(score) >= model_.end_user_flag_level; }
  const std::vector<std::unique_ptr<detectors::Detector>>& detectors() const { return detectors_; }
  const ScoringModel& model() const { return model_; }

 private:
  double Gate(double strongest_harvest) const;
  // The intent scale of strengths indexed like detectors_ (any random-access container).
  template <typename Strengths>
  double IntentScale(const Strengths& s, size_t n) const;

  ScoringModel model_;
  std::vector<std::unique_ptr<detectors::Detector>> detectors_;
  std::vector<double> weights_;  // aligned with detectors_
  std::vector<bool> harvest_;    // aligned with detectors_: family is harvest
  std::vector<bool> intent_;     // aligned with detectors_: family is intent
  // output_volume's index in detectors_ (the scale taken), or -1 without it.
  int volume_ = -1;
};

}  // namespace dg::scoring
