// `distillguard version`: prints the version and the linked library versions.
#include <fmt/format.h>
#include <simdjson.h>

#include "cli/command.h"

#define STRINGIFY_DG2(x) #x
#define STRINGIFY_DG(x) STRINGIFY_DG2(x)

namespace dg::cli {
namespace {
RunFn Setup(CLI::App& sub) {
  return [] {
    fmt::print("distillguard {}\nsimdjson {} (implementation: {})\n", DG_VERSION,
               STRINGIFY_DG(SIMDJSON_VERSION), simdjson::get_active_implementation()->name());
    return 0;
  };
}
}  // namespace
DG_REGISTER_COMMAND(version, "version", "Print version information", Setup);
}  // namespace dg::cli
