// Case files; see case_file.h.
#include "report/case_file.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "common/file_util.h"
#include "common/json_writer.h"

namespace dg::report {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string Str(const object& o, const char* key) {
  std::string_view v;
  if (o[key].get_string().get(v)) return {};
  return std::string(v);
}
double Num(const object& o, const char* key) {
  double v = 0;
  if (o[key].get_double().get(v)) {
    int64_t i = 0;
    if (!o[key].get_int64().get(i)) return static_cast<double>(i);
    return 0;
  }
  return v;
}
int64_t Int(const object& o, const char* key, int64_t dflt = 0) {
  int64_t v = 0;
  if (!o[key].get_int64().get(v)) return v;
  double d = 0;
  if (!o[key].get_double().get(d) && std::isfinite(d) && std::fabs(d) < 9e18)
    return static_cast<int64_t>(d);
  return dflt;
}
bool Bool(const object& o, const char* key) {
  bool v = false;
  if (o[key].get_bool().get(v)) return false;
  return v;
}

std::vector<CaseEvidence> Evidence(const object& o) {
  std::vector<CaseEvidence> out;
  simdjson::dom::array arr;
  if (o["evidence"].get_array().get(arr)) return out;
  for (element e : arr) {
    object eo;
    if (e.get_object().get(eo)) continue;
    out.push_back({Str(eo, "detector"), Str(eo, "family"), Str(eo, "detail"), Num(eo, "weight"),
                   Num(eo, "strength")});
  }
  return out;
}

void WriteEvidence(JsonWriter& w, const std::vector<CaseEvidence>& ev) {
  w.Key("evidence").BeginArray();
  for (const auto& e : ev) {
    w.BeginObject().Field("detector", e.detector).Field("family", e.family);
    w.Key("weight").Double(e.weight, 4);
    w.Key("strength").Double(e.strength, 4);
    w.Field("detail", e.detail).EndObject();
  }
  w.EndArray();
}

void OptionalTime(JsonWriter& w, const char* key, const std::string& t) {
  w.Key(key);
  if (t.empty())
    w.Null();
  else
    w.String(t);
}

// Markdown table cells: no pipes or newlines.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string PValue(double log10_p) {
  if (log10_p > -4) return fmt::format("{:.4g}", std::pow(10.0, log10_p));
  return fmt::format("10^{:.2f}", log10_p);
}

}  // namespace

std::string CaseFileStem(std::string_view id) {
  std::string s;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    s += ok ? c : '_';
  }
  if (s.empty()) s = "_";
  if (s[0] == '.') s[0] = '_';
  return s;
}

bool BuildCases(std::string_view report_json, std::string_view indicators_jsonl,
                std::string_view generated_at, std::vector<Case>* cases, std::string* err) {
  simdjson::dom::parser parser;
  element doc;
  if (auto e = parser.parse(report_json.data(), report_json.size()).get(doc); e) {
    *err = fmt::format("report: not JSON ({})", simdjson::error_message(e));
    return false;
  }
  object root;
  simdjson::dom::array accounts, clusters;
  if (doc.get_object().get(root) || root["accounts"].get_array().get(accounts) ||
      root["clusters"].get_array().get(clusters)) {
    *err = "report: not a report (an object with \"accounts\" and \"clusters\" arrays)";
    return false;
  }
  const std::string report_at = Str(root, "generated_at");
  std::map<std::string, CaseMember> members;
  std::map<std::string, std::string> cluster_of;
  size_t index = 0;
  for (element a : accounts) {
    ++index;
    object ao;
    if (a.get_object().get(ao)) {
      *err = fmt::format("report: accounts[{}] is not an object", index - 1);
      return false;
    }
    CaseMember m;
    m.account_id = Str(ao, "account_id");
    if (m.account_id.empty()) continue;
    m.score = Num(ao, "score");
    m.level = Str(ao, "level");
    m.flagged = Bool(ao, "flagged");
    m.first_flagged_at = Str(ao, "first_flagged_at");
    m.evidence = Evidence(ao);
    object st;
    if (!ao["stats"].get_object().get(st)) {
      m.requests = Int(st, "requests");
      m.output_tokens = Int(st, "output_tokens");
    }
    cluster_of[m.account_id] = Str(ao, "cluster_id");
    members.emplace(m.account_id, std::move(m));
  }
  // Links by cluster, from the exported indicators.
  std::map<std::string, std::vector<CaseLink>> links;
  size_t pos = 0;
  while (pos < indicators_jsonl.size()) {
    size_t end = indicators_jsonl.find('\n', pos);
    if (end == std::string_view::npos) end = indicators_jsonl.size();
    std::string_view line = indicators_jsonl.substr(pos, end - pos);
    pos = end + 1;
    element le;
    object lo;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (parser.parse(line.data(), line.size()).get(le) || le.get_object().get(lo)) continue;
    links[Str(lo, "operator")].push_back({Str(lo, "type"), Str(lo, "value")});
  }
  std::set<std::string> covered;
  auto add_case = [&](Case c, const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto it = members.find(id);
      if (it != members.end()) c.members.push_back(it->second);
      covered.insert(id);
    }
    std::sort(c.members.begin(), c.members.end(), [](const CaseMember& x, const CaseMember& y) {
      return x.score != y.score ? x.score > y.score : x.account_id < y.account_id;
    });
    if (auto it = links.find(c.cluster_id); it != links.end()) c.links = it->second;
    c.generated_at = std::string(generated_at);
    c.report_generated_at = report_at;
    cases->push_back(std::move(c));
  };
  for (element ce : clusters) {
    object co;
    if (ce.get_object().get(co) || !Bool(co, "flagged")) continue;
    Case c;
    c.cluster_id = Str(co, "cluster_id");
    if (c.cluster_id.empty()) continue;
    c.score = Num(co, "score");
    c.level = Str(co, "level");
    c.flagged = true;
    c.first_flagged_at = Str(co, "first_flagged_at");
    c.evidence = Evidence(co);
    std::vector<std::string> ids;
    simdjson::dom::array arr;
    if (!co["accounts"].get_array().get(arr)) {
      for (element id : arr) {
        std::string_view s;
        if (!id.get_string().get(s)) ids.emplace_back(s);
      }
    }
    add_case(std::move(c), ids);
  }
  // Flagged accounts outside any flagged cluster: a case of one.
  for (const auto& [id, m] : members) {
    if (!m.flagged || covered.count(id)) continue;
    Case c;
    c.cluster_id = cluster_of[id].empty() ? id : cluster_of[id];
    c.score = m.score;
    c.level = m.level;
    c.flagged = true;
    c.first_flagged_at = m.first_flagged_at;
    c.evidence = m.evidence;
    add_case(std::move(c), {id});
  }
  return true;
}

std::string CaseToJson(const Case& c) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("case_version", int64_t{1});
  w.Field("cluster_id", c.cluster_id).Field("generated_at", c.generated_at);
  w.Field("report_generated_at", c.report_generated_at);
  w.Key("status").BeginObject();
  w.Key("score").Double(c.score, 4);
  w.Field("level", c.level).Field("flagged", c.flagged);
  OptionalTime(w, "first_flagged_at", c.first_flagged_at);
  w.EndObject();
  WriteEvidence(w, c.evidence);
  w.Key("members").BeginArray();
  for (const auto& m : c.members) {
    w.BeginObject().Field("account_id", m.account_id);
    w.Key("score").Double(m.score, 4);
    w.Field("level", m.level).Field("flagged", m.flagged);
    OptionalTime(w, "first_flagged_at", m.first_flagged_at);
    w.Field("requests", m.requests).Field("output_tokens", m.output_tokens);
    WriteEvidence(w, m.evidence);
    w.EndObject();
  }
  w.EndArray();
  w.Key("links").BeginArray();
  for (const auto& l : c.links)
    w.BeginObject().Field("type", l.type).Field("value", l.value).EndObject();
  w.EndArray();
  w.Key("actions").BeginArray();
  for (const auto& a : c.actions) {
    w.BeginObject().Field("account_id", a.account_id).Field("action", a.action);
    w.Field("would", a.would).Field("count", a.count);
    w.Field("first", a.first).Field("last", a.last).EndObject();
  }
  w.EndArray();
  w.Key("forensics").BeginArray();
  for (const auto& f : c.forensics) {
    w.BeginObject().Field("label", f.label).Field("attached_at", f.attached_at);
    w.Field("kind", f.kind).Field("scheme", f.scheme);
    w.Field("scored", f.scored);
    w.Key("log10_p");
    if (f.has_p)
      w.Double(f.log10_p, 10);
    else
      w.Null();
    w.Key("result").Raw(f.result_json.empty() ? std::string_view("null") : f.result_json);
    w.EndObject();
  }
  w.EndArray().EndObject();
  out += "\n";
  return out;
}

bool ParseCase(std::string_view json, Case* c, std::string* err) {
  simdjson::dom::parser parser;
  element doc;
  object o;
  if (auto e = parser.parse(json.data(), json.size()).get(doc); e) {
    *err = fmt::format("case: not JSON ({})", simdjson::error_message(e));
    return false;
  }
  if (doc.get_object().get(o) || Int(o, "case_version", -1) != 1) {
    *err = "case: not a case file (an object with \"case_version\": 1)";
    return false;
  }
  *c = Case{};
  c->cluster_id = Str(o, "cluster_id");
  if (c->cluster_id.empty()) {
    *err = "case: no \"cluster_id\"";
    return false;
  }
  c->generated_at = Str(o, "generated_at");
  c->report_generated_at = Str(o, "report_generated_at");
  object st;
  if (!o["status"].get_object().get(st)) {
    c->score = Num(st, "score");
    c->level = Str(st, "level");
    c->flagged = Bool(st, "flagged");
    c->first_flagged_at = Str(st, "first_flagged_at");
  }
  c->evidence = Evidence(o);
  simdjson::dom::array arr;
  if (!o["members"].get_array().get(arr)) {
    for (element e : arr) {
      object mo;
      if (e.get_object().get(mo)) continue;
      CaseMember m;
      m.account_id = Str(mo, "account_id");
      m.score = Num(mo, "score");
      m.level = Str(mo, "level");
      m.flagged = Bool(mo, "flagged");
      m.first_flagged_at = Str(mo, "first_flagged_at");
      m.requests = Int(mo, "requests");
      m.output_tokens = Int(mo, "output_tokens");
      m.evidence = Evidence(mo);
      c->members.push_back(std::move(m));
    }
  }
  if (!o["links"].get_array().get(arr)) {
    for (element e : arr) {
      object lo;
      if (!e.get_object().get(lo)) c->links.push_back({Str(lo, "type"), Str(lo, "value")});
    }
  }
  if (!o["actions"].get_array().get(arr)) {
    for (element e : arr) {
      object ao;
      if (e.get_object().get(ao)) continue;
      c->actions.push_back({Str(ao, "account_id"), Str(ao, "action"), Str(ao, "would"),
                            Str(ao, "first"), Str(ao, "last"), Int(ao, "count")});
    }
  }
  if (!o["forensics"].get_array().get(arr)) {
    size_t i = 0;
    for (element e : arr) {
      object fo;
      if (e.get_object().get(fo)) {
        *err = fmt::format("case: forensics[{}] is not an object", i);
        return false;
      }
      ++i;
      CaseForensics f;
      f.label = Str(fo, "label");
      f.attached_at = Str(fo, "attached_at");
      f.kind = Str(fo, "kind");
      f.scheme = Str(fo, "scheme");
      f.scored = Int(fo, "scored", -1);
      double lp = 0;
      f.has_p = !fo["log10_p"].get_double().get(lp);
      f.log10_p = lp;
      element r;
      if (!fo["result"].get(r)) f.result_json = simdjson::minify(r);
      c->forensics.push_back(std::move(f));
    }
  }
  return true;
}

bool AttachForensics(std::string_view result_json, std::string_view label,
                     std::string_view attached_at, Case* c, std::string* err) {
  simdjson::dom::parser parser;
  element doc;
  object o;
  if (auto e = parser.parse(result_json.data(), result_json.size()).get(doc); e) {
    *err = fmt::format("forensics: not JSON ({}); attach the output of `prove … --json`",
                       simdjson::error_message(e));
    return false;
  }
  if (doc.get_object().get(o)) {
    *err = "forensics: not a JSON object; attach the output of `prove … --json`";
    return false;
  }
  CaseForensics f;
  f.label = std::string(label);
  f.attached_at = std::string(attached_at);
  f.scheme = Str(o, "scheme");
  f.result_json = simdjson::minify(doc);
  object pooled;
  simdjson::dom::array arr;
  if (!o["radioactivity"].get_array().get(arr)) {
    f.kind = "simulate";
    for (element e : arr) {
      object ro, fo;
      if (e.get_object().get(ro) || ro["filtered"].get_object().get(fo)) continue;
      const double lp = Num(fo, "log10_p");
      if (!f.has_p || lp < f.log10_p) {
        f.log10_p = lp;
        f.scored = Int(fo, "scored", -1);
        f.scheme = Str(ro, "scheme");
        f.has_p = true;
      }
    }
  } else if (!o["pooled"].get_object().get(pooled)) {
    f.kind = o["texts"].error() ? "radioactivity" : "detect";
    f.scored = Int(pooled, "scored", -1);
    double lp = 0;
    if (pooled["log10_p"].get_double().get(lp)) {
      *err = "forensics: \"pooled\" has no numeric \"log10_p\"";
      return false;
    }
    f.log10_p = lp;
    f.has_p = true;
  } else {
    f.kind = "other";
  }
  c->forensics.push_back(std::move(f));
  return true;
}

void MergeForensics(const Case& previous, Case* fresh) {
  std::vector<CaseForensics> merged = previous.forensics;
  for (const auto& f : fresh->forensics) {
    bool dup = false;
    for (const auto& p : previous.forensics)
      dup = dup || (p.attached_at == f.attached_at && p.result_json == f.result_json);
    if (!dup) merged.push_back(f);
  }
  fresh->forensics = std::move(merged);
}

bool WriteCaseFiles(const std::string& dir, Case c, std::string* err) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *err = fmt::format("{}: cannot create directory: {}", dir, ec.message());
    return false;
  }
  const std::string base = (std::filesystem::path(dir) / CaseFileStem(c.cluster_id)).string();
  if (std::filesystem::exists(base + ".json", ec)) {
    std::string old, why;
    Case previous;
    if (!ReadFile(base + ".json", &old, &why) || !ParseCase(old, &previous, &why)) {
      *err = fmt::format("{}.json: {} (left as it is)", base, why);
      return false;
    }
    MergeForensics(previous, &c);
  }
  return WriteFileAtomically(base + ".json", CaseToJson(c), err) &&
         WriteFileAtomically(base + ".md", CaseToMarkdown(c), err);
}

std::string CaseToMarkdown(const Case& c) {
  std::string o;
  o += fmt::format("# Case {}\n\n", c.cluster_id);
  o += fmt::format("- Status: **{}**, level {}, score {:.4f}{}\n", c.flagged ? "flagged" : "open",
                   c.level, c.score,
                   c.first_flagged_at.empty() ? "" : ", first flagged at " + c.first_flagged_at);
  o += fmt::format("- Members: {} account(s)\n", c.members.size());
  o += fmt::format("- Case generated at {} from the report of {}\n\n", c.generated_at,
                   c.report_generated_at.empty() ? "(unknown)" : c.report_generated_at);
  o += "## Detection evidence\n\n";
  if (c.evidence.empty()) o += "(none recorded for the cluster as a whole)\n";
  for (const auto& e : c.evidence) {
    o += fmt::format("- **{}** ({}; weight {:.3f}, strength {:.3f}): {}\n", e.detector, e.family,
                     e.weight, e.strength, e.detail);
  }
  o += "\n## Members\n\n| account | score | level | flagged | first flagged | requests | output "
       "tokens | strongest evidence |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& m : c.members) {
    std::string top;
    for (const auto& e : m.evidence)
      if (e.family != "coordination") {
        top = fmt::format("{}: {}", e.detector, e.detail);
        break;
      }
    o += fmt::format("| {} | {:.4f} | {} | {} | {} | {} | {} | {} |\n", Cell(m.account_id), m.score,
                     m.level, m.flagged ? "yes" : "no",
                     m.first_flagged_at.empty() ? "-" : m.first_flagged_at, m.requests,
                     m.output_tokens, Cell(top));
  }
  o += "\n## Links (shared indicators)\n\n";
  if (c.links.empty()) {
    o += "(none exported; see the cluster's coordination evidence above)\n";
  } else {
    o += "| type | value |\n|---|---|\n";
    for (const auto& l : c.links) o += fmt::format("| {} | {} |\n", Cell(l.type), Cell(l.value));
  }
  o += "\n## Actions taken\n\n";
  if (c.actions.empty()) {
    o += "(no gateway decisions recorded: `scan` takes no action; `serve` records them)\n";
  } else {
    o += "| account | action | would | requests | first | last |\n|---|---|---|---|---|---|\n";
    for (const auto& a : c.actions) {
      o += fmt::format("| {} | {} | {} | {} | {} | {} |\n", Cell(a.account_id), a.action, a.would,
                       a.count, a.first, a.last);
    }
  }
  o += "\n## Forensics\n\n";
  if (c.forensics.empty()) {
    o += "(none attached yet: `distillguard case attach --case FILE --forensics RESULT.json`)\n";
  } else {
    o += "| attached | label | kind | scheme | tuples | p-value |\n|---|---|---|---|---|---|\n";
    for (const auto& f : c.forensics) {
      o += fmt::format("| {} | {} | {} | {} | {} | {} |\n", f.attached_at, Cell(f.label), f.kind,
                       Cell(f.scheme), f.scored >= 0 ? std::to_string(f.scored) : "-",
                       f.has_p ? PValue(f.log10_p) : "-");
    }
    o += "\nEach p-value is the exact probability, under the null hypothesis that the texts were "
         "produced without the watermark key (and, for radioactivity, by a model that never "
         "trained on our watermarked outputs), of a statistic at least as large; the statistics "
         "and their assumptions are in docs/FORENSICS.md. The exact results are in the JSON case "
         "file.\n";
  }
  return o;
}

}  // namespace dg::report
