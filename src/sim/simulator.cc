// See simulator.h for the design. Layout of this file: population setup (prompt pools, wrappers),
// account / member identities, lanes (timing state machine), event serialisation, and the merge
// loop that writes events in global time order, then accounts.jsonl and labels.json.
#include "sim/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <stdexcept>

#include "common/hash.h"
#include "common/json_writer.h"
#include "common/rng.h"
#include "sim/corpus.h"
#include "sim/identity.h"
#include "sim/randomize.h"
#include "sim/textgen.h"

namespace dg::sim {
namespace {

// ---------- small helpers ----------

int64_t DrawInt(Rng& rng, const Range& r) {
  return rng.Range(static_cast<int64_t>(std::llround(r.lo)),
                   static_cast<int64_t>(std::llround(r.hi)));
}
double DrawReal(Rng& rng, const Range& r) { return r.Fixed() ? r.lo : rng.Uniform(r.lo, r.hi); }
// Log-uniform in [lo, hi] (uniform if lo <= 0): sizes and rates spread over orders of magnitude.
double DrawLog(Rng& rng, const Range& r) {
  if (r.Fixed()) return r.lo;
  if (r.lo <= 0) return rng.Uniform(r.lo, r.hi);
  return std::exp(rng.Uniform(std::log(r.lo), std::log(r.hi)));
}
// Zipf-like index in [0, n) with exponent s (0 = uniform), by continuous inverse CDF.
uint64_t DrawZipf(Rng& rng, uint64_t n, double s) {
  if (n <= 1) return 0;
  double u = rng.Uniform();
  double x;
  if (s <= 0.0) {
    x = u * n;
  } else if (std::fabs(s - 1.0) < 1e-9) {
    x = std::exp(u * std::log(static_cast<double>(n) + 1.0)) - 1.0;
  } else {
    double a = std::pow(static_cast<double>(n) + 1.0, 1.0 - s);
    x = std::pow(u * (a - 1.0) + 1.0, 1.0 / (1.0 - s)) - 1.0;
  }
  return std::min<uint64_t>(n - 1, static_cast<uint64_t>(std::max(0.0, x)));
}
template <typename T>
const T& PickOne(Rng& rng, const std::vector<T>& v) {
  return v[rng.Below(v.size())];
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
}

// ---------- populations ----------

struct PopState {
  const Population* pop = nullptr;
  int index = 0;
  std::string kind;                      // built-in kind for this population
  std::vector<CorpusItem> own;           // generated pool (builtin with pool_size > 0)
  std::vector<const CorpusItem*> items;  // the pool (empty + infinite: fresh builtin prompts)
  std::vector<std::string> wrappers;     // with {file:...} expanded
  std::string fixed_wrapper, fixed_system, fixed_agent;
  std::vector<double> model_cdf;
  std::vector<std::string> member_ids;  // accounts or hidden end users
  bool from_corpus = false;
};

std::string DefaultKind(const std::string& prompts) {
  if (prompts.rfind("builtin:", 0) == 0) return prompts.substr(8);
  if (prompts.find("gsm8k") != std::string::npos || prompts.find("math") != std::string::npos)
    return "math";
  if (prompts.find("humaneval") != std::string::npos || prompts.find("code") != std::string::npos)
    return "code";
  if (prompts.find("mmlu") != std::string::npos) return "mcq";
  if (prompts.rfind("benchmark", 0) == 0) return "math";
  if (prompts.rfind("benign", 0) == 0) return "chat";
  return "instruction";
}

// Expands {file:NAME} placeholders; returns false if a referenced template is unavailable.
bool ExpandFiles(std::string& w, Corpora& corpora) {
  for (size_t p; (p = w.find("{file:")) != std::string::npos;) {
    size_t e = w.find('}', p);
    if (e == std::string::npos) return false;
    auto t = corpora.Template(w.substr(p + 6, e - p - 6));
    if (!t) return false;
    w.replace(p, e - p + 1, *t);
  }
  return true;
}

void SetupPopulation(PopState& ps, Corpora& corpora, Rng& rng) {
  const Population& p = *ps.pop;
  ps.kind = p.builtin.empty() ? DefaultKind(p.prompts) : p.builtin;
  if (!IsBuiltinKind(ps.kind))
    throw ScenarioError(
        fmt::format("population '{}': unknown built-in prompt kind '{}' (use "
                    "instruction, chat, code, math, document, classify, "
                    "translate, mcq, question)",
                    p.name, ps.kind));
  const std::vector<CorpusItem>* corpus = nullptr;
  if (p.prompts.rfind("builtin:", 0) != 0) corpus = corpora.Get(p.prompts);
  if (corpus) {
    ps.from_corpus = true;
    std::vector<uint32_t> idx(corpus->size());
    for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.Below(i)]);
    size_t n = p.pool_size > 0 ? static_cast<size_t>(p.pool_size) : idx.size();
    for (size_t i = 0; i < n; ++i) ps.items.push_back(&(*corpus)[idx[i % idx.size()]]);
  } else if (p.pool_size > 0) {
    ps.own.resize(static_cast<size_t>(p.pool_size));
    for (auto& it : ps.own) it.turns.push_back(GeneratePrompt(ps.kind, rng));
    for (auto& it : ps.own) ps.items.push_back(&it);
  }
  ps.wrappers = p.wrappers;
  bool ok = true;
  for (auto& w : ps.wrappers) ok = ok && ExpandFiles(w, corpora);
  if (!ok) {
    ps.wrappers = p.wrappers_fallback;
    for (auto& w : ps.wrappers)
      if (!ExpandFiles(w, corpora))
        throw ScenarioError(
            fmt::format("population '{}': wrappers_fallback must not use {{file:}}", p.name));
  }
  if (!ps.wrappers.empty()) ps.fixed_wrapper = PickOne(rng, ps.wrappers);
  if (!p.system_prompts.empty()) {
    const std::string& s = PickOne(rng, p.system_prompts);
    if (!GenerateSystemPrompt(s, rng, ps.fixed_system)) ps.fixed_system = s;
  }
  ps.fixed_agent = PickOne(rng, p.agents);
  double total = 0;
  for (size_t i = 0; i < p.models.size(); ++i) {
    total += p.model_weights.empty() ? 1.0 : p.model_weights[i];
    ps.model_cdf.push_back(total);
  }
}

// ---------- accounts ----------

struct Account {
  std::string id;
  PopState* ps = nullptr;
  bool hosted = false;      // a hidden end user inside `host`
  Account* host = nullptr;  // identity source for hosted members
  std::string member_end_user;
  // Registry.
  TimeUs created = 0;
  std::string payment, email_domain, country, tier;
  // Client.
  std::vector<std::string> keys, ips;
  std::vector<const AsnInfo*> ip_asn;
  std::vector<std::string> ip_asn_org;
  std::string agent, model, system_prompt, wrapper;
  int tls_variant = 0;     // client TLS stack build, see FingerprintFor
  std::string member_key;  // host_mode = "api_key": the member's own key inside the host
  // Roaming egresses (roam_network): one address per roaming ASN; roam_cur = -1 is home.
  std::vector<std::string> roam_ips;
  std::vector<const AsnInfo*> roam_asn;
  int roam_cur = -1;
  int lanes = 1;
  int64_t max_sessions = 0, sessions_started = 0;
  // Behaviour.
  double sessions_per_day = 0;
  double tz_us = 0;
  TimeUs active_start = 0, active_end = 0;
  uint64_t end_users = 0, eu_salt = 0, day_salt = 0;
  size_t cursor = 0, shard_begin = 0, shard_len = 0;
  int64_t bias_cursor = 0;
};

// Roaming egresses: `roam_asns` distinct ASNs of `roam_network` other than the home ASN, in the
// home ASN's country (`same`), outside it (`other`) or anywhere; one address in each.
void SetupRoaming(Account& a, const Population& p, const AsnInfo& home, Rng& rng) {
  std::vector<const AsnInfo*> cand;
  for (const auto& x : AsnsFor(p.roam_network)) {
    if (x.asn == home.asn) continue;
    const bool same = !home.country.empty() && x.country == home.country;
    if ((p.roam_country == "same" && !same) || (p.roam_country == "other" && same)) continue;
    cand.push_back(&x);
  }
  if (cand.empty())
    throw ScenarioError(fmt::format("population '{}': no {} ASN for roam_country = {} from {}",
                                    p.name, p.roam_network, p.roam_country, home.org));
  for (size_t i = cand.size(); i > 1; --i) std::swap(cand[i - 1], cand[rng.Below(i)]);
  const auto n = std::min<size_t>(cand.size(), static_cast<size_t>(DrawInt(rng, p.roam_asns)));
  for (size_t i = 0; i < n; ++i) {
    a.roam_asn.push_back(cand[i]);
    a.roam_ips.push_back(IpInSubnet(RandomSubnet(*cand[i], rng), rng));
  }
  a.roam_cur = p.roam_home ? -1 : 0;
}

std::string MakeEndUser(uint64_t salt, uint64_t idx) {
  return fmt::format("user_{:012x}", HashMix(salt, idx) & 0xFFFFFFFFFFFFULL);
}

// ---------- lanes ----------

struct Lane {
  Account* a = nullptr;
  Rng rng{0};
  TimeUs t = 0;
  bool done = false;
  int session_left = 0;
  // Conversation.
  int turn = 0, turns = 0;
  std::vector<std::string> msgs;  // serialised message objects
  size_t ctx_chars = 0;
  const CorpusItem* item = nullptr;
  CorpusItem fresh;  // storage for an unpooled builtin prompt
  int repeat_left = 0;
  std::string model, end_user, agent;
  bool system_on = false;
  int last_completion = 0;
  std::string system_text;  // the conversation's system prompt (Responses API `instructions`)
  // people > 0: this lane is one person with an own client and ISP.
  bool person = false;
  std::string person_ip, person_agent;
  const AsnInfo* person_asn = nullptr;
  int person_tls = 0;
};

class Sim {
 public:
  Sim(const Scenario& sc, const SimOptions& opt)
      : opt_(opt), corpora_(opt.corpora_dir), seed_(opt.seed_given ? opt.seed : sc.seed) {
    // A randomised family is one world per seed; otherwise the scenario as written.
    sc_ = HasRandomization(sc) ? Randomize(sc, seed_) : sc;
  }
  SimStats Run();

 private:
  void BuildAccounts();
  void InitLane(Lane& l);
  bool NextSession(Lane& l, TimeUs from);
  void StartConversation(Lane& l);
  void EmitEvent(Lane& l, std::string& out, int& latency_ms);
  double Intensity(const Account& a, TimeUs t) const;
  void WriteAccounts(const std::string& path);
  void WriteLabels(const std::string& path);

  Scenario sc_;
  const SimOptions& opt_;
  Corpora corpora_;
  uint64_t seed_;
  std::vector<std::unique_ptr<PopState>> pops_;
  std::vector<std::unique_ptr<Account>> accounts_;  // real accounts and hosted members
  std::vector<Lane> lanes_;
  uint64_t request_counter_ = 0;
};

void Sim::BuildAccounts() {
  Rng master(seed_);
  std::map<std::string, PopState*> by_name;
  for (size_t i = 0; i < sc_.populations.size(); ++i) {
    auto ps = std::make_unique<PopState>();
    ps->pop = &sc_.populations[i];
    ps->index = static_cast<int>(i);
    Rng prng = master.Fork(Hash64(ps->pop->name));
    SetupPopulation(*ps, corpora_, prng);
    by_name[ps->pop->name] = ps.get();
    pops_.push_back(std::move(ps));
  }
  std::set<std::string> used_ids;
  const TimeUs start = sc_.start, end = sc_.End();
  // Real accounts first, so hosted members can find their hosts.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& psp : pops_) {
      PopState& ps = *psp;
      const Population& p = *ps.pop;
      if ((pass == 0) != p.host.empty()) continue;
      Rng rng = master.Fork(Hash64(p.name, 7));
      std::vector<Account*> hosts;
      if (!p.host.empty())
        for (auto& a : accounts_)
          if (a->ps == by_name[p.host] && !a->hosted) hosts.push_back(a.get());
      // network_countries restricts the class to ASNs serving those countries.
      // (Pointers into the static tables: events refer to them until the end.)
      std::vector<const AsnInfo*> asns;
      for (const auto& x : AsnsFor(p.network))
        if (p.network_countries.empty() ||
            std::find(p.network_countries.begin(), p.network_countries.end(), x.country) !=
                p.network_countries.end())
          asns.push_back(&x);
      if (asns.empty())
        throw ScenarioError(
            fmt::format("population '{}': no {} ASN in network_countries", p.name, p.network));
      double burst_base = DrawReal(rng, p.account_age_days);
      int group_left = 0;
      std::string g_payment, g_email, g_country;
      uint32_t g_subnet = 0;
      const AsnInfo* g_asn = nullptr;
      size_t n_items = ps.items.size();
      for (int i = 0; i < p.count; ++i) {
        auto a = std::make_unique<Account>();
        a->ps = &ps;
        Rng arng = rng.Fork(static_cast<uint64_t>(i) + 1);
        if (group_left <= 0) {
          group_left = static_cast<int>(DrawInt(arng, p.group_size));
          g_payment = "pf_" + RandomHex(arng, 16);
          const std::string& d = PickOne(arng, p.email_domains);
          g_email = d == "@company"  ? GenerateCompanyDomain(arng)
                    : d == "@random" ? GenerateThrowawayDomain(arng)
                                     : d;
          g_country = PickOne(arng, p.countries);
          g_asn = PickOne(arng, asns);
          g_subnet = RandomSubnet(*g_asn, arng);
        }
        --group_left;
        do {
          a->id = "acct_" + RandomHex(arng, 16);
        } while (!used_ids.insert(a->id).second);
        // Registry identity.
        double age_days = p.created_burst_hours > 0
                              ? burst_base - arng.Uniform(0, p.created_burst_hours) / 24.0
                              : DrawReal(arng, p.account_age_days);
        a->created = start - static_cast<TimeUs>(age_days * kUsPerDay);
        a->payment = p.share_payment ? g_payment : "pf_" + RandomHex(arng, 16);
        if (p.share_email_domain) {
          a->email_domain = g_email;
        } else {
          const std::string& d = PickOne(arng, p.email_domains);
          a->email_domain = d == "@company"  ? GenerateCompanyDomain(arng)
                            : d == "@random" ? GenerateThrowawayDomain(arng)
                                             : d;
        }
        a->country = p.share_country ? g_country : PickOne(arng, p.countries);
        a->tier = PickOne(arng, p.tiers);
        // Keys and network.
        for (int64_t k = 0, nk = DrawInt(arng, p.keys_per_account); k < nk; ++k)
          a->keys.push_back("key_" + RandomHex(arng, 12));
        const AsnInfo* home = p.share_subnet ? g_asn : PickOne(arng, asns);
        uint32_t subnet = p.share_subnet ? g_subnet : RandomSubnet(*home, arng);
        for (int64_t k = 0, nip = DrawInt(arng, p.ips_per_account); k < nip; ++k) {
          const AsnInfo* asn = p.ip_scope == "any" ? PickOne(arng, asns) : home;
          uint32_t s = p.ip_scope == "subnet" ? subnet : RandomSubnet(*asn, arng);
          a->ips.push_back(IpInSubnet(s, arng));
          a->ip_asn.push_back(asn);
        }
        a->agent = p.agent_mode == "shared" ? ps.fixed_agent : PickOne(arng, p.agents);
        a->tls_variant = p.agent_mode == "shared" ? 0 : static_cast<int>(arng.Below(3));
        if (!p.roam_network.empty()) SetupRoaming(*a, p, *home, arng);
        if (!p.system_prompts.empty()) {
          if (p.system_mode == "per_population") {
            a->system_prompt = ps.fixed_system;
          } else {
            const std::string& s = PickOne(arng, p.system_prompts);
            if (!GenerateSystemPrompt(s, arng, a->system_prompt)) a->system_prompt = s;
          }
        }
        if (!ps.wrappers.empty())
          a->wrapper =
              p.wrapper_mode == "per_population" ? ps.fixed_wrapper : PickOne(arng, ps.wrappers);
        {
          double u = arng.Uniform() * ps.model_cdf.back();
          size_t m = 0;
          while (m + 1 < ps.model_cdf.size() && u >= ps.model_cdf[m]) ++m;
          a->model = p.models[m];
        }
        // Behaviour.
        if (p.sessions_tail_alpha > 0) {
          a->sessions_per_day = std::min(p.sessions_per_day.hi,
                                         arng.Pareto(p.sessions_per_day.lo, p.sessions_tail_alpha));
        } else {
          a->sessions_per_day = DrawLog(arng, p.sessions_per_day);
        }
        a->tz_us = PickOne(arng, p.tz_offsets) * kUsPerHour;
        double w_lo = p.active_window_hours.lo;
        double w_hi = p.active_window_hours.hi < 0 ? sc_.duration_hours : p.active_window_hours.hi;
        a->active_start =
            start + static_cast<TimeUs>((w_lo + DrawReal(arng, p.stagger_hours)) * kUsPerHour);
        a->active_start = std::max(a->active_start, a->created + 10 * kUsPerMin);
        a->active_end = start + static_cast<TimeUs>(w_hi * kUsPerHour);
        if (p.lifetime_hours.hi > 0)
          a->active_end = std::min(
              a->active_end,
              a->active_start + static_cast<TimeUs>(DrawReal(arng, p.lifetime_hours) * kUsPerHour));
        a->active_end = std::min(a->active_end, end);
        a->end_users = static_cast<uint64_t>(DrawLog(arng, p.end_users));
        a->eu_salt = arng.Next();
        a->day_salt = arng.Next();
        a->bias_cursor = arng.Range(0, 100000);
        if (n_items > 0) {
          a->cursor = arng.Below(n_items);
          a->shard_len = std::max<size_t>(1, n_items / static_cast<size_t>(p.count));
          a->shard_begin =
              (static_cast<size_t>(i) * n_items / static_cast<size_t>(p.count)) % n_items;
        }
        if (!hosts.empty()) {
          a->hosted = true;
          a->host = PickOne(arng, hosts);
          // Same id format as the host's own end users: indistinguishable by shape.
          a->member_end_user =
              MakeEndUser(a->host->eu_salt, a->host->end_users + arng.Below(1u << 20));
          used_ids.erase(a->id);
          a->id = a->member_end_user;
          if (p.host_mode == "api_key") {
            // An extra key of the host account, used only by this member; no end user.
            a->member_key = "key_" + RandomHex(arng, 12);
            a->member_end_user.clear();
            a->id = a->member_key;
          }
          ps.member_ids.push_back(a->id);
        } else {
          ps.member_ids.push_back(a->id);
        }
        if (p.max_sessions.hi > 0) a->max_sessions = DrawInt(arng, p.max_sessions);
        // Lanes (with `people`: one per person, each with an own client and ISP).
        a->lanes = p.people.hi > 0 ? static_cast<int>(DrawInt(arng, p.people)) : p.lanes;
        std::vector<size_t> isp(asns.size());
        for (size_t k = 0; k < isp.size(); ++k) isp[k] = k;
        if (p.people.hi > 0)
          for (size_t k = isp.size(); k > 1; --k) std::swap(isp[k - 1], isp[arng.Below(k)]);
        for (int k = 0; k < a->lanes; ++k) {
          Lane l;
          l.a = a.get();
          l.rng = arng.Fork(static_cast<uint64_t>(k) + 101);
          if (p.people.hi > 0) {
            l.person = true;
            l.person_agent = PickOne(l.rng, p.agents);
            l.person_tls = static_cast<int>(l.rng.Below(3));
            l.person_asn = asns[isp[static_cast<size_t>(k) % isp.size()]];
            l.person_ip = IpInSubnet(RandomSubnet(*l.person_asn, l.rng), l.rng);
          }
          lanes_.push_back(std::move(l));
        }
        accounts_.push_back(std::move(a));
      }
    }
  }
}

double Sim::Intensity(const Account& a, TimeUs t) const {
  const Population& p = *a.ps->pop;
  double local = static_cast<double>(t) + a.tz_us;
  double day_pos = std::fmod(local, static_cast<double>(kUsPerDay));
  if (day_pos < 0) day_pos += kUsPerDay;
  double hour = day_pos / kUsPerHour;
  double shape = 1.0 + p.diurnal * std::cos(2.0 * M_PI * (hour - 15.0) / 24.0);
  int64_t day = static_cast<int64_t>(std::floor(local / kUsPerDay));
  int64_t weekday = ((day + 3) % 7 + 7) % 7;  // 0 = Monday (1970-01-01 was a Thursday)
  if (weekday >= 5) shape *= p.weekend;
  return shape;
}

// Moves the lane to the next session start at or after `from`; false if none before the end.
bool Sim::NextSession(Lane& l, TimeUs from) {
  Account& a = *l.a;
  const Population& p = *a.ps->pop;
  if (a.max_sessions > 0 && a.sessions_started++ >= a.max_sessions) return false;
  if (!p.cron_hours.empty()) {
    // Scheduled jobs: the first cron slot (plus jitter) after `from` on an active day.
    TimeUs base = std::max(from, a.active_start);
    int64_t day =
        static_cast<int64_t>(std::floor((static_cast<double>(base) + a.tz_us) / kUsPerDay));
    for (;; ++day) {
      TimeUs day_start = static_cast<TimeUs>(static_cast<double>(day) * kUsPerDay - a.tz_us);
      if (day_start >= a.active_end) return false;
      if (p.active_day_prob < 1.0 &&
          static_cast<double>(HashMix(a.day_salt, static_cast<uint64_t>(day)) >> 11) * 0x1.0p-53 >=
              p.active_day_prob)
        continue;
      std::vector<double> hours = p.cron_hours;
      std::sort(hours.begin(), hours.end());
      for (double h : hours) {
        TimeUs t = day_start + static_cast<TimeUs>(h * kUsPerHour);
        t += static_cast<TimeUs>(l.rng.Uniform(0, p.cron_jitter_minutes) * kUsPerMin);
        if (t <= base) continue;
        if (t >= a.active_end) return false;
        l.t = t;
        l.session_left = static_cast<int>(DrawInt(l.rng, p.session_requests));
        return true;
      }
    }
  }
  double rate_per_us = a.sessions_per_day / a.lanes / static_cast<double>(kUsPerDay);
  if (rate_per_us <= 0) return false;
  double max_shape = (1.0 + p.diurnal) * std::max(1.0, p.weekend);
  double lmax = rate_per_us * max_shape;
  double t = static_cast<double>(std::max(from, a.active_start));
  for (int guard = 0; guard < 1000000; ++guard) {
    t += l.rng.Exponential(1.0 / lmax);
    if (t >= static_cast<double>(a.active_end)) return false;
    if (p.active_day_prob < 1.0) {
      double local = t + a.tz_us;
      int64_t day = static_cast<int64_t>(std::floor(local / kUsPerDay));
      double u =
          static_cast<double>(HashMix(a.day_salt, static_cast<uint64_t>(day)) >> 11) * 0x1.0p-53;
      if (u >= p.active_day_prob) {
        t = static_cast<double>(day + 1) * kUsPerDay - a.tz_us;  // next local midnight
        continue;
      }
    }
    if (l.rng.Uniform() * max_shape < Intensity(a, static_cast<TimeUs>(t))) {
      l.t = static_cast<TimeUs>(t);
      l.session_left = static_cast<int>(DrawInt(l.rng, p.session_requests));
      return true;
    }
  }
  return false;
}

void Sim::InitLane(Lane& l) {
  l.done = !NextSession(l, l.a->active_start);
  if (!l.done) StartConversation(l);
}

std::string ApplyPlaceholders(std::string w, const std::string& prompt, Lane& l,
                              const Population& p) {
  if (w.find("{lang}") != std::string::npos) ReplaceAll(w, "{lang}", PickOne(l.rng, p.languages));
  if (w.find("{doc}") != std::string::npos)
    ReplaceAll(w, "{doc}",
               GenerateDocument(l.rng, static_cast<size_t>(DrawReal(l.rng, p.doc_chars))));
  size_t pos = w.find("{prompt}");
  if (pos == std::string::npos) return w + "\n\n" + prompt;
  w.replace(pos, 8, prompt);
  return w;
}

void AppendMessage(std::string& out, std::string_view role, std::string_view content) {
  out += "{\"role\":";
  AppendJsonString(out, role);
  out += ",\"content\":";
  AppendJsonString(out, content);
  out += '}';
}

void Sim::StartConversation(Lane& l) {
  Account& a = *l.a;
  PopState& ps = *a.ps;
  const Population& p = *ps.pop;
  // Prompt selection.
  if (l.repeat_left > 0 && l.item) {
    --l.repeat_left;
  } else {
    if (ps.items.empty()) {
      l.fresh.turns.assign(1, GeneratePrompt(ps.kind, l.rng));
      l.item = &l.fresh;
    } else if (p.pool_order == "random") {
      l.item = ps.items[l.rng.Below(ps.items.size())];
    } else if (p.pool_order == "sequential") {
      l.item = ps.items[a.cursor++ % ps.items.size()];
    } else {
      l.item = ps.items[(a.shard_begin + (a.cursor++ % a.shard_len)) % ps.items.size()];
    }
    l.repeat_left = static_cast<int>(DrawInt(l.rng, p.repeat)) - 1;
  }
  l.turn = 0;
  l.turns = static_cast<int>(DrawInt(l.rng, p.turns));
  if (p.model_mode == "per_account") {
    l.model = a.model;
  } else {
    double u = l.rng.Uniform() * ps.model_cdf.back();
    size_t m = 0;
    while (m + 1 < ps.model_cdf.size() && u >= ps.model_cdf[m]) ++m;
    l.model = p.models[m];
  }
  l.agent = l.person                        ? l.person_agent
            : p.agent_mode == "per_request" ? PickOne(l.rng, p.agents)
                                            : a.agent;
  Account& ident = a.hosted ? *a.host : a;
  const Population& ip = *ident.ps->pop;
  if (a.hosted) {
    l.end_user = a.member_end_user;
  } else if (ident.end_users > 0 && l.rng.Chance(ip.end_user_prob)) {
    l.end_user = MakeEndUser(ident.eu_salt, DrawZipf(l.rng, ident.end_users, ip.end_user_zipf));
  } else {
    l.end_user.clear();
  }
  // Messages.
  l.msgs.clear();
  l.ctx_chars = 0;
  l.system_text.clear();
  if (!p.system_prompts.empty() && l.rng.Chance(p.system_prob)) {
    std::string sys;
    if (p.system_mode == "per_request") {
      const std::string& s = PickOne(l.rng, p.system_prompts);
      if (!GenerateSystemPrompt(s, l.rng, sys)) sys = s;
    } else {
      sys = a.system_prompt;
    }
    if (sys.find("{lang}") != std::string::npos)
      ReplaceAll(sys, "{lang}", PickOne(l.rng, p.languages));
    std::string m;
    AppendMessage(m, "system", sys);
    l.ctx_chars += sys.size();
    l.system_text = sys;
    l.msgs.push_back(std::move(m));
  }
  std::string user = l.item->turns[0];
  if (!ps.wrappers.empty()) {
    const std::string& w =
        p.wrapper_mode == "per_request" ? PickOne(l.rng, ps.wrappers) : a.wrapper;
    user = ApplyPlaceholders(w, user, l, p);
  }
  if (!p.suffixes.empty() && l.rng.Chance(p.suffix_prob)) {
    std::string suf = PickOne(l.rng, p.suffixes);
    if (suf.find("{lang}") != std::string::npos)
      ReplaceAll(suf, "{lang}", PickOne(l.rng, p.languages));
    user += (suf.empty() || suf[0] == ' ' || suf[0] == '\n') ? suf : "\n\n" + suf;
  }
  std::string m;
  AppendMessage(m, "user", user);
  l.ctx_chars += user.size();
  l.msgs.push_back(std::move(m));
}

constexpr std::string_view kAgentTools =
    R"([{"type":"function","function":{"name":"read_file","description":"Read a file from the workspace","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}},{"type":"function","function":{"name":"edit_file","description":"Replace text in a file","parameters":{"type":"object","properties":{"path":{"type":"string"},"old":{"type":"string"},"new":{"type":"string"}},"required":["path","old","new"]}}},{"type":"function","function":{"name":"run_shell","description":"Run a shell command","parameters":{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]}}},{"type":"function","function":{"name":"search_code","description":"Search the code base","parameters":{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}}}])";
constexpr std::string_view kAppTools =
    R"([{"type":"function","function":{"name":"lookup_order","description":"Find an order by id","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}},{"type":"function","function":{"name":"get_account","description":"Get the customer's account details","parameters":{"type":"object","properties":{}}}}])";

// Moves an account between its home and roaming egresses for a request at `t`. roam_day_prob:
// each local day is a travel day or not (a hash of the day, so every request of the day agrees)
// and a travel day uses one roaming network. roam_prob: each request switches egress with this
// probability, home <-> a roaming network (roam_home), or to another roaming network (relays).
void UpdateRoaming(Account& a, const Population& p, TimeUs t, Rng& rng) {
  const size_t n = a.roam_ips.size();
  if (p.roam_day_prob > 0) {
    const auto day =
        static_cast<int64_t>(std::floor((static_cast<double>(t) + a.tz_us) / kUsPerDay));
    const uint64_t h = HashMix(a.day_salt ^ 0x74726176656CULL, static_cast<uint64_t>(day));
    const bool away = static_cast<double>(h >> 11) * 0x1.0p-53 < p.roam_day_prob;
    a.roam_cur = away ? static_cast<int>(HashMix(h, 1) % n) : (p.roam_home ? -1 : 0);
  }
  if (p.roam_prob > 0 && rng.Chance(p.roam_prob)) {
    if (p.roam_home) {
      a.roam_cur = a.roam_cur >= 0 ? -1 : static_cast<int>(rng.Below(n));
    } else if (n > 1) {
      a.roam_cur = static_cast<int>((static_cast<size_t>(a.roam_cur) + 1 + rng.Below(n - 1)) % n);
    }
  }
}

void Sim::EmitEvent(Lane& l, std::string& out, int& latency_ms) {
  Account& a = *l.a;
  const Population& p = *a.ps->pop;
  Account& ident = a.hosted ? *a.host : a;
  Rng& rng = l.rng;
  // Extend the conversation for later turns.
  if (l.turn > 0) {
    int reply_chars = std::min(320, std::max(40, l.last_completion * 4));
    if (p.agent_loop) {
      static constexpr std::string_view kCmds[] = {"pytest -q", "ls src", "git diff --stat",
                                                   "cat src/app.py", "grep -rn TODO src"};
      std::string call_id = "call_" + RandomHex(rng, 16);
      std::string m = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":";
      AppendJsonString(m, call_id);
      m += ",\"type\":\"function\",\"function\":{\"name\":\"run_shell\",\"arguments\":";
      AppendJsonString(m, fmt::format("{{\"cmd\":\"{}\"}}", kCmds[rng.Below(5)]));
      m += "}}]}";
      l.msgs.push_back(std::move(m));
      std::string result = GenerateToolResult(rng);
      std::string t = "{\"role\":\"tool\",\"tool_call_id\":";
      AppendJsonString(t, call_id);
      t += ",\"content\":";
      AppendJsonString(t, result);
      t += '}';
      l.ctx_chars += result.size() + 40;
      l.msgs.push_back(std::move(t));
    } else {
      std::string reply = GenerateReply(rng, static_cast<size_t>(reply_chars));
      std::string m;
      AppendMessage(m, "assistant", reply);
      l.msgs.push_back(std::move(m));
      std::string follow = static_cast<size_t>(l.turn) < l.item->turns.size()
                               ? l.item->turns[static_cast<size_t>(l.turn)]
                               : GenerateFollowup(rng);
      std::string u;
      AppendMessage(u, "user", follow);
      l.ctx_chars += reply.size() + follow.size();
      l.msgs.push_back(std::move(u));
    }
  }
  const ModelProfile prof = ProfileFor(l.model);
  const bool last_turn = l.turn + 1 >= l.turns;

  out += "{\"ts\":\"";
  AppendRfc3339(out, l.t);
  out += "\",\"request_id\":\"req_";
  out += fmt::format("{:016x}", HashMix(seed_, ++request_counter_));
  out += "\",\"account_id\":";
  AppendJsonString(out, ident.id);
  out += ",\"api_key_id\":";
  if (!a.member_key.empty()) {
    AppendJsonString(out, a.member_key);
  } else {
    AppendJsonString(out, ident.keys[rng.Chance(0.85) ? 0 : rng.Below(ident.keys.size())]);
  }
  // The end-user id: top level, or in the request body (below) when the host app puts it there.
  const Population& ip = *ident.ps->pop;
  const bool eu_in_body = ip.end_user_field != "end_user";
  if (!l.end_user.empty() && !eu_in_body) {
    out += ",\"end_user\":";
    AppendJsonString(out, l.end_user);
  }
  // Egress: the lane's person, a roaming network, or one of the account's own addresses.
  const std::string* client_ip;
  const AsnInfo* asn;
  if (l.person) {
    client_ip = &l.person_ip;
    asn = l.person_asn;
  } else {
    if (!ident.roam_ips.empty()) UpdateRoaming(ident, ip, l.t, rng);
    if (ident.roam_cur >= 0) {
      client_ip = &ident.roam_ips[static_cast<size_t>(ident.roam_cur)];
      asn = ident.roam_asn[static_cast<size_t>(ident.roam_cur)];
    } else {
      size_t ipi = ident.ips.size() == 1 ? 0 : DrawZipf(rng, ident.ips.size(), 1.0);
      client_ip = &ident.ips[ipi];
      asn = ident.ip_asn[ipi];
    }
  }
  out += ",\"client_ip\":\"";
  out += *client_ip;
  const std::string& agent = a.hosted ? ident.agent : l.agent;
  out += "\",\"user_agent\":";
  AppendJsonString(out, agent);
  out += ",\"client_fingerprint\":\"";
  out += FingerprintFor(agent, l.person ? l.person_tls : ident.tls_variant);
  out += '"';
  if (!ip.drop_asn) {
    out += fmt::format(",\"client_asn\":{},\"client_asn_org\":", asn->asn);
    AppendJsonString(out, asn->org);
  }
  out += ",\"endpoint\":";
  AppendJsonString(out, p.endpoint);

  // Request. The Responses API carries the system prompt as `instructions` and the rest of the
  // conversation as `input`, and names its output cap `max_output_tokens`.
  const bool responses_api = p.endpoint == "/v1/responses";
  out += ",\"request\":{\"model\":";
  AppendJsonString(out, l.model);
  if (responses_api) {
    size_t first = 0;
    if (!l.system_text.empty()) {
      out += ",\"instructions\":";
      AppendJsonString(out, l.system_text);
      first = 1;
    }
    out += ",\"input\":[";
    for (size_t i = first; i < l.msgs.size(); ++i) {
      if (i > first) out += ',';
      out += l.msgs[i];
    }
  } else {
    out += ",\"messages\":[";
    for (size_t i = 0; i < l.msgs.size(); ++i) {
      if (i) out += ',';
      out += l.msgs[i];
    }
  }
  out += ']';
  if (!l.end_user.empty() && eu_in_body) {
    out += fmt::format(",\"{}\":", ip.end_user_field);
    AppendJsonString(out, l.end_user);
  }
  int n = 1;
  if (rng.Chance(p.n.prob)) {
    n = static_cast<int>(DrawInt(rng, p.n.value));
    if (responses_api)
      n = 1;  // no `n` in the Responses API
    else
      out += fmt::format(",\"n\":{}", n);
  }
  if (!prof.reasoning) {
    if (rng.Chance(p.temperature.prob))
      out += fmt::format(",\"temperature\":{:.2g}", DrawReal(rng, p.temperature.value));
    if (rng.Chance(p.top_p.prob))
      out += fmt::format(",\"top_p\":{:.2g}", DrawReal(rng, p.top_p.value));
  }
  int max_tokens = -1;
  if (rng.Chance(p.max_tokens.prob)) {
    max_tokens = static_cast<int>(DrawInt(rng, p.max_tokens.value));
    out += responses_api    ? ",\"max_output_tokens\":"
           : prof.reasoning ? ",\"max_completion_tokens\":"
                            : ",\"max_tokens\":";
    out += std::to_string(max_tokens);
  }
  bool logprobs = !prof.reasoning && rng.Chance(p.logprobs_prob);
  if (logprobs) {
    out += ",\"logprobs\":true";
    if (rng.Chance(p.top_logprobs.prob))
      out += fmt::format(",\"top_logprobs\":{}", DrawInt(rng, p.top_logprobs.value));
  }
  if (!prof.reasoning && rng.Chance(p.logit_bias_prob)) {
    int64_t k = DrawInt(rng, p.logit_bias_entries);
    out += ",\"logit_bias\":{";
    for (int64_t i = 0; i < k; ++i) {
      int64_t tok =
          p.logit_bias_mode == "sweep" ? (a.bias_cursor++ % 200000) : rng.Range(10, 100255);
      int64_t val =
          p.logit_bias_mode == "sweep" ? 100 : (rng.Chance(0.8) ? -100 : rng.Range(-10, 10));
      out += fmt::format("{}\"{}\":{}", i ? "," : "", tok, val);
    }
    out += '}';
  }
  if (rng.Chance(p.seed_prob)) out += fmt::format(",\"seed\":{}", rng.Range(0, 99999));
  bool stream = rng.Chance(p.stream_prob);
  if (stream) out += ",\"stream\":true,\"stream_options\":{\"include_usage\":true}";
  std::string effort;
  if (prof.reasoning && !p.reasoning_effort.empty() && rng.Chance(p.reasoning_effort_prob)) {
    effort = PickOne(rng, p.reasoning_effort);
    out += fmt::format(",\"reasoning_effort\":\"{}\"", effort);
  }
  if (p.agent_loop || rng.Chance(p.tools_prob)) {
    out += ",\"tools\":";
    out += p.agent_loop ? kAgentTools : kAppTools;
  }
  if (rng.Chance(p.json_prob)) out += ",\"response_format\":{\"type\":\"json_object\"}";
  out += '}';

  // Response.
  const int prompt_tokens =
      static_cast<int>(l.ctx_chars / 4 + 4 * l.msgs.size() + (p.agent_loop ? 380 : 0)) + 3;
  double latency;
  if (rng.Chance(p.error_rate)) {
    bool rate = rng.Chance(0.7);
    out += fmt::format(
        ",\"response\":{{\"status\":{},\"error\":{{\"type\":\"{}\",\"message\":\"{}\"}}}}",
        rate ? 429 : 500, rate ? "rate_limit_exceeded" : "server_error",
        rate ? "Rate limit reached for requests"
             : "The server had an error while processing your "
               "request.");
    latency = rng.Uniform(20, rate ? 120 : 3000);
    l.last_completion = 0;
  } else {
    int completion = p.completion_ratio.hi > 0
                         ? std::max(1, static_cast<int>(std::lround(
                                           prompt_tokens * DrawReal(rng, p.completion_ratio))))
                         : static_cast<int>(std::lround(DrawLog(rng, p.completion_tokens)));
    int reasoning = 0;
    if (prof.reasoning) {
      Range rr = p.reasoning_tokens.hi > 0 ? p.reasoning_tokens : Range{150, 1500};
      double mult = effort == "high"      ? 2.0
                    : effort == "low"     ? 0.4
                    : effort == "minimal" ? 0.1
                                          : 1.0;
      reasoning = static_cast<int>(DrawLog(rng, rr) * mult);
    }
    const char* finish = p.agent_loop && !last_turn ? "tool_calls" : "stop";
    int per_choice = completion + reasoning;
    if (max_tokens > 0 && per_choice > max_tokens) {
      per_choice = max_tokens;
      reasoning = std::min(reasoning, max_tokens);
      completion = per_choice - reasoning;
      finish = "length";
    }
    const int total_completion = per_choice * n;
    if (responses_api) {
      // Responses API shape: input/output token names and an `output` list of messages.
      out += fmt::format(
          ",\"response\":{{\"status\":200,\"usage\":{{\"input_tokens\":{},"
          "\"output_tokens\":{},\"total_tokens\":{}",
          prompt_tokens, total_completion, prompt_tokens + total_completion);
      if (prof.reasoning)
        out += fmt::format(",\"output_tokens_details\":{{\"reasoning_tokens\":{}}}", reasoning);
      out += fmt::format(
          "}},\"output\":[{{\"type\":\"message\",\"role\":\"assistant\",\"status\":\"{}\"",
          finish == std::string_view("length") ? "incomplete" : "completed");
      if (rng.Chance(p.content_prob)) {
        out += ",\"content\":[{\"type\":\"output_text\",\"text\":";
        AppendJsonString(out,
                         GenerateReply(rng, static_cast<size_t>(std::min(320, completion * 4))));
        out += "}]";
      }
      out += "}]}";
    } else {
      out += fmt::format(
          ",\"response\":{{\"status\":200,\"usage\":{{\"prompt_tokens\":{},"
          "\"completion_tokens\":{},\"total_tokens\":{}",
          prompt_tokens, total_completion, prompt_tokens + total_completion);
      if (prof.reasoning)
        out += fmt::format(",\"completion_tokens_details\":{{\"reasoning_tokens\":{}}}",
                           reasoning * n);
      out += "},\"choices\":[";
      bool content = rng.Chance(p.content_prob);
      for (int c = 0; c < n; ++c) {
        out += fmt::format("{}{{\"index\":{},\"finish_reason\":\"{}\"", c ? "," : "", c, finish);
        if (content) {
          out += ",\"message\":{\"role\":\"assistant\",\"content\":";
          if (!p.responses.empty()) {
            AppendJsonString(out, PickOne(rng, p.responses));
          } else {
            AppendJsonString(
                out, GenerateReply(rng, static_cast<size_t>(std::min(320, completion * 4))));
          }
          out += '}';
        }
        out += '}';
      }
      out += "]}";
    }
    latency = (prof.ttft_ms + prompt_tokens * 0.02 + per_choice * 1000.0 / prof.tokens_per_s) *
              rng.LogNormal(0, 0.25);
    l.last_completion = completion;
  }
  latency_ms = static_cast<int>(latency);
  out += fmt::format(",\"latency_ms\":{}}}\n", latency_ms);
}

void Sim::WriteAccounts(const std::string& path) {
  std::vector<const Account*> v;
  for (auto& a : accounts_)
    if (!a->hosted) v.push_back(a.get());
  std::sort(v.begin(), v.end(), [](auto* x, auto* y) { return x->id < y->id; });
  std::string out;
  for (const Account* a : v) {
    JsonWriter w(out);
    w.BeginObject()
        .Field("account_id", a->id)
        .Field("created_at", FormatRfc3339(a->created))
        .Field("payment_fingerprint", a->payment)
        .Field("email_domain", a->email_domain)
        .Field("country", a->country)
        .Field("tier", a->tier)
        .EndObject();
    out += '\n';
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size() || std::fclose(f) != 0)
    throw std::runtime_error(fmt::format("{}: write failed", path));
}

void Sim::WriteLabels(const std::string& path) {
  std::map<std::string, const Account*> accts;
  for (auto& a : accounts_)
    if (!a->hosted) accts[a->id] = a.get();
  struct Camp {
    std::string description;
    std::vector<std::string> accounts, end_users, api_keys;
  };
  std::map<std::string, Camp> camps;
  for (auto& ps : pops_) {
    const Population& p = *ps->pop;
    if (!p.IsAttack()) continue;
    Camp& c = camps[p.campaign];
    if (c.description.empty()) c.description = p.description;
    auto& dst = p.host.empty() ? c.accounts : p.host_mode == "api_key" ? c.api_keys : c.end_users;
    dst.insert(dst.end(), ps->member_ids.begin(), ps->member_ids.end());
  }
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("accounts").BeginObject();
  for (auto& [id, a] : accts) {
    const Population& p = *a->ps->pop;
    w.Key(id).BeginObject().Field("label", p.label).Field("persona", p.name).Key("campaign");
    if (p.IsAttack())
      w.String(p.campaign);
    else
      w.Null();
    w.EndObject();
  }
  w.EndObject().Key("campaigns").BeginObject();
  for (auto& [name, c] : camps) {
    std::sort(c.accounts.begin(), c.accounts.end());
    std::sort(c.end_users.begin(), c.end_users.end());
    w.Key(name).BeginObject().Field("description", c.description).Key("accounts").BeginArray();
    for (auto& id : c.accounts) w.String(id);
    w.EndArray();
    if (!c.end_users.empty()) {
      w.Key("end_users").BeginArray();
      for (auto& id : c.end_users) w.String(id);
      w.EndArray();
    }
    if (!c.api_keys.empty()) {
      // Abused keys inside otherwise benign accounts (host_mode = "api_key").
      std::sort(c.api_keys.begin(), c.api_keys.end());
      w.Key("api_keys").BeginArray();
      for (auto& id : c.api_keys) w.String(id);
      w.EndArray();
    }
    if (!c.end_users.empty() || !c.api_keys.empty()) {
      // Where the hidden end users / keys live (accounts labelled benign).
      std::set<std::string> hosts;
      for (auto& a : accounts_)
        if (a->hosted && a->ps->pop->campaign == name) hosts.insert(a->host->id);
      w.Key("host_accounts").BeginArray();
      for (auto& h : hosts) w.String(h);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject().EndObject();
  out += '\n';
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size() || std::fclose(f) != 0)
    throw std::runtime_error(fmt::format("{}: write failed", path));
}

SimStats Sim::Run() {
  auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(opt_.out_dir, ec);
  if (ec) throw std::runtime_error(fmt::format("--out {}: {}", opt_.out_dir, ec.message()));
  BuildAccounts();
  for (auto& l : lanes_) InitLane(l);

  using Key = std::pair<TimeUs, uint32_t>;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> pq;
  for (uint32_t i = 0; i < lanes_.size(); ++i)
    if (!lanes_[i].done) pq.push({lanes_[i].t, i});

  const std::string events_path = opt_.out_dir + "/events.jsonl";
  FILE* f = std::fopen(events_path.c_str(), "wb");
  if (!f) throw std::runtime_error(fmt::format("{}: cannot create", events_path));
  SimStats st;
  std::string buf;
  buf.reserve(9 << 20);
  const TimeUs start = sc_.start, end = sc_.End();
  while (!pq.empty()) {
    auto [t, i] = pq.top();
    pq.pop();
    Lane& l = lanes_[i];
    int latency = 0;
    EmitEvent(l, buf, latency);
    ++st.events;
    if (l.a->ps->pop->IsAttack()) ++st.attack_events;
    if (buf.size() > (8 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size())
        throw std::runtime_error(fmt::format("{}: write failed", events_path));
      st.bytes += buf.size();
      buf.clear();
    }
    if (opt_.on_progress && (st.events & 4095) == 0)
      opt_.on_progress(static_cast<double>(t - start) / static_cast<double>(end - start), st.events,
                       st.bytes + buf.size(), false);
    // Schedule the lane's next event.
    const Population& p = *l.a->ps->pop;
    TimeUs after = l.t + static_cast<TimeUs>(latency) * 1000;
    ++l.turn;
    bool more = true;
    if (l.turn < l.turns) {
      l.t = after + static_cast<TimeUs>(DrawReal(l.rng, p.think_seconds) * kUsPerSec);
    } else if (--l.session_left > 0) {
      l.t = after + static_cast<TimeUs>(DrawReal(l.rng, p.gap_seconds) * kUsPerSec);
      StartConversation(l);
    } else {
      more = NextSession(l, after);
      if (more) StartConversation(l);
    }
    if (more && l.t < std::min(end, l.a->active_end)) {
      pq.push({l.t, i});
    } else {
      l.done = true;
      l.msgs.clear();
      l.msgs.shrink_to_fit();
    }
  }
  if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), f) != buf.size())
    throw std::runtime_error(fmt::format("{}: write failed", events_path));
  st.bytes += buf.size();
  if (std::fclose(f) != 0) throw std::runtime_error(fmt::format("{}: write failed", events_path));
  if (opt_.on_progress) opt_.on_progress(1.0, st.events, st.bytes, true);
  WriteAccounts(opt_.out_dir + "/accounts.jsonl");
  WriteLabels(opt_.out_dir + "/labels.json");
  for (auto& a : accounts_) st.accounts += a->hosted ? 0 : 1;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace

SimStats Simulate(const Scenario& scenario, const SimOptions& options) {
  Sim sim(scenario, options);
  return sim.Run();
}

}  // namespace dg::sim
