// Fitting the scoring model: logistic regression of labels on detector strengths.
//
// Weights are constrained to be non-negative (projected gradient descent): more evidence from
// any detector never lowers a score, which keeps verdicts explainable ("flagged because of X"),
// and a small L2 penalty keeps weights from chasing one simulator's quirks. Classes are
// balanced, and within a class every group (attack campaign, benign persona) weighs the same,
// // so a three-account logprob campaign matters as much as a 120-account hydra, and within a group
// every account weighs the same however many states it gives. Then the bias is lowered if
// needed so that at most `max_benign_fpr` of benign training accounts reach the flag level in
// any of their states (with a margin). Deterministic: same data, same model.
#pragma once

#include <string>
#include <vector>

#include "scoring/scorer.h"

namespace dg::scoring {

struct TrainingExample {
  std::vector<double> x;  // detector strengths, aligned with the detector names
  bool attack = false;
  std::string group;  // campaign or persona: each group weighs the same in the fit
  // The account this is a state of (0: a unit of its own). An account may give several
  // examples, its states mid-stream and at the end: they share its weight in the fit, and like
  // the engine, which flags once and for all, the account counts at its highest score.
  uint64_t unit = 0;
};

struct TrainOptions {
  double l2 = 0.001;
  int iterations = 40000;
  double learning_rate = 4.0;
  double max_benign_fpr = 0.001;
  double margin = 0.5;  // logit margin kept below the flag threshold for benign accounts
  std::string version = "trained";
};

struct TrainReport {
  ScoringModel model;
  size_t attack = 0, benign = 0;                  // accounts (units)
  size_t attack_flagged = 0, benign_flagged = 0;  // on the training data, at the flag level
  size_t examples = 0;                            // states fitted on
  double auroc = 0;
  double fitted_bias = 0;  // before the false-positive adjustment
  // The benign groups closest to the flag level (group, logit without bias), highest first.
  std::vector<std::pair<std::string, double>> closest_benign;
  // Recall per attack group on the training data.
  std::vector<std::tuple<std::string, size_t, size_t>> attack_groups;  // group, flagged, total
};

TrainReport FitModel(const std::vector<TrainingExample>& examples,
                     const std::vector<std::string>& detector_names, const TrainOptions& options,
                     const ScoringModel& base);

// TOML text of a model (what ScoringModel::FromFile / FromToml read back).
std::string ModelToToml(const ScoringModel& m, const std::string& comment);

// AUROC with average ranks for ties; NaN when a class is empty.
double Auroc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace dg::scoring
