// Evaluation of a report against ground-truth labels (any labels file of the simulator's shape):
// per campaign, accounts flagged, the share of the campaign in its largest reported cluster and
// the leak (output tokens received before being flagged, over all its output tokens); per benign
// persona, false positives; overall AUROC of `score`, benign false-positive rate, campaigns
// detected and the purity of clusters that hold attack accounts.
//
// A campaign hidden inside another account is given by its `end_users` or `api_keys`: its units
// are those end users (keys), its traffic their events, and a unit counts as flagged from the
// earlier of its own entry in the host account's `flagged_end_users` (`flagged_api_keys`) and the
// host account's own flag. The host account is benign: flagged whole, it is a false positive.
#pragma once

#include <string>
#include <vector>

namespace dg::eval {

struct CampaignResult {
  std::string name, description;
  bool by_end_user = false;      // hidden in a host account: its units are end users or keys
  std::string unit = "account";  // "account", "end_user" or "api_key"
  // Units that sent traffic, and of them flagged. A campaign account that never sent a request
  // (created in a burst, not yet used) took nothing and can be judged on nothing: it is counted
  // as `silent`, not as a unit, as a benign account without traffic is not counted among the
  // benign ones.
  size_t units = 0, flagged = 0, silent = 0;
  double largest_cluster_share = 0;
  double leak = 1.0;
  uint64_t output_tokens = 0, leaked_tokens = 0;
  bool detected = false;
};

struct PersonaResult {
  std::string persona;
  size_t accounts = 0, flagged = 0;
};

struct EvalResult {
  std::vector<CampaignResult> campaigns;
  std::vector<PersonaResult> personas;
  double auroc = 0;  // NaN when a class is empty
  size_t benign = 0, benign_flagged = 0, attack = 0, attack_flagged = 0;
  size_t campaigns_detected = 0;
  // End users and keys flagged inside accounts (SaaS apps, resellers, companies), and of those
  // the ones no campaign lists.
  size_t end_users_flagged = 0, benign_end_users_flagged = 0;
  double attack_cluster_purity = 1.0, min_attack_cluster_purity = 1.0;
  size_t attack_clusters = 0;
  size_t labelled_missing_from_report = 0, reported_missing_from_labels = 0;
  uint64_t events = 0;
};

// Throws std::runtime_error naming the file and the reason when a file cannot be used.
EvalResult Evaluate(const std::string& report_path, const std::string& labels_path,
                    const std::vector<std::string>& event_paths);

std::string ToJson(const EvalResult& r);
std::string ToMarkdown(const EvalResult& r);
std::string ToText(const EvalResult& r);

}  // namespace dg::eval
