// See cases.h.
#include "report/cases.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "common/hash.h"
#include "common/json_writer.h"
#include "scoring/scorer.h"

namespace dg::report {
namespace {

using core::NameKind;

struct Row {
  CaseRef ref;
  double score = 0;
  std::string level;
  bool flagged = true;
  TimeUs first_flagged_at = -1;
  uint64_t requests = 0, output_tokens = 0;
  std::vector<std::string> accounts;  // accounts the case covers
  const std::vector<EvidenceItem>* evidence = nullptr;
  const state::AccountState* unit = nullptr;  // end user / key slot state
};

const state::AccountState* UnitState(const engine::Engine& e, const std::string& account,
                                     const std::string& unit, bool key) {
  const uint64_t a = Hash64(account, core::kHashAccount);
  const engine::UnitTracker* t = key ? e.KeysOf(a) : e.EndUsersOf(a);
  if (!t) return nullptr;
  const uint64_t u = Hash64(unit, key ? core::kHashApiKey : core::kHashEndUser);
  for (const auto& s : t->slots) {
    if (s.unit == u) return &s.state;
  }
  return nullptr;
}

std::vector<Row> Rows(const CaseInputs& in) {
  const Report& r = *in.report;
  std::vector<Row> rows;
  std::set<std::string> in_cluster_case;
  for (const auto& c : r.clusters) {
    if (!c.flagged || c.accounts.size() < 2) continue;
    Row row;
    row.ref = {"cluster", "", c.cluster_id};
    row.score = c.score;
    row.level = std::string(scoring::LevelName(c.level));
    row.first_flagged_at = c.first_flagged_at;
    row.accounts = c.accounts;
    row.evidence = &c.evidence;
    rows.push_back(std::move(row));
    in_cluster_case.insert(c.cluster_id);
  }
  std::unordered_map<std::string, const AccountEntry*> by_id;
  for (const auto& a : r.accounts) by_id[a.account_id] = &a;
  for (auto& row : rows) {
    for (const auto& id : row.accounts) {
      if (auto it = by_id.find(id); it != by_id.end()) {
        row.requests += it->second->state->requests;
        row.output_tokens += it->second->state->output_tokens;
      }
    }
  }
  for (const auto& a : r.accounts) {
    if (a.flagged && !in_cluster_case.count(a.cluster_id)) {
      Row row;
      row.ref = {"account", "", a.account_id};
      row.score = a.score;
      row.level = std::string(scoring::LevelName(a.level));
      row.first_flagged_at = a.first_flagged_at;
      row.accounts = {a.account_id};
      row.requests = a.state->requests;
      row.output_tokens = a.state->output_tokens;
      row.evidence = &a.evidence;
      rows.push_back(std::move(row));
    }
    for (int key = 0; key < 2; ++key) {
      for (const auto& u : key ? a.flagged_api_keys : a.flagged_end_users) {
        Row row;
        row.ref = {key ? "api_key" : "end_user", a.account_id, u.end_user};
        row.score = u.score;
        row.level = "flagged";
        row.first_flagged_at = u.first_flagged_at;
        row.accounts = {a.account_id};
        row.requests = u.requests;
        row.output_tokens = u.output_tokens;
        row.evidence = &u.evidence;
        row.unit = UnitState(*in.engine, a.account_id, u.end_user, key != 0);
        rows.push_back(std::move(row));
      }
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    if (x.score != y.score) return x.score > y.score;
    return x.output_tokens > y.output_tokens;
  });
  return rows;
}

void WriteTimeField(JsonWriter& w, std::string_view key, TimeUs t) {
  w.Key(key);
  if (t < 0) {
    w.Null();
  } else {
    w.String(FormatRfc3339(t));
  }
}

void WriteRow(JsonWriter& w, const CaseInputs& in, const Row& row) {
  w.Field("kind", row.ref.kind).Field("id", row.ref.id).Field("scope", row.ref.scope);
  w.Key("score").Double(row.score, 4);
  w.Field("level", row.level).Field("flagged", row.flagged);
  WriteTimeField(w, "first_flagged_at", row.first_flagged_at);
  w.Key("first_flagged_s").Double(row.first_flagged_at < 0 ? -1.0 : row.first_flagged_at / 1e6, 12);
  w.Field("accounts", static_cast<uint64_t>(row.accounts.size()));
  w.Field("requests", row.requests).Field("output_tokens", row.output_tokens);
  w.Key("detectors").BeginArray();
  if (row.evidence) {
    std::vector<const EvidenceItem*> ev;
    for (const auto& e : *row.evidence) {
      if (e.weight > 0 && e.detector.find(':') == std::string::npos) ev.push_back(&e);
    }
    std::stable_sort(ev.begin(), ev.end(),
                     [](const auto* a, const auto* b) { return a->weight > b->weight; });
    std::set<std::string> seen;
    for (const auto* e : ev) {
      if (seen.size() < 4 && seen.insert(e->detector).second) w.String(e->detector);
    }
  }
  w.EndArray();
  std::pair<std::string, std::string> st{"open", "none"};
  if (in.state) st = in.state(row.ref.kind, row.ref.scope, row.ref.id);
  w.Field("status", st.first).Field("override", st.second);
  std::array<uint64_t, 4> would{};
  if (in.would) {
    for (const auto& a : row.accounts) {
      const auto c = in.would(a);
      for (size_t i = 0; i < 4; ++i) would[i] += c[i];
    }
  }
  w.Key("would").BeginObject();
  w.Field("degrade", would[1]).Field("throttle", would[2]).Field("block", would[3]);
  w.EndObject();
}

void WriteEvidenceArray(JsonWriter& w, std::string_view key, const std::vector<EvidenceItem>& ev,
                        size_t max) {
  w.Key(key).BeginArray();
  size_t n = 0;
  for (const auto& e : ev) {
    if (n++ >= max) break;
    w.BeginObject().Field("detector", e.detector).Field("family", e.family);
    w.Key("weight").Double(e.weight, 4);
    w.Key("strength").Double(e.strength, 4);
    w.Field("detail", e.detail).EndObject();
  }
  w.EndArray();
}

std::string Hex(uint64_t h) { return fmt::format("{:016x}", h); }

}  // namespace

std::vector<CaseRef> QueueRefs(const CaseInputs& in, size_t max_cases) {
  std::vector<CaseRef> out;
  for (const auto& r : Rows(in)) {
    if (out.size() >= max_cases) break;
    out.push_back(r.ref);
  }
  return out;
}

std::string QueueJson(const CaseInputs& in, size_t max_cases) {
  const auto rows = Rows(in);
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Field("generated_at", FormatRfc3339(in.generated_at));
  // Ages are measured in event time: a historical scan (or a replay) is judged as of its last
  // event, not as of the wall clock.
  WriteTimeField(w, "data_time", in.engine->events() ? in.engine->last_ts() : -1);
  w.Field("live", in.live).Field("shadow", in.shadow);
  w.Field("total", static_cast<uint64_t>(rows.size()));
  w.Field("accounts_seen", static_cast<uint64_t>(in.report->accounts.size()));
  w.Key("cases").BeginArray();
  size_t n = 0;
  for (const auto& r : rows) {
    if (n++ >= max_cases) break;
    w.BeginObject();
    WriteRow(w, in, r);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

std::vector<std::string> CaseAccounts(const CaseInputs& in, const CaseRef& ref) {
  if (ref.kind == "cluster") {
    for (const auto& c : in.report->clusters) {
      if (c.cluster_id == ref.id) return c.accounts;
    }
    return {};
  }
  return {ref.kind == "account" ? ref.id : ref.scope};
}

std::optional<std::string> CaseJson(const CaseInputs& in, const CaseRef& ref,
                                    const std::vector<std::pair<std::string, std::string>>& extras,
                                    size_t max_members, size_t max_series) {
  const engine::Engine& e = *in.engine;
  const Report& rep = *in.report;
  const auto& names = e.names();
  std::unordered_map<std::string, const AccountEntry*> by_id;
  for (const auto& a : rep.accounts) by_id[a.account_id] = &a;

  // The case's row: from the queue if it is there, else built for any known target (an analyst
  // may open an unflagged account from a link).
  Row row;
  bool found = false;
  for (auto& r : Rows(in)) {
    if (r.ref.kind == ref.kind && r.ref.id == ref.id && r.ref.scope == ref.scope) {
      row = std::move(r);
      found = true;
      break;
    }
  }
  if (!found) {
    if (ref.kind == "cluster") {
      for (const auto& c : rep.clusters) {
        if (c.cluster_id != ref.id) continue;
        row.ref = ref;
        row.score = c.score;
        row.level = std::string(scoring::LevelName(c.level));
        row.flagged = c.flagged;
        row.first_flagged_at = c.flagged ? c.first_flagged_at : -1;
        row.accounts = c.accounts;
        row.evidence = &c.evidence;
        found = true;
      }
    } else if (ref.kind == "account") {
      if (auto it = by_id.find(ref.id); it != by_id.end()) {
        const auto& a = *it->second;
        row.ref = ref;
        row.score = a.score;
        row.level = std::string(scoring::LevelName(a.level));
        row.flagged = a.flagged;
        row.first_flagged_at = a.flagged ? a.first_flagged_at : -1;
        row.accounts = {a.account_id};
        row.requests = a.state->requests;
        row.output_tokens = a.state->output_tokens;
        row.evidence = &a.evidence;
        found = true;
      }
    }
    if (!found) return std::nullopt;
    if (ref.kind == "cluster") {
      for (const auto& id : row.accounts) {
        if (auto it = by_id.find(id); it != by_id.end()) {
          row.requests += it->second->state->requests;
          row.output_tokens += it->second->state->output_tokens;
        }
      }
    }
  }

  // Members, heaviest output first.
  std::vector<const AccountEntry*> members;
  for (const auto& id : row.accounts) {
    if (auto it = by_id.find(id); it != by_id.end()) members.push_back(it->second);
  }
  std::stable_sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
    return a->state->output_tokens > b->state->output_tokens;
  });

  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  WriteRow(w, in, row);
  w.Field("live", in.live);
  w.Field("generated_at", FormatRfc3339(in.generated_at));
  if (row.evidence) WriteEvidenceArray(w, "evidence", *row.evidence, 64);

  w.Key("members").BeginArray();
  for (size_t i = 0; i < members.size() && i < max_members; ++i) {
    const auto& a = *members[i];
    w.BeginObject().Field("account_id", a.account_id);
    w.Key("score").Double(a.score, 4);
    w.Field("level", std::string(scoring::LevelName(a.level))).Field("flagged", a.flagged);
    WriteTimeField(w, "first_flagged_at", a.flagged ? a.first_flagged_at : -1);
    w.Field("requests", a.state->requests).Field("output_tokens", a.state->output_tokens);
    w.Field("cluster_id", a.cluster_id);
    std::array<uint64_t, 4> would{};
    if (in.would) would = in.would(a.account_id);
    w.Key("would").BeginObject();
    w.Field("degrade", would[1]).Field("throttle", would[2]).Field("block", would[3]);
    w.EndObject();
    std::pair<std::string, std::string> st{"open", "none"};
    if (in.state) st = in.state("account", "", a.account_id);
    w.Field("override", st.second);
    WriteEvidenceArray(w, "evidence", a.evidence, 6);
    w.EndObject();
  }
  w.EndArray();
  w.Field("members_total", static_cast<uint64_t>(members.size()));

  // Graph: members and the indicators they carry; for a cluster, only indicators shared by two
  // or more of the members drawn.
  {
    struct Ind {
      std::string type, label;
      std::vector<size_t> members;
    };
    std::map<std::string, Ind> inds;
    const size_t drawn = std::min<size_t>(members.size(), 60);
    auto add = [&](size_t m, const char* type, uint64_t h, std::string label) {
      if (!h) return;
      auto& ind = inds[std::string(type) + ":" + Hex(h)];
      if (ind.type.empty()) {
        ind.type = type;
        ind.label = std::move(label);
      }
      if (ind.members.empty() || ind.members.back() != m) ind.members.push_back(m);
    };
    for (size_t m = 0; m < drawn; ++m) {
      const auto& s = *members[m]->state;
      if (s.registry.payment)
        add(m, "payment", s.registry.payment, names.Get(NameKind::kPayment, s.registry.payment));
      if (s.registry.email_domain)
        add(m, "email", s.registry.email_domain,
            names.Get(NameKind::kEmailDomain, s.registry.email_domain));
      if (s.ip_prefixes.total())
        add(m, "network", s.ip_prefixes.Top().key,
            names.Get(NameKind::kIpPrefix, s.ip_prefixes.Top().key));
      if (s.fingerprints.total())
        add(m, "client", s.fingerprints.Top().key,
            names.Get(NameKind::kFingerprint, s.fingerprints.Top().key));
      for (const auto& ag : s.agents.entries()) {
        if (ag.count > ag.error && ag.count * 5 >= s.agents.total())
          add(m, "agent", ag.key, names.Get(NameKind::kUserAgent, ag.key));
      }
      for (const auto& t : s.skeletons.entries()) {
        if (t.count > t.error && t.count * 5 >= s.skeletons.total() && t.count >= 3)
          add(m, "template", t.key, "template " + Hex(t.key).substr(0, 8));
      }
    }
    const size_t min_share = drawn >= 2 ? 2 : 1;
    w.Key("graph").BeginObject();
    w.Key("nodes").BeginArray();
    for (size_t m = 0; m < drawn; ++m) {
      w.BeginObject().Field("id", "a" + std::to_string(m)).Field("type", "account");
      w.Field("label", members[m]->account_id).Field("flagged", members[m]->flagged).EndObject();
    }
    size_t n_ind = 0;
    for (const auto& [key, ind] : inds) {
      if (ind.members.size() < min_share || n_ind >= 80) continue;
      ++n_ind;
      w.BeginObject().Field("id", key).Field("type", ind.type).Field("label", ind.label);
      w.Field("shared_by", static_cast<uint64_t>(ind.members.size())).EndObject();
    }
    w.EndArray();
    w.Key("edges").BeginArray();
    n_ind = 0;
    for (const auto& [key, ind] : inds) {
      if (ind.members.size() < min_share || n_ind >= 80) continue;
      ++n_ind;
      for (size_t m : ind.members) {
        w.BeginObject().Field("source", "a" + std::to_string(m)).Field("target", key).EndObject();
      }
    }
    w.EndArray();
    w.EndObject();
  }

  // Hourly series of the heaviest members against the peer median.
  if (in.activity) {
    std::vector<const AccountEntry*> plotted;
    for (size_t i = 0; i < members.size() && plotted.size() < max_series; ++i) {
      if (in.activity->Of(members[i]->state->account)) plotted.push_back(members[i]);
    }
    uint32_t lo = UINT32_MAX, hi = 0;
    for (const auto* a : plotted) {
      const auto* v = in.activity->Of(a->state->account);
      lo = std::min(lo, v->front().hour);
      hi = std::max(hi, v->back().hour);
    }
    w.Key("series").BeginObject();
    if (!plotted.empty()) {
      constexpr uint32_t kMaxPoints = 24 * 31;
      if (hi - lo + 1 > kMaxPoints) lo = hi + 1 - kMaxPoints;
      w.Key("t").BeginArray();
      for (uint32_t h = lo; h <= hi; ++h) w.Int(int64_t{h} * 3600);
      w.EndArray();
      std::vector<engine::PeerHour> peers;
      for (uint32_t h = lo; h <= hi; ++h) peers.push_back(in.activity->Peers(h));
      w.Key("peer_requests").BeginArray();
      for (const auto& p : peers) p.accounts ? w.Double(p.median_requests, 6) : w.Null();
      w.EndArray();
      w.Key("peer_output").BeginArray();
      for (const auto& p : peers) p.accounts ? w.Double(p.median_output, 6) : w.Null();
      w.EndArray();
      w.Key("accounts").BeginArray();
      for (const auto* a : plotted) {
        const auto& v = *in.activity->Of(a->state->account);
        std::vector<const engine::HourBucket*> at(hi - lo + 1, nullptr);
        for (const auto& b : v) {
          if (b.hour >= lo && b.hour <= hi) at[b.hour - lo] = &b;
        }
        w.BeginObject().Field("account_id", a->account_id);
        WriteTimeField(w, "first_flagged_at", a->flagged ? a->first_flagged_at : -1);
        w.Key("first_flagged_s").Double(a->flagged ? a->first_flagged_at / 1e6 : -1.0, 12);
        w.Key("requests").BeginArray();
        for (const auto* b : at) w.Uint(b ? b->requests : 0);
        w.EndArray();
        w.Key("output").BeginArray();
        for (const auto* b : at) w.Uint(b ? b->output_tokens : 0);
        w.EndArray();
        w.Key("score").BeginArray();
        double last = -1;
        for (const auto* b : at) {
          if (b) last = b->score / 65535.0;
          last < 0 ? w.Null() : w.Double(last, 4);
        }
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }

  // Templates the members use most, with sample prompts.
  {
    struct T {
      uint64_t count = 0;
      std::set<size_t> accounts;
    };
    std::unordered_map<uint64_t, T> ts;
    auto count_state = [&](const state::AccountState& s, size_t m) {
      for (const auto& t : s.skeletons.entries()) {
        if (t.count <= t.error) continue;
        auto& x = ts[t.key];
        x.count += t.count - t.error;
        x.accounts.insert(m);
      }
    };
    if (row.unit) {
      count_state(*row.unit, 0);
    } else {
      for (size_t m = 0; m < members.size() && m < max_members; ++m)
        count_state(*members[m]->state, m);
    }
    std::vector<std::pair<uint64_t, T>> sorted(ts.begin(), ts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      if (a.second.count != b.second.count) return a.second.count > b.second.count;
      return a.first < b.first;
    });
    w.Key("templates").BeginArray();
    for (size_t i = 0; i < sorted.size() && i < 6; ++i) {
      const auto& [key, t] = sorted[i];
      w.BeginObject().Field("template", Hex(key)).Field("requests", t.count);
      w.Field("accounts", static_cast<uint64_t>(t.accounts.size()));
      w.Key("samples").BeginArray();
      if (in.samples) {
        for (const auto& s : in.samples->Get(key)) w.String(s);
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  for (const auto& [k, v] : extras) w.Key(k).Raw(v);
  w.EndObject();
  return out;
}

}  // namespace dg::report
