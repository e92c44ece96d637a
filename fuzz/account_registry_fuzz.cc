// libFuzzer target for the account registry (accounts.jsonl: engine::LoadAccountRegistry, read
// by `scan --accounts` and the service at start). The input bytes are written as the file and
// loaded into an empty engine. Invariants: no crash, exception or sanitizer report; the file is
// readable, so no load error; every non-blank line is either an account or a rejected line
// (accounts + rejected <= lines); samples never exceed the requested maximum; and the engine
// still takes a snapshot and loads it back (the registry is part of the checkpoint).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "engine/account_registry.h"
#include "engine/engine.h"

namespace {

const std::string& ScratchFile() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/dg_registry_fuzz.XXXXXX.jsonl";
    const int fd = ::mkstemps(tmpl, 6);
    if (fd < 0) std::abort();
    ::close(fd);
    return std::string(tmpl);
  }();
  return path;
}

const dg::engine::EngineOptions& Options() {
  static const dg::engine::EngineOptions opt;  // parses the built-in model once
  return opt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::ofstream(ScratchFile(), std::ios::binary | std::ios::trunc) << text;
  uint64_t lines = 1;
  for (char c : text) lines += c == '\n';
  // Engines cost ~100 ms to build (scorer, detectors, shards), so two live for the whole run;
  // loading the empty engine's snapshot resets the first one (registry included) per input.
  static dg::core::NameTable names, names2;
  static dg::engine::Engine& engine = *new dg::engine::Engine(Options(), names);
  static dg::engine::Engine& again = *new dg::engine::Engine(Options(), names2);
  static const std::string empty = [] {
    std::string s;
    engine.SaveSnapshot(s);
    return s;
  }();
  std::string err;
  if (!engine.LoadSnapshot(empty, &err)) std::abort();
  const auto load = dg::engine::LoadAccountRegistry(ScratchFile(), engine, names, 3);
  if (!load.error.empty()) std::abort();
  if (load.accounts + load.rejected.total() > lines) std::abort();
  if (load.samples.size() > 3) std::abort();
  std::string snap;
  engine.SaveSnapshot(snap);
  if (!again.LoadSnapshot(snap, &err)) std::abort();
  return 0;
}
