// See scorer.h.
#include "scoring/scorer.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
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
  if (auto* w = t["weights"].as_table()) {
    for (auto& [k, v] : *w) {
      auto d = v.value<double>();
      if (!d)
        throw std::runtime_error(fmt::format("{}: weight '{}' is not a number", path, k.str()));
      m.weights.emplace_back(std::string(k.str()), *d);
    }
  }
  if (auto* lv = t["levels"].as_table()) {
    m.level_thresholds[0] = (*lv)["low"].value_or(m.level_thresholds[0]);
    m.level_thresholds[1] = (*lv)["medium"].value_or(m.level_thresholds[1]);
    m.level_thresholds[2] = (*lv)["high"].value_or(m.level_thresholds[2]);
    m.level_thresholds[3] = (*lv)["critical"].value_or(m.level_thresholds[3]);
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
}

double Scorer::Score(const detectors::DetectorInput& in,
                     std::array<uint8_t, state::kMaxDetectors>* strengths) const {
  double logit = model_.bias;
  for (size_t i = 0; i < detectors_.size(); ++i) {
    if (weights_[i] == 0 && !strengths) continue;
    const double s = detectors_[i]->Strength(in);
    logit += weights_[i] * s;
    if (strengths) (*strengths)[i] = static_cast<uint8_t>(std::lround(s * 255.0));
  }
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
