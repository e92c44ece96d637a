// See evaluate.h. Report and labels are small and read with simdjson's DOM; events are streamed
// through the same ingest path as `scan`.
#include "eval/evaluate.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "common/json_writer.h"
#include "common/time.h"
#include "eval/labels.h"
#include "ingest/input.h"
#include "ingest/parser.h"
#include "scoring/train.h"

namespace dg::eval {
namespace {

struct StrHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StrMap = std::unordered_map<std::string, V, StrHash, std::equal_to<>>;
using StrSet = std::unordered_set<std::string, StrHash, std::equal_to<>>;

// A unit inside an account (an end user, a key), qualified by its kind: ids of different kinds
// may coincide.
std::string UnitId(std::string_view field, std::string_view id) {
  return fmt::format("{}:{}", field, id);
}

std::string_view UnitName(std::string_view unit) {
  return unit == "end_user" ? "end user" : unit == "api_key" ? "API key" : "account";
}

struct AccountInfo {
  double score = 0;
  bool flagged = false;
  TimeUs flagged_at = INT64_MAX;
  std::string cluster;
};

TimeUs ParseTime(simdjson::dom::element e) {
  std::string_view s;
  if (e.get(s)) return INT64_MAX;  // null: never flagged
  auto t = ParseRfc3339(s);
  return t ? *t : INT64_MAX;
}

simdjson::dom::element Load(simdjson::dom::parser& p, const std::string& path) {
  simdjson::dom::element e;
  if (auto err = p.load(path).get(e)) {
    throw std::runtime_error(fmt::format("{}: {}", path, simdjson::error_message(err)));
  }
  return e;
}

class Sink final : public ingest::ExchangeSink {
 public:
  std::function<void(const ingest::Exchange&)> fn;
  void OnExchange(const ingest::Exchange& ex, uint64_t) override { fn(ex); }
  void OnReject(uint64_t, ingest::RejectReason, std::string_view) override {}
};

}  // namespace

EvalResult Evaluate(const std::string& report_path, const std::string& labels_path,
                    const std::vector<std::string>& event_paths) {
  EvalResult r;
  simdjson::dom::parser rp;
  simdjson::dom::element report = Load(rp, report_path);
  const Labels labels = LoadLabels(labels_path);

  StrMap<AccountInfo> acc;
  StrMap<TimeUs> eu_flag;  // unit (UnitId) -> earliest flag time
  simdjson::dom::array accounts;
  if (report["accounts"].get(accounts))
    throw std::runtime_error(report_path + ": no \"accounts\" array");
  for (auto a : accounts) {
    std::string_view id;
    if (a["account_id"].get(id))
      throw std::runtime_error(report_path + ": account without account_id");
    AccountInfo info;
    double score = 0;
    if (!a["score"].get(score)) info.score = score;
    bool flagged = false;
    if (!a["flagged"].get(flagged)) info.flagged = flagged;
    if (info.flagged) info.flagged_at = ParseTime(a["first_flagged_at"]);
    std::string_view cl;
    info.cluster = a["cluster_id"].get(cl) ? std::string(id) : std::string(cl);
    // Units flagged on their own; ids are qualified by kind ("end_user:…", "api_key:…").
    for (auto [list, field] : {std::pair{"flagged_end_users", "end_user"},
                               std::pair{"flagged_api_keys", "api_key_id"}}) {
      simdjson::dom::array eus;
      if (a[list].get(eus)) continue;
      for (auto eu : eus) {
        std::string_view u;
        if (eu[field].get(u)) continue;
        TimeUs t = ParseTime(eu["first_flagged_at"]);
        auto [it, ins] = eu_flag.try_emplace(UnitId(field, u), t);
        if (!ins) it->second = std::min(it->second, t);
      }
    }
    acc.emplace(std::string(id), std::move(info));
  }
  StrMap<std::vector<std::string>> clusters;
  simdjson::dom::array cls;
  if (!report["clusters"].get(cls)) {
    for (auto c : cls) {
      std::string_view cid;
      if (c["cluster_id"].get(cid)) continue;
      auto& members = clusters[std::string(cid)];
      simdjson::dom::array ms;
      if (c["accounts"].get(ms)) continue;
      for (auto m : ms) {
        std::string_view id;
        if (!m.get(id)) members.emplace_back(id);
      }
    }
  }

  // Labels (file order, so that the maps below iterate as they always have).
  struct Label {
    bool attack;
    std::string persona, campaign;
  };
  StrMap<Label> lab;
  for (const auto& a : labels.accounts) lab.emplace(a.id, Label{a.attack, a.persona, a.campaign});
  struct Campaign {
    std::string description;
    std::vector<std::string> accounts, end_users, api_keys;
  };
  std::map<std::string, Campaign> camps;
  for (const auto& lc : labels.campaigns) {
    Campaign c;
    c.description = lc.description;
    c.accounts = lc.accounts;
    for (const auto& u : lc.end_users) c.end_users.push_back(UnitId("end_user", u));
    for (const auto& k : lc.api_keys) c.api_keys.push_back(UnitId("api_key_id", k));
    camps.emplace(lc.name, std::move(c));
  }
  // Campaigns named only on accounts.
  for (const auto& [id, l] : lab) {
    if (l.attack && !l.campaign.empty()) {
      auto& c = camps[l.campaign];
      if (std::find(c.accounts.begin(), c.accounts.end(), id) == c.accounts.end())
        c.accounts.push_back(id);
    }
  }
  StrMap<std::string> eu_campaign;
  for (const auto& [name, c] : camps) {
    for (const auto& u : c.end_users) eu_campaign.emplace(u, name);
    for (const auto& k : c.api_keys) eu_campaign.emplace(k, name);
  }
  StrMap<std::string> acct_campaign;
  for (const auto& [name, c] : camps) {
    for (const auto& a : c.accounts) acct_campaign.emplace(a, name);
  }

  // Events: output tokens per campaign, before the flag and in all.
  std::map<std::string, std::pair<uint64_t, uint64_t>> tokens;  // campaign -> (leaked, total)
  StrSet active;  // campaign accounts that sent at least one request
  Sink sink;
  sink.fn = [&](const ingest::Exchange& ex) {
    ++r.events;
    if (acct_campaign.contains(ex.account_id) && !active.contains(ex.account_id))
      active.emplace(ex.account_id);
    if (ex.completion_tokens <= 0) return;
    const auto out = static_cast<uint64_t>(ex.completion_tokens);
    const std::string* camp = nullptr;
    TimeUs flagged_at = INT64_MAX;
    for (auto [field, id] :
         {std::pair{"end_user", ex.EndUser()}, std::pair{"api_key_id", ex.api_key_id}}) {
      if (camp || id.empty() || eu_campaign.empty()) continue;
      const std::string unit = UnitId(field, id);
      if (auto it = eu_campaign.find(unit); it != eu_campaign.end()) {
        camp = &it->second;
        if (auto f = eu_flag.find(unit); f != eu_flag.end()) flagged_at = f->second;
        if (auto a = acc.find(ex.account_id); a != acc.end() && a->second.flagged) {
          flagged_at = std::min(flagged_at, a->second.flagged_at);
        }
      }
    }
    if (!camp) {
      auto it = acct_campaign.find(ex.account_id);
      if (it == acct_campaign.end()) return;
      camp = &it->second;
      if (auto a = acc.find(ex.account_id); a != acc.end() && a->second.flagged)
        flagged_at = a->second.flagged_at;
    }
    auto& t = tokens[*camp];
    t.second += out;
    if (ex.ts < flagged_at) t.first += out;
  };
  for (const auto& path : event_paths) {
    std::string error;
    auto stream = ingest::OpenByteStream(path, &error);
    if (!stream) throw std::runtime_error(error);
    ingest::BlockReader reader(std::move(stream), 4 << 20, 1 << 20);
    ingest::ParserOptions po;
    po.format = ingest::DetectFormat("");
    ingest::BlockParser parser(po);
    ingest::Block block;
    bool first = true;
    while (reader.Next(block)) {
      if (first) {
        po.format = ingest::DetectFormat(
            std::string_view(block.buf.data(), std::min<size_t>(block.len, 1 << 20)));
        parser = ingest::BlockParser(po);
        first = false;
      }
      parser.Parse(block, sink);
    }
    if (!reader.error().empty()) throw std::runtime_error(path + ": " + reader.error());
  }

  // Campaigns.
  for (const auto& [name, c] : camps) {
    CampaignResult cr;
    cr.name = name;
    cr.description = c.description;
    cr.by_end_user = c.accounts.empty() && (!c.end_users.empty() || !c.api_keys.empty());
    if (cr.by_end_user) {
      cr.unit = c.end_users.empty() ? "api_key" : "end_user";
      for (const auto* units : {&c.end_users, &c.api_keys}) {
        cr.units += units->size();
        for (const auto& u : *units) cr.flagged += eu_flag.count(u) > 0;
      }
      cr.largest_cluster_share = 0;
    } else {
      std::map<std::string, size_t> per_cluster;
      for (const auto& a : c.accounts) {
        if (!active.contains(a)) {
          ++cr.silent;
          continue;
        }
        ++cr.units;
        auto it = acc.find(a);
        if (it == acc.end()) continue;
        cr.flagged += it->second.flagged;
        ++per_cluster[it->second.cluster];
      }
      size_t best = 0;
      for (const auto& [cl, n] : per_cluster) best = std::max(best, n);
      cr.largest_cluster_share = cr.units ? static_cast<double>(best) / cr.units : 0;
    }
    auto t = tokens[name];
    cr.leaked_tokens = t.first;
    cr.output_tokens = t.second;
    cr.leak = t.second ? static_cast<double>(t.first) / static_cast<double>(t.second) : 0.0;
    cr.detected = cr.units > 0 && 2 * cr.flagged >= cr.units;
    r.campaigns_detected += cr.detected;
    r.campaigns.push_back(std::move(cr));
  }

  // Personas, AUROC, false positives.
  std::map<std::string, PersonaResult> personas;
  std::vector<double> scores;
  std::vector<bool> positive;
  for (const auto& [id, l] : lab) {
    auto it = acc.find(id);
    if (it == acc.end()) {
      ++r.labelled_missing_from_report;
      continue;
    }
    scores.push_back(it->second.score);
    positive.push_back(l.attack);
    if (l.attack) {
      ++r.attack;
      r.attack_flagged += it->second.flagged;
    } else {
      ++r.benign;
      r.benign_flagged += it->second.flagged;
      auto& p = personas[l.persona];
      p.persona = l.persona;
      ++p.accounts;
      p.flagged += it->second.flagged;
    }
  }
  for (auto& [name, p] : personas) r.personas.push_back(p);
  for (const auto& [u, t] : eu_flag) {
    ++r.end_users_flagged;
    r.benign_end_users_flagged += eu_campaign.count(u) == 0;
  }
  for (const auto& [id, info] : acc) r.reported_missing_from_labels += lab.count(id) == 0;
  r.auroc = scoring::Auroc(scores, positive);

  // Purity of clusters holding attack accounts.
  size_t attack_members = 0, members_total = 0;
  for (const auto& [cid, members] : clusters) {
    size_t atk = 0, known = 0;
    for (const auto& m : members) {
      auto it = lab.find(m);
      if (it == lab.end()) continue;
      ++known;
      atk += it->second.attack;
    }
    if (atk == 0) continue;
    ++r.attack_clusters;
    attack_members += atk;
    members_total += known;
    r.min_attack_cluster_purity =
        std::min(r.min_attack_cluster_purity, static_cast<double>(atk) / known);
  }
  r.attack_cluster_purity =
      members_total ? static_cast<double>(attack_members) / members_total : 1.0;
  return r;
}

std::string ToJson(const EvalResult& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("overall").BeginObject();
  w.Key("auroc").Double(r.auroc, 6);
  w.Field("attack_accounts", r.attack);
  w.Field("attack_flagged", r.attack_flagged);
  w.Field("benign_accounts", r.benign);
  w.Field("benign_flagged", r.benign_flagged);
  w.Key("benign_fpr").Double(r.benign ? static_cast<double>(r.benign_flagged) / r.benign : 0, 6);
  w.Field("campaigns", r.campaigns.size());
  w.Field("campaigns_detected", r.campaigns_detected);
  w.Field("attack_clusters", r.attack_clusters);
  w.Key("attack_cluster_purity").Double(r.attack_cluster_purity, 6);
  w.Key("min_attack_cluster_purity").Double(r.min_attack_cluster_purity, 6);
  w.Field("labelled_missing_from_report", r.labelled_missing_from_report);
  w.Field("reported_missing_from_labels", r.reported_missing_from_labels);
  w.Field("events", r.events);
  w.Field("end_users_flagged", r.end_users_flagged);
  w.Field("benign_end_users_flagged", r.benign_end_users_flagged);
  w.EndObject();
  w.Key("campaigns").BeginArray();
  for (const auto& c : r.campaigns) {
    w.BeginObject();
    w.Field("campaign", c.name);
    w.Field("unit", c.unit);
    w.Field("units", c.units);
    w.Field("flagged", c.flagged);
    w.Field("silent", c.silent);
    w.Field("detected", c.detected);
    w.Key("largest_cluster_share").Double(c.largest_cluster_share, 6);
    w.Key("leak").Double(c.leak, 6);
    w.Field("output_tokens", c.output_tokens);
    w.Field("leaked_tokens", c.leaked_tokens);
    w.EndObject();
  }
  w.EndArray();
  w.Key("personas").BeginArray();
  for (const auto& p : r.personas) {
    w.BeginObject();
    w.Field("persona", p.persona);
    w.Field("accounts", p.accounts);
    w.Field("flagged", p.flagged);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.push_back('\n');
  return out;
}

namespace {
// " (+N silent)": campaign accounts that sent nothing, outside the units.
std::string Silent(const CampaignResult& c) {
  return c.silent ? fmt::format(" (+{} silent)", c.silent) : std::string();
}
}  // namespace

std::string ToMarkdown(const EvalResult& r) {
  std::string o;
  auto it = std::back_inserter(o);
  fmt::format_to(it,
                 "| campaign | unit | flagged | detected | largest cluster | leak "
                 "|\n|---|---|---|---|---|---|\n");
  for (const auto& c : r.campaigns) {
    fmt::format_to(
        it, "| {} | {} | {}/{}{} | {} | {} | {:.2f}% |\n", c.name, UnitName(c.unit), c.flagged,
        c.units, Silent(c), c.detected ? "yes" : "no",
        c.by_end_user ? std::string("n/a") : fmt::format("{:.0f}%", 100 * c.largest_cluster_share),
        100 * c.leak);
  }
  fmt::format_to(it, "\n| benign persona | accounts | flagged |\n|---|---|---|\n");
  for (const auto& p : r.personas)
    fmt::format_to(it, "| {} | {} | {} |\n", p.persona, p.accounts, p.flagged);
  fmt::format_to(
      it,
      "\n| overall | value |\n|---|---|\n| AUROC of score | {:.4f} |\n| benign false-positive "
      "rate | {:.3f}% ({}/{}) |\n| campaigns detected | {}/{} |\n| purity of clusters with "
      "attack accounts | {:.1f}% (min {:.1f}%, {} clusters) |\n| end users and keys flagged "
      "outside campaigns | {} (of {} flagged end users and keys) |\n| events | {} |\n",
      r.auroc, r.benign ? 100.0 * r.benign_flagged / r.benign : 0.0, r.benign_flagged, r.benign,
      r.campaigns_detected, r.campaigns.size(), 100 * r.attack_cluster_purity,
      100 * r.min_attack_cluster_purity, r.attack_clusters, r.benign_end_users_flagged,
      r.end_users_flagged, r.events);
  return o;
}

std::string ToText(const EvalResult& r) {
  std::string o;
  auto it = std::back_inserter(o);
  fmt::format_to(it, "{:<24} {:>9} {:>9} {:>9} {:>9}\n", "campaign", "flagged", "detected",
                 "cluster", "leak");
  for (const auto& c : r.campaigns) {
    fmt::format_to(it, "{:<24} {:>4}/{:<4} {:>9} {:>8.0f}% {:>8.2f}%{}\n", c.name, c.flagged,
                   c.units, c.detected ? "yes" : "no", 100 * c.largest_cluster_share, 100 * c.leak,
                   Silent(c));
  }
  fmt::format_to(it, "\n{:<24} {:>9} {:>9}\n", "benign persona", "accounts", "flagged");
  for (const auto& p : r.personas)
    fmt::format_to(it, "{:<24} {:>9} {:>9}\n", p.persona, p.accounts, p.flagged);
  fmt::format_to(
      it,
      "\nAUROC {:.4f}; benign FPR {:.3f}% ({}/{}); campaigns detected {}/{}; attack-cluster "
      "purity {:.1f}% (min {:.1f}%)\n",
      r.auroc, r.benign ? 100.0 * r.benign_flagged / r.benign : 0.0, r.benign_flagged, r.benign,
      r.campaigns_detected, r.campaigns.size(), 100 * r.attack_cluster_purity,
      100 * r.min_attack_cluster_purity);
  if (r.labelled_missing_from_report || r.reported_missing_from_labels) {
    fmt::format_to(it,
                   "warning: {} labelled accounts not in the report (no traffic?), {} reported "
                   "accounts not in the labels\n",
                   r.labelled_missing_from_report, r.reported_missing_from_labels);
  }
  return o;
}

}  // namespace dg::eval
