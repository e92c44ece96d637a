// Subcommand registry. Each src/cli/<name>_cmd.cc defines one subcommand and registers it with
// DG_REGISTER_COMMAND; main.cc builds the CLI11 app from the registry, so adding a command never
// touches main.cc. A command's Setup() adds its options to the CLI11 subcommand and returns the
// function to run once the command line is parsed (its return value is the exit status).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "features/geo.h"

namespace dg::cli {

using RunFn = std::function<int()>;
using SetupFn = std::function<RunFn(CLI::App& sub)>;

struct CommandSpec {
  std::string name;
  std::string description;
  SetupFn setup;
};

std::vector<CommandSpec>& Registry();

struct Registrar {
  Registrar(std::string name, std::string description, SetupFn setup) {
    Registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

// --geoip PATH|none on a command that featurizes events (scan, serve, train): the country database
// (features::CountryDb) every featurizer of the process uses. Set while parsing, before any use.
inline void AddGeoipOption(CLI::App& sub) {
  sub.add_option_function<std::string>(
         "--geoip", [](const std::string& path) { features::CountryDb::SetDefaultPath(path); },
         "GeoIP country database (legacy GeoIP.dat; GeoIPv6.dat beside it is used too), or "
         "'none'. Default: $DISTILLGUARD_GEOIP, else /usr/share/GeoIP/GeoIP.dat")
      ->check(CLI::ExistingFile | CLI::IsMember({"none"}));
}

#define DG_REGISTER_COMMAND(ident, name, description, setup) \
  static ::dg::cli::Registrar dg_command_registrar_##ident(name, description, setup)

}  // namespace dg::cli
