// Decider: the per-request decision (allow / degrade / throttle / block) from the published
// verdict view, the policy and the GCRA buckets. It never touches the engine and never waits on
// ingest: one lock-free view lookup plus, where limits apply, one short per-shard bucket lock.
//
// Order: analyst overrides (serve/actions.h; the most specific one wins: API key or end user,
// then account, then the account's cluster; block refuses, allow skips everything else), then
// block lists, then allow lists (allow-listed callers skip everything else), then the
// verdict (level → action, flagged / cluster-flagged floors, detector rules), the engine-lag
// rule (fail-closed throttles when the engine lags), always-on rate limits (request and token
// buckets per account, key and end user), and finally the throttled bucket: a throttled account's
// conforming requests pass degraded, the rest are refused with retry-after. In shadow mode the
// decision is computed and reported as `would`, but the action returned is allow.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "serve/config.h"
#include "serve/actions.h"
#include "serve/gcra.h"
#include "serve/verdict_view.h"

namespace dg::serve {

struct DecisionInput {
  std::string_view account_id, api_key_id, end_user, client_ip, user_agent;
  int n = -1;
  int max_tokens = -1;
  bool logprobs = false;
};

struct RateInfo {
  bool set = false;
  double limit = 0, remaining = 0, reset_s = 0;
};

struct Decision {
  Action action = Action::kAllow;  // what to enforce (allow in shadow mode)
  Action would = Action::kAllow;   // what the policy decided
  bool shadow = false;
  std::vector<std::string> reasons;
  double retry_after_s = 0;
  std::vector<std::string> strip;  // degrade: what to remove from the request / response
  int cap_n = 0, cap_max_tokens = 0;
  RateInfo requests, tokens;
  bool known = false;  // the engine has seen the account
  AccountVerdict verdict;
};

class Decider {
 public:
  Decider(const Policy& policy, const VerdictView& view, std::vector<std::string> detector_names,
          const Clock& clock)
      : policy_(std::make_shared<const Policy>(policy)),
        view_(view),
        detector_names_(std::move(detector_names)),
        clock_(clock) {}
  Decision Decide(const DecisionInput& in, bool engine_lagging, bool fail_open);
  // Hot reload: decisions from now on use `policy`; one in flight finishes with the policy it
  // started with. Rate-limit buckets (and throttled allowances) carry over.
  void SetPolicy(const Policy& policy) {
    policy_.store(std::make_shared<const Policy>(policy), std::memory_order_release);
  }
  std::shared_ptr<const Policy> policy() const { return policy_.load(std::memory_order_acquire); }
  // Analyst overrides to apply first (borrowed; may be null).
  void SetOverrides(const ActionStore* actions) { actions_ = actions; }

 private:
  std::atomic<std::shared_ptr<const Policy>> policy_;
  const VerdictView& view_;
  std::vector<std::string> detector_names_;
  const Clock& clock_;
  const ActionStore* actions_ = nullptr;
  Gcra buckets_;
};

}  // namespace dg::serve
