// Reference samplers; see generate.h.
#include "prove/generate.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

#include "prove/detect.h"
#include "prove/vllm_gumbel.h"

namespace dg::prove {
namespace {

int64_t SampleFrom(const std::vector<int64_t>& ids, const std::vector<double>& w, Rng& rng) {
  double total = 0;
  for (double x : w) total += x;
  double r = rng.Uniform() * total;
  for (size_t i = 0; i < ids.size(); ++i) {
    r -= w[i];
    if (r < 0) return ids[i];
  }
  return ids.back();
}

}  // namespace

void TopK(const std::vector<double>& p, int k, std::vector<int64_t>* ids,
          std::vector<double>* probs) {
  const size_t v = p.size();
  ids->resize(v);
  std::iota(ids->begin(), ids->end(), int64_t{0});
  auto better = [&](int64_t a, int64_t b) {
    return p[static_cast<size_t>(a)] != p[static_cast<size_t>(b)]
               ? p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]
               : a < b;
  };
  const size_t keep = k > 0 ? std::min(v, static_cast<size_t>(k)) : v;
  std::partial_sort(ids->begin(), ids->begin() + static_cast<ptrdiff_t>(keep), ids->end(), better);
  ids->resize(keep);
  probs->resize(keep);
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += (*probs)[i] = p[static_cast<size_t>((*ids)[i])];
  for (double& x : *probs) x /= total;
}

std::vector<int64_t> GenerateText(const NgramLm& lm, std::span<const int64_t> prompt,
                                  int max_new_tokens, const SamplerOptions& o, KgwScheme* kgw,
                                  Rng& rng) {
  std::vector<int64_t> history(prompt.begin(), prompt.end()), out;
  std::vector<double> p, probs, weights;
  std::vector<int64_t> ids;
  std::vector<int64_t> window(static_cast<size_t>(std::max(o.context_width, 1)), -1);
  FingerprintSet used_windows;
  for (int step = 0; step < max_new_tokens; ++step) {
    lm.Distribution(history, &p);
    TopK(p, o.top_k, &ids, &probs);
    int64_t token = -1;
    if (o.kind == SamplerKind::kVllmGumbel &&
        (!o.dedup_contexts || used_windows.insert(WindowPrint(window)).second)) {
      double best = -std::numeric_limits<double>::infinity();
      for (size_t i = 0; i < ids.size(); ++i) {
        float u = VllmUniform(VllmPhiloxWord(o.key, window, ids[i]));
        if (u < FLT_MIN) u = FLT_MIN;
        const double v = std::log(probs[i]) - std::log(-std::log(static_cast<double>(u)));
        if (v > best) {
          best = v;
          token = ids[i];
        }
      }
    } else if (o.kind == SamplerKind::kHfKgw && kgw && !history.empty()) {
      const double boost = std::exp(o.delta);
      weights = probs;
      for (size_t i = 0; i < ids.size(); ++i)
        if (kgw->IsGreen(history.back(), ids[i])) weights[i] *= boost;
      token = SampleFrom(ids, weights, rng);
    } else {
      token = SampleFrom(ids, probs, rng);
    }
    if (token == WordVocab::kBoundary) break;
    out.push_back(token);
    history.push_back(token);
    window.erase(window.begin());
    window.push_back(token);
  }
  return out;
}

}  // namespace dg::prove
