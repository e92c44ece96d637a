// See report.h.
#include "report/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>

#include "common/json_writer.h"

namespace dg::report {
namespace {

// Distinct keys in an account's key tracker (at most its Space-Saving capacity).
size_t KeysSeen(const engine::UnitTracker& keys) {
  return static_cast<size_t>(std::count_if(keys.counts.entries().begin(),
                                           keys.counts.entries().end(),
                                           [](const auto& en) { return en.count > 0; }));
}

using core::NameKind;

// Evidence is what drove the verdict: each detector's strength when the score peaked (figures
// in the detail are the account's current ones), plus any detector strong now.
std::vector<EvidenceItem> DetectorEvidence(const engine::Engine& e, const state::AccountState& s,
                                           const state::Verdict& v,
                                           const state::AccountState* host = nullptr,
                                           bool host_by_key = false) {
  std::vector<EvidenceItem> out;
  detectors::DetectorInput in{s, e.peers(), host};
  in.host_by_key = host_by_key;
  const auto& scorer = e.scorer();
  const size_t n = scorer.detectors().size();
  std::vector<double> strengths(n);
  for (size_t i = 0; i < n; ++i) {
    strengths[i] = std::max(v.peak_strength[i] / 255.0, scorer.detectors()[i]->Strength(in));
  }
  // Weights are what each detector added to the logit: supporting families count in proportion
  // to the harvest evidence beside them (the gate), and the detail says so when it held them back.
  // The account's linked cluster may have opened its gate (Verdict::cluster_harvest).
  const double outside = v.cluster_harvest / 255.0;
  const std::vector<double> contrib = scorer.Contributions(strengths, outside);
  const double gate = scorer.GateOf(strengths, outside);
  const double scale = scorer.IntentScaleOf(strengths);
  for (size_t i = 0; i < n; ++i) {
    const auto& d = *scorer.detectors()[i];
    if (scorer.WeightOf(i) == 0 || strengths[i] <= 0.05) continue;
    std::string detail = d.Explain(in, e.names());
    if (d.family() == detectors::Family::kIntent) {
      if (scale < 1) {
        detail += fmt::format(
            " [intent evidence counts {} here: a stated purpose counts with the scale taken "
            "(output volume) or with pace, concealment or coordination evidence]",
            scale == 0 ? std::string("for nothing") : "at " + detectors::Pct(scale));
      }
    } else if (d.family() != detectors::Family::kHarvest && gate < 1) {
      detail += fmt::format(
          " [{} evidence counts {} here: it raises harvest evidence and never flags alone]",
          detectors::FamilyName(d.family()),
          gate == 0 ? std::string("for nothing") : "at " + detectors::Pct(gate));
    }
    out.push_back({std::string(d.name()), contrib[i], strengths[i], std::move(detail),
                   std::string(detectors::FamilyName(d.family()))});
  }
  std::stable_sort(out.begin(), out.end(), [](const EvidenceItem& a, const EvidenceItem& b) {
    return a.weight > b.weight;
  });
  return out;
}

std::string IndicatorValueName(const core::NameTable& names, linking::IndicatorKind k, uint64_t v) {
  switch (k) {
    case linking::kPayment:
      return names.Get(NameKind::kPayment, v);
    case linking::kEmailDomain:
      return names.Get(NameKind::kEmailDomain, v);
    case linking::kIpPrefix:
      return names.Get(NameKind::kIpPrefix, v);
    case linking::kAsn: {
      const std::string org = names.Get(NameKind::kAsn, v);
      return org.starts_with('#') ? fmt::format("AS{}", v - 1)
                                  : fmt::format("AS{} ({})", v - 1, org);
    }
    default:
      return fmt::format("#{:016x}", v);
  }
}

std::vector<EvidenceItem> LinkEvidence(const engine::Engine& e,
                                       const std::vector<linking::Linker::SharedValue>& shared,
                                       size_t members) {
  std::vector<EvidenceItem> out;
  for (size_t i = 0; i < shared.size() && i < 6; ++i) {
    const auto& sv = shared[i];
    std::string extra;
    if (sv.kind == linking::kClientStack) {
      const auto& st = e.AccountAt(sv.in[0]);
      extra = fmt::format(" (user agent \"{}\")",
                          e.names().Get(NameKind::kUserAgent, st.agents.Top().key));
    } else if (sv.kind == linking::kAgentSet) {
      // The set itself is a sum of hashes; name the agents a holder uses most.
      const auto& st = e.AccountAt(sv.in[0]);
      std::vector<std::string> agents;
      for (const auto& a : st.agents.entries()) {
        if (a.count) agents.push_back(e.names().Get(NameKind::kUserAgent, a.key));
      }
      std::sort(agents.begin(), agents.end());
      extra = fmt::format(" ({} agents, among them \"{}\")", st.agent_distinct,
                          fmt::join(agents, "\", \""));
    } else if (sv.kind == linking::kParamProfile) {
      // Name the habits, as the first holder shows them now.
      const auto& st = e.AccountAt(sv.in[0]);
      std::vector<std::string> always, sometimes;
      const auto levels = st.ParamLevels();
      for (size_t h = 0; h < levels.size(); ++h) {
        if (levels[h] == 2) always.emplace_back(state::kParamHabitNames[h]);
        if (levels[h] == 1) sometimes.emplace_back(state::kParamHabitNames[h]);
      }
      extra = fmt::format(
          " (always: {}; sometimes: {}; {}; linked between flagged accounts only)",
          always.empty() ? "none" : fmt::format("{}", fmt::join(always, ", ")),
          sometimes.empty() ? "none" : fmt::format("{}", fmt::join(sometimes, ", ")),
          st.params.TopShare() >= 0.8 ? fmt::format("the same parameters in {:.0f}% of requests",
                                                    100 * st.params.TopShare())
                                      : "parameters varied per request");
    }
    out.push_back({"link." + std::string(linking::IndicatorName(sv.kind)), 0.0, 0.0,
                   fmt::format("{} of {} members share {} {}{}; {} account{} in all hold it",
                               sv.in.size(), members, linking::IndicatorName(sv.kind),
                               IndicatorValueName(e.names(), sv.kind, sv.value), extra, sv.holders,
                               sv.holders == 1 ? "" : "s")});
  }
  return out;
}

// Coordination over a cluster's members, beyond what links them: disjoint shards of one prompt
// pool (one template, distinct prompts that do not overlap between members), accounts created or
// started in a burst, and volume spread so that no member stands out while the cluster does.
std::vector<EvidenceItem> CoordinationEvidence(const engine::Engine& e,
                                               const std::vector<uint32_t>& members,
                                               const state::AccountState& combined) {
  std::vector<EvidenceItem> out;
  double distinct_sum = 0, largest_member_day = 0;
  for (uint32_t m : members) {
    const auto& s = e.AccountAt(m);
    distinct_sum += s.prompts.Estimate();
    largest_member_day = std::max(largest_member_day, s.OutputPerDay());
  }
  const double distinct_union = combined.prompts.Estimate();
  if (members.size() >= 3 && distinct_sum >= 50 && combined.prefixes.TopShare() >= 0.5) {
    // HyperLogLog estimates: the union of disjoint sets comes out near the sum, within a few
    // percent; real overlap (members asking the same questions) shows well above that.
    const double overlap = std::max(0.0, 1.0 - distinct_union / distinct_sum);
    if (overlap <= 0.1) {
      out.push_back(
          {"coordination.disjoint_shards", 0.0, 1.0 - overlap / 0.1,
           fmt::format("{} members sent ~{:.0f} distinct prompts, {} of them through one "
                       "template, and their prompt sets overlap by ~{:.0f}% (~{:.0f} "
                       "distinct in all): one pool split between the accounts; {} of "
                       "them new",
                       members.size(), distinct_sum, detectors::Pct(combined.prefixes.TopShare()),
                       100.0 * overlap, distinct_union, combined.fresh_members)});
    }
  }
  // Bursts: the most members created (registry) or first active within any one hour.
  auto burst = [](std::vector<TimeUs> t) {
    std::sort(t.begin(), t.end());
    size_t best = 0;
    for (size_t i = 0, j = 0; j < t.size(); ++j) {
      while (t[j] - t[i] > kUsPerHour) ++i;
      best = std::max(best, j - i + 1);
    }
    return best;
  };
  std::vector<TimeUs> created, started;
  for (uint32_t m : members) {
    const auto& s = e.AccountAt(m);
    if (s.registry.created_at >= 0) created.push_back(s.registry.created_at);
    // A start in the input's first hour is censored (the account may be older than the log).
    if (s.first_ts > e.first_ts() + kUsPerHour) started.push_back(s.first_ts);
  }
  const size_t created_burst = burst(created), started_burst = burst(started);
  // Worth saying when at least half the members, or ten of them, fall in one hour.
  auto notable = [&](size_t k) { return k >= 3 && (2 * k >= members.size() || k >= 10); };
  if (notable(created_burst)) {
    out.push_back({"coordination.creation_burst", 0.0,
                   static_cast<double>(created_burst) / static_cast<double>(members.size()),
                   fmt::format("{} of {} members were created within one hour of each other",
                               created_burst, members.size())});
  }
  if (notable(started_burst)) {
    out.push_back({"coordination.synchronised_start", 0.0,
                   static_cast<double>(started_burst) / static_cast<double>(members.size()),
                   fmt::format("{} of {} members sent their first request within one hour of each "
                               "other",
                               started_burst, members.size())});
  }
  const double cluster_day = combined.OutputPerDay() * std::max<uint32_t>(combined.members, 1);
  const double p90 = e.peers().p90_output_per_day;
  if (members.size() >= 2 && p90 > 0 && cluster_day > 2 * p90 && largest_member_day <= p90) {
    out.push_back({"coordination.volume", 0.0, std::min(1.0, cluster_day / p90 / 10),
                   fmt::format("together {} output tokens/day, {:.1f}x the 90th percentile of "
                               "accounts ({}/day), while no member exceeds it (largest {}/day): "
                               "volume spread over accounts to stay under per-account limits",
                               detectors::Tokens(cluster_day), cluster_day / p90,
                               detectors::Tokens(p90), detectors::Tokens(largest_member_day))});
  }
  return out;
}

// The reserve of a flagged operator: accounts registered on its members' payment instruments that
// have sent no request yet (a hydra creates accounts in a burst and brings them online over
// hours). Not flagged (they have taken nothing, and a card alone condemns no one: a family
// member on it), but named for the analyst who suspends the case.
std::vector<EvidenceItem> SilentAccountsEvidence(
    const engine::Engine& e, std::span<const uint32_t> members,
    const std::unordered_map<uint64_t, std::vector<uint64_t>>& silent_by_payment) {
  constexpr size_t kNamed = 20;
  std::vector<uint64_t> payments;
  for (uint32_t m : members) {
    if (const uint64_t p = e.AccountAt(m).registry.payment; p) payments.push_back(p);
  }
  std::sort(payments.begin(), payments.end());
  payments.erase(std::unique(payments.begin(), payments.end()), payments.end());
  std::vector<std::string> ids;
  for (uint64_t p : payments) {
    auto it = silent_by_payment.find(p);
    if (it == silent_by_payment.end()) continue;
    for (uint64_t a : it->second) ids.push_back(e.names().Get(NameKind::kAccount, a));
  }
  if (ids.empty()) return {};
  std::sort(ids.begin(), ids.end());
  const size_t named = std::min(ids.size(), kNamed);
  return {{"coordination.silent_accounts", 0.0, 0.0,
           fmt::format("{} account{} registered on the members' payment instruments {} sent no "
                       "request yet (not flagged: nothing taken): {}{}",
                       ids.size(), ids.size() == 1 ? "" : "s", ids.size() == 1 ? "has" : "have",
                       fmt::join(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(named), ", "),
                       ids.size() > named ? fmt::format(" and {} more", ids.size() - named) : "")}};
}

}  // namespace

Report Build(const engine::Engine& e) {
  Report r;
  // What links each cluster's members: one pass over the linker's postings, made when the first
  // multi-account cluster asks.
  std::optional<std::unordered_map<uint32_t, std::vector<linking::Linker::SharedValue>>> shared_all;
  const auto refs = e.Accounts();
  const auto& names = e.names();
  // Cluster ids: "C-" + the account id of the cluster's first-seen member (its root).
  std::unordered_map<uint32_t, size_t> cluster_pos;
  std::vector<std::vector<uint32_t>> cluster_members;
  for (const auto& ref : refs) {
    const uint32_t root = e.ClusterOf(ref.index);
    auto [it, inserted] = cluster_pos.try_emplace(root, cluster_members.size());
    if (inserted) cluster_members.emplace_back();
    cluster_members[it->second].push_back(ref.index);
  }
  std::vector<std::string> cluster_ids(cluster_members.size());
  // Registered accounts that sent nothing, by payment instrument (built at the first flagged
  // cluster).
  std::optional<std::unordered_map<uint64_t, std::vector<uint64_t>>> silent_by_payment;
  for (const auto& [root, pos] : cluster_pos) {
    cluster_ids[pos] = "C-" + names.Get(NameKind::kAccount, e.AccountAt(root).account);
  }

  r.accounts.reserve(refs.size());
  for (const auto& ref : refs) {
    const auto& s = *ref.state;
    AccountEntry a;
    a.account_id = names.Get(NameKind::kAccount, s.account);
    a.cluster_id = cluster_ids[cluster_pos[e.ClusterOf(ref.index)]];
    a.state = ref.state;
    a.score = s.verdict.peak_score;
    a.level = s.verdict.level;
    a.flagged = s.verdict.flagged;
    a.first_flagged_at = s.verdict.first_flagged_at;
    a.evidence = DetectorEvidence(e, s, s.verdict);
    if (s.verdict.known_indicator && e.options().indicators) {
      const auto& ind = e.options().indicators->at(s.verdict.known_indicator - 1);
      a.evidence.insert(a.evidence.begin(),
                        {"known_indicator", 0.0, 1.0,
                         fmt::format("linked to known operator \"{}\": {} {} is on the list{}{}{}",
                                     ind.operator_name, linking::KnownKindName(ind.kind), ind.value,
                                     ind.source.empty() ? "" : " from ", ind.source,
                                     ind.note.empty() ? "" : " (" + ind.note + ")")});
    }
    if (s.verdict.flagged_by_cluster) {
      const auto* cv = e.Cluster(e.ClusterOf(ref.index));
      a.evidence.insert(
          a.evidence.begin(),
          {"cluster", 0.0, 0.0,
           fmt::format("flagged with its cluster {} ({} linked accounts, cluster score {:.2f}){}",
                       a.cluster_id, e.linker().ClusterSize(ref.index),
                       cv ? cv->verdict.peak_score : 0.0f, [&] {
                         const std::string why = e.JoinReason(ref.index, s);
                         return why.empty() ? std::string() : ": " + why;
                       }())});
    }
    // Units flagged on their own: end users of a multi-tenant account, keys of a multi-key one.
    auto flagged_units = [&](const engine::UnitTracker* tracker, NameKind kind) {
      std::vector<EndUserEntry> out;
      if (!tracker) return out;
      for (const auto& slot : tracker->slots) {
        const auto& v = slot.state.verdict;
        if (!slot.seen || !v.flagged) continue;
        EndUserEntry eu;
        eu.end_user = names.Get(kind, slot.unit);
        eu.score = v.peak_score;
        eu.first_flagged_at = v.first_flagged_at;
        eu.requests = slot.state.requests;
        eu.output_tokens = slot.state.output_tokens;
        eu.evidence = DetectorEvidence(e, slot.state, v, &s, kind == NameKind::kApiKey);
        out.push_back(std::move(eu));
      }
      std::sort(out.begin(), out.end(), [](const EndUserEntry& x, const EndUserEntry& y) {
        return x.end_user < y.end_user;
      });
      return out;
    };
    auto ids_of = [](const std::vector<EndUserEntry>& units) {
      std::string ids;
      for (const auto& u : units) ids += (ids.empty() ? "" : ", ") + u.end_user;
      return ids;
    };
    a.flagged_end_users = flagged_units(e.EndUsersOf(s.account), NameKind::kEndUser);
    if (!a.flagged_end_users.empty()) {
      a.evidence.push_back(
          {"end_users", 0.0, 0.0,
           fmt::format("{} of ~{:.0f} end users show extraction on their own (the account is "
                       "judged as a whole separately): {}",
                       a.flagged_end_users.size(), s.EndUsers(), ids_of(a.flagged_end_users)),
           "harvest"});
    }
    if (const auto* keys = e.KeysOf(s.account)) {
      a.flagged_api_keys = flagged_units(keys, NameKind::kApiKey);
      if (!a.flagged_api_keys.empty()) {
        a.evidence.push_back(
            {"api_keys", 0.0, 0.0,
             fmt::format("{} of the account's {} API keys show extraction on their own (keys are "
                         "judged alone while another key is clean or one carries most of the "
                         "traffic; the account is flagged whole when two keys are): {}",
                         a.flagged_api_keys.size(), KeysSeen(*keys), ids_of(a.flagged_api_keys)),
             "harvest"});
      }
    }
    r.accounts.push_back(std::move(a));
  }
  std::sort(r.accounts.begin(), r.accounts.end(), [](const AccountEntry& x, const AccountEntry& y) {
    if (x.score != y.score) return x.score > y.score;
    return x.account_id < y.account_id;
  });

  for (const auto& [root, pos] : cluster_pos) {
    ClusterEntry c;
    c.root = root;
    c.cluster_id = cluster_ids[pos];
    const auto& members = cluster_members[pos];
    for (uint32_t m : members)
      c.accounts.push_back(names.Get(NameKind::kAccount, e.AccountAt(m).account));
    std::sort(c.accounts.begin(), c.accounts.end());
    if (members.size() == 1) {
      const auto& s = e.AccountAt(members[0]);
      c.score = s.verdict.peak_score;
      c.level = s.verdict.level;
      c.flagged = s.verdict.flagged;
      c.first_flagged_at = s.verdict.first_flagged_at;
    } else if (const auto* cv = e.Cluster(root)) {
      c.score = cv->verdict.peak_score;
      c.level = cv->verdict.level;
      c.flagged = cv->verdict.flagged;
      c.first_flagged_at = cv->verdict.first_flagged_at;
      // A cluster is at least as suspicious as its most suspicious member.
      for (uint32_t m : members) {
        const auto& v = e.AccountAt(m).verdict;
        if (v.peak_score > c.score) {
          c.score = v.peak_score;
          c.level = v.level;
        }
        if (v.flagged && !c.flagged) {
          c.flagged = true;
          c.first_flagged_at = v.first_flagged_at;
        } else if (v.flagged && v.first_flagged_at >= 0 &&
                   (c.first_flagged_at < 0 || v.first_flagged_at < c.first_flagged_at)) {
          c.first_flagged_at = v.first_flagged_at;
        }
      }
      if (!shared_all) shared_all = e.linker().SharedByAll();
      auto it = shared_all->find(root);
      if (it != shared_all->end()) c.evidence = LinkEvidence(e, it->second, members.size());
      if (e.options().indicators) {
        for (uint32_t m : members) {
          const auto& v = e.AccountAt(m).verdict;
          if (!v.known_indicator) continue;
          const auto& ind = e.options().indicators->at(v.known_indicator - 1);
          c.evidence.insert(
              c.evidence.begin(),
              {"known_indicator", 0.0, 1.0,
               fmt::format("member {} matches known operator \"{}\" ({} {})",
                           names.Get(NameKind::kAccount, e.AccountAt(m).account), ind.operator_name,
                           linking::KnownKindName(ind.kind), ind.value)});
          break;
        }
      }
      auto coord = CoordinationEvidence(e, members, cv->combined);
      c.evidence.insert(c.evidence.end(), coord.begin(), coord.end());
      auto det = DetectorEvidence(e, cv->combined, cv->verdict);
      c.evidence.insert(c.evidence.end(), det.begin(), det.end());
    }
    if (c.flagged) {
      if (!silent_by_payment) {
        silent_by_payment.emplace();
        for (const auto& [account, payment] : e.SilentRegisteredByPayment())
          (*silent_by_payment)[payment].push_back(account);
      }
      auto silent = SilentAccountsEvidence(e, members, *silent_by_payment);
      c.evidence.insert(c.evidence.end(), silent.begin(), silent.end());
    }
    r.clusters.push_back(std::move(c));
  }
  std::sort(r.clusters.begin(), r.clusters.end(), [](const ClusterEntry& x, const ClusterEntry& y) {
    if (x.score != y.score) return x.score > y.score;
    return x.cluster_id < y.cluster_id;
  });
  return r;
}

namespace {

void WriteEvidence(JsonWriter& w, const std::vector<EvidenceItem>& ev) {
  w.Key("evidence").BeginArray();
  for (const auto& e : ev) {
    w.BeginObject();
    w.Field("detector", e.detector);
    w.Field("family", e.family);
    w.Key("weight").Double(e.weight, 4);
    w.Key("strength").Double(e.strength, 4);
    w.Field("detail", e.detail);
    w.EndObject();
  }
  w.EndArray();
}

void WriteTime(JsonWriter& w, std::string_view key, TimeUs t) {
  w.Key(key);
  if (t < 0) {
    w.Null();
  } else {
    w.String(FormatRfc3339(t));
  }
}

}  // namespace

std::string ToJson(const Report& r, const engine::Engine& e, const engine::ScanStats& stats,
                   TimeUs generated_at) {
  std::string all;
  all.reserve(1024 + r.accounts.size() * 600);
  WriteJson(r, e, stats, generated_at, [&](std::string_view piece) {
    all.append(piece);
    return true;
  });
  return all;
}

bool WriteJson(const Report& r, const engine::Engine& e, const engine::ScanStats& stats,
               TimeUs generated_at, const std::function<bool(std::string_view)>& sink) {
  constexpr size_t kFlushBytes = 1 << 20;
  std::string out;
  out.reserve(kFlushBytes + (64 << 10));
  // The writer keeps its nesting state apart from `out`, so `out` can be handed over and
  // cleared between values.
  auto flush = [&] {
    const bool ok = sink(out);
    out.clear();
    return ok;
  };
  JsonWriter w(out);
  w.BeginObject();
  w.Field("generated_at", FormatRfc3339(generated_at));
  w.Field("version", std::string(DG_VERSION));
  w.Field("model", e.scorer().model().version);
  w.Key("input").BeginObject();
  w.Field("events", stats.events);
  w.Field("rejected", stats.rejected.total());
  WriteTime(w, "first_ts", stats.events ? e.first_ts() : -1);
  WriteTime(w, "last_ts", stats.events ? e.last_ts() : -1);
  w.Key("rejected_by_reason").BeginObject();
  for (size_t i = 1; i < stats.rejected.by_reason.size(); ++i) {
    if (stats.rejected.by_reason[i]) {
      w.Field(ingest::RejectReasonName(static_cast<ingest::RejectReason>(i)),
              stats.rejected.by_reason[i]);
    }
  }
  w.EndObject();
  w.Field("lines", stats.lines);
  w.Field("blank_lines", stats.blank_lines);
  w.Field("late_reordered", stats.late_reordered);
  w.Field("late_beyond_lateness", stats.late_beyond);
  w.Field("bytes", stats.bytes);
  w.Key("unreadable").BeginArray();
  for (const auto& u : stats.unreadable) w.String(u);
  w.EndArray();
  w.EndObject();

  w.Key("accounts").BeginArray();
  for (const auto& a : r.accounts) {
    const auto& s = *a.state;
    w.BeginObject();
    w.Field("account_id", a.account_id);
    w.Key("score").Double(a.score, 4);
    w.Field("level", std::string(scoring::LevelName(a.level)));
    w.Field("flagged", a.flagged);
    WriteTime(w, "first_flagged_at", a.flagged ? a.first_flagged_at : -1);
    w.Field("cluster_id", a.cluster_id);
    WriteEvidence(w, a.evidence);
    auto write_units = [&](const char* key, const char* id_field,
                           const std::vector<EndUserEntry>& units) {
      if (units.empty()) return;
      w.Key(key).BeginArray();
      for (const auto& eu : units) {
        w.BeginObject();
        w.Field(id_field, eu.end_user);
        w.Key("score").Double(eu.score, 4);
        WriteTime(w, "first_flagged_at", eu.first_flagged_at);
        w.Field("requests", eu.requests);
        w.Field("output_tokens", eu.output_tokens);
        WriteEvidence(w, eu.evidence);
        w.EndObject();
      }
      w.EndArray();
    };
    write_units("flagged_end_users", "end_user", a.flagged_end_users);
    write_units("flagged_api_keys", "api_key_id", a.flagged_api_keys);
    w.Key("stats").BeginObject();
    w.Field("requests", s.requests);
    w.Field("output_tokens", s.output_tokens);
    w.Field("prompt_tokens", s.prompt_tokens);
    w.Field("reasoning_tokens", s.reasoning_tokens);
    WriteTime(w, "first_seen", s.first_ts);
    WriteTime(w, "last_seen", s.last_ts);
    w.Key("distinct_prompts").Double(s.prompts.Estimate(), 6);
    w.Key("end_users").Double(s.end_user_hll.Estimate(), 6);
    w.EndObject();
    w.EndObject();
    if (out.size() >= kFlushBytes && !flush()) return false;
  }
  w.EndArray();

  w.Key("clusters").BeginArray();
  for (const auto& c : r.clusters) {
    w.BeginObject();
    w.Field("cluster_id", c.cluster_id);
    w.Key("accounts").BeginArray();
    for (const auto& a : c.accounts) w.String(a);
    w.EndArray();
    w.Key("score").Double(c.score, 4);
    w.Field("level", std::string(scoring::LevelName(c.level)));
    w.Field("flagged", c.flagged);
    WriteTime(w, "first_flagged_at", c.flagged ? c.first_flagged_at : -1);
    WriteEvidence(w, c.evidence);
    w.EndObject();
    if (out.size() >= kFlushBytes && !flush()) return false;
  }
  w.EndArray();
  w.EndObject();
  out.push_back('\n');
  return flush();
}

std::string ExportIndicators(const Report& r, const engine::Engine& e) {
  std::string out;
  std::optional<std::unordered_map<uint32_t, std::vector<linking::Linker::SharedValue>>> shared_all;
  const auto& names = e.names();
  auto line = [&](std::string_view type, const std::string& value, const ClusterEntry& c) {
    JsonWriter w(out);
    w.BeginObject();
    w.Field("type", std::string(type));
    w.Field("value", value);
    w.Field("operator", c.cluster_id);
    w.Field("source", std::string("distillguard"));
    w.Field("note", fmt::format("flagged cluster of {} account(s), score {:.2f}, first flagged {}",
                                c.accounts.size(), c.score, FormatRfc3339(c.first_flagged_at)));
    w.EndObject();
    out.push_back('\n');
  };
  for (const auto& c : r.clusters) {
    if (!c.flagged) continue;
    std::set<std::pair<std::string, std::string>> seen;
    auto emit = [&](std::string_view type, const std::string& value) {
      if (!value.empty() && value[0] != '#' && seen.emplace(std::string(type), value).second) {
        line(type, value, c);
      }
    };
    for (const auto& a : c.accounts) emit("account_id", a);
    const auto& members = e.linker().Members(c.root);
    for (uint32_t m : members) {
      const auto& s = e.AccountAt(m);
      if (!s.verdict.flagged) continue;
      if (s.registry.payment)
        emit("payment_fingerprint", names.Get(NameKind::kPayment, s.registry.payment));
      if (s.fingerprints.total())
        emit("client_fingerprint", names.Get(NameKind::kFingerprint, s.fingerprints.Top().key));
      if (s.ip_prefixes.total() && s.ip_prefixes.TopShare() >= 0.5) {
        emit("cidr", names.Get(NameKind::kIpPrefix, s.ip_prefixes.Top().key));
      }
    }
    // Email domains only when they are rare enough to identify someone.
    if (!shared_all) shared_all = e.linker().SharedByAll();
    auto it = shared_all->find(c.root);
    if (it == shared_all->end()) continue;
    for (const auto& sv : it->second) {
      if (sv.kind == linking::kEmailDomain && sv.holders <= 5) {
        emit("email_domain", names.Get(NameKind::kEmailDomain, sv.value));
      }
    }
  }
  return out;
}

std::string Summary(const Report& r, const engine::Engine& e, const engine::ScanStats& stats,
                    size_t max_items) {
  std::string o;
  auto out = std::back_inserter(o);
  size_t flagged_accounts = 0, flagged_clusters = 0;
  for (const auto& a : r.accounts) flagged_accounts += a.flagged;
  for (const auto& c : r.clusters) flagged_clusters += c.flagged && c.accounts.size() > 1;
  fmt::format_to(out, "\n{} events from {} to {} ({} rejected), {} accounts\n", stats.events,
                 stats.events ? FormatRfc3339(e.first_ts()) : "-",
                 stats.events ? FormatRfc3339(e.last_ts()) : "-", stats.rejected.total(),
                 r.accounts.size());
  fmt::format_to(out, "flagged: {} accounts, {} multi-account clusters\n", flagged_accounts,
                 flagged_clusters);
  size_t shown = 0;
  for (const auto& c : r.clusters) {
    if (!c.flagged || c.accounts.size() < 2 || shown >= max_items) continue;
    ++shown;
    if (shown == 1) fmt::format_to(out, "\n== Flagged clusters ==\n");
    fmt::format_to(out, "\n{}  score {:.2f} ({})  {} accounts, first flagged {}\n", c.cluster_id,
                   c.score, scoring::LevelName(c.level), c.accounts.size(),
                   FormatRfc3339(c.first_flagged_at));
    for (size_t i = 0; i < c.evidence.size() && i < 6; ++i) {
      fmt::format_to(out, "  - [{}] {}\n", c.evidence[i].detector, c.evidence[i].detail);
    }
  }
  shown = 0;
  for (const auto& a : r.accounts) {
    if (!a.flagged || shown >= max_items) continue;
    ++shown;
    if (shown == 1) fmt::format_to(out, "\n== Top flagged accounts ==\n");
    fmt::format_to(out, "\n{}  score {:.2f} ({})  cluster {}  first flagged {}\n", a.account_id,
                   a.score, scoring::LevelName(a.level), a.cluster_id,
                   FormatRfc3339(a.first_flagged_at));
    for (size_t i = 0; i < a.evidence.size() && i < 4; ++i) {
      fmt::format_to(out, "  - [{}] {}\n", a.evidence[i].detector, a.evidence[i].detail);
    }
  }
  if (flagged_accounts > shown) {
    fmt::format_to(out, "\n... and {} more flagged accounts in the report\n",
                   flagged_accounts - shown);
  }
  return o;
}

}  // namespace dg::report
