// distillguard entry point: builds the CLI from the command registry (see command.h).
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "cli/command.h"

namespace dg::cli {
std::vector<CommandSpec>& Registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
}  // namespace dg::cli

int main(int argc, char** argv) {
  CLI::App app{"distillguard: detect, attribute and contain distillation attacks on an LLM API"};
  app.set_version_flag("--version", std::string("distillguard ") + DG_VERSION);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, dg::cli::RunFn>> runs;
  auto& registry = dg::cli::Registry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runs.emplace_back(sub, spec.setup(*sub));
  }
  CLI11_PARSE(app, argc, argv);
  try {
    for (auto& [sub, run] : runs) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "distillguard: error: {}\n", e.what());
    return 2;
  }
  return 1;
}
