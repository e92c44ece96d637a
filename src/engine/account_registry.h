// The optional account registry (accounts.jsonl): one object per account from billing/sign-up,
// `account_id`, `created_at`, `payment_fingerprint`, `email_domain`, `country`, `tier`. Bad lines
// are counted and reported like bad event lines; the rest load.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "ingest/reject.h"

namespace dg::engine {

struct RegistryLoad {
  uint64_t accounts = 0;
  ingest::RejectCounts rejected;
  std::vector<ingest::RejectSample> samples;  // the first few
  std::string error;                          // set when the file cannot be read at all
};

// Loads `path` into the engine (SetRegistry) and the name table. Never throws on bad data.
RegistryLoad LoadAccountRegistry(const std::string& path, Engine& engine, NameTable& names,
                                 size_t max_samples = 10);

}  // namespace dg::engine
