// Cases: the analyst's view of a report, as JSON for the web UI (served live by `serve` at
// /v1/cases and /v1/case, embedded whole in `scan --html`).
//
// A case is one thing an analyst decides on: a flagged cluster of two or more accounts, a
// flagged account outside such a cluster, or an end user / API key flagged on its own inside
// its account. The queue lists them (score, output taken, detectors, level, age, status,
// override and the decisions the policy would have taken); a case page adds its members, the
// graph of members and the indicators they share (payment, email domain, network, client stack,
// agent, template), hourly series of requests, output and score per member against the peer
// median with the flag moment, the evidence with its figures, sample prompts per template, and
// whatever the caller adds (decisions, alerts, audit trail).
//
// Everything here is data: text (ids, agents, prompts) is written as JSON strings and rendered
// by the UI as text nodes, never as HTML.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/activity.h"
#include "engine/engine.h"
#include "report/report.h"

namespace dg::report {

struct CaseInputs {
  const engine::Engine* engine = nullptr;
  const Report* report = nullptr;
  const engine::Activity* activity = nullptr;      // may be null: no series
  const engine::PromptSamples* samples = nullptr;  // may be null: no sample prompts
  // The analyst state of a target: (status, override); null = ("open", "none").
  std::function<std::pair<std::string, std::string>(std::string_view kind, std::string_view scope,
                                                    std::string_view target)>
      state;
  // Non-allow decisions the policy took (or would have, in shadow mode) per account, by action
  // (allow, degrade, throttle, block); null = none recorded.
  std::function<std::array<uint64_t, 4>(std::string_view account)> would;
  bool shadow = false;
  bool live = true;  // false for a static report (no actions)
  TimeUs generated_at = 0;
};

// A case id as the queue names it.
struct CaseRef {
  std::string kind;   // cluster, account, end_user, api_key
  std::string scope;  // the account of an end user / API key
  std::string id;
};

// The queue: {"generated_at", "live", "shadow", "cases": [...]}, at most `max_cases` cases by
// score.
std::string QueueJson(const CaseInputs& in, size_t max_cases = 5000);
// All case refs of the queue (for the static report).
std::vector<CaseRef> QueueRefs(const CaseInputs& in, size_t max_cases = 5000);
// The accounts a case is about (members of a cluster; the account itself; the host account).
std::vector<std::string> CaseAccounts(const CaseInputs& in, const CaseRef& ref);
// One case; nullopt if the engine does not know it. `extras` are written as they are into the
// case object (pre-serialised JSON fields, e.g. {"decisions", [...]}).
std::optional<std::string> CaseJson(const CaseInputs& in, const CaseRef& ref,
                                    const std::vector<std::pair<std::string, std::string>>& extras,
                                    size_t max_members = 200, size_t max_series = 6);

}  // namespace dg::report
