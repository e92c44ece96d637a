// `distillguard train`: fits the scoring model on labelled traffic (events + registry + labels,
// e.g. from `distillguard simulate`) and writes it as a versioned TOML model file.
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <simdjson.h>

#include "cli/command.h"
#include "common/file_util.h"
#include "common/hash.h"
#include "engine/account_registry.h"
#include "engine/scan.h"
#include "scoring/train.h"

namespace dg::cli {
namespace {

struct Args {
  std::vector<std::string> events;
  std::string accounts, labels, out, version = "trained";
  int threads = 2;
  scoring::TrainOptions train;
};

int Run(Args& a) {
  engine::NameTable names;
  engine::EngineOptions eo;
  eo.threads = a.threads;
  engine::Engine eng(eo, names);
  if (!a.accounts.empty()) {
    auto reg = engine::LoadAccountRegistry(a.accounts, eng, names);
    if (!reg.error.empty()) throw std::runtime_error("accounts: " + reg.error);
  }
  engine::ScanOptions so;
  so.inputs = a.events;
  so.threads = a.threads;
  auto stats = engine::RunScan(so, eng, names);
  if (!stats.unreadable.empty()) throw std::runtime_error(stats.unreadable.front());

  simdjson::dom::parser parser;
  simdjson::dom::element labels;
  if (auto err = parser.load(a.labels).get(labels)) {
    throw std::runtime_error(fmt::format("{}: {}", a.labels, simdjson::error_message(err)));
  }
  simdjson::dom::object accounts;
  if (labels["accounts"].get(accounts)) throw std::runtime_error(a.labels + ": no \"accounts\" object");

  const auto& detectors = eng.scorer().detectors();
  std::vector<std::string> names_v;
  for (const auto& d : detectors) names_v.emplace_back(d->name());
  std::vector<scoring::TrainingExample> examples;
  size_t missing = 0;
  for (auto [id, info] : accounts) {
    std::string_view label;
    if (info["label"].get(label)) continue;
    const auto* st = eng.FindAccount(Hash64(id, engine::kHashAccount));
    if (!st) {
      ++missing;
      continue;
    }
    scoring::TrainingExample ex;
    ex.attack = label == "attack";
    std::string_view group;
    if (info["campaign"].get(group) || group.empty()) {
      if (info["persona"].get(group)) group = label;
    }
    ex.group = std::string(group);
    // The decision about an account in a linked cluster is also made on the cluster's combined
    // state, so each detector contributes the stronger of the two.
    const engine::ClusterVerdict* cv = nullptr;
    for (const auto& ref : eng.Accounts()) {
      if (ref.state == st) {
        cv = eng.Cluster(eng.ClusterOf(ref.index));
        break;
      }
    }
    for (const auto& d : detectors) {
      double v = d->Strength({*st, eng.peers()});
      if (cv) v = std::max(v, d->Strength({cv->combined, eng.peers()}));
      ex.x.push_back(v);
    }
    examples.push_back(std::move(ex));
  }
  // Deterministic order regardless of the labels file's key order.
  a.train.version = a.version;
  auto rep = scoring::FitModel(examples, names_v, a.train, scoring::ScoringModel::Builtin());
  std::string comment = fmt::format(
      "distillguard scoring model: score = sigmoid(bias + sum(weight * detector strength)).\n"
      "Fitted by `distillguard train` on {} events ({} attack / {} benign accounts).\n"
      "Training fit: AUROC {:.4f}; flagged {}/{} attack and {}/{} benign accounts; bias {:.3f} "
      "(fitted {:.3f}).",
      stats.events, rep.attack, rep.benign, rep.auroc, rep.attack_flagged, rep.attack,
      rep.benign_flagged, rep.benign, rep.model.bias, rep.fitted_bias);
  std::string toml = scoring::ModelToToml(rep.model, comment);
  std::string err;
  if (!WriteFileAtomically(a.out, toml, &err)) throw std::runtime_error(err);
  fmt::print("{}\n{} labelled accounts had no events and were skipped\n", comment, missing);
  for (const auto& [g, f, n] : rep.attack_groups) fmt::print("  attack {:<28} {:>4}/{:<4} flagged\n", g, f, n);
  for (const auto& [g, z] : rep.closest_benign) fmt::print("  closest benign: {:<20} logit {:.2f}\n", g, z);
  fmt::print("wrote {}\n", a.out);
  return 0;
}

RunFn Setup(CLI::App& sub) {
  auto a = std::make_shared<Args>();
  sub.add_option("--events", a->events, "Exchange-log files")->required();
  sub.add_option("--accounts", a->accounts, "Account registry");
  sub.add_option("--labels", a->labels, "labels.json (accounts -> benign|attack)")->required();
  sub.add_option("--out", a->out, "Model file to write (TOML)")->required();
  sub.add_option("--version-name", a->version, "Version string recorded in the model");
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
