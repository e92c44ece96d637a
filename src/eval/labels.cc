// See labels.h. The file is small: simdjson's DOM parser reads it whole.
#include "eval/labels.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "common/file_util.h"

namespace dg::eval {
namespace {

[[noreturn]] void Fail(const std::string& name, std::string_view what) {
  throw std::runtime_error(fmt::format("{}: {}", name, what));
}

// An optional string field: absent or null gives `fallback`.
std::string OptionalString(simdjson::dom::object o, std::string_view key, std::string_view fallback,
                           const std::string& name, std::string_view where) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return std::string(fallback);
  std::string_view s;
  if (e.get(s)) Fail(name, fmt::format("{}: \"{}\" must be a string", where, key));
  return std::string(s);
}

std::vector<std::string> OptionalStrings(simdjson::dom::object o, std::string_view key,
                                         const std::string& name, std::string_view where) {
  std::vector<std::string> out;
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return out;
  simdjson::dom::array arr;
  if (e.get(arr)) Fail(name, fmt::format("{}: \"{}\" must be an array of strings", where, key));
  for (auto x : arr) {
    std::string_view s;
    if (x.get(s)) Fail(name, fmt::format("{}: \"{}\" holds a non-string", where, key));
    out.emplace_back(s);
  }
  return out;
}

}  // namespace

Labels ParseLabels(std::string_view json, const std::string& name) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) Fail(name, simdjson::error_message(err));
  simdjson::dom::object accounts;
  if (root["accounts"].get(accounts)) Fail(name, "no \"accounts\" object");
  Labels out;
  for (auto [id, info] : accounts) {
    const std::string where = fmt::format("account {}", id);
    simdjson::dom::object o;
    std::string_view label;
    if (info.get(o) || o["label"].get(label) || (label != "attack" && label != "benign")) {
      Fail(name, fmt::format("{} has no label benign|attack", where));
    }
    AccountLabel a;
    a.id = std::string(id);
    a.attack = label == "attack";
    a.persona = OptionalString(o, "persona", label, name, where);
    a.campaign = OptionalString(o, "campaign", "", name, where);
    out.accounts.push_back(std::move(a));
  }
  simdjson::dom::element camps_el;
  if (!root["campaigns"].get(camps_el) && !camps_el.is_null()) {
    simdjson::dom::object camps;
    if (camps_el.get(camps)) Fail(name, "\"campaigns\" must be an object");
    for (auto [cname, info] : camps) {
      const std::string where = fmt::format("campaign {}", cname);
      simdjson::dom::object o;
      if (info.get(o)) Fail(name, fmt::format("{} must be an object", where));
      CampaignLabel c;
      c.name = std::string(cname);
      c.description = OptionalString(o, "description", "", name, where);
      c.accounts = OptionalStrings(o, "accounts", name, where);
      c.end_users = OptionalStrings(o, "end_users", name, where);
      c.api_keys = OptionalStrings(o, "api_keys", name, where);
      c.host_accounts = OptionalStrings(o, "host_accounts", name, where);
      out.campaigns.push_back(std::move(c));
    }
  }
  return out;
}

Labels LoadLabels(const std::string& path) {
  std::string data, error;
  if (!ReadFile(path, &data, &error)) Fail(path, error);
  return ParseLabels(data, path);
}

}  // namespace dg::eval
