// See randomize.h. Each knob gets its own Rng seeded from (seed, population, knob), so the draw
// of one knob never depends on which other knobs or populations exist. Three rules:
//   scale:  multiply by 3^(r*u), u uniform in [-1, 1] (both ends of a range by the same factor,
//           so the range keeps its shape); integer knobs are rounded, and an end equal to 1 stays
//           1 (single-turn stays single-turn, one IP stays one IP).
//   logit:  probabilities strictly inside (0, 1) move by r*2*u in logit space (0.5 -> 0.27..0.73
//           at r = 0.5); 0 and 1 are structural (never / always) and stay.
//   subset: a list of user agents keeps a random subset of ceil(N*(1 - r/2))..N entries.
#include "sim/randomize.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/rng.h"

namespace dg::sim {
namespace {

constexpr std::string_view kScaled[] = {
    "count",     "sessions_per_day",  "session_requests", "gap_seconds", "think_seconds",
    "turns",     "completion_tokens", "reasoning_tokens", "doc_chars",   "ips_per_account",
    "end_users", "weekend",           "error_rate"};
constexpr std::string_view kLogit[] = {
    "diurnal",      "active_day_prob", "system_prob",      "end_user_prob", "suffix_prob",
    "content_prob", "stream_prob",     "seed_prob",        "tools_prob",    "json_prob",
    "roam_prob",    "roam_day_prob",   "temperature_prob", "top_p_prob",    "max_tokens_prob"};

class Jitter {
 public:
  Jitter(const Population& p, uint64_t seed, double strength)
      : p_(p), base_(HashMix(seed, Hash64(p.name))), r_(strength) {}

  // u in [-1, 1] for `knob`, or nullopt-like 0 when exempt.
  bool Draw(std::string_view knob, double& u) const {
    for (const auto& e : p_.randomize_exempt)
      if (e == knob) return false;
    Rng rng(HashMix(base_, Hash64(knob)));
    u = rng.Uniform(-1.0, 1.0);
    return true;
  }
  Rng RngFor(std::string_view knob) const { return Rng(HashMix(base_, Hash64(knob, 1))); }

  void Scale(std::string_view knob, Range& v, bool integer, double min_value) const {
    double u;
    if (!Draw(knob, u)) return;
    const double f = std::pow(3.0, r_ * u);
    auto one = [&](double x) {
      if (integer && x == 1) return x;
      double y = x * f;
      if (integer) y = std::round(y);
      return std::max(min_value, y);
    };
    v.lo = one(v.lo);
    v.hi = std::max(v.lo, one(v.hi));
  }
  void ScaleScalar(std::string_view knob, double& v, double max_value) const {
    Range r{v, v};
    Scale(knob, r, false, 0);
    v = std::min(max_value, r.lo);
  }
  void Logit(std::string_view knob, double& prob) const {
    double u;
    if (prob <= 0 || prob >= 1 || !Draw(knob, u)) return;
    double l = std::log(prob / (1 - prob)) + 2.0 * r_ * u;
    prob = 1.0 / (1.0 + std::exp(-l));
  }
  void Subset(std::string_view knob, std::vector<std::string>& list) const {
    double u;
    if (list.size() < 2 || !Draw(knob, u)) return;
    const size_t n = list.size();
    const size_t lo = static_cast<size_t>(std::ceil(static_cast<double>(n) * (1.0 - r_ / 2)));
    const size_t keep = std::min(n, lo + static_cast<size_t>((u + 1) / 2 * (n - lo + 1)));
    std::vector<size_t> idx(n);
    for (size_t i = 0; i < n; ++i) idx[i] = i;
    Rng rng = RngFor(knob);
    for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.Below(i)]);
    idx.resize(std::max<size_t>(1, keep));
    std::sort(idx.begin(), idx.end());  // keep the listed order (weights by repetition)
    std::vector<std::string> out;
    for (size_t i : idx) out.push_back(list[i]);
    list = std::move(out);
  }

 private:
  const Population& p_;
  uint64_t base_;
  double r_;
};

double Strength(const Scenario& sc, const Population& p) {
  return p.randomize >= 0 ? p.randomize : sc.randomize;
}

}  // namespace

bool IsRandomizedKnob(std::string_view name) {
  if (name == "agents") return true;
  for (auto k : kScaled)
    if (k == name) return true;
  for (auto k : kLogit)
    if (k == name) return true;
  return false;
}

bool HasRandomization(const Scenario& sc) {
  for (const auto& p : sc.populations)
    if (Strength(sc, p) > 0) return true;
  return false;
}

Scenario Randomize(const Scenario& sc, uint64_t seed) {
  Scenario out = sc;
  for (auto& p : out.populations) {
    const double r = Strength(sc, p);
    if (r <= 0) continue;
    const Jitter j(p, seed, r);
    Range count{static_cast<double>(p.count), static_cast<double>(p.count)};
    j.Scale("count", count, true, 1);
    p.count = static_cast<int>(count.lo);
    j.Scale("sessions_per_day", p.sessions_per_day, false, 0);
    j.Scale("session_requests", p.session_requests, true, 1);
    j.Scale("gap_seconds", p.gap_seconds, false, 0);
    j.Scale("think_seconds", p.think_seconds, false, 0);
    j.Scale("turns", p.turns, true, 1);
    j.Scale("completion_tokens", p.completion_tokens, true, 1);
    if (p.reasoning_tokens.hi > 0) j.Scale("reasoning_tokens", p.reasoning_tokens, true, 1);
    j.Scale("doc_chars", p.doc_chars, true, 1);
    j.Scale("ips_per_account", p.ips_per_account, true, 1);
    if (p.end_users.hi > 0) j.Scale("end_users", p.end_users, true, 1);
    j.ScaleScalar("weekend", p.weekend, 10);
    j.ScaleScalar("error_rate", p.error_rate, 1);
    j.Logit("diurnal", p.diurnal);
    j.Logit("active_day_prob", p.active_day_prob);
    j.Logit("system_prob", p.system_prob);
    j.Logit("end_user_prob", p.end_user_prob);
    j.Logit("suffix_prob", p.suffix_prob);
    j.Logit("content_prob", p.content_prob);
    j.Logit("stream_prob", p.stream_prob);
    j.Logit("seed_prob", p.seed_prob);
    j.Logit("tools_prob", p.tools_prob);
    j.Logit("json_prob", p.json_prob);
    j.Logit("roam_prob", p.roam_prob);
    j.Logit("roam_day_prob", p.roam_day_prob);
    j.Logit("temperature_prob", p.temperature.prob);
    j.Logit("top_p_prob", p.top_p.prob);
    j.Logit("max_tokens_prob", p.max_tokens.prob);
    if (p.agent_mode != "shared") j.Subset("agents", p.agents);
  }
  return out;
}

}  // namespace dg::sim
