// Randomised scenario families: one scenario file, a different world per seed.
//
// Design: a model tuned on one simulated world learns that world's quirks (its exact rates, gaps,
// answer lengths, probabilities). With `[scenario] randomize = r` (0 < r <= 1; or a population's
// own `randomize`), Randomize() rewrites every population's behavioural knobs before the
// simulation runs, each by its own draw from (seed, population name, knob name): two seeds are
// two worlds, one seed is always the same world, and adding a population leaves the others'
// draws unchanged. Identity structure and the request parameters that *define* a persona
// (temperature, max_tokens, n, logprobs, logit_bias, models, templates, groups, windows) are
// left alone, so a persona stays what it is while its volume and texture move. The exact rules
// are listed in docs/SCENARIOS.md ("Randomised families"). With randomize = 0 (the default) the
// scenario is returned unchanged and the simulator's output is byte-identical to before.
#pragma once

#include <cstdint>
#include <string_view>

#include "sim/scenario.h"

namespace dg::sim {

// The knob names Randomize() may change (valid entries of `randomize_exempt`).
bool IsRandomizedKnob(std::string_view name);

// True if any population has a non-zero effective strength.
bool HasRandomization(const Scenario& sc);

// The world for `seed`: a copy of `sc` with every population's knobs jittered (see above).
Scenario Randomize(const Scenario& sc, uint64_t seed);

}  // namespace dg::sim
