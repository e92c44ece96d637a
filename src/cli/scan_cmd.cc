// `distillguard scan FILE… [--accounts FILE] [--format F] [--report FILE]`: the batch driver.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include "cli/command.h"
#include "cli/progress.h"
#include "common/file_util.h"
#include "common/json_writer.h"
#include "engine/account_registry.h"
#include "engine/activity.h"
#include "engine/scan.h"
#include "ingest/adapter.h"
#include "report/case_file.h"
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
  std::string cases_dir;
  std::string html_path;
  double lateness_s = 300;
  double evict_idle_s = 0;
  std::string evict_dir;
  size_t summary_items = 10;
  bool quiet = false;
  bool memory_stats = false;
};

// "VmRSS: N kB" style fields of /proc/self/status, in KiB (-1 if unavailable).
long ProcStatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0)
      return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  }
  return -1;
}

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
  if (args.evict_idle_s > 0) {
    // Idle accounts go to a scratch SQLite store in --evict-dir while the scan runs; the report
    // is the same as without (every account is restored before it is built).
    if (args.evict_dir.empty()) {
      fmt::print(stderr, "distillguard: --evict-idle needs --evict-dir\n");
      return 2;
    }
    ::mkdir(args.evict_dir.c_str(), 0755);
    engine::EvictOptions ev;
    ev.idle = static_cast<TimeUs>(args.evict_idle_s * kUsPerSec);
    ev.path = args.evict_dir + "/scan-evicted.db";
    ev.durable = false;
    std::string err;
    if (!eng.EnableEviction(ev, &err)) {
      fmt::print(stderr, "distillguard: {}\n", err);
      return 2;
    }
  }
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

  if (args.memory_stats) {
    // The engine's footprint while streaming (bench/evict_memory.sh): before RestoreAll and the
    // report, which hold every account at once.
    const auto es = eng.evict_stats();
    fmt::print(stderr,
               "memory: rss_kb={} peak_rss_kb={} resident_accounts={} evicted_accounts={}\n",
               ProcStatusKb("VmRSS:"), ProcStatusKb("VmHWM:"), es.resident, es.evicted);
  }
  if (eng.evicting()) {
    const auto es = eng.evict_stats();
    if (!args.quiet) {
      fmt::print(stderr,
                 "eviction: {} evictions, {} restores, {} accounts resident of {} at the end\n",
                 es.evictions, es.restores, es.resident, es.resident + es.evicted);
    }
    eng.RestoreAll();
    if (es.errors) fmt::print(stderr, "distillguard: {} eviction store errors\n", es.errors);
  }
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
  if (!args.cases_dir.empty()) {
    // Cases are built from the report contract itself (report/case_file.h), with the exported
    // indicators as links.
    std::vector<report::Case> cases;
    std::string err;
    if (!report::BuildCases(report::ToJson(rep, eng, stats, now),
                            report::ExportIndicators(rep, eng), FormatRfc3339(now), &cases, &err)) {
      fmt::print(stderr, "distillguard: cases: {}\n", err);
      return 2;
    }
    for (auto& c : cases) {
      if (!report::WriteCaseFiles(args.cases_dir, std::move(c), &err)) {
        fmt::print(stderr, "distillguard: cases: {}\n", err);
        return 2;
      }
    }
    if (!args.quiet)
      fmt::print(stderr, "distillguard: {} case file(s) in {}\n", cases.size(), args.cases_dir);
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
  // The report is the same for any thread count, so the default is the machine's cores.
  const int cores = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
  sub.add_option("--threads", args->scan.threads, "Worker threads (default: the machine's cores)")
      ->default_val(cores)
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
  sub.add_option("--evict-idle", args->evict_idle_s,
                 "Move accounts idle this many seconds of event time out of memory (0 = never)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--evict-dir", args->evict_dir, "Directory for the eviction store (SQLite)");
  sub.add_flag("--memory-stats", args->memory_stats,
               "Print the process's memory once the events are processed (before the report)");
  sub.add_option("--cases", args->cases_dir,
                 "Write a case file (CLUSTER.json + CLUSTER.md) per flagged cluster into this "
                 "directory; forensics already attached to a case are kept");
  sub.add_flag("-q,--quiet", args->quiet, "No summary on stdout");
  AddGeoipOption(sub);
  return [args] { return Run(*args); };
}

}  // namespace
DG_REGISTER_COMMAND(scan, "scan", "Scan exchange logs and report suspected distillation", Setup);
}  // namespace dg::cli
