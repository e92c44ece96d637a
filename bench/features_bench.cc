// Micro-benchmarks of the per-event text features: TextFeaturizer::Compute (tokeniser + hashes +
// phrase scan) and PhraseMatcher::Match alone, on a short chat prompt and a ~2 KB document.
// Reports bytes/s; the featurizer and matcher are reused across iterations as on the hot path.
#include <benchmark/benchmark.h>

#include <string>

#include "features/phrases.h"
#include "features/text.h"

namespace {

using dg::features::PhraseMatcher;
using dg::features::PhraseMatcherDb;
using dg::features::TextFeatures;
using dg::features::TextFeaturizer;

const std::string& ShortPrompt() {
  static const std::string s =
      "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
      "May. How many clips did Natalia sell altogether? Let's think step by step.";
  return s;
}

const std::string& Document() {
  static const std::string s = [] {
    std::string d =
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\n";
    const char* para =
        "The mitochondrion is a double-membrane-bound organelle found in most eukaryotic "
        "organisms. Mitochondria generate most of the cell's supply of adenosine triphosphate "
        "(ATP), used as a source of chemical energy. They were first discovered by Albert von "
        "Kolliker in 1857 in the voluntary muscles of insects; see https://example.org/mito for "
        "\"more details\" and contact bio@example.edu with questions.\n\n";
    while (d.size() < 1900) d += para;
    d += "Summarise the passage above in 3 bullet points.\n\n### Response:";
    return d;
  }();
  return s;
}

void BM_Featurize(benchmark::State& state, const std::string& text) {
  TextFeaturizer tf(PhraseMatcherDb::Default());
  TextFeatures f;
  for (auto _ : state) {
    tf.Compute(text, f);
    benchmark::DoNotOptimize(f);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * text.size());
}

void BM_TextOnly(benchmark::State& state, const std::string& text) {
  TextFeatures f;
  for (auto _ : state) {
    dg::features::ComputeTextFeatures(text, f);
    benchmark::DoNotOptimize(f);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * text.size());
}

void BM_PhraseMatch(benchmark::State& state, const std::string& text) {
  PhraseMatcher m(PhraseMatcherDb::Default());
  for (auto _ : state) benchmark::DoNotOptimize(m.Match(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * text.size());
}

BENCHMARK_CAPTURE(BM_Featurize, short_prompt, ShortPrompt());
BENCHMARK_CAPTURE(BM_Featurize, doc_2k, Document());
BENCHMARK_CAPTURE(BM_TextOnly, short_prompt, ShortPrompt());
BENCHMARK_CAPTURE(BM_TextOnly, doc_2k, Document());
BENCHMARK_CAPTURE(BM_PhraseMatch, short_prompt, ShortPrompt());
BENCHMARK_CAPTURE(BM_PhraseMatch, doc_2k, Document());

}  // namespace
