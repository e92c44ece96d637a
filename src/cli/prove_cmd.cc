// `distillguard prove detect|radioactivity`: watermark forensics on token sequences (prove/).
// detect scores each text and the pooled corpus for a provider's watermark; radioactivity scores a
// suspect model's outputs for traces of having trained on watermarked text. Both read
// pre-tokenised JSONL, or texts (JSONL {"id", "text"} or plain lines) tokenised in C++ with
// --tokenizer (tokenize/).
// simulate runs the end-to-end radioactivity study (prove/study.h) on the shared corpora.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "common/json_writer.h"
#include "prove/detect.h"
#include "prove/kgw.h"
#include "prove/study.h"
#include "prove/weighted.h"
#include "sim/corpus.h"
#include "tokenize/text_input.h"
#include "tokenize/tokenizer.h"

namespace dg::cli {
namespace {

struct Args {
  prove::SchemeOptions scheme;
  std::string dedup = "pair";
  std::string tokens, suspect, watermarked;
  std::string tokenizer, texts;  // with --tokenizer, inputs are texts, tokenised here
  bool json = false;
};

void AddSchemeOptions(CLI::App* c, Args* a) {
  c->add_option("--scheme", a->scheme.scheme, "Watermark scheme: vllm-gumbel or hf-kgw")
      ->required()
      ->check(CLI::IsMember({"vllm-gumbel", "hf-kgw"}));
  c->add_option("--key", a->scheme.key,
                "Watermark key (vllm-gumbel: the 64-bit key; hf-kgw: hashing_key, transformers' "
                "default is 15485863)")
      ->required();
  c->add_option("--context-width", a->scheme.context_width,
                "vllm-gumbel: previous output tokens the PRF sees (vLLM default 4). hf-kgw is "
                "lefthash: always 1")
      ->capture_default_str();
  c->add_option("--gamma", a->scheme.gamma, "hf-kgw: green-list fraction (default 0.25)")
      ->capture_default_str();
  c->add_option("--vocab-size", a->scheme.vocab_size,
                "hf-kgw: the model's vocabulary size V (required for hf-kgw)");
  c->add_option("--dedup", a->dedup,
                "Score each repeated (window, token) tuple once (pair, default), each window once "
                "(context: vLLM's own detector), or everything (none: invalid p-values)")
      ->check(CLI::IsMember({"pair", "context", "none"}))
      ->capture_default_str();
  c->add_flag("--json", a->json, "Print JSON instead of a table");
  c->add_option("--tokenizer", a->tokenizer,
                "Tokenise text inputs with this tokenizer.json (byte-level BPE) or tiktoken rank "
                "file (cl100k_base / o200k_base in its name); inputs are then texts: JSONL "
                "{\"id\", \"text\"} or plain text, one per line")
      ->check(CLI::ExistingFile);
}

prove::Dedup ParseDedup(const std::string& s) {
  if (s == "context") return prove::Dedup::kContext;
  if (s == "none") return prove::Dedup::kNone;
  return prove::Dedup::kPair;
}

// Reads a token file, or with a tokenizer a text file tokenised here; bad lines (and texts that
// do not tokenise, or whose ids the scheme rejects) go to stderr. False on a fatal error.
bool Load(const std::string& path, const prove::Scheme& scheme, const tokenize::Tokenizer* tok,
          std::vector<prove::TokenText>* texts, int64_t* bad_lines) {
  std::vector<std::string> errors;
  std::string err;
  bool ok;
  if (tok) {
    std::vector<uint32_t> ids;
    ok = tokenize::ReadTexts(
        path, tokenize::TextFormat::kAuto,
        [&](tokenize::TextRecord&& r) {
          ids.clear();
          std::string why;
          if (!tok->Encode(r.text, &ids, &why)) {
            errors.push_back(fmt::format("{}: line {}: {}", path, r.line, why));
            return;
          }
          prove::TokenText t{std::move(r.id), {ids.begin(), ids.end()}};
          for (int64_t id : t.tokens) {
            if (!scheme.ValidToken(id, &why)) {
              errors.push_back(fmt::format("{}: line {}: token {}: {}", path, r.line, id, why));
              return;
            }
          }
          texts->push_back(std::move(t));
        },
        &errors, &err);
  } else {
    ok = prove::ReadTokenJsonl(path, scheme, texts, &errors, &err);
  }
  if (!ok) {
    fmt::print(stderr, "distillguard prove: {}\n", err);
    return false;
  }
  for (const auto& e : errors) fmt::print(stderr, "distillguard prove: skipped {}\n", e);
  if (!errors.empty()) {
    fmt::print(stderr, "distillguard prove: {} bad line(s) in {} skipped\n", errors.size(), path);
  }
  *bad_lines += static_cast<int64_t>(errors.size());
  return true;
}

// The --tokenizer, if given. False (message printed) if it does not load.
bool LoadTokenizer(const Args& a, std::unique_ptr<tokenize::Tokenizer>* tok) {
  if (a.tokenizer.empty()) return true;
  std::string err;
  *tok = tokenize::Tokenizer::Load(a.tokenizer, &err);
  if (!*tok) fmt::print(stderr, "distillguard prove: {}\n", err);
  return *tok != nullptr;
}

void TallyJson(JsonWriter& w, const prove::Tally& t, double log10_p) {
  w.Field("scored", t.scored);
  w.Key("statistic").Double(t.statistic, 12);
  w.Key("log10_p").Double(log10_p, 10);
}

int RunDetect(const Args& a) {
  std::string err;
  auto scheme = prove::MakeScheme(a.scheme, &err);
  if (!scheme) {
    fmt::print(stderr, "distillguard prove detect: {}\n", err);
    return 2;
  }
  if (a.tokens.empty() == a.texts.empty() || (!a.texts.empty() && a.tokenizer.empty())) {
    fmt::print(stderr,
               "distillguard prove detect: give --tokens FILE, or --tokenizer F --texts FILE\n");
    return 2;
  }
  std::unique_ptr<tokenize::Tokenizer> tok;
  if (!LoadTokenizer(a, &tok)) return 2;
  std::vector<prove::TokenText> texts;
  int64_t bad = 0;
  if (!Load(a.tokens.empty() ? a.texts : a.tokens, *scheme, tok.get(), &texts, &bad)) return 2;
  prove::Accumulator acc(*scheme, ParseDedup(a.dedup));
  std::string out;
  JsonWriter w(out);
  if (a.json)
    w.BeginObject().Key("texts").BeginArray();
  else
    out += fmt::format("{:<24} {:>10} {:>16} {:>14}\n", "id", "scored", "statistic", "log10_p");
  for (const auto& t : texts) {
    prove::Tally tally = acc.AddText(t.tokens);
    double lp = acc.Log10P(tally);
    if (a.json) {
      w.BeginObject().Field("id", t.id);
      TallyJson(w, tally, lp);
      w.EndObject();
    } else {
      out += fmt::format("{:<24} {:>10} {:>16.6f} {:>14.4f}\n", t.id, tally.scored, tally.statistic,
                         lp);
    }
  }
  double plp = acc.Log10P(acc.pooled());
  if (a.json) {
    w.EndArray().Key("pooled").BeginObject();
    TallyJson(w, acc.pooled(), plp);
    w.EndObject().Field("scheme", std::string(scheme->name())).Field("bad_lines", bad);
    w.EndObject();
    out += "\n";
  } else {
    out += fmt::format("{:<24} {:>10} {:>16.6f} {:>14.4f}\n", "pooled", acc.pooled().scored,
                       acc.pooled().statistic, plp);
    if (bad > 0) out += fmt::format("({} bad line(s) skipped)\n", bad);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int RunRadioactivity(const Args& a) {
  std::string err;
  auto scheme = prove::MakeScheme(a.scheme, &err);
  if (!scheme) {
    fmt::print(stderr, "distillguard prove radioactivity: {}\n", err);
    return 2;
  }
  std::unique_ptr<tokenize::Tokenizer> tok;
  if (!LoadTokenizer(a, &tok)) return 2;
  int64_t bad = 0;
  prove::Accumulator acc(*scheme, ParseDedup(a.dedup));
  int64_t windows = -1;
  prove::FingerprintSet allowed_windows;
  if (!a.watermarked.empty()) {
    std::vector<prove::TokenText> wm;
    if (!Load(a.watermarked, *scheme, tok.get(), &wm, &bad)) return 2;
    prove::FingerprintSet allowed;
    for (const auto& t : wm) {
      prove::ForEachTuple(*scheme, t.tokens, [&](std::span<const int64_t> window, int64_t) {
        allowed.insert(prove::WindowPrint(window));
      });
    }
    windows = static_cast<int64_t>(allowed.size());
    acc.RestrictWindows(allowed);
    allowed_windows = std::move(allowed);
  }
  std::vector<prove::TokenText> suspect;
  if (!Load(a.suspect, *scheme, tok.get(), &suspect, &bad)) return 2;
  for (const auto& t : suspect) acc.AddText(t.tokens);
  double plp = acc.Log10P(acc.pooled());
  // KGW with one score per distinct tuple: the green count against its exact law (a sum of one
  // hypergeometric per previous token, prove/weighted.h); the binomial above is conservative.
  std::optional<double> exact;
  auto* kgw = dynamic_cast<prove::KgwScheme*>(scheme.get());
  if (kgw && ParseDedup(a.dedup) == prove::Dedup::kPair) {
    prove::TupleCounter counter(*kgw);
    counter.RestrictWindows(windows >= 0 ? &allowed_windows : nullptr);
    for (const auto& t : suspect) counter.AddText(t.tokens);
    const auto& e = counter.entries();
    prove::HypergeometricSumLaw law(prove::SuccessorsPerWindow(e), kgw->vocab_size(),
                                    kgw->greenlist_size());
    exact =
        law.LogUpperTail(prove::WeightedGreen(*kgw, e, prove::CountWeight::kOne)) / std::log(10.0);
  }
  std::string out;
  if (a.json) {
    JsonWriter w(out);
    w.BeginObject().Field("scheme", std::string(scheme->name()));
    w.Field("suspect_texts", static_cast<int64_t>(suspect.size()));
    if (windows >= 0) w.Field("watermarked_windows", windows);
    w.Key("pooled").BeginObject();
    TallyJson(w, acc.pooled(), plp);
    if (exact) w.Key("exact_log10_p").Double(*exact, 10);
    w.EndObject().Field("bad_lines", bad).EndObject();
    out += "\n";
  } else {
    out += fmt::format("scheme {}: {} suspect text(s)", scheme->name(), suspect.size());
    if (windows >= 0) out += fmt::format(", {} distinct watermarked window(s)", windows);
    out += fmt::format("\nscored tuples {}  statistic {:.6f}  log10_p {:.4f}\n",
                       acc.pooled().scored, acc.pooled().statistic, plp);
    if (exact) out += fmt::format("exact law of the green count: log10_p {:.4f}\n", *exact);
    if (bad > 0) out += fmt::format("({} bad line(s) skipped)\n", bad);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

struct SimulateArgs {
  prove::StudyOptions study;
  std::string corpora, kgw_weight = "one";
  bool json = false, quiet = false;
};

int RunSimulate(SimulateArgs& a) {
  prove::ParseCountWeight(a.kgw_weight, &a.study.kgw_weight);  // checked by CLI11
  const prove::StudyOptions& o = a.study;
  auto progress = [&a](const std::string& line) {
    if (!a.quiet) fmt::print(stderr, "distillguard prove simulate: {}\n", line);
  };
  // Every turn of every corpus file is a human document (sim::Corpora reads them).
  std::vector<std::string> documents;
  try {
    sim::Corpora corpora(a.corpora);
    for (const char* group : {"benchmark", "benign", "distill"}) {
      if (const auto* items = corpora.Get(group)) {
        for (const auto& item : *items)
          documents.insert(documents.end(), item.turns.begin(), item.turns.end());
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "distillguard prove simulate: {}\n", e.what());
    return 2;
  }
  prove::StudyResult r = prove::RunStudy(o, documents, progress);
  if (!r.ok) {
    fmt::print(stderr, "distillguard prove simulate: {}\n", r.error);
    return 2;
  }
  const std::string out = a.json ? prove::StudyJson(o, r) : prove::StudyTable(o, r);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// `prove simulate`: the end-to-end study (teacher, watermarked serving, students, radioactivity,
// calibration) on the shared corpora; see prove/study.h and docs/FORENSICS.md.
CLI::App* AddSimulate(CLI::App& sub, SimulateArgs* a) {
  prove::StudyOptions* o = &a->study;
  CLI::App* c = sub.add_subcommand(
      "simulate",
      "End-to-end study without a GPU: an n-gram teacher serves watermarked text, students train "
      "on 0/1/5% of it, radioactivity and calibration (KS over many keys) are printed");
  c->add_option("--corpora", a->corpora, "Corpus directory (distill/, benign/, benchmark/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->add_option("--max-docs", o->max_docs, "Use at most this many documents (0 = all)")
      ->capture_default_str();
  c->add_option("--vocab-size", o->vocab_size, "Word vocabulary size")->capture_default_str();
  c->add_option("--teacher-order", o->teacher_order, "Teacher n-gram order")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  c->add_option("--student-order", o->student_order, "Student n-gram order")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  c->add_option("--top-k", o->top_k, "Top-k before sampling (0 = whole vocabulary)")
      ->capture_default_str();
  c->add_option("--max-new-tokens", o->max_new_tokens, "Tokens per answer at most")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  c->add_option("--teacher-share", o->teacher_share,
                "Share of a student's training tokens that is teacher output")
      ->capture_default_str();
  c->add_option("--rates", o->rates, "Watermarked shares of the students' training tokens")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--suspect-texts", o->suspect_texts, "Answers collected from each student")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}))
      ->capture_default_str();
  c->add_option("--keys", o->calibration_keys, "Calibration keys per null sample")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  c->add_option("--schemes", o->schemes, "Schemes to run")
      ->delimiter(',')
      ->check(CLI::IsMember({"vllm-gumbel", "hf-kgw"}))
      ->capture_default_str();
  c->add_option("--vllm-key", o->vllm_key, "vLLM Gumbel key")->capture_default_str();
  c->add_option("--context-width", o->context_width, "vLLM context width")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  c->add_option("--kgw-key", o->kgw_key, "KGW hashing key")->capture_default_str();
  c->add_option("--gamma", o->gamma, "KGW green fraction")->capture_default_str();
  c->add_option("--delta", o->delta, "KGW green bias")->capture_default_str();
  c->add_option("--seed", o->seed, "Seed of every random choice")->capture_default_str();
  c->add_option(
       "--kgw-weight", a->kgw_weight,
       "KGW: also test the count-weighted statistic, weighting each distinct tuple by "
       "its count c in the answers: log2 (floor(log2 c) + 1), sqrt (ceil(sqrt c)), cap4 "
       "(min(c, 4)), rare (2 if seen once, else 1), inv3 (max(1, 4 - c)), few4 (1 if c <= 4) "
       "or one (off)")
      ->check(CLI::IsMember({"one", "log2", "sqrt", "cap4", "rare", "inv3", "few4"}))
      ->capture_default_str();
  c->add_option("--reading-mod", o->reading_mod,
                "KGW reading mode: prompt students with served texts cut after their first token "
                "whose id hash is 0 mod this, score only windows there (0 = off)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  c->add_option("--reading-new-tokens", o->reading_new_tokens,
                "KGW reading mode: tokens per answer (0 = --max-new-tokens)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  c->add_option("--query-curve", o->query_curve,
                "Power curve: also test the first N answers of each student, for each N given "
                "(e.g. 500,1000,2000,5000)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  c->add_flag("--json", a->json, "Print JSON instead of tables");
  c->add_flag("--quiet", a->quiet, "No progress lines on stderr");
  return c;
}

RunFn Setup(CLI::App& sub) {
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  sub.footer(
      "Input is pre-tokenised JSONL, one {\"id\": \"...\", \"tokens\": [ids]} per line, or with "
      "--tokenizer F texts (JSONL {\"id\", \"text\"} or plain text, one per line) tokenised "
      "here: detect --texts FILE; radioactivity's --suspect/--watermarked are then text files. "
      "Statistics and their assumptions: docs/PROVE.md.");
  CLI::App* detect = sub.add_subcommand(
      "detect", "Per text and pooled: scored tokens, statistic and exact log10 p-value");
  AddSchemeOptions(detect, a.get());
  auto* tokens_opt =
      detect->add_option("--tokens", a->tokens, "JSONL of {\"id\", \"tokens\": [ids]}")
          ->check(CLI::ExistingFile);
  detect
      ->add_option("--texts", a->texts, "Texts to tokenise with --tokenizer (instead of --tokens)")
      ->check(CLI::ExistingFile)
      ->excludes(tokens_opt);
  CLI::App* radio = sub.add_subcommand(
      "radioactivity",
      "Pooled p-value that a suspect model learned from watermarked text (each (window, token) "
      "tuple scored once across all its outputs)");
  AddSchemeOptions(radio, a.get());
  radio
      ->add_option("--suspect", a->suspect,
                   "The suspect model's outputs, token JSONL (texts with --tokenizer)")
      ->required()
      ->check(CLI::ExistingFile);
  radio
      ->add_option("--watermarked", a->watermarked,
                   "Watermarked outputs it may have trained on: only their windows are scored")
      ->check(CLI::ExistingFile);
  auto study = std::make_shared<SimulateArgs>();
  CLI::App* simulate = AddSimulate(sub, study.get());
  return [a, detect, radio, simulate, study]() -> int {
    if (detect->parsed()) return RunDetect(*a);
    if (radio->parsed()) return RunRadioactivity(*a);
    if (simulate->parsed()) return RunSimulate(*study);
    return 1;
  };
}

}  // namespace
DG_REGISTER_COMMAND(prove, "prove", "Watermark and radioactivity forensics on token sequences",
                    Setup);
}  // namespace dg::cli
