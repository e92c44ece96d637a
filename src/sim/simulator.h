// The traffic simulator: turns a Scenario into events.jsonl, accounts.jsonl and labels.json.
//
// Design: every account (and every hidden end user of a hosted population) owns `lanes`
// independent event generators. A lane is a small state machine (waiting for the next session ->
// conversation -> turn) with its own forked Rng, so its output depends only on the seed and its
// identity, never on interleaving. All lanes sit in one priority queue keyed by (next ts, lane
// id); popping the earliest lane, writing its event and re-queueing it yields a globally
// time-ordered stream with memory bounded by the number of lanes. Output goes through a large
// in-memory buffer flushed with fwrite. Session starts follow a non-homogeneous Poisson process
// (thinning) shaped by the diurnal / weekend / active-day knobs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/scenario.h"

namespace dg::sim {

struct SimOptions {
  std::string out_dir;
  std::string corpora_dir;  // empty: built-in generator only
  bool seed_given = false;
  uint64_t seed = 1;
  // Called every few thousand events and once at the end (final = true) with the fraction of
  // simulated time done, events and bytes written so far. Optional.
  std::function<void(double fraction, uint64_t events, uint64_t bytes, bool final)> on_progress;
};

struct SimStats {
  uint64_t events = 0;
  uint64_t accounts = 0;
  uint64_t attack_events = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Throws std::runtime_error (including ScenarioError) on failure.
SimStats Simulate(const Scenario& scenario, const SimOptions& options);

}  // namespace dg::sim
