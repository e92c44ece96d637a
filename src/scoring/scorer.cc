// See scorer.h.
#include "scoring/scorer.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace dg::scoring {

std::string_view LevelName(uint8_t level) {
  static constexpr std::string_view kNames[] = {"none", "low", "medium", "high", "critical"};
  return level < 5 ? kNames[level] : "none";
}

extern const char kDefaultModelToml[];  // generated from models/default.toml

ScoringModel ScoringModel::Builtin() {
  static const ScoringModel model = FromToml(kDefaultModelToml, "models/default.toml (built in)");
  return model;
}

ScoringModel ScoringModel::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open model file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return FromToml(ss.str(), path);
}

ScoringModel ScoringModel::FromToml(std::string_view text, const std::string& path) {
  toml::table t;
  try {
    t = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(
        fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  ScoringModel m;
  m.version = t["version"].value_or(std::string("unversioned"));
  m.bias = t["bias"].value_or(m.bias);
  if (!std::isfinite(m.bias)) throw std::runtime_error(fmt::format("{}: bias is not finite", path));
  if (auto* w = t["weights"].as_table()) {
    for (auto& [k, v] : *w) {
      auto d = v.value<double>();
      if (!d || !std::isfinite(*d))
        throw std::runtime_error(
            fmt::format("{}: weight '{}' is not a finite number", path, k.str()));
      m.weights.emplace_back(std::string(k.str()), *d);
    }
  }
  if (auto* b = t["bounds"].as_table()) {
    for (auto& [k, v] : *b) {
      const auto* arr = v.as_array();
      std::optional<double> lo, hi;
      if (arr && arr->size() == 2) {
        lo = (*arr)[0].value<double>();
        hi = (*arr)[1].value<double>();
      }
      if (!lo || !hi || !std::isfinite(*lo) || std::isnan(*hi) || *lo < 0 || *hi < *lo) {
        throw std::runtime_error(fmt::format(
            "{}: bound '{}' must be [floor, cap] with 0 <= floor <= cap", path, k.str()));
      }
      m.bounds.emplace_back(std::string(k.str()), WeightBound{*lo, *hi});
    }
  }
  if (auto* g = t["gate"].as_table()) {
    m.gate_low = (*g)["harvest_low"].value_or(m.gate_low);
    m.gate_high = (*g)["harvest_high"].value_or(m.gate_high);
    if (!(m.gate_low >= 0 && m.gate_high > m.gate_low && m.gate_high <= 1)) {
      throw std::runtime_error(
          fmt::format("{}: gate needs 0 <= harvest_low < harvest_high <= 1", path));
    }
  }
  for (const auto& [name, w] : m.weights) {
    if (w < 0) {
      throw std::runtime_error(fmt::format("{}: weight '{}' is negative ({})", path, name, w));
    }
    for (const auto& [bname, bound] : m.bounds) {
      if (bname == name && (w < bound.floor - 1e-9 || w > bound.cap + 1e-9)) {
        throw std::runtime_error(fmt::format("{}: weight '{}' = {} is outside its bounds [{}, {}]",
                                             path, name, w, bound.floor, bound.cap));
      }
    }
  }
  if (auto* lv = t["levels"].as_table()) {
    m.level_thresholds[0] = (*lv)["low"].value_or(m.level_thresholds[0]);
    m.level_thresholds[1] = (*lv)["medium"].value_or(m.level_thresholds[1]);
    m.level_thresholds[2] = (*lv)["high"].value_or(m.level_thresholds[2]);
    m.level_thresholds[3] = (*lv)["critical"].value_or(m.level_thresholds[3]);
    for (double x : m.level_thresholds) {
      if (!std::isfinite(x)) {
        throw std::runtime_error(fmt::format("{}: level thresholds must be finite", path));
      }
    }
  }
  for (auto [key, level] : {std::pair{"flag_level", &m.flag_level},
                            std::pair{"end_user_flag_level", &m.end_user_flag_level}}) {
    auto fl = t[key].value<std::string>();
    if (!fl) continue;
    bool found = false;
    for (uint8_t i = 1; i < 5; ++i) {
      if (LevelName(i) == *fl) {
        *level = i;
        found = true;
      }
    }
    if (!found) throw std::runtime_error(fmt::format("{}: unknown {} '{}'", path, key, *fl));
  }
  return m;
}

Scorer::Scorer(ScoringModel model)
    : model_(std::move(model)), detectors_(detectors::MakeBuiltinDetectors()) {
  if (detectors_.size() > state::kMaxDetectors)
    throw std::logic_error("raise state::kMaxDetectors");
  weights_.assign(detectors_.size(), 0.0);
  for (const auto& [name, w] : model_.weights) {
    bool found = false;
    for (size_t i = 0; i < detectors_.size(); ++i) {
      if (detectors_[i]->name() == name) {
        weights_[i] = w;
        found = true;
      }
    }
    if (!found)
      throw std::runtime_error(fmt::format("scoring model names unknown detector '{}'", name));
  }
  for (const auto& [name, bound] : model_.bounds) {
    bool found = false;
    for (const auto& d : detectors_) found |= d->name() == name;
    if (!found)
      throw std::runtime_error(fmt::format("scoring model bounds unknown detector '{}'", name));
  }
  harvest_.resize(detectors_.size());
  intent_.resize(detectors_.size());
  for (size_t i = 0; i < detectors_.size(); ++i) {
    harvest_[i] = detectors_[i]->family() == detectors::Family::kHarvest;
    intent_[i] = detectors_[i]->family() == detectors::Family::kIntent;
    if (detectors_[i]->name() == "output_volume") volume_ = static_cast<int>(i);
  }
}

template <typename Strengths>
double Scorer::IntentScale(const Strengths& s, size_t n) const {
  double scale = 0;
  for (size_t i = 0; i < detectors_.size() && i < n; ++i) {
    if (weights_[i] <= 0) continue;
    if (static_cast<int>(i) == volume_ || (!harvest_[i] && !intent_[i])) {
      scale = std::max(scale, s[i]);
    }
  }
  return scale;
}

double Scorer::IntentScaleOf(const std::vector<double>& strengths) const {
  return IntentScale(strengths, strengths.size());
}

double Scorer::StrongestHarvest(const std::array<uint8_t, state::kMaxDetectors>& strengths) const {
  double strongest = 0;
  for (size_t i = 0; i < detectors_.size(); ++i) {
    if ((harvest_[i] || intent_[i]) && weights_[i] > 0) {
      strongest = std::max(strongest, strengths[i] / 255.0);
    }
  }
  return strongest;
}

uint64_t Scorer::SharedHarvest(const detectors::DetectorInput& member,
                               const std::array<uint8_t, state::kMaxDetectors>& cluster,
                               double cluster_min, double member_min, bool first_only) const {
  uint64_t mask = 0;
  for (size_t i = 0; i < detectors_.size() && i < 64; ++i) {
    if (!harvest_[i] || weights_[i] <= 0 || static_cast<int>(i) == volume_) continue;
    if (cluster[i] / 255.0 < cluster_min) continue;
    if (detectors_[i]->Strength(member) < member_min) continue;
    mask |= uint64_t{1} << i;
    if (first_only) break;
  }
  return mask;
}

double Scorer::Score(const detectors::DetectorInput& in,
                     std::array<uint8_t, state::kMaxDetectors>* strengths,
                     double outside_harvest) const {
  double harvest = 0, support = 0, intent = 0, strongest = outside_harvest;
  std::array<double, state::kMaxDetectors> all{};
  for (size_t i = 0; i < detectors_.size(); ++i) {
    if (weights_[i] == 0 && !strengths) continue;
    const double s = detectors_[i]->Strength(in);
    all[i] = s;
    if (harvest_[i]) {
      harvest += weights_[i] * s;
      if (weights_[i] > 0) strongest = std::max(strongest, s);
    } else if (intent_[i]) {
      intent += weights_[i] * s;
      if (weights_[i] > 0) strongest = std::max(strongest, s);
    } else {
      support += weights_[i] * s;
    }
    if (strengths) (*strengths)[i] = static_cast<uint8_t>(std::lround(s * 255.0));
  }
  double logit = model_.bias + harvest + Gate(strongest) * support;
  if (intent > 0) logit += IntentScale(all, all.size()) * intent;
  return 1.0 / (1.0 + std::exp(-logit));
}

double Scorer::Gate(double strongest_harvest) const {
  return detectors::Ramp(strongest_harvest, model_.gate_low, model_.gate_high);
}

double Scorer::GateOf(const std::vector<double>& strengths, double outside_harvest) const {
  double strongest = outside_harvest;
  for (size_t i = 0; i < detectors_.size() && i < strengths.size(); ++i) {
    if ((harvest_[i] || intent_[i]) && weights_[i] > 0) {
      strongest = std::max(strongest, strengths[i]);
    }
  }
  return Gate(strongest);
}

std::vector<double> Scorer::Features(const std::vector<double>& strengths,
                                     double outside_harvest) const {
  const double gate = GateOf(strengths, outside_harvest);
  const double scale = IntentScaleOf(strengths);
  std::vector<double> f(strengths);
  for (size_t i = 0; i < f.size() && i < detectors_.size(); ++i) {
    if (intent_[i]) {
      f[i] *= scale;
    } else if (!harvest_[i]) {
      f[i] *= gate;
    }
  }
  return f;
}

std::vector<double> Scorer::Contributions(const std::vector<double>& strengths,
                                          double outside_harvest) const {
  std::vector<double> c = Features(strengths, outside_harvest);
  for (size_t i = 0; i < c.size() && i < detectors_.size(); ++i) c[i] *= weights_[i];
  return c;
}

double Scorer::ScoreOf(const std::vector<double>& strengths, double outside_harvest) const {
  double logit = model_.bias;
  for (double c : Contributions(strengths, outside_harvest)) logit += c;
  return 1.0 / (1.0 + std::exp(-logit));
}

uint8_t Scorer::LevelOf(double score) const {
  uint8_t level = kNone;
  for (uint8_t i = 0; i < 4; ++i) {
    if (score >= model_.level_thresholds[i]) level = static_cast<uint8_t>(i + 1);
  }
  return level;
}

}  // namespace dg::scoring
