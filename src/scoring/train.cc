// See train.h.
#include "scoring/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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
  const size_t d = names.size();
  // Sample weights: half the total to each class, split evenly over the class's groups.
  std::map<std::pair<bool, std::string>, size_t> group_size;
  std::map<bool, size_t> groups_in_class;
  for (const auto& e : ex) {
    (e.attack ? rep.attack : rep.benign)++;
    if (group_size[{e.attack, e.group}]++ == 0) ++groups_in_class[e.attack];
  }
  std::vector<double> sample_w(ex.size());
  for (size_t i = 0; i < ex.size(); ++i) {
    const auto& e = ex[i];
    sample_w[i] = 0.5 / static_cast<double>(groups_in_class[e.attack]) /
                  static_cast<double>(group_size[{e.attack, e.group}]);
  }
  std::vector<double> w(d, 1.0);
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
      w[j] = std::max(0.0, w[j] - opt.learning_rate * (grad[j] + opt.l2 * w[j]));
    }
    b -= opt.learning_rate * gb;
  }
  rep.fitted_bias = b;

  // Keep benign accounts below the flag level: the benign logit quantile plus a margin.
  const double flag_logit = Logit(base.level_thresholds[base.flag_level - 1]);
  std::vector<double> benign_z;
  std::vector<std::pair<double, std::string>> by_z;
  for (const auto& e : ex) {
    if (e.attack) continue;
    double z = 0;
    for (size_t j = 0; j < d; ++j) z += w[j] * e.x[j];
    benign_z.push_back(z);
    by_z.emplace_back(z, e.group);
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
  for (const auto& e : ex) {
    double z = b;
    for (size_t j = 0; j < d; ++j) z += w[j] * e.x[j];
    const double s = Sigmoid(z);
    scores.push_back(s);
    labels.push_back(e.attack);
    if (z >= flag_logit) (e.attack ? rep.attack_flagged : rep.benign_flagged)++;
  }
  std::map<std::string, std::pair<size_t, size_t>> groups;
  for (size_t i = 0; i < ex.size(); ++i) {
    if (!ex[i].attack) continue;
    auto& g = groups[ex[i].group];
    g.first += scores[i] >= Sigmoid(flag_logit);
    g.second += 1;
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
  fmt::format_to(it, "\n[levels]\nlow = {}\nmedium = {}\nhigh = {}\ncritical = {}\n",
                 m.level_thresholds[0], m.level_thresholds[1], m.level_thresholds[2],
                 m.level_thresholds[3]);
  return out;
}

}  // namespace dg::scoring
