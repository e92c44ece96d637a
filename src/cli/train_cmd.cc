// `distillguard train`: fits the scoring model on labelled traffic (events + registry + labels,
// e.g. from `distillguard simulate`) and writes it as a versioned TOML model file.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "cli/command.h"
#include "common/file_util.h"
#include "common/hash.h"
#include "engine/account_registry.h"
#include "engine/scan.h"
#include "scoring/train.h"

namespace dg::cli {
namespace {

struct Args {
  std::vector<std::string> events, sets;
  std::string accounts, labels, out, version = "trained";
  int threads = 2;
  scoring::TrainOptions train;
};

struct Label {
  bool attack = false;
  std::string group;  // campaign, else persona, else the label
};

// One labelled world: its events, registry and labels.
struct TrainingSet {
  std::vector<std::string> events;
  std::string accounts, labels;
};

struct Collected {
  uint64_t events = 0;
  size_t missing = 0;  // labelled accounts with no events
};

// Scans one labelled world and appends its training examples (features, with the supporting
// families already multiplied by the harvest gate) to *examples. `set` keeps accounts of
// different worlds apart.
Collected CollectExamples(const TrainingSet& ts, int threads, uint64_t set,
                          std::vector<scoring::TrainingExample>* examples,
                          std::vector<std::string>* detector_names) {
  simdjson::dom::parser parser;
  simdjson::dom::element labels;
  if (auto err = parser.load(ts.labels).get(labels)) {
    throw std::runtime_error(fmt::format("{}: {}", ts.labels, simdjson::error_message(err)));
  }
  simdjson::dom::object accounts;
  if (labels["accounts"].get(accounts))
    throw std::runtime_error(ts.labels + ": no \"accounts\" object");
  std::unordered_map<uint64_t, Label> by_hash;
  for (auto [id, info] : accounts) {
    std::string_view label;
    if (info["label"].get(label)) continue;
    std::string_view group;
    if (info["campaign"].get(group) || group.empty()) {
      if (info["persona"].get(group)) group = label;
    }
    by_hash[Hash64(id, core::kHashAccount)] = {label == "attack", std::string(group)};
  }
  // The hosts of a campaign hidden inside an account (an end user, an abused key) are labelled
  // benign as accounts but carry the attack's traffic: neither label is true of their whole
  // state, so they are left out of the fit.
  simdjson::dom::object campaigns;
  if (!labels["campaigns"].get(campaigns)) {
    for (auto [name, info] : campaigns) {
      simdjson::dom::array hosts;
      if (info["host_accounts"].get(hosts)) continue;
      for (auto h : hosts) {
        std::string_view id;
        if (!h.get(id)) by_hash.erase(Hash64(id, core::kHashAccount));
      }
    }
  }
  auto unit_of = [set](uint64_t account) { return set == 0 ? account : HashMix(account, set); };

  // The model decides at every request, not on whole histories: besides each account's final
  // state, it is fitted on the states accounts had at their 3rd, 4th, 8th, 16th... request, so
  // evidence that speaks early (a proxy pool's network hops) weighs what it is worth then.
  // Each account's examples share its weight in the fit (FitModel weighs groups, not examples).
  engine::Engine* engine = nullptr;
  std::mutex mu;
  std::vector<std::tuple<uint64_t, uint64_t, scoring::TrainingExample>> checkpoints;
  core::NameTable names;
  engine::EngineOptions eo;
  eo.threads = threads;
  eo.checkpoint = [&](const state::AccountState& s) {
    auto it = by_hash.find(s.account);
    if (it == by_hash.end()) return;
    scoring::TrainingExample ex;
    ex.attack = it->second.attack;
    ex.group = it->second.group;
    ex.unit = unit_of(s.account);
    for (const auto& d : engine->scorer().detectors()) {
      ex.x.push_back(d->Strength({s, engine->peers()}));
    }
    std::lock_guard lock(mu);
    checkpoints.emplace_back(s.account, s.requests, std::move(ex));
  };
  engine::Engine eng(eo, names);
  engine = &eng;
  if (!ts.accounts.empty()) {
    auto reg = engine::LoadAccountRegistry(ts.accounts, eng, names);
    if (!reg.error.empty()) throw std::runtime_error("accounts: " + reg.error);
  }
  engine::ScanOptions so;
  so.inputs = ts.events;
  so.threads = threads;
  auto stats = engine::RunScan(so, eng, names);
  if (!stats.unreadable.empty()) throw std::runtime_error(stats.unreadable.front());

  const auto& detectors = eng.scorer().detectors();
  detector_names->clear();
  for (const auto& d : detectors) detector_names->emplace_back(d->name());
  std::vector<scoring::TrainingExample> found;
  std::unordered_map<const state::AccountState*, uint32_t> index_of;
  for (const auto& ref : eng.Accounts()) index_of[ref.state] = ref.index;
  Collected c;
  c.events = stats.events;
  for (auto [id, info] : accounts) {
    std::string_view label;
    if (info["label"].get(label)) continue;
    const uint64_t h = Hash64(id, core::kHashAccount);
    const auto* st = eng.FindAccount(h);
    if (!st) {
      ++c.missing;
      continue;
    }
    auto lab = by_hash.find(h);
    if (lab == by_hash.end()) continue;  // a host account (above)
    scoring::TrainingExample ex;
    ex.attack = lab->second.attack;
    ex.group = lab->second.group;
    ex.unit = unit_of(h);
    // The decision about an account in a linked cluster is also made on the cluster's combined
    // state, so each detector contributes the stronger of the two.
    const engine::ClusterVerdict* cv = eng.Cluster(eng.ClusterOf(index_of.at(st)));
    for (const auto& d : detectors) {
      double v = d->Strength({*st, eng.peers()});
      if (cv) v = std::max(v, d->Strength({cv->combined, eng.peers()}));
      ex.x.push_back(v);
    }
    found.push_back(std::move(ex));
  }
  // Checkpoints arrive from worker threads: order them by account and request count.
  std::sort(checkpoints.begin(), checkpoints.end(), [](const auto& x, const auto& y) {
    return std::tie(std::get<0>(x), std::get<1>(x)) < std::tie(std::get<0>(y), std::get<1>(y));
  });
  for (auto& cp : checkpoints) found.push_back(std::move(std::get<2>(cp)));
  // The fit is linear in the weights once the supporting families' strengths are multiplied by
  // the harvest gate (Scorer::Features).
  for (auto& ex : found) {
    ex.x = eng.scorer().Features(ex.x);
    examples->push_back(std::move(ex));
  }
  return c;
}

int Run(Args& a) {
  std::vector<TrainingSet> sets;
  if (!a.events.empty() || !a.labels.empty()) {
    if (a.events.empty() || a.labels.empty())
      throw std::runtime_error("--events and --labels go together");
    sets.push_back({a.events, a.accounts, a.labels});
  }
  // A simulate output folder: events.jsonl, accounts.jsonl, labels.json.
  for (const auto& dir : a.sets) {
    sets.push_back({{dir + "/events.jsonl"}, dir + "/accounts.jsonl", dir + "/labels.json"});
  }
  if (sets.empty()) throw std::runtime_error("nothing to fit: give --events/--labels or --set");
  std::vector<scoring::TrainingExample> examples;
  std::vector<std::string> names_v;
  uint64_t events = 0;
  size_t missing = 0;
  for (size_t i = 0; i < sets.size(); ++i) {
    const Collected c = CollectExamples(sets[i], a.threads, i, &examples, &names_v);
    events += c.events;
    missing += c.missing;
  }
  // Deterministic order regardless of the labels file's key order.
  a.train.version = a.version;
  auto rep = scoring::FitModel(examples, names_v, a.train, scoring::ScoringModel::Builtin());
  std::string comment = fmt::format(
      "distillguard scoring model: score = sigmoid(bias + H + gate * S) (scoring/scorer.h).\n"
      "Fitted by `distillguard train` on {} events of {} labelled world(s) ({} attack / {} benign "
      "accounts, {} states: "
      "each account's final one and those at its 3rd, 4th, 8th, 16th... request).\n"
      "Training fit (each account at its highest score): AUROC {:.4f}; flagged {}/{} attack and "
      "{}/{} benign accounts; bias {:.3f} (fitted {:.3f}).",
      events, sets.size(), rep.attack, rep.benign, rep.examples, rep.auroc, rep.attack_flagged,
      rep.attack, rep.benign_flagged, rep.benign, rep.model.bias, rep.fitted_bias);
  std::string toml = scoring::ModelToToml(rep.model, comment);
  std::string err;
  if (!WriteFileAtomically(a.out, toml, &err)) throw std::runtime_error(err);
  fmt::print("{}\n{} labelled accounts had no events and were skipped\n", comment, missing);
  for (const auto& [g, f, n] : rep.attack_groups)
    fmt::print("  attack {:<28} {:>4}/{:<4} flagged\n", g, f, n);
  for (const auto& [g, z] : rep.closest_benign)
    fmt::print("  closest benign: {:<20} logit {:.2f}\n", g, z);
  fmt::print("wrote {}\n", a.out);
  return 0;
}

RunFn Setup(CLI::App& sub) {
  auto a = std::make_shared<Args>();
  sub.add_option("--events", a->events, "Exchange-log files");
  sub.add_option("--accounts", a->accounts, "Account registry");
  sub.add_option("--labels", a->labels, "labels.json (accounts -> benign|attack)");
  sub.add_option("--set", a->sets,
                 "A labelled world to fit on as well: a `simulate --out` folder (events.jsonl, "
                 "accounts.jsonl, labels.json); repeatable, to fit on several scenario families "
                 "and seeds at once");
  sub.add_option("--out", a->out, "Model file to write (TOML)")->required();
  sub.add_option("--version-name", a->version, "Version string recorded in the model");
  AddGeoipOption(sub);
  sub.add_option("--threads", a->threads, "Worker threads")->default_val(2);
  sub.add_option("--l2", a->train.l2, "L2 penalty on weights")->default_val(0.001);
  sub.add_option("--max-benign-fpr", a->train.max_benign_fpr,
                 "Share of benign training accounts allowed at the flag level")
      ->default_val(0.001);
  return [a] { return Run(*a); };
}

}  // namespace
DG_REGISTER_COMMAND(train, "train", "Fit the scoring model's weights on labelled traffic", Setup);
}  // namespace dg::cli
