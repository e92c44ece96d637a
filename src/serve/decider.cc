// See decider.h.
#include "serve/decider.h"

#include <fmt/format.h>

#include <cmath>

#include "common/hash.h"
#include "core/event.h"
#include "scoring/scorer.h"

namespace dg::serve {
namespace {

Action Max(Action a, Action b) {
  return static_cast<uint8_t>(a) >= static_cast<uint8_t>(b) ? a : b;
}

// Bucket keys: kind-seeded so an account and a key with the same text never share a bucket.
uint64_t Key(std::string_view s, uint64_t kind) { return Hash64(s, kind); }
constexpr uint64_t kAcctReq = 0xa1, kAcctTok = 0xa2, kKeyReq = 0xa3, kUserReq = 0xa4,
                   kThrottled = 0xa5, kThrottledEndUser = 0xa6, kThrottledApiKey = 0xa7;

}  // namespace

Decision Decider::Decide(const DecisionInput& in, bool engine_lagging, bool fail_open) {
  Decision d;
  const std::shared_ptr<const Policy> policy = policy_.load(std::memory_order_acquire);
  const Policy& p = *policy;
  bool any_flagged = false;  // the account, its cluster, the key or the end user
  auto finish = [&]() -> Decision {
    d.would = d.action;
    const bool watermark =
        d.action != Action::kBlock &&
        (p.require_watermarking == WatermarkRequirement::kAlways ||
         (p.require_watermarking == WatermarkRequirement::kContained &&
          (any_flagged || d.action != Action::kAllow)) ||
         (p.require_watermarking == WatermarkRequirement::kFlagged && any_flagged));
    if (d.action == Action::kDegrade) {
      const auto& g = p.degrade;
      if (g.strip_logprobs) {
        d.strip.push_back("logprobs");
        d.strip.push_back("top_logprobs");
      }
      if (g.hide_reasoning) d.strip.push_back("reasoning");
      if (g.cap_n > 0) d.cap_n = g.cap_n;
      if (g.cap_max_tokens > 0) d.cap_max_tokens = g.cap_max_tokens;
      if (g.cap_n > 0 && in.n > g.cap_n) d.strip.push_back("n");
    }
    if (watermark) d.strip.push_back("watermarking");
    if (p.shadow) {
      d.shadow = true;
      d.action = Action::kAllow;
      d.retry_after_s = 0;
      d.strip.clear();
      d.cap_n = d.cap_max_tokens = 0;
    }
    return d;
  };

  // Analyst overrides: the most specific target that has one decides.
  if (actions_) {
    const auto ov = actions_->overrides();
    if (!ov->by_key.empty()) {
      Override o = Override::kNone;
      const char* what = nullptr;
      if (!in.api_key_id.empty()) {
        o = ov->Find(OverrideKey(TargetKind::kKey, in.account_id, in.api_key_id));
        what = "api_key";
      }
      if (o == Override::kNone && !in.end_user.empty()) {
        o = ov->Find(OverrideKey(TargetKind::kEndUser, in.account_id, in.end_user));
        what = "end_user";
      }
      if (o == Override::kNone) {
        o = ov->Find(OverrideKey(TargetKind::kAccount, {}, in.account_id));
        what = "account";
      }
      AccountVerdict cv;
      if (o == Override::kNone && view_.Find(Hash64(in.account_id, core::kHashAccount), &cv) &&
          cv.cluster_root) {
        o = ov->Find(ClusterOverrideKey(cv.cluster_root));
        what = "cluster";
      }
      if (o == Override::kBlock) {
        d.action = Action::kBlock;
        d.reasons.push_back(fmt::format("analyst_block:{}", what));
        return finish();
      }
      if (o == Override::kAllow) {
        d.reasons.push_back(fmt::format("analyst_allow:{}", what));
        return finish();
      }
    }
  }

  const std::string acct(in.account_id);
  if (p.block_accounts.count(acct) ||
      (!in.api_key_id.empty() && p.block_keys.count(std::string(in.api_key_id))) ||
      (!in.end_user.empty() && p.block_end_users.count(std::string(in.end_user)))) {
    d.action = Action::kBlock;
    d.reasons.push_back("blocklisted");
    return finish();
  }
  if (p.allow_accounts.count(acct) ||
      (!in.api_key_id.empty() && p.allow_keys.count(std::string(in.api_key_id))) ||
      (!in.end_user.empty() && p.allow_end_users.count(std::string(in.end_user)))) {
    d.reasons.push_back("allowlisted");
    return finish();
  }

  const uint64_t account = Hash64(in.account_id, core::kHashAccount);
  AccountVerdict v;
  if (view_.Find(account, &v)) {
    d.known = true;
    d.verdict = v;
    const uint8_t level = std::min<uint8_t>(v.level, 4);
    if (p.level_action[level] != Action::kAllow) {
      d.action = Max(d.action, p.level_action[level]);
      d.reasons.push_back(fmt::format("level:{}", scoring::LevelName(level)));
    }
    any_flagged = v.flagged || v.cluster_flagged;
    if (v.flagged) {
      d.action = Max(d.action, p.flagged_action);
      d.reasons.push_back(v.by_cluster ? "flagged:cluster" : "flagged");
    }
    if (v.cluster_flagged) {
      d.action = Max(d.action, p.cluster_flagged_action);
      d.reasons.push_back("cluster_flagged");
    }
    for (const auto& rule : p.detectors) {
      for (size_t i = 0; i < detector_names_.size() && i < v.strength.size(); ++i) {
        if (detector_names_[i] != rule.detector) continue;
        if (v.strength[i] / 255.0 >= rule.min_strength) {
          d.action = Max(d.action, rule.action);
          d.reasons.push_back("detector:" + rule.detector);
        }
      }
    }
  }
  // An end user flagged on its own: contained alone, with its own throttled allowance.
  uint64_t end_user_key = 0;
  bool end_user_flagged = false;
  if (!in.end_user.empty()) {
    AccountVerdict eu;
    end_user_key = VerdictView::EndUserKey(account, Hash64(in.end_user, core::kHashEndUser));
    if (view_.Find(end_user_key, &eu) && eu.flagged) {
      end_user_flagged = true;
      any_flagged = true;
      d.action = Max(d.action, p.end_user_flagged_action);
      d.reasons.push_back("flagged:end_user");
    }
  }
  // A key flagged on its own within its account (one abused key of a company): contained alone.
  uint64_t api_key_key = 0;
  bool api_key_flagged = false;
  if (!in.api_key_id.empty()) {
    AccountVerdict k;
    api_key_key = VerdictView::ApiKeyKey(account, Hash64(in.api_key_id, core::kHashApiKey));
    if (view_.Find(api_key_key, &k) && k.flagged) {
      api_key_flagged = true;
      any_flagged = true;
      d.action = Max(d.action, p.api_key_flagged_action);
      d.reasons.push_back("flagged:api_key");
    }
  }
  if (engine_lagging) {
    d.reasons.push_back("engine_lagging");
    if (!fail_open) d.action = Max(d.action, Action::kThrottle);
  }
  if (d.action == Action::kBlock) return finish();

  const int64_t now = clock_.Now();
  auto limit = [&](const RateLimit& l, uint64_t key, double cost, const char* why, RateInfo* info) {
    if (!l.enabled()) return;
    GcraResult r = buckets_.Take(key, l, cost, now);
    if (info) *info = {true, l.burst, r.remaining, r.reset_s};
    if (!r.allowed) {
      d.action = Max(d.action, Action::kThrottle);
      d.retry_after_s = std::max(d.retry_after_s, r.retry_after_s);
      d.reasons.push_back(why);
    }
  };
  limit(p.account_requests, Key(in.account_id, kAcctReq), 1, "rate:account_requests", &d.requests);
  const double tokens = in.max_tokens > 0 ? static_cast<double>(in.max_tokens) * std::max(in.n, 1)
                                          : static_cast<double>(p.default_request_tokens);
  limit(p.account_tokens, Key(in.account_id, kAcctTok), tokens, "rate:account_tokens", &d.tokens);
  if (!in.api_key_id.empty())
    limit(p.key_requests, Key(in.api_key_id, kKeyReq), 1, "rate:key_requests", nullptr);
  if (!in.end_user.empty())
    limit(p.end_user_requests, Key(in.end_user, kUserReq), 1, "rate:end_user_requests", nullptr);

  if (d.action == Action::kThrottle && d.retry_after_s == 0) {
    // Throttled by verdict: conforming requests pass degraded.
    RateInfo info;
    // Throttled for its end user alone: the allowance is the end user's, not the account's.
    const bool account_wide = d.known && (d.verdict.flagged || d.verdict.cluster_flagged);
    const uint64_t bucket = account_wide       ? Key(in.account_id, kThrottled)
                            : api_key_flagged  ? HashMix(api_key_key, kThrottledApiKey)
                            : end_user_flagged ? HashMix(end_user_key, kThrottledEndUser)
                                               : Key(in.account_id, kThrottled);
    GcraResult r = buckets_.Take(bucket, p.throttled, 1, now);
    if (p.throttled.enabled()) info = {true, p.throttled.burst, r.remaining, r.reset_s};
    if (!d.requests.set) d.requests = info;
    if (p.throttled.enabled() && r.allowed) {
      d.action = Action::kDegrade;
      d.reasons.push_back("throttle:within_allowance");
    } else {
      d.retry_after_s = p.throttled.enabled() ? std::max(1.0, r.retry_after_s) : 60.0;
    }
  }
  if (d.retry_after_s > 0) d.retry_after_s = std::ceil(d.retry_after_s);
  return finish();
}

}  // namespace dg::serve
