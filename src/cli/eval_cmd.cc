// `distillguard eval`: measures a report against labels (see eval/evaluate.h).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "common/file_util.h"
#include "eval/evaluate.h"

namespace dg::cli {
namespace {

struct Args {
  std::string report, labels, out, markdown;
  std::vector<std::string> events;
};

RunFn Setup(CLI::App& sub) {
  auto a = std::make_shared<Args>();
  sub.add_option("--report", a->report, "Report written by scan")->required();
  sub.add_option("--labels", a->labels, "Labels (accounts -> benign|attack, campaigns)")
      ->required();
  sub.add_option("--events", a->events, "The exchange logs the report was made from")->required();
  sub.add_option("--out", a->out, "Write the results as JSON");
  sub.add_option("--markdown", a->markdown, "Write the results as Markdown tables");
  return [a]() -> int {
    eval::EvalResult r;
    try {
      r = eval::Evaluate(a->report, a->labels, a->events);
    } catch (const std::exception& e) {
      fmt::print(stderr, "distillguard eval: {}\n", e.what());
      return 2;
    }
    std::string text = eval::ToText(r);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::string err;
    if (!a->out.empty() && !WriteFileAtomically(a->out, eval::ToJson(r), &err)) {
      fmt::print(stderr, "distillguard eval: {}\n", err);
      return 2;
    }
    if (!a->markdown.empty() && !WriteFileAtomically(a->markdown, eval::ToMarkdown(r), &err)) {
      fmt::print(stderr, "distillguard eval: {}\n", err);
      return 2;
    }
    return 0;
  };
}

}  // namespace
DG_REGISTER_COMMAND(eval, "eval", "Measure a report against labelled traffic", Setup);
}  // namespace dg::cli
