// libFuzzer target for the scoring model TOML (ScoringModel::FromToml, what `--model FILE`
// loads), followed by what an engine does with a model: build the Scorer and score. The input
// bytes are the file's text. By contract a bad model throws std::runtime_error with a message,
// which the harness catches; any other exception type, a crash or a sanitizer report is a
// finding. Invariants for a model that loads: its level of a score is monotone in the score,
// and scores of strengths in [0, 1] are numbers in [0, 1].
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scoring/scorer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    dg::scoring::ScoringModel model = dg::scoring::ScoringModel::FromToml(text, "fuzz.toml");
    dg::scoring::Scorer scorer(std::move(model));
    const size_t n = scorer.detectors().size();
    for (double s : {0.0, 0.5, 1.0}) {
      const std::vector<double> strengths(n, s);
      const double score = scorer.ScoreOf(strengths);
      if (!(score >= 0 && score <= 1)) std::abort();
      const double gate = scorer.GateOf(strengths);
      if (!(gate >= 0 && gate <= 1)) std::abort();
      (void)scorer.Contributions(strengths);
    }
    uint8_t prev = 0;
    for (double score = 0; score <= 1.0; score += 0.05) {
      const uint8_t level = scorer.LevelOf(score);
      if (level < prev) std::abort();
      prev = level;
    }
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  return 0;
}
