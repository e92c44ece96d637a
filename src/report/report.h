// Report: the batch report contract (../shared/spec/report.md) built from a finished Engine,
// plus the readable terminal summary. Building is separate from writing so `serve` can answer
// GET /v1/report from the same code.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/scan.h"

namespace dg::report {

struct EvidenceItem {
  std::string detector;
  double weight = 0;    // contribution to the score's logit
  double strength = 0;  // the detector's strength in [0, 1]
  std::string detail;
  // The evidence family (detectors::FamilyName): harvest, pace, concealment, coordination or
  // intent.
  // Items that are not a detector's are coordination (links, membership, known indicators)
  // unless they say otherwise (an account's flagged end users: harvest).
  std::string family = "coordination";
};

// An end user or API key flagged on its own within its account.
struct EndUserEntry {
  std::string end_user;  // the end-user id, or the API key id (flagged_api_keys)
  double score = 0;
  TimeUs first_flagged_at = -1;
  uint64_t requests = 0, output_tokens = 0;
  std::vector<EvidenceItem> evidence;
};

struct AccountEntry {
  std::string account_id;
  std::string cluster_id;
  const state::AccountState* state = nullptr;
  double score = 0;
  uint8_t level = 0;
  bool flagged = false;
  TimeUs first_flagged_at = -1;
  std::vector<EvidenceItem> evidence;
  // End users of a multi-tenant account flagged on their own (the account may stay unflagged).
  std::vector<EndUserEntry> flagged_end_users;
  // API keys of an account using several flagged on their own (the account may stay unflagged).
  std::vector<EndUserEntry> flagged_api_keys;
};

struct ClusterEntry {
  uint32_t root = 0;  // linker index of the cluster's root
  std::string cluster_id;
  std::vector<std::string> accounts;
  double score = 0;
  uint8_t level = 0;
  bool flagged = false;
  TimeUs first_flagged_at = -1;
  std::vector<EvidenceItem> evidence;
};

struct Report {
  std::vector<AccountEntry> accounts;  // by score, descending; ties by account id
  std::vector<ClusterEntry> clusters;  // by score, descending; ties by cluster id
};

Report Build(const engine::Engine& engine);

// Writes the JSON report. `stats` fills the `input` section; generated_at comes from the caller.
std::string ToJson(const Report& report, const engine::Engine& engine,
                   const engine::ScanStats& stats, TimeUs generated_at);
// The same bytes, handed to `sink` in pieces of about 1 MiB as they are serialised (a report of
// millions of accounts need not be held whole in memory). Stops and returns false as soon as
// `sink` does.
bool WriteJson(const Report& report, const engine::Engine& engine, const engine::ScanStats& stats,
               TimeUs generated_at, const std::function<bool(std::string_view)>& sink);

// The indicators of every flagged cluster (and flagged lone account) in the known-indicator
// list format (linking/indicators.h), to share with other providers.
std::string ExportIndicators(const Report& report, const engine::Engine& engine);

// Readable summary for a terminal: counts, top flagged clusters and accounts with evidence.
std::string Summary(const Report& report, const engine::Engine& engine,
                    const engine::ScanStats& stats, size_t max_items = 10);

}  // namespace dg::report
