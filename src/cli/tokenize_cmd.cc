// `distillguard tokenize`: texts to token ids with a model's tokenizer (tokenize/), written as the
// token JSONL that `prove` reads ({"id", "tokens": [ids]}), so a corpus is tokenised once and
// scored under many keys. Bad lines are reported with line and reason, counted, and skipped.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "common/json_writer.h"
#include "tokenize/text_input.h"
#include "tokenize/tokenizer.h"

namespace dg::cli {
namespace {

struct Args {
  std::string tokenizer, texts, format = "auto", special = "match";
  bool count = false;
};

int Run(const Args& a) {
  std::string err;
  auto tok = tokenize::Tokenizer::Load(a.tokenizer, &err);
  if (!tok) {
    fmt::print(stderr, "distillguard tokenize: {}\n", err);
    return 2;
  }
  tokenize::EncodeOptions opts;
  opts.match_special = a.special == "match";
  const tokenize::TextFormat format = a.format == "jsonl"   ? tokenize::TextFormat::kJsonl
                                      : a.format == "plain" ? tokenize::TextFormat::kPlain
                                                            : tokenize::TextFormat::kAuto;
  std::vector<std::string> errors;
  std::vector<uint32_t> ids;
  std::string out;
  int64_t texts = 0, tokens = 0, bytes = 0;
  double encode_s = 0;  // time inside Encode only (for --count, the benchmark's figure)
  auto on_text = [&](tokenize::TextRecord&& r) {
    ids.clear();
    std::string why;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = tok->Encode(r.text, &ids, &why, opts);
    encode_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!ok) {
      errors.push_back(fmt::format("{}: line {}: {}", a.texts, r.line, why));
      return;
    }
    ++texts;
    tokens += static_cast<int64_t>(ids.size());
    bytes += static_cast<int64_t>(r.text.size());
    if (a.count) return;
    JsonWriter w(out);
    w.BeginObject().Field("id", r.id).Key("tokens").BeginArray();
    for (uint32_t id : ids) w.Uint(id);
    w.EndArray().EndObject();
    out += '\n';
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  };
  if (!tokenize::ReadTexts(a.texts, format, on_text, &errors, &err)) {
    fmt::print(stderr, "distillguard tokenize: {}\n", err);
    return 2;
  }
  if (a.count) {
    out += fmt::format("{} text(s), {} token(s), {} byte(s); encode {:.3f} s, {:.0f} tokens/s\n",
                       texts, tokens, bytes, encode_s, encode_s > 0 ? tokens / encode_s : 0.0);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  for (const auto& e : errors) fmt::print(stderr, "distillguard tokenize: skipped {}\n", e);
  if (!errors.empty()) {
    fmt::print(stderr, "distillguard tokenize: {} bad line(s) in {} skipped\n", errors.size(),
               a.texts);
  }
  return 0;
}

RunFn Setup(CLI::App& sub) {
  auto a = std::make_shared<Args>();
  sub.add_option("--tokenizer", a->tokenizer,
                 "A Hugging Face tokenizer.json (byte-level BPE) or a tiktoken rank file "
                 "(cl100k_base / o200k_base in its name)")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--texts", a->texts,
                 "JSONL of {\"id\", \"text\"}, or plain text with one text per line")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--format", a->format, "Text file format: auto (by the first line), jsonl, plain")
      ->check(CLI::IsMember({"auto", "jsonl", "plain"}))
      ->capture_default_str();
  sub.add_option("--special-tokens", a->special,
                 "match: special tokens written in the text become their ids (Hugging Face's "
                 "encode, tiktoken's allowed_special=\"all\"); text: they are ordinary text")
      ->check(CLI::IsMember({"match", "text"}))
      ->capture_default_str();
  sub.add_flag("--count", a->count,
               "Print only the numbers of texts, tokens and bytes, and the time spent encoding");
  sub.footer(
      "Output: one {\"id\", \"tokens\": [ids]} per line, the input of `prove --tokens`. "
      "Bad lines go to stderr as FILE: line N: reason and are skipped. See docs/PROVE.md.");
  return [a] { return Run(*a); };
}

}  // namespace
DG_REGISTER_COMMAND(tokenize, "tokenize",
                    "Texts to token ids with a tokenizer.json or tiktoken rank file", Setup);
}  // namespace dg::cli
