// Scenario: the declarative description of a simulated week of API traffic.
//
// Design: a scenario is a list of *populations*. A population is N accounts (or, when `host` is
// set, N end users hidden inside another population's accounts) that share one behaviour
// described entirely by knobs: identity (account age, payment / subnet / e-mail sharing in
// groups), network (ASN class, IPs, agents), timing (sessions per day, diurnal shape, windows),
// conversation structure (turns, think times, tool loops), prompt material (corpus group or
// built-in generator, pool size and order, wrappers, system prompts, suffixes), request
// parameters and response sizes. Benign personas and attack campaigns use the same model; only
// `label` differs. New scenarios therefore need no code. Loaded from TOML (docs/SCENARIOS.md);
// every problem (syntax, wrong type, unknown key, bad value) becomes a ScenarioError carrying
// file, line and reason.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "common/time.h"

namespace dg::sim {

class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A numeric knob given either as a number (lo == hi) or as [lo, hi].
struct Range {
  double lo = 0, hi = 0;
  bool Fixed() const { return lo == hi; }
};

// An optional request parameter: present in a request with probability `prob`, value in range.
struct Param {
  double prob = 0;
  Range value;
};

struct Population {
  std::string name;         // persona name (labels.json "persona")
  std::string label;        // "benign" | "attack"
  std::string campaign;     // attack campaign name (defaults to name); empty for benign
  std::string description;  // for labels.json campaigns
  int count = 1;
  std::string host;  // if set: members are end users inside accounts of this population
  // With `host`: what a member is inside the host account: "end_user" (an end-user id) or
  // "api_key" (an extra API key of the host account, e.g. one abused key of a company).
  std::string host_mode = "end_user";

  // Randomisation (stress families): per-population strength (< 0: the scenario's) and knobs
  // exempt from the jitter (see sim/randomize.h).
  double randomize = -1;
  std::vector<std::string> randomize_exempt;

  // Identity.
  Range account_age_days{30, 365};  // created_at = start - age (negative: during the scenario)
  double created_burst_hours = 0;   // >0: all accounts created within this window
  Range group_size{1, 1};           // accounts are partitioned into groups of this size
  bool share_payment = false, share_subnet = false, share_email_domain = false,
       share_country = false;
  std::vector<std::string> tiers{"tier-1"};
  std::vector<std::string> countries{"US"};
  std::vector<std::string> email_domains{"gmail.com"};
  Range keys_per_account{1, 1};

  // Network and client.
  std::string network = "residential";  // residential|cloud|office|mobile|vpn
  Range ips_per_account{1, 2};
  std::string ip_scope = "subnet";  // subnet (one /24) | asn (any /24 of one ASN) | any
  std::vector<std::string> agents{"OpenAI/Python 1.54.3"};
  std::string agent_mode = "per_account";  // per_account | per_request | shared
  // Restricts the network class to ASNs registered in these countries (empty: all).
  std::vector<std::string> network_countries;
  // Roaming: a second set of egress networks the account's requests move to (phones on a
  // mobile carrier, VPN togglers, privacy relays, travellers). Off when roam_network is empty.
  std::string roam_network;          // ASN class of the roaming egresses
  Range roam_asns{1, 1};             // distinct roaming ASNs per account
  std::string roam_country = "any";  // same | other | any: roaming ASN vs home ASN country
  double roam_prob = 0;              // per request: probability of switching egress
  double roam_day_prob = 0;          // per local day: probability the day is spent roaming
  bool roam_home = true;             // false: the home network is never seen (relays)
  bool drop_asn = false;             // omit client_asn / client_asn_org from events
  // > 0: each account is this many people sharing one key, one lane each, with their own
  // client (agent, TLS build) and their own ISP (an ASN of `network`, distinct where possible).
  Range people{0, 0};

  // Timing.
  Range sessions_per_day{1, 1};  // per account, log-uniform in [lo, hi] (Pareto if tail set)
  double sessions_tail_alpha = 0;
  double diurnal = 0;  // 0 flat .. 1 strong day/night cycle (peak 15:00 local)
  std::vector<double> tz_offsets{0};
  double weekend = 1.0;  // intensity multiplier on Saturday/Sunday (local)
  double active_day_prob = 1.0;
  Range active_window_hours{0, -1};  // relative to scenario start; hi < 0: until the end
  Range stagger_hours{0, 0};         // per-account delay of the first activity
  Range lifetime_hours{0, 0};        // per-account active span; 0: unlimited
  std::vector<double> cron_hours;    // if set: sessions start daily at these local hours
  double cron_jitter_minutes = 10;   // ... plus a uniform delay of up to this many minutes
  Range session_requests{1, 1};      // conversations per session
  Range gap_seconds{5, 60};          // between conversations of a session
  int lanes = 1;                     // concurrent independent streams per account
  Range turns{1, 1};                 // requests per conversation
  Range think_seconds{20, 120};      // between turns
  bool agent_loop = false;           // later turns are tool results, not user follow-ups
  Range max_sessions{0, 0};          // > 0: the account stops after this many sessions

  // Prompt material.
  std::string prompts = "builtin:chat";  // corpus group[:file prefixes] or builtin:<kind>
  std::string builtin;                   // fallback kind when the corpus is absent
  int pool_size = 0;                     // 0: whole source (builtin: fresh prompts)
  std::string pool_order = "random";     // random | sequential | shard
  Range repeat{1, 1};                    // times each drawn prompt is sent
  std::vector<std::string> system_prompts;
  double system_prob = 1.0;
  std::string system_mode = "per_account";  // per_account | per_request | per_population
  std::vector<std::string> wrappers;
  std::vector<std::string> wrappers_fallback;
  std::string wrapper_mode = "per_request";
  std::vector<std::string> suffixes;
  double suffix_prob = 0;
  std::vector<std::string> languages{"French", "German", "Spanish"};
  Range doc_chars{800, 2500};
  std::vector<std::string> responses;  // fixed response texts (e.g. class labels)

  // Request parameters.
  std::string endpoint = "/v1/chat/completions";
  std::vector<std::string> models{"gpt-4o-mini"};
  std::vector<double> model_weights;
  std::string model_mode = "per_request";  // per_request | per_account
  Param temperature, top_p, max_tokens, n, top_logprobs;
  double logprobs_prob = 0;
  double logit_bias_prob = 0;
  Range logit_bias_entries{1, 5};
  std::string logit_bias_mode = "random";  // random | sweep
  double seed_prob = 0, stream_prob = 0, tools_prob = 0, json_prob = 0;
  std::vector<std::string> reasoning_effort;  // chosen for reasoning models
  double reasoning_effort_prob = 0;

  // End users.
  Range end_users{0, 0};  // per-account pool size; 0: no end_user field
  double end_user_zipf = 1.0;
  double end_user_prob = 1.0;
  // Where the end-user id goes: top-level "end_user", or inside the request body as "user" or
  // "safety_identifier" (OpenAI API fields). Hosted members follow their host's setting.
  std::string end_user_field = "end_user";

  // Response.
  Range completion_tokens{50, 400};
  Range reasoning_tokens{0, 0};  // 0: model default for reasoning models
  Range completion_ratio{0, 0};  // > 0: completion = ratio x prompt tokens (translations)
  double content_prob = 0.3;
  double error_rate = 0.005;

  bool IsAttack() const { return label == "attack"; }
};

struct Scenario {
  std::string name;
  std::string description;
  TimeUs start = 0;
  double duration_hours = 24;
  uint64_t seed = 1;
  bool has_seed = false;
  double randomize = 0;  // 0: one world; > 0: per-seed jitter of population knobs (randomize.h)
  std::vector<Population> populations;
  std::string file;  // where it was loaded from

  TimeUs End() const { return start + static_cast<TimeUs>(duration_hours * kUsPerHour); }
};

// Throws ScenarioError (message "FILE:LINE: reason") on any problem.
Scenario LoadScenarioFile(const std::string& path);
Scenario ParseScenario(std::string_view toml_text, const std::string& source_name);

}  // namespace dg::sim
