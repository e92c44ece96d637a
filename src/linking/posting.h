// Indicator posting: which identity and behaviour values an account offers the linker, read off
// its state at a barrier. Every threshold is a named option (PostingOptions) rather than a number
// inside the engine's barrier, so what makes, say, "a template" is stated once and tested here.
//
// An account posts its registry values (payment instrument, email domain) from its first event,
// and once it has some traffic its dominant network and ASN, its client stack, the system prompts
// it uses regularly, the agent set it rotates through, its parameter profile and its prompt
// template (with two rarer composites: the template of a fresh account, and the template with one
// constant parameter signature). A zero value is never posted.
//
// The engine posts an account again only when the signature of its posts changes (PostSignature):
// indicators rarely change between barriers and posting a value again is a no-op.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/time.h"
#include "linking/linker.h"
#include "state/account_state.h"

namespace dg::linking {

struct PostingOptions {
  // Requests before anything but registry values is posted: the first requests of an account
  // say little of its network or client.
  uint64_t min_requests = 5;
  // A network is posted when it carries at least this share of the account's requests.
  double ip_prefix_min_share = 0.3;
  // A client stack (TLS fingerprint and user agent) is posted when each part carries at least
  // this share (each sketch's lower bound): the account's client. An account with no dominant
  // client (people sharing a key, a script rotating agents) would post whichever pair leads at
  // each epoch, and over days the pairs it posted would link it to anyone who drew the same.
  double client_stack_min_share = 0.3;
  // An ASN is posted when it carries at least one in this many of the account's requests (2: its
  // majority ASN).
  uint64_t asn_one_in = 2;
  // A system prompt is posted when it is seen at least this many times for sure (count minus the
  // sketch's error) and is at least one in this many of the account's system prompts: one for
  // most clients, several for a client that rotates them (each weighs by its own rarity).
  uint32_t system_prompt_min_count = 3;
  uint64_t system_prompt_one_in = 10;
  // Agents from which a rotation set is posted (a set of three is a script's list, or part of it).
  uint32_t agent_set_min_agents = state::kRotationStartAgents;
  // Requests before the parameter profile is posted: fewer, and "always" or "never" is chance.
  uint64_t profile_min_requests = 50;
  // A template is a constant wrapper around varying content: one opening (and ideally one
  // ending) across many distinct prompts. A handful of similar short prompts is not one.
  uint64_t template_min_requests = 10;
  double template_min_distinct_prompts = 5;
  double template_min_opening_share = 0.5;
  double template_min_ending_share = 0.5;  // the ending joins the template (a full wrapper)
  // A full wrapper sent with one parameter signature in at least this share of requests posts
  // the template-and-parameters composite.
  double template_params_min_share = 0.8;
  // A fresh account's full wrapper posts the fresh-account-template composite sooner, from the
  // first requests that carry it (min_requests on, each prompt distinct), if most of its requests
  // carry it: a script's accounts take little each, and the composite is what ties a new member
  // of a flagged campaign to it before its outputs add up.
  double fresh_template_min_share = 0.8;
  // An account first active within this long of its creation is fresh: its full wrapper posts
  // the fresh-account-template composite (registry needed). The engine sets it from
  // EngineOptions::fresh_account_age, which its cluster states use too.
  TimeUs fresh_account_age = 14 * kUsPerDay;
};

// Salts that keep a composite's value apart from its parts.
inline constexpr uint64_t kFreshTemplateSalt = 0xf7e5;
// Folded into the signature of a flagged account's posts, so its suspects-only kinds are posted
// again (now linking) once it is flagged (see LinkerOptions::suspects_only).
inline constexpr uint64_t kSuspectSalt = 0x5a5;

// The values one account posts: at most one per kind, plus a few extra system prompts.
class Posts {
 public:
  static constexpr size_t kCapacity = kIndicatorKinds + 4;
  void Add(IndicatorKind kind, uint64_t value) {
    if (value != 0 && n_ < items_.size()) items_[n_++] = {kind, value};
  }
  size_t size() const { return n_; }
  const std::pair<IndicatorKind, uint64_t>& operator[](size_t i) const { return items_[i]; }
  const std::pair<IndicatorKind, uint64_t>* begin() const { return items_.data(); }
  const std::pair<IndicatorKind, uint64_t>* end() const { return items_.data() + n_; }

 private:
  std::array<std::pair<IndicatorKind, uint64_t>, kCapacity> items_{};
  size_t n_ = 0;
};

// The indicators `s` posts under `opt`.
Posts CollectPosts(const state::AccountState& s, const PostingOptions& opt);

// A 31-bit signature of `posts` (and of whether the account is a suspect), never 0.
uint32_t PostSignature(const Posts& posts, bool suspect);

}  // namespace dg::linking
