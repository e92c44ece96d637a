// See train.h.
#include "scoring/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>

namespace dg::scoring {
namespace {
double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
double Logit(double p) { return std::log(p / (1.0 - p)); }
}  // namespace

double Auroc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::vector<double> rank(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (positive[i]) {
      pos += 1;
      rank_sum += rank[i];
    } else {
      neg += 1;
    }
  }
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

TrainReport FitModel(const std::vector<TrainingExample>& ex, const std::vector<std::string>& names,
                     const TrainOptions& opt, const ScoringModel& base) {
  TrainReport rep;
  rep.examples = ex.size();
  const size_t d = names.size();
  // Units: an example's account, or the example alone when it names none.
  std::vector<size_t> unit_of(ex.size());
  std::map<uint64_t, size_t> unit_index;
  size_t units = 0;
  for (size_t i = 0; i < ex.size(); ++i) {
    if (ex[i].unit == 0) {
      unit_of[i] = units++;
    } else {
      auto [it, fresh] = unit_index.try_emplace(ex[i].unit, units);
      if (fresh) ++units;
      unit_of[i] = it->second;
    }
  }
  std::vector<size_t> unit_examples(units, 0), unit_first(units, SIZE_MAX);
  for (size_t i = 0; i < ex.size(); ++i) {
    ++unit_examples[unit_of[i]];
    unit_first[unit_of[i]] = std::min(unit_first[unit_of[i]], i);
  }
  // Sample weights: half the total to each class, split evenly over the class's groups, then
  // over the group's units, then over the unit's examples.
  std::map<std::pair<bool, std::string>, size_t> group_size;  // units
  std::map<bool, size_t> groups_in_class;
  for (size_t u = 0; u < units; ++u) {
    const auto& e = ex[unit_first[u]];
    (e.attack ? rep.attack : rep.benign)++;
    if (group_size[{e.attack, e.group}]++ == 0) ++groups_in_class[e.attack];
  }
  std::vector<double> sample_w(ex.size());
  for (size_t i = 0; i < ex.size(); ++i) {
    const auto& e = ex[i];
    sample_w[i] = 0.5 / static_cast<double>(groups_in_class[e.attack]) /
                  static_cast<double>(group_size[{e.attack, e.group}]) /
                  static_cast<double>(unit_examples[unit_of[i]]);
  }
  // Projected gradient descent: each weight stays within the bounds the base model declares
  // (non-negative in any case).
  std::vector<double> lo(d, 0.0), hi(d, 1e9);
  for (size_t j = 0; j < d; ++j) {
    for (const auto& [name, bound] : base.bounds) {
      if (name == names[j]) {
        lo[j] = bound.floor;
        hi[j] = bound.cap;
      }
    }
  }
  std::vector<double> w(d);
  for (size_t j = 0; j < d; ++j) w[j] = std::clamp(1.0, lo[j], hi[j]);
  double b = -2.0;
  std::vector<double> grad(d);
  for (int it = 0; it < opt.iterations; ++it) {
    std::fill(grad.begin(), grad.end(), 0.0);
    double gb = 0;
    for (size_t i = 0; i < ex.size(); ++i) {
      const auto& e = ex[i];
      double z = b;
      for (size_t j = 0; j < d; ++j) z += w[j] * e.x[j];
      const double err = (Sigmoid(z) - (e.attack ? 1.0 : 0.0)) * sample_w[i];
      for (size_t j = 0; j < d; ++j) grad[j] += err * e.x[j];
      gb += err;
    }
    for (size_t j = 0; j < d; ++j) {
      w[j] = std::clamp(w[j] - opt.learning_rate * (grad[j] + opt.l2 * w[j]), lo[j], hi[j]);
    }
    b -= opt.learning_rate * gb;
  }
  rep.fitted_bias = b;

  // Each unit at its highest logit (without bias): the engine flags once and for all.
  std::vector<double> unit_z(units, -std::numeric_limits<double>::infinity());
  for (size_t i = 0; i < ex.size(); ++i) {
    double z = 0;
    for (size_t j = 0; j < d; ++j) z += w[j] * ex[i].x[j];
    unit_z[unit_of[i]] = std::max(unit_z[unit_of[i]], z);
  }

  // Keep benign accounts below the flag level: the benign logit quantile plus a margin.
  const double flag_logit = Logit(base.Threshold(static_cast<Level>(base.flag_level)));
  std::vector<double> benign_z;
  std::vector<std::pair<double, std::string>> by_z;
  for (size_t u = 0; u < units; ++u) {
    const auto& e = ex[unit_first[u]];
    if (e.attack) continue;
    benign_z.push_back(unit_z[u]);
    by_z.emplace_back(unit_z[u], e.group);
  }
  std::sort(by_z.rbegin(), by_z.rend());
  for (size_t i = 0; i < by_z.size() && i < 5; ++i)
    rep.closest_benign.emplace_back(by_z[i].second, by_z[i].first);
  if (!benign_z.empty()) {
    std::sort(benign_z.begin(), benign_z.end());
    const auto allowed = static_cast<size_t>(std::floor(opt.max_benign_fpr * benign_z.size()));
    const double q = benign_z[benign_z.size() - 1 - std::min(allowed, benign_z.size() - 1)];
    b = std::min(b, flag_logit - q - opt.margin);
  }

  ScoringModel m = base;
  m.version = opt.version;
  m.bias = b;
  m.weights.clear();
  for (size_t j = 0; j < d; ++j) m.weights.emplace_back(names[j], w[j]);
  rep.model = m;

  std::vector<double> scores;
  std::vector<bool> labels;
  std::map<std::string, std::pair<size_t, size_t>> groups;
  for (size_t u = 0; u < units; ++u) {
    const auto& e = ex[unit_first[u]];
    const double z = b + unit_z[u];
    scores.push_back(Sigmoid(z));
    labels.push_back(e.attack);
    const bool flagged = z >= flag_logit;
    if (flagged) (e.attack ? rep.attack_flagged : rep.benign_flagged)++;
    if (e.attack) {
      auto& g = groups[e.group];
      g.first += flagged;
      g.second += 1;
    }
  }
  for (const auto& [name, g] : groups) rep.attack_groups.emplace_back(name, g.first, g.second);
  rep.auroc = Auroc(scores, labels);
  return rep;
}

std::string ModelToToml(const ScoringModel& m, const std::string& comment) {
  std::string out;
  auto it = std::back_inserter(out);
  for (size_t pos = 0; pos < comment.size();) {
    size_t nl = comment.find('\n', pos);
    if (nl == std::string::npos) nl = comment.size();
    fmt::format_to(it, "# {}\n", comment.substr(pos, nl - pos));
    pos = nl + 1;
  }
  fmt::format_to(
      it,
      "version = \"{}\"\nbias = {:.6f}\nflag_level = \"{}\"\nend_user_flag_level = \"{}\"\n\n"
      "[weights]\n",
      m.version, m.bias, LevelName(m.flag_level), LevelName(m.end_user_flag_level));
  for (const auto& [name, w] : m.weights) fmt::format_to(it, "{} = {:.6f}\n", name, w);
  if (!m.bounds.empty()) {
    fmt::format_to(it,
                   "\n# [floor, cap] of each weight: a fit stays within them (DETECTION.md).\n"
                   "[bounds]\n");
    for (const auto& [name, b] : m.bounds) {
      fmt::format_to(it, "{} = [{}, {}]\n", name, b.floor, b.cap);
    }
  }
  fmt::format_to(it,
                 "\n# Supporting evidence counts in proportion to the strongest harvest strength.\n"
                 "[gate]\nharvest_low = {}\nharvest_high = {}\n",
                 m.gate_low, m.gate_high);
  fmt::format_to(it, "\n[levels]\nlow = {}\nmedium = {}\nhigh = {}\ncritical = {}\n",
                 m.level_thresholds[0], m.level_thresholds[1], m.level_thresholds[2],
                 m.level_thresholds[3]);
  return out;
}

}  // namespace dg::scoring
