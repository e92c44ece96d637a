// `distillguard case attach|show`: work on the case files `scan --cases DIR` writes (one per
// flagged cluster, report/case_file.h). attach adds a forensics result (`prove … --json` output)
// to a case and rewrites its JSON and Markdown atomically; show prints the Markdown.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "common/file_util.h"
#include "common/time.h"
#include "report/case_file.h"

namespace dg::cli {
namespace {

struct Args {
  std::string case_path, forensics_path, label, attached_at;
};

bool LoadCase(const std::string& path, report::Case* c) {
  std::string text, err;
  if (!ReadFile(path, &text, &err) || !report::ParseCase(text, c, &err)) {
    fmt::print(stderr, "distillguard case: {}: {}\n", path, err);
    return false;
  }
  return true;
}

int RunAttach(const Args& a) {
  report::Case c;
  if (!LoadCase(a.case_path, &c)) return 2;
  std::string result, err;
  if (!ReadFile(a.forensics_path, &result, &err)) {
    fmt::print(stderr, "distillguard case attach: {}: {}\n", a.forensics_path, err);
    return 2;
  }
  std::string at = a.attached_at;
  if (at.empty()) {
    at = FormatRfc3339(SystemClock().Now());
  } else if (!ParseRfc3339(at)) {
    fmt::print(stderr, "distillguard case attach: --attached-at is not an RFC 3339 time\n");
    return 2;
  }
  const std::string label =
      a.label.empty() ? std::filesystem::path(a.forensics_path).filename().string() : a.label;
  if (!report::AttachForensics(result, label, at, &c, &err)) {
    fmt::print(stderr, "distillguard case attach: {}: {}\n", a.forensics_path, err);
    return 2;
  }
  std::filesystem::path md = a.case_path;
  md.replace_extension(".md");
  if (!WriteFileAtomically(a.case_path, report::CaseToJson(c), &err) ||
      !WriteFileAtomically(md.string(), report::CaseToMarkdown(c), &err)) {
    fmt::print(stderr, "distillguard case attach: {}\n", err);
    return 2;
  }
  const auto& f = c.forensics.back();
  fmt::print("attached {} ({}{}) to case {}: {} forensics result(s)\n", label, f.kind,
             f.has_p ? fmt::format(", log10 p {:.4f}", f.log10_p) : "", c.cluster_id,
             c.forensics.size());
  return 0;
}

int RunShow(const Args& a) {
  report::Case c;
  if (!LoadCase(a.case_path, &c)) return 2;
  const std::string md = report::CaseToMarkdown(c);
  std::fwrite(md.data(), 1, md.size(), stdout);
  return 0;
}

RunFn Setup(CLI::App& sub) {
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  sub.footer(
      "Case files are written by `scan --cases DIR` (and served by `serve` at "
      "GET /v1/case-files/{id}); see docs/FORENSICS.md.");
  CLI::App* attach = sub.add_subcommand(
      "attach", "Attach a forensics result (the output of `prove … --json`) to a case file");
  attach->add_option("--case", a->case_path, "The case's JSON file (DIR/CLUSTER.json)")
      ->required()
      ->check(CLI::ExistingFile);
  attach->add_option("--forensics", a->forensics_path, "The `prove … --json` output")
      ->required()
      ->check(CLI::ExistingFile);
  attach->add_option("--label", a->label, "What this result is (default: the file name)");
  attach->add_option("--attached-at", a->attached_at, "Time of attachment (RFC 3339; default now)");
  CLI::App* show = sub.add_subcommand("show", "Print a case file as Markdown");
  show->add_option("--case", a->case_path, "The case's JSON file")
      ->required()
      ->check(CLI::ExistingFile);
  return [a, attach, show]() -> int {
    if (attach->parsed()) return RunAttach(*a);
    if (show->parsed()) return RunShow(*a);
    return 1;
  };
}

}  // namespace
DG_REGISTER_COMMAND(case_files, "case", "Case files per flagged cluster: attach forensics, show",
                    Setup);
}  // namespace dg::cli
