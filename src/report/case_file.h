// Case files: one per flagged cluster (JSON for tools, Markdown for people), gathering what an
// analyst or a lawyer needs in one place: the detection evidence, the member accounts and what
// links them, the actions taken (the gateway's decisions), and forensics results (`prove …
// --json` output attached to the case).
//
// Design: a case is built from the report contract (../shared/spec/report.md), not from engine
// internals, so `scan --cases DIR`, `serve`'s GET /v1/case-files/{id} and `distillguard case attach`
// share one code path and a case can be rebuilt from any saved report. Links are the shared
// indicator values of `--export-indicators` (JSONL, one per line, "operator" = cluster id).
// Forensics results are kept verbatim (the exact JSON `prove` printed, so anyone can recompute
// the p-value from its counts) beside a summary (kind, scheme, tuples, log10 p). Parsing never
// throws: bad input gives false and a reason naming the line or field. Regenerating a case
// keeps the forensics already attached to it (MergeForensics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dg::report {

struct CaseEvidence {
  std::string detector, family, detail;
  double weight = 0, strength = 0;
};

struct CaseMember {
  std::string account_id, level, first_flagged_at;  // first_flagged_at empty if never
  double score = 0;
  bool flagged = false;
  int64_t requests = 0, output_tokens = 0;
  std::vector<CaseEvidence> evidence;
};

struct CaseLink {
  std::string type, value;
};

// Decisions taken for one member: how many requests got `action` (`would` differs in shadow
// mode), first and last time (RFC 3339).
struct CaseAction {
  std::string account_id, action, would, first, last;
  int64_t count = 0;
};

struct CaseForensics {
  std::string label, attached_at;
  std::string kind;    // detect, radioactivity, simulate or other
  std::string scheme;  // as printed by prove, if any
  int64_t scored = -1;
  double log10_p = 0;  // pooled (detect, radioactivity) or the smallest (simulate); 0 if none
  bool has_p = false;
  std::string result_json;  // the attached JSON, verbatim (minified)
};

struct Case {
  std::string cluster_id, generated_at, report_generated_at;
  double score = 0;
  std::string level, first_flagged_at;
  bool flagged = false;
  std::vector<CaseEvidence> evidence;
  std::vector<CaseMember> members;
  std::vector<CaseLink> links;
  std::vector<CaseAction> actions;
  std::vector<CaseForensics> forensics;
};

// Cases for every flagged cluster of `report_json`, and for every flagged account whose cluster
// is not flagged (a case of one). `indicators_jsonl` (may be empty) gives the links.
bool BuildCases(std::string_view report_json, std::string_view indicators_jsonl,
                std::string_view generated_at, std::vector<Case>* cases, std::string* err);

std::string CaseToJson(const Case& c);
bool ParseCase(std::string_view json, Case* c, std::string* err);
std::string CaseToMarkdown(const Case& c);

// Parses a `prove … --json` result and appends it to the case.
bool AttachForensics(std::string_view result_json, std::string_view label,
                     std::string_view attached_at, Case* c, std::string* err);
// Keeps the forensics of `previous` (the same case, generated earlier) in `fresh`.
void MergeForensics(const Case& previous, Case* fresh);

// Writes DIR/<stem>.json and DIR/<stem>.md atomically (each survives kill -9 whole or not at
// all), creating DIR. A case file already there keeps its forensics (MergeForensics); one that
// cannot be parsed is an error (never overwritten: it may hold an analyst's attachments).
bool WriteCaseFiles(const std::string& dir, Case c, std::string* err);

// A file name for the case: the cluster id with every byte outside [A-Za-z0-9._-] replaced by
// '_' (and a leading '.' too), so an id can never name a path outside the case directory.
std::string CaseFileStem(std::string_view cluster_id);

}  // namespace dg::report
