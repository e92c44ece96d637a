// `distillguard scan FILE… [--accounts FILE] [--format F] [--report FILE]`: the batch driver.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/command.h"
#include "cli/progress.h"
#include "common/file_util.h"
#include "common/json_writer.h"
#include "engine/account_registry.h"
#include "engine/activity.h"
#include "engine/scan.h"
#include "ingest/adapter.h"
#include "report/cases.h"
#include "report/html.h"
#include "report/report.h"

namespace dg::cli {
namespace {

struct Args {
  engine::ScanOptions scan;
  std::string accounts;
  std::string report_path;
  std::string model_path;
  std::string generated_at;
  std::string indicators_path;
  std::string export_indicators_path;
  std::string html_path;
  double lateness_s = 300;
  size_t summary_items = 10;
  bool quiet = false;
};

// Feeds the activity series of `scan --html` (the engine's observer; Push order, one thread).
class ActivityObserver final : public engine::EngineObserver {
 public:
  ActivityObserver(engine::Activity& activity, const engine::Engine& engine)
      : activity_(activity), engine_(engine) {}
  void OnAccountFlagged(const state::AccountState&, TimeUs, bool) override {}
  void OnBarrier(TimeUs) override { activity_.OnBarrier(engine_); }
  void OnEvent(const core::EventRecord& r) override { activity_.OnEvent(r); }

 private:
  engine::Activity& activity_;
  const engine::Engine& engine_;
};

// The self-contained case review page: the queue and every case of the scan, embedded.
bool WriteHtml(const std::string& path, const report::Report& rep, const engine::Engine& eng,
               const engine::Activity& activity, const engine::PromptSamples& samples, TimeUs now) {
  report::CaseInputs in;
  in.engine = &eng;
  in.report = &rep;
  in.activity = &activity;
  in.samples = &samples;
  in.live = false;
  in.generated_at = now;
  std::string data;
  JsonWriter w(data);
  w.BeginObject();
  w.Key("queue").Raw(report::QueueJson(in));
  w.Key("cases").BeginObject();
  for (const auto& ref : report::QueueRefs(in)) {
    if (auto c = report::CaseJson(in, ref, {})) {
      w.Key(ref.kind + "|" + ref.scope + "|" + ref.id).Raw(*c);
    }
  }
  w.EndObject();
  w.EndObject();
  std::string err;
  if (!WriteFileAtomically(path, report::StaticReportHtml(data), &err)) {
    fmt::print(stderr, "distillguard: cannot write {}: {}\n", path, err);
    return false;
  }
  return true;
}

int Run(const Args& args) {
  core::NameTable names;
  engine::EngineOptions eo;
  eo.threads = args.scan.threads;
  linking::IndicatorList indicators;
  if (!args.indicators_path.empty()) {
    std::vector<std::string> errors;
    if (!indicators.Load(args.indicators_path, &errors)) {
      fmt::print(stderr, "distillguard: cannot read indicator list {}\n", args.indicators_path);
      return 2;
    }
    for (const auto& e : errors) fmt::print(stderr, "{} (skipped)\n", e);
    eo.indicators = &indicators;
  }
  if (!args.model_path.empty()) eo.model = scoring::ScoringModel::FromFile(args.model_path);
  engine::Engine eng(eo, names);
  if (!args.accounts.empty()) {
    auto reg = engine::LoadAccountRegistry(args.accounts, eng, names);
    if (!reg.error.empty()) {
      fmt::print(stderr, "distillguard: cannot read accounts registry: {}\n", reg.error);
      return 2;
    }
    for (const auto& s : reg.samples) {
      fmt::print(stderr, "{}:{}: rejected ({})\n", s.source, s.line,
                 ingest::RejectReasonName(s.reason));
    }
  }
  engine::ScanOptions so = args.scan;
  so.lateness = static_cast<TimeUs>(args.lateness_s * kUsPerSec);
  // --html: hourly activity and sample prompts are collected during the scan (bounded).
  engine::Activity activity;
  engine::PromptSamples samples;
  ActivityObserver observer(activity, eng);
  if (!args.html_path.empty()) {
    eng.SetObserver(&observer);
    so.samples = &samples;
  }
  ProgressBar bar("scan");
  auto stats = engine::RunScan(so, eng, names, [&](const engine::ScanStats& st, uint64_t total) {
    bar.Update(st.raw_bytes, total, st.events);
  });
  bar.Update(stats.raw_bytes, 0, stats.events, /*final=*/true);
  for (const auto& s : stats.samples) {
    fmt::print(stderr, "{}:{}: rejected ({}){}{}\n", s.source, s.line,
               ingest::RejectReasonName(s.reason), s.detail.empty() ? "" : ": ", s.detail);
  }
  if (stats.rejected.total() > stats.samples.size()) {
    fmt::print(stderr, "... {} rejected lines in all (counted by reason in the report)\n",
               stats.rejected.total());
  }
  for (const auto& u : stats.unreadable) fmt::print(stderr, "distillguard: {}\n", u);

  auto rep = report::Build(eng);
  TimeUs now = SystemClock().Now();
  if (!args.generated_at.empty()) {
    auto t = ParseRfc3339(args.generated_at);
    if (!t) throw std::runtime_error("--generated-at is not an RFC 3339 time");
    now = *t;
  }
  if (!args.report_path.empty()) {
    AtomicFileWriter file(args.report_path);
    const bool ok = report::WriteJson(rep, eng, stats, now,
                                      [&](std::string_view piece) { return file.Append(piece); });
    if (!ok || !file.Commit()) {
      fmt::print(stderr, "distillguard: cannot write report: {}\n", file.error());
      return 2;
    }
  }
  if (!args.html_path.empty() && !WriteHtml(args.html_path, rep, eng, activity, samples, now)) {
    return 2;
  }
  if (!args.export_indicators_path.empty()) {
    std::string err;
    if (!WriteFileAtomically(args.export_indicators_path, report::ExportIndicators(rep, eng),
                             &err)) {
      fmt::print(stderr, "distillguard: cannot write indicators: {}\n", err);
      return 2;
    }
  }
  if (!args.quiet) {
    std::string summary = report::Summary(rep, eng, stats, args.summary_items);
    std::fwrite(summary.data(), 1, summary.size(), stdout);
  }
  return stats.unreadable.empty() ? 0 : 2;
}

RunFn Setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("inputs", args->scan.inputs, "Exchange-log files (JSONL, .gz, .zst); - for stdin")
      ->required();
  sub.add_option("--accounts", args->accounts, "Account registry (accounts.jsonl)");
  std::vector<std::string> formats = ingest::AdapterNames();
  formats.insert(formats.begin(), "auto");
  sub.add_option("--format", args->scan.format, "Input shape")
      ->check(CLI::IsMember(formats))
      ->default_val("auto");
  sub.add_option("--report", args->report_path, "Write the JSON report here");
  sub.add_option("--threads", args->scan.threads, "Worker threads")
      ->default_val(1)
      ->check(CLI::Range(1, 256));
  sub.add_option("--max-line-bytes", args->scan.max_line_bytes, "Reject lines longer than this")
      ->default_val(1 << 20)
      ->check(CLI::Range(size_t{64}, size_t{1} << 30));
  sub.add_option("--lateness", args->lateness_s,
                 "Seconds a record may arrive late and still be reordered")
      ->default_val(300)
      ->check(CLI::Range(0.0, 86400.0));
  sub.add_option("--model", args->model_path, "Scoring model file (TOML); built-in by default");
  sub.add_option("--summary-items", args->summary_items, "Clusters/accounts shown in the summary")
      ->default_val(10);
  sub.add_option("--generated-at", args->generated_at,
                 "Fix the report's generated_at (reproducible reports)");
  sub.add_option("--indicators", args->indicators_path,
                 "Known indicators (JSONL: type, value, operator, source, note) to attribute");
  sub.add_option("--html", args->html_path,
                 "Write a self-contained HTML case review (queue, cases, plots, evidence) here");
  sub.add_option("--export-indicators", args->export_indicators_path,
                 "Write the indicators of flagged clusters here, in the same format");
  sub.add_flag("-q,--quiet", args->quiet, "No summary on stdout");
  AddGeoipOption(sub);
  return [args] { return Run(*args); };
}

}  // namespace
DG_REGISTER_COMMAND(scan, "scan", "Scan exchange logs and report suspected distillation", Setup);
}  // namespace dg::cli
