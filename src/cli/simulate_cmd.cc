// `distillguard simulate`: writes a labelled, realistic stream of LLM-API traffic (events.jsonl,
// accounts.jsonl, labels.json) from a TOML scenario; see docs/SCENARIOS.md and src/sim/.
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "cli/progress.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace dg::cli {
namespace {

struct SimulateArgs {
  std::string scenario, out, corpora;
  uint64_t seed = 1;
  double hours = 0;
};

RunFn Setup(CLI::App& sub) {
  auto args = std::make_shared<SimulateArgs>();
  sub.add_option("--scenario", args->scenario, "Scenario file (TOML, see docs/SCENARIOS.md)")
      ->required();
  sub.add_option("--out", args->out, "Output directory (events.jsonl, accounts.jsonl, labels.json)")
      ->required();
  auto* seed_opt = sub.add_option("--seed", args->seed,
                                  "Random seed (default: the scenario's seed, else 1); the output "
                                  "is byte-identical for a given scenario and seed");
  sub.add_option("--corpora", args->corpora,
                 "Directory with distill/, benign/, benchmark/ *.jsonl prompt corpora (and "
                 "../templates); without it the built-in prompt generator is used");
  auto* hours_opt = sub.add_option(
      "--hours", args->hours,
      "Simulate this many hours instead of the scenario's duration_hours (the same populations "
      "and rates over a longer or shorter window: 168 runs the stress family over a week)");
  hours_opt->check(CLI::Range(0.01, 24.0 * 366));
  return [args, seed_opt, hours_opt] {
    sim::Scenario sc;
    try {
      sc = sim::LoadScenarioFile(args->scenario);
    } catch (const sim::ScenarioError& e) {
      fmt::print(stderr, "distillguard simulate: invalid scenario: {}\n", e.what());
      return 2;
    }
    if (hours_opt->count() > 0) sc.duration_hours = args->hours;
    sim::SimOptions opt;
    opt.out_dir = args->out;
    opt.corpora_dir = args->corpora;
    opt.seed_given = seed_opt->count() > 0;
    opt.seed = args->seed;
    ProgressBar bar("simulate");
    if (bar.enabled()) {
      opt.on_progress = [&bar](double frac, uint64_t events, uint64_t bytes, bool final) {
        uint64_t total = frac > 0 ? static_cast<uint64_t>(static_cast<double>(bytes) / frac) : 0;
        bar.Update(bytes, total, events, final);
      };
    }
    sim::SimStats st;
    try {
      st = sim::Simulate(sc, opt);
    } catch (const std::exception& e) {
      fmt::print(stderr, "distillguard simulate: error: {}\n", e.what());
      return 2;
    }
    fmt::print(stderr,
               "distillguard simulate: {} events ({} attack), {} accounts, {:.1f} MB in {:.2f}s "
               "-> {}\n",
               st.events, st.attack_events, st.accounts, static_cast<double>(st.bytes) / 1e6,
               st.seconds, args->out);
    return 0;
  };
}

}  // namespace
DG_REGISTER_COMMAND(simulate, "simulate", "Simulate a labelled week of LLM-API traffic", Setup);
}  // namespace dg::cli
