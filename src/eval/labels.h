// The ground-truth labels file (labels.json, as `simulate` writes it and the peer set ships it),
// parsed once for every reader (`eval`, `train`):
//
//   {"accounts":  {"<account id>": {"label": "attack"|"benign", "persona": "…", "campaign": "…"}},
//    "campaigns": {"<name>": {"description": "…", "accounts": ["…"], "end_users": ["…"],
//                             "api_keys": ["…"], "host_accounts": ["…"]}}}
//
// "persona" defaults to the label, "campaign" may be absent or null; "campaigns" and each of its
// lists are optional. Anything else is refused with an error naming the file, the entry and the
// reason (an account without a valid label, a list holding a non-string, ...): a labels file that
// silently lost accounts would make every figure computed from it wrong. Entries keep the file's
// order.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dg::eval {

struct AccountLabel {
  std::string id;
  bool attack = false;
  std::string persona;   // the label when the file gives none
  std::string campaign;  // empty when none
};

struct CampaignLabel {
  std::string name, description;
  std::vector<std::string> accounts, end_users, api_keys;
  // Accounts hosting a campaign hidden inside them (an end user, an abused key): labelled
  // benign as accounts, yet carrying the attack's traffic.
  std::vector<std::string> host_accounts;
};

struct Labels {
  std::vector<AccountLabel> accounts;
  std::vector<CampaignLabel> campaigns;
};

// Parses `json`; `name` (the path) prefixes every error. Throws std::runtime_error.
Labels ParseLabels(std::string_view json, const std::string& name);
// Reads and parses the file at `path`. Throws std::runtime_error.
Labels LoadLabels(const std::string& path);

}  // namespace dg::eval
