// See posting.h.
#include "linking/posting.h"

#include "common/hash.h"

namespace dg::linking {

Posts CollectPosts(const state::AccountState& s, const PostingOptions& opt) {
  Posts posts;
  posts.Add(kPayment, s.registry.payment);
  posts.Add(kEmailDomain, s.registry.email_domain);
  if (s.requests < opt.min_requests) return posts;
  const auto& ip = s.ip_prefixes.Top();
  if (ip.count && s.ip_prefixes.TopShare() >= opt.ip_prefix_min_share) {
    posts.Add(kIpPrefix, ip.key);
  }
  if (s.asn_candidate && uint64_t{s.asn_votes} * opt.asn_one_in >= s.requests) {
    posts.Add(kAsn, s.asn_candidate);
  }
  const auto& fp = s.fingerprints.Top();
  const auto& ua = s.agents.Top();
  const bool fp_leads = !fp.count || s.fingerprints.TopShare() >= opt.client_stack_min_share;
  const bool ua_leads = !ua.count || s.agents.TopShare() >= opt.client_stack_min_share;
  if ((fp.count || ua.count) && fp_leads && ua_leads) {
    posts.Add(kClientStack, HashMix(fp.key, ua.key) | 1);
  }
  for (const auto& e : s.systems.entries()) {
    const uint32_t sure = e.count - e.error;
    if (e.count && sure >= opt.system_prompt_min_count &&
        uint64_t{sure} * opt.system_prompt_one_in >= s.systems.total()) {
      posts.Add(kSystemPrompt, e.key);
    }
  }
  // Each set the account holds as its rotation grows is posted.
  if (s.RotatesAgents(opt.agent_set_min_agents)) posts.Add(kAgentSet, s.agent_set);
  if (s.requests >= opt.profile_min_requests) posts.Add(kParamProfile, s.ParamProfile());
  // Posting every opening in a fifth of the requests (for clients that rotate templates) would
  // link small developers by the common openings of one prompt corpus: one dominant opening only.
  const bool fresh = s.IsFresh(opt.fresh_account_age);
  if (fresh && s.requests < opt.template_min_requests &&
      s.prompts.Estimate() + 1.0 >= static_cast<double>(s.requests) &&
      s.prefixes.TopShare() >= opt.fresh_template_min_share &&
      s.suffixes.TopShare() >= opt.fresh_template_min_share) {
    const uint64_t tmpl = HashMix(s.prefixes.Top().key, s.suffixes.Top().key);
    posts.Add(kFreshTemplate, HashMix(tmpl, kFreshTemplateSalt));
  }
  if (s.requests >= opt.template_min_requests &&
      s.prompts.Estimate() >= opt.template_min_distinct_prompts &&
      s.prefixes.TopShare() >= opt.template_min_opening_share) {
    const bool wrapped = s.suffixes.TopShare() >= opt.template_min_ending_share;
    const uint64_t tmpl =
        wrapped ? HashMix(s.prefixes.Top().key, s.suffixes.Top().key) : s.prefixes.Top().key;
    posts.Add(kTemplate, tmpl);
    // Composites are far rarer than their parts: a full wrapper shared by accounts that were all
    // created days before they started, or sent with one identical parameter signature.
    if (wrapped && fresh) {
      posts.Add(kFreshTemplate, HashMix(tmpl, kFreshTemplateSalt));
    }
    if (wrapped && s.params.TopShare() >= opt.template_params_min_share) {
      posts.Add(kTemplateParams, HashMix(tmpl, s.params.Top().key));
    }
  }
  return posts;
}

uint32_t PostSignature(const Posts& posts, bool suspect) {
  uint64_t sig = 0x9E3779B97F4A7C15ULL;
  for (const auto& [kind, value] : posts) sig = HashMix(sig ^ kind, value);
  if (suspect) sig = HashMix(sig, kSuspectSalt);
  return static_cast<uint32_t>(sig >> 33) | 1;
}

}  // namespace dg::linking
