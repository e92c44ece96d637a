// The end-to-end radioactivity study; see study.h.
#include "prove/study.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <tuple>

#include "common/json_writer.h"
#include "common/rng.h"
#include "prove/detect.h"
#include "prove/generate.h"
#include "prove/kgw.h"
#include "prove/ngram.h"
#include "prove/stats.h"
#include "prove/vllm_gumbel.h"

namespace dg::prove {
namespace {

struct Sample {  // one generated answer: its prompt and the tokens the model produced
  std::vector<int64_t> prompt, output;
};

int64_t Tokens(const std::vector<Sample>& s) {
  int64_t n = 0;
  for (const auto& x : s) n += static_cast<int64_t>(x.output.size());
  return n;
}

std::unique_ptr<Scheme> MakeStudyScheme(const StudyOptions& o, const std::string& name,
                                        uint64_t key, int64_t vocab) {
  SchemeOptions so;
  so.scheme = name;
  so.key = key;
  so.context_width = o.context_width;
  so.gamma = o.gamma;
  so.vocab_size = vocab;
  std::string err;
  return MakeScheme(so, &err);
}

// The windows of the served answers (what `prove radioactivity --watermarked` reads).
FingerprintSet Windows(const Scheme& scheme, const std::vector<Sample>& served) {
  FingerprintSet w;
  for (const auto& s : served)
    ForEachTuple(scheme, s.output,
                 [&](std::span<const int64_t> win, int64_t) { w.insert(WindowPrint(win)); });
  return w;
}

Tally Score(Scheme& scheme, const std::vector<Sample>& texts, const FingerprintSet* allowed,
            Dedup dedup = Dedup::kPair) {
  Accumulator acc(scheme, dedup);
  if (allowed) acc.RestrictWindows(*allowed);
  for (const auto& t : texts) acc.AddText(t.output);
  return acc.pooled();
}

double Log10P(const Scheme& scheme, const Tally& t) { return Log10(scheme.LogP(t)); }

// Reading mode for a one-token window (KGW lefthash). The scored part A of the vocabulary is fixed
// by a hash of the id with a constant salt, so it depends neither on the key nor on the served
// text. A served text (prompt + answer) is cut right after its first token in A, searching from
// the prompt's last token (the first window the watermark used): every token of the cut prompt was
// then chosen with green lists of windows outside A, so the prompt is independent of A's green
// lists, and so is everything an unwatermarked suspect answers to it.
bool InReadingSet(int64_t token, int mod) {
  return XXH3_64bits_withSeed(&token, sizeof token, 0x52454144ULL) % static_cast<uint64_t>(mod) ==
         0;
}

std::vector<int64_t> ReadingPrompt(const Sample& s, int mod) {
  std::vector<int64_t> full = s.prompt;
  full.insert(full.end(), s.output.begin(), s.output.end());
  for (size_t i = s.prompt.empty() ? 0 : s.prompt.size() - 1; i < full.size(); ++i) {
    if (InReadingSet(full[i], mod)) {
      full.resize(i + 1);
      break;
    }
  }
  return full;
}

// What reading mode scores: the answer preceded by the prompt's last token, so that the first
// answer token is scored with the window it was produced after.
Sample WithBoundary(const Sample& s) {
  Sample out{s.prompt, {}};
  if (!s.prompt.empty()) out.output.push_back(s.prompt.back());
  out.output.insert(out.output.end(), s.output.begin(), s.output.end());
  return out;
}

FingerprintSet ReadingWindows(int64_t vocab, int mod) {
  FingerprintSet w;
  for (int64_t t = 0; t < vocab; ++t)
    if (InReadingSet(t, mod)) w.insert(WindowPrint(std::span<const int64_t>(&t, 1)));
  return w;
}

// An innocent suspect that quotes its input: with probability 1/2, if the previous token occurred
// before (prompt or answer), it repeats the token that followed its latest earlier occurrence;
// otherwise it samples from `lm`.
std::vector<int64_t> GenerateCopying(const NgramLm& lm, const std::vector<int64_t>& prompt,
                                     int max_new_tokens, const SamplerOptions& plain, Rng& rng) {
  std::vector<int64_t> history = prompt, out;
  for (int step = 0; step < max_new_tokens; ++step) {
    int64_t token = -1;
    if (history.size() >= 2 && rng.Uniform() < 0.5) {
      for (size_t j = history.size() - 1; j-- > 0;) {
        if (history[j] == history.back()) {
          token = history[j + 1];
          break;
        }
      }
    }
    if (token < 0) {
      auto one = GenerateText(lm, history, 1, plain, nullptr, rng);
      if (one.empty()) break;
      token = one[0];
    }
    out.push_back(token);
    history.push_back(token);
  }
  return out;
}

// The distinct tuples of the texts (optionally only allowed windows) and their counts.
std::vector<TupleCounter::Entry> Counted(const Scheme& scheme, const std::vector<Sample>& texts,
                                         const FingerprintSet* allowed) {
  TupleCounter c(scheme);
  c.RestrictWindows(allowed);
  for (const auto& t : texts) c.AddText(t.output);
  return c.entries();
}

// KGW's green count of distinct tuples against its exact law (prove/weighted.h).
double KgwExactLog10P(KgwScheme& kgw, const std::vector<Sample>& texts,
                      const FingerprintSet* allowed) {
  const auto e = Counted(kgw, texts, allowed);
  HypergeometricSumLaw law(SuccessorsPerWindow(e), kgw.vocab_size(), kgw.greenlist_size());
  return Log10(law.LogUpperTail(WeightedGreen(kgw, e, CountWeight::kOne)));
}

// The count-weighted statistic of counted tuples under `scheme` and its log10 p-value.
std::pair<int64_t, double> WeightedLog10P(Scheme& scheme, const std::vector<TupleCounter::Entry>& e,
                                          CountWeight w, double green_fraction) {
  const int64_t s = WeightedGreen(scheme, e, w);
  WeightedBernoulliLaw law(WeightClasses(e, w), green_fraction);
  return {s, Log10(law.LogUpperTail(s))};
}

}  // namespace

StudyResult RunStudy(const StudyOptions& o, const std::vector<std::string>& documents,
                     const std::function<void(const std::string&)>& progress) {
  StudyResult r;
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  if (o.rates.empty() || o.teacher_share <= 0 || o.teacher_share >= 1 || o.vocab_size < 16 ||
      o.calibration_keys < 1 || o.suspect_texts < 1 || o.max_new_tokens < 1) {
    r.error = "bad study parameters (rates, teacher share in (0,1), vocabulary >= 16, keys, texts)";
    return r;
  }
  for (double rate : o.rates) {
    if (!(rate >= 0 && rate < 1)) {
      r.error = fmt::format("rate {} is not in [0, 1)", rate);
      return r;
    }
  }
  // 1. Documents, ordered and split by a hash of their text.
  std::vector<std::pair<uint64_t, std::vector<std::string>>> docs;
  for (const auto& text : documents) {
    auto words = SplitWords(text);
    if (words.size() < static_cast<size_t>(o.prompt_words) + 2) continue;
    docs.emplace_back(XXH3_64bits_withSeed(text.data(), text.size(), o.seed), std::move(words));
  }
  if (docs.empty()) {
    r.error = "no documents (each needs more words than the prompt)";
    return r;
  }
  std::sort(docs.begin(), docs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  docs.erase(std::unique(docs.begin(), docs.end(),
                         [](const auto& a, const auto& b) { return a.second == b.second; }),
             docs.end());
  if (o.max_docs > 0 && static_cast<int64_t>(docs.size()) > o.max_docs)
    docs.resize(static_cast<size_t>(o.max_docs));
  std::vector<std::vector<std::string>> all_words;
  for (const auto& d : docs) {
    all_words.push_back(d.second);
    r.words += static_cast<int64_t>(d.second.size());
  }
  r.documents = static_cast<int64_t>(docs.size());
  const WordVocab vocab = WordVocab::Build(all_words, o.vocab_size);
  r.vocab = vocab.size();
  std::vector<std::vector<int64_t>> teacher_docs, human_docs, heldout_docs;
  for (const auto& d : docs) {
    const uint64_t bucket = (d.first >> 32) % 10;
    auto ids = vocab.Encode(d.second);
    if (bucket < 5)
      teacher_docs.push_back(std::move(ids));
    else if (bucket < 9)
      human_docs.push_back(std::move(ids));
    else
      heldout_docs.push_back(std::move(ids));
  }
  auto count = [](const std::vector<std::vector<int64_t>>& v) {
    int64_t n = 0;
    for (const auto& d : v) n += static_cast<int64_t>(d.size());
    return n;
  };
  r.teacher_tokens = count(teacher_docs);
  r.human_tokens = count(human_docs);
  r.heldout_tokens = count(heldout_docs);
  if (teacher_docs.empty() || human_docs.empty() || heldout_docs.empty()) {
    r.error = "too few documents to split into teacher, student and held-out text";
    return r;
  }
  say(fmt::format(
      "{} documents, {} words, vocabulary {}; teacher {} / human {} / held-out {} "
      "tokens",
      r.documents, r.words, r.vocab, r.teacher_tokens, r.human_tokens, r.heldout_tokens));

  // 2. The teacher, and the attacker's prompts (first words of its human documents).
  NgramLm teacher(o.teacher_order, r.vocab);
  teacher.Train(teacher_docs);
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& d : human_docs) prompts.emplace_back(d.begin(), d.begin() + o.prompt_words);
  Rng rng(o.seed);
  SamplerOptions plain;
  plain.top_k = o.top_k;
  // Plain teacher answers: prompts taken from the end of the list, watermarked ones from the
  // start, so the two rarely share a prompt.
  const int64_t teacher_part = static_cast<int64_t>(
      std::llround(o.teacher_share / (1 - o.teacher_share) * static_cast<double>(r.human_tokens)));
  std::vector<Sample> plain_pool;
  {
    Rng g = rng.Fork(1);
    int64_t tokens = 0;
    for (size_t i = 0; tokens < teacher_part; ++i) {
      const auto& pr = prompts[prompts.size() - 1 - i % prompts.size()];
      Sample s{pr, GenerateText(teacher, pr, o.max_new_tokens, plain, nullptr, g)};
      tokens += static_cast<int64_t>(s.output.size());
      plain_pool.push_back(std::move(s));
    }
    r.plain_teacher_tokens = tokens;
  }
  say(fmt::format("teacher: order {}, {} plain answers ({} tokens)", o.teacher_order,
                  plain_pool.size(), r.plain_teacher_tokens));
  const double max_rate = *std::max_element(o.rates.begin(), o.rates.end());
  const int64_t student_total = r.human_tokens + teacher_part;

  for (const std::string& name : o.schemes) {
    const uint64_t true_key = name == "hf-kgw" ? o.kgw_key : o.vllm_key;
    auto scheme = MakeStudyScheme(o, name, true_key, r.vocab);
    if (!scheme) {
      r.error = fmt::format("cannot build scheme '{}'", name);
      return r;
    }
    SamplerOptions wm = plain;
    wm.kind = name == "hf-kgw" ? SamplerKind::kHfKgw : SamplerKind::kVllmGumbel;
    wm.key = true_key;
    wm.context_width = o.context_width;
    wm.delta = o.delta;
    KgwScheme* kgw = name == "hf-kgw" ? static_cast<KgwScheme*>(scheme.get()) : nullptr;
    // 3. The watermarked pool, large enough for the largest rate (at least one answer).
    std::vector<Sample> pool;
    {
      Rng g = rng.Fork(2 + XXH3_64bits(name.data(), name.size()) % 1000);
      const int64_t need = std::max<int64_t>(
          1, static_cast<int64_t>(std::ceil(max_rate * static_cast<double>(student_total))));
      int64_t tokens = 0;
      for (size_t i = 0; tokens < need; ++i) {
        const auto& pr = prompts[i % prompts.size()];
        Sample s{pr, GenerateText(teacher, pr, o.max_new_tokens, wm, kgw, g)};
        tokens += static_cast<int64_t>(s.output.size());
        pool.push_back(std::move(s));
      }
    }
    say(fmt::format("{}: {} watermarked answers ({} tokens)", name, pool.size(), Tokens(pool)));
    std::vector<Sample> zero_answers, top_answers, zero_reading;
    const FingerprintSet reading_windows =
        kgw && o.reading_mod > 0 ? ReadingWindows(r.vocab, o.reading_mod) : FingerprintSet{};
    FingerprintSet pool_windows = Windows(*scheme, pool);
    for (double rate : o.rates) {
      // 4. The student's data: human text, the first watermarked answers up to the rate, plain
      // teacher answers for the rest of the teacher part.
      const int64_t wm_target =
          static_cast<int64_t>(std::llround(rate * static_cast<double>(student_total)));
      std::vector<Sample> served;
      int64_t wm_tokens = 0;
      for (size_t i = 0; i < pool.size() && wm_tokens < wm_target; ++i) {
        served.push_back(pool[i]);
        wm_tokens += static_cast<int64_t>(pool[i].output.size());
      }
      std::vector<std::vector<int64_t>> data = human_docs;
      auto add = [&](const Sample& s) {
        std::vector<int64_t> d = s.prompt;
        d.insert(d.end(), s.output.begin(), s.output.end());
        data.push_back(std::move(d));
      };
      for (const auto& s : served) add(s);
      int64_t plain_tokens = 0;
      for (size_t i = 0; i < plain_pool.size() && wm_tokens + plain_tokens < teacher_part; ++i) {
        add(plain_pool[i]);
        plain_tokens += static_cast<int64_t>(plain_pool[i].output.size());
      }
      NgramLm student(o.student_order, r.vocab);
      student.Train(data);
      // 5. Query the suspect with the prompts of the answers served (for the 0% student: the
      // whole pool's), and test its answers.
      const std::vector<Sample>& queried = served.empty() ? pool : served;
      int64_t n_answers = o.suspect_texts;
      for (int64_t n : o.query_curve) n_answers = std::max(n_answers, n);
      std::vector<Sample> generated;
      Rng g = rng.Fork(1000 + static_cast<uint64_t>(rate * 1e6));
      for (int64_t i = 0; i < n_answers; ++i) {
        const auto& pr = queried[static_cast<size_t>(i) % queried.size()].prompt;
        generated.push_back({pr, GenerateText(student, pr, o.max_new_tokens, plain, nullptr, g)});
      }
      std::vector<Sample> answers(generated.begin(), generated.begin() + o.suspect_texts);
      FingerprintSet windows = Windows(*scheme, queried);
      StudyRow row;
      row.scheme = name;
      row.rate = rate;
      row.watermarked_tokens = wm_tokens;
      row.student_tokens = student.trained_tokens();
      row.suspect_tokens = Tokens(answers);
      row.windows = static_cast<int64_t>(windows.size());
      row.all = Score(*scheme, answers, nullptr);
      row.filtered = Score(*scheme, answers, &windows);
      row.log10_p_all = Log10P(*scheme, row.all);
      row.log10_p_filtered = Log10P(*scheme, row.filtered);
      if (kgw) {
        row.has_exact = true;
        row.log10_px_all = KgwExactLog10P(*kgw, answers, nullptr);
        row.log10_px_filtered = KgwExactLog10P(*kgw, answers, &windows);
      }
      if (kgw && o.kgw_weight != CountWeight::kOne) {
        row.has_weighted = true;
        const double gf = kgw->green_fraction();
        std::tie(row.weighted_all, row.log10_pw_all) =
            WeightedLog10P(*scheme, Counted(*scheme, answers, nullptr), o.kgw_weight, gf);
        std::tie(row.weighted_filtered, row.log10_pw_filtered) =
            WeightedLog10P(*scheme, Counted(*scheme, answers, &windows), o.kgw_weight, gf);
      }
      for (int64_t n : o.query_curve) {
        CurveRow c;
        c.scheme = name;
        c.rate = rate;
        c.answers = n;
        std::vector<Sample> first(generated.begin(), generated.begin() + n);
        c.tokens = Tokens(first);
        const Tally all = Score(*scheme, first, nullptr), fil = Score(*scheme, first, &windows);
        c.tuples_all = all.scored;
        c.tuples_filtered = fil.scored;
        c.log10_p_all = Log10P(*scheme, all);
        c.log10_p_filtered = Log10P(*scheme, fil);
        if (kgw) {
          c.has_exact = true;
          c.log10_px_all = KgwExactLog10P(*kgw, first, nullptr);
          c.log10_px_filtered = KgwExactLog10P(*kgw, first, &windows);
        }
        if (kgw && o.kgw_weight != CountWeight::kOne) {
          c.has_weighted = true;
          c.log10_pw_filtered = WeightedLog10P(*scheme, Counted(*scheme, first, &windows),
                                               o.kgw_weight, kgw->green_fraction())
                                    .second;
        }
        say(fmt::format(
            "{} rate {:.2f}% curve: {} answers, {} tuples*, log10 p* {:.2f} (weighted "
            "{:.2f})",
            name, rate * 100, n, c.tuples_filtered, c.log10_p_filtered, c.log10_pw_filtered));
        r.curve.push_back(c);
      }
      // 5b. Reading mode (KGW): the same number of queries, prompted with the served answers cut
      // before the scored part of the vocabulary; RNG streams of their own, so the rows above do
      // not change with it.
      std::vector<Sample> read_scored;
      if (kgw && o.reading_mod > 0) {
        std::vector<std::vector<int64_t>> read_prompts;
        for (const auto& q : queried) read_prompts.push_back(ReadingPrompt(q, o.reading_mod));
        Rng gr = Rng(o.seed ^ 0x7265616479ULL).Fork(static_cast<uint64_t>(rate * 1e6));
        const int reading_len = o.reading_new_tokens > 0 ? o.reading_new_tokens : o.max_new_tokens;
        for (int64_t i = 0; i < n_answers; ++i) {
          const auto& pr = read_prompts[static_cast<size_t>(i) % read_prompts.size()];
          read_scored.push_back(
              WithBoundary({pr, GenerateText(student, pr, reading_len, plain, nullptr, gr)}));
        }
        row.has_reading = true;
        row.reading_prompts = static_cast<int64_t>(read_prompts.size());
        std::vector<Sample> first(read_scored.begin(), read_scored.begin() + o.suspect_texts);
        row.reading_tokens = Tokens(first) - static_cast<int64_t>(first.size());
        row.reading = Score(*scheme, first, &reading_windows);
        row.log10_p_reading = Log10P(*scheme, row.reading);
        say(fmt::format("{} rate {:.2f}%: reading mode, {} prompts, {} tuples, log10 p {:.2f}",
                        name, rate * 100, row.reading_prompts, row.reading.scored,
                        row.log10_p_reading));
        for (auto& c : r.curve) {
          if (c.scheme != name || c.rate != rate) continue;
          std::vector<Sample> firstn(read_scored.begin(), read_scored.begin() + c.answers);
          const Tally t = Score(*scheme, firstn, &reading_windows);
          c.has_reading = true;
          c.tuples_reading = t.scored;
          c.log10_p_reading = Log10P(*scheme, t);
        }
        if (rate == 0.0) {
          // The copier check (study.h, ReadingCheck): valid design vs. every window of answers to
          // uncut served texts (the prompt plus the first half of the answer).
          ReadingCheck rc;
          rc.scheme = name;
          Rng gc = Rng(o.seed ^ 0x636f7079ULL);
          std::vector<Sample> valid, naive;
          for (int64_t i = 0; i < o.suspect_texts; ++i) {
            const Sample& q = queried[static_cast<size_t>(i) % queried.size()];
            const auto& pr = read_prompts[static_cast<size_t>(i) % read_prompts.size()];
            valid.push_back(
                WithBoundary({pr, GenerateCopying(student, pr, reading_len, plain, gc)}));
            std::vector<int64_t> half = q.prompt;
            half.insert(half.end(), q.output.begin(), q.output.begin() + q.output.size() / 2);
            naive.push_back(
                WithBoundary({half, GenerateCopying(student, half, reading_len, plain, gc)}));
          }
          rc.valid = Score(*scheme, valid, &reading_windows);
          rc.naive = Score(*scheme, naive, nullptr);
          rc.log10_p_valid = Log10P(*scheme, rc.valid);
          rc.log10_p_naive = Log10P(*scheme, rc.naive);
          say(fmt::format("{}: innocent copier, reading mode log10 p {:.2f}, naive {:.2f}", name,
                          rc.log10_p_valid, rc.log10_p_naive));
          r.reading_checks.push_back(rc);
        }
      }
      say(fmt::format(
          "{} rate {:.2f}%: student {} tokens ({} watermarked), log10 p {:.2f} "
          "(filtered {:.2f})",
          name, rate * 100, row.student_tokens, wm_tokens, row.log10_p_all, row.log10_p_filtered));
      r.rows.push_back(row);
      if (rate == 0.0) zero_answers = answers;
      if (rate == 0.0 && !read_scored.empty())
        zero_reading.assign(read_scored.begin(), read_scored.begin() + o.suspect_texts);
      if (rate == max_rate) top_answers = std::move(answers);
    }

    // 6. Calibration: keys the texts never saw. p-values must be uniform.
    struct Null {
      Null(std::string s, const std::vector<Sample>* t, const FingerprintSet* a,
           Dedup d = Dedup::kPair)
          : sample(std::move(s)), texts(t), allowed(a), dedup(d) {}
      std::string sample;
      const std::vector<Sample>* texts;
      const FingerprintSet* allowed;
      Dedup dedup = Dedup::kPair;
      std::vector<double> log10_p;
      // The count-weighted statistic: the tuples' counts and weights do not depend on the key, so
      // its null law is computed once per sample.
      std::shared_ptr<const WeightedBernoulliLaw> law;
      std::shared_ptr<const HypergeometricSumLaw> hlaw;  // KGW's exact law instead
      std::vector<TupleCounter::Entry> counted;
      Rng* u = nullptr;  // randomisation stream; null = the shared one
    };
    std::vector<Sample> heldout;
    for (const auto& d : heldout_docs) heldout.push_back({{}, d});
    std::vector<Null> nulls;
    if (!zero_answers.empty()) {
      nulls.push_back({"student 0%, all windows", &zero_answers, nullptr});
      nulls.push_back({"student 0%, served windows", &zero_answers, &pool_windows});
    }
    if (max_rate > 0 && !top_answers.empty())
      nulls.push_back(
          {fmt::format("student {:g}%, other keys", max_rate * 100), &top_answers, nullptr});
    nulls.push_back({"held-out human text", &heldout, nullptr});
    // The same without deduplication: repeated (window, token) tuples counted again. Invalid by
    // design; shown so the KS test is seen to reject what it should.
    nulls.push_back({"human text, no dedup (invalid)", &heldout, nullptr, Dedup::kNone});
    Rng ur(o.seed ^ 0x72616e64ULL), rr(o.seed ^ 0x72656164ULL);
    if (!zero_reading.empty()) {
      nulls.push_back({"student 0%, reading mode", &zero_reading, &reading_windows});
      nulls.back().u = &rr;  // its own stream: the rows above stay as without reading mode
    }
    const size_t unweighted_nulls = nulls.size();
    if (kgw) {
      for (size_t i = 0; i < unweighted_nulls; ++i) {
        if (nulls[i].dedup == Dedup::kNone) continue;
        Null x = nulls[i];
        x.sample += ", exact";
        x.counted = Counted(*scheme, *x.texts, x.allowed);
        x.hlaw = std::make_shared<HypergeometricSumLaw>(SuccessorsPerWindow(x.counted),
                                                        kgw->vocab_size(), kgw->greenlist_size());
        nulls.push_back(std::move(x));
      }
    }
    if (kgw && o.kgw_weight != CountWeight::kOne) {
      const double gf = kgw->green_fraction();
      for (size_t i = 0; i < unweighted_nulls; ++i) {
        if (nulls[i].dedup == Dedup::kNone) continue;
        Null w = nulls[i];
        w.sample = fmt::format("{}, weighted ({})", w.sample, CountWeightName(o.kgw_weight));
        w.counted = Counted(*scheme, *w.texts, w.allowed);
        w.law = std::make_shared<WeightedBernoulliLaw>(WeightClasses(w.counted, o.kgw_weight), gf);
        nulls.push_back(std::move(w));
      }
    }
    Rng kr(o.seed ^ 0x6b657973ULL), wr(o.seed ^ 0x77656967ULL), xr(o.seed ^ 0x65786163ULL);
    const bool discrete = name == "hf-kgw";
    for (int k = 0; k < o.calibration_keys; ++k) {
      uint64_t key = kr.Next();
      if (key == true_key) key = kr.Next();
      auto s = MakeStudyScheme(o, name, key, r.vocab);
      for (auto& n : nulls) {
        if (n.hlaw) {
          const int64_t sx = WeightedGreen(*s, n.counted, CountWeight::kOne);
          const double ge = std::exp(n.hlaw->LogUpperTail(sx));
          const double gt = std::exp(n.hlaw->LogUpperTail(sx + 1));
          const double pr = gt + xr.Uniform() * (ge - gt);
          n.log10_p.push_back(pr > 0 ? std::log10(pr) : -400.0);
          continue;
        }
        if (n.law) {
          // Randomised as below: P[S > s] + U P[S = s] is exactly uniform under the null.
          const int64_t sw = WeightedGreen(*s, n.counted, o.kgw_weight);
          const double ge = std::exp(n.law->LogUpperTail(sw));
          const double gt = std::exp(n.law->LogUpperTail(sw + 1));
          const double pr = gt + wr.Uniform() * (ge - gt);
          n.log10_p.push_back(pr > 0 ? std::log10(pr) : -400.0);
          continue;
        }
        // Windows of the served answers do not depend on the key (only the tuples' scores do).
        Tally t = Score(*s, *n.texts, n.allowed, n.dedup);
        if (!discrete) {
          n.log10_p.push_back(Log10P(*s, t));
          continue;
        }
        // The binomial tail P[X >= k] is discrete, hence conservative (too few small values)
        // and not uniform; its randomised version P[X > k] + U P[X = k] is exactly uniform
        // under the null, which is what a KS test of calibration needs.
        const double g = static_cast<KgwScheme*>(s.get())->green_fraction();
        const int64_t k_obs = static_cast<int64_t>(std::llround(t.statistic));
        const double ge = std::exp(LogBinomialUpperTail(t.scored, k_obs, g));
        const double gt = std::exp(LogBinomialUpperTail(t.scored, k_obs + 1, g));
        const double pr = gt + (n.u ? *n.u : ur).Uniform() * (ge - gt);
        n.log10_p.push_back(pr > 0 ? std::log10(pr) : -400.0);
      }
    }
    for (auto& n : nulls) {
      CalibrationRow c;
      c.scheme = name;
      c.sample = n.sample;
      c.filtered = n.allowed != nullptr;
      c.deduplicated = n.dedup != Dedup::kNone;
      c.weighted = n.law != nullptr;
      c.exact = n.hlaw != nullptr;
      c.keys = static_cast<int64_t>(n.log10_p.size());
      std::vector<double> ps;
      c.min_log10_p = 0;
      for (double lp : n.log10_p) {
        ps.push_back(std::pow(10.0, lp));
        c.min_log10_p = std::min(c.min_log10_p, lp);
        c.below_01 += lp < -2;
      }
      KsResult ks = KsTestUniform(ps);
      c.ks_d = ks.d;
      c.ks_p = ks.p_value;
      say(fmt::format("{} calibration, {}: KS D {:.4f}, p {:.3f}", name, c.sample, c.ks_d, c.ks_p));
      r.calibration.push_back(c);
    }
  }
  r.ok = true;
  return r;
}

std::string StudyTable(const StudyOptions& o, const StudyResult& r) {
  std::string out;
  if (!r.ok) return fmt::format("study failed: {}\n", r.error);
  out += fmt::format(
      "corpus: {} documents, {} words; vocabulary {} words; teacher order {} on {} tokens; "
      "students order {} on {} human + {} teacher tokens\n\n",
      r.documents, r.words, r.vocab, o.teacher_order, r.teacher_tokens, o.student_order,
      r.human_tokens, r.plain_teacher_tokens);
  out += "Radioactivity (true key; tuples deduplicated across all answers)\n";
  out +=
      fmt::format("{:<12} {:>6} {:>10} {:>10} {:>10} {:>9} {:>11} {:>9} {:>11}\n", "scheme", "rate",
                  "wm_tokens", "trained", "answers", "tuples", "log10_p", "tuples*", "log10_p*");
  for (const auto& row : r.rows) {
    out += fmt::format("{:<12} {:>5.1f}% {:>10} {:>10} {:>10} {:>9} {:>11.2f} {:>9} {:>11.2f}\n",
                       row.scheme, row.rate * 100, row.watermarked_tokens, row.student_tokens,
                       row.suspect_tokens, row.all.scored, row.log10_p_all, row.filtered.scored,
                       row.log10_p_filtered);
  }
  out += "(* only windows of the served watermarked answers)\n";
  for (const auto& row : r.rows) {
    if (!row.has_exact) continue;
    out += fmt::format("{:<12} {:>5.1f}% exact law: log10_p {:.2f}, log10_p* {:.2f}\n", row.scheme,
                       row.rate * 100, row.log10_px_all, row.log10_px_filtered);
  }
  bool any_weighted = false;
  for (const auto& row : r.rows) {
    if (!row.has_weighted) continue;
    if (!any_weighted)
      out += fmt::format(
          "Count-weighted ({}: weight of a distinct tuple by its count in the answers)\n",
          CountWeightName(o.kgw_weight));
    any_weighted = true;
    out += fmt::format("{:<12} {:>5.1f}% {:>10} {:>10} {:>10} {:>9} {:>11.2f} {:>9} {:>11.2f}\n",
                       row.scheme, row.rate * 100, "", "", "", row.weighted_all, row.log10_pw_all,
                       row.weighted_filtered, row.log10_pw_filtered);
  }
  if (any_weighted) out += "(columns: weighted green count, log10 p; all windows, then served)\n";
  out += "\n";
  bool any_reading = false;
  for (const auto& row : r.rows) {
    if (!row.has_reading) continue;
    if (!any_reading) {
      out += fmt::format(
          "Reading mode (prompts: served texts cut after their first token with hash = 0 mod {}; "
          "only windows in that part scored)\n",
          o.reading_mod);
      out += fmt::format("{:<12} {:>6} {:>8} {:>10} {:>9} {:>11}\n", "scheme", "rate", "prompts",
                         "answers", "tuples", "log10_p");
    }
    any_reading = true;
    out += fmt::format("{:<12} {:>5.1f}% {:>8} {:>10} {:>9} {:>11.2f}\n", row.scheme,
                       row.rate * 100, row.reading_prompts, row.reading_tokens, row.reading.scored,
                       row.log10_p_reading);
  }
  for (const auto& c : r.reading_checks) {
    out += fmt::format(
        "{} innocent copier (0% student quoting its prompt, true key): reading mode {} tuples, "
        "log10 p {:.2f}; every window of uncut prompts (invalid) {} tuples, log10 p {:.2f}\n",
        c.scheme, c.valid.scored, c.log10_p_valid, c.naive.scored, c.log10_p_naive);
  }
  if (any_reading) out += "\n";
  if (!r.curve.empty()) {
    out += "Power curve (the same test on the first N answers of each student)\n";
    out += fmt::format("{:<12} {:>6} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9}\n",
                       "scheme", "rate", "answers", "tokens", "tuples", "log10_p", "tuples*",
                       "log10_p*", "weighted*", "tuples_r", "log10_p_r");
    for (const auto& c : r.curve) {
      out += fmt::format(
          "{:<12} {:>5.1f}% {:>8} {:>10} {:>9} {:>9.2f} {:>9} {:>9.2f} {:>10} {:>9} {:>9}\n",
          c.scheme, c.rate * 100, c.answers, c.tokens, c.tuples_all, c.log10_p_all,
          c.tuples_filtered, c.log10_p_filtered,
          c.has_weighted ? fmt::format("{:.2f}", c.log10_pw_filtered) : "-",
          c.has_reading ? fmt::format("{}", c.tuples_reading) : "-",
          c.has_reading ? fmt::format("{:.2f}", c.log10_p_reading) : "-");
      if (c.has_exact)
        out += fmt::format("{:<12} {:>5.1f}% {:>8} exact law: log10_p {:.2f}, log10_p* {:.2f}\n",
                           c.scheme, c.rate * 100, c.answers, c.log10_px_all, c.log10_px_filtered);
    }
    out += "(_r: reading mode, the same number of queries)\n";
    out += "\n";
  }
  out += fmt::format(
      "Calibration ({} keys the texts never saw; exact one-sample KS against "
      "uniform)\n",
      o.calibration_keys);
  out += fmt::format("{:<12} {:<30} {:>6} {:>8} {:>8} {:>8} {:>11}\n", "scheme", "null sample",
                     "keys", "KS D", "KS p", "p<0.01", "min log10p");
  for (const auto& c : r.calibration) {
    out += fmt::format("{:<12} {:<30} {:>6} {:>8.4f} {:>8.3f} {:>8} {:>11.2f}\n", c.scheme,
                       c.sample, c.keys, c.ks_d, c.ks_p, c.below_01, c.min_log10_p);
  }
  out +=
      "(hf-kgw: randomised binomial p-values P[X > k] + U P[X = k], exactly uniform under the "
      "null; the reported evidence uses the conservative P[X >= k])\n";
  return out;
}

std::string StudyJson(const StudyOptions& o, const StudyResult& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("ok", r.ok);
  if (!r.ok) w.Field("error", r.error);
  w.Key("corpus").BeginObject();
  w.Field("documents", r.documents).Field("words", r.words).Field("vocabulary", r.vocab);
  w.Field("teacher_tokens", r.teacher_tokens).Field("human_tokens", r.human_tokens);
  w.Field("heldout_tokens", r.heldout_tokens).Field("plain_teacher_tokens", r.plain_teacher_tokens);
  w.EndObject();
  w.Key("options").BeginObject();
  w.Field("teacher_order", static_cast<int64_t>(o.teacher_order));
  w.Field("student_order", static_cast<int64_t>(o.student_order));
  w.Field("top_k", static_cast<int64_t>(o.top_k));
  w.Field("max_new_tokens", static_cast<int64_t>(o.max_new_tokens));
  w.Field("context_width", static_cast<int64_t>(o.context_width));
  w.Field("gamma", o.gamma).Field("delta", o.delta);
  w.Field("suspect_texts", o.suspect_texts);
  w.Field("calibration_keys", static_cast<int64_t>(o.calibration_keys));
  w.Field("seed", o.seed);
  w.Field("reading_mod", static_cast<int64_t>(o.reading_mod));
  w.Field("reading_new_tokens", static_cast<int64_t>(o.reading_new_tokens));
  w.Field("kgw_weight", std::string(CountWeightName(o.kgw_weight)));
  w.EndObject();
  w.Key("radioactivity").BeginArray();
  for (const auto& row : r.rows) {
    w.BeginObject().Field("scheme", row.scheme).Field("rate", row.rate);
    w.Field("watermarked_tokens", row.watermarked_tokens);
    w.Field("student_tokens", row.student_tokens).Field("suspect_tokens", row.suspect_tokens);
    w.Field("served_windows", row.windows);
    w.Key("all").BeginObject().Field("scored", row.all.scored);
    w.Key("statistic").Double(row.all.statistic, 12);
    w.Key("log10_p").Double(row.log10_p_all, 10);
    w.EndObject();
    w.Key("filtered").BeginObject().Field("scored", row.filtered.scored);
    w.Key("statistic").Double(row.filtered.statistic, 12);
    w.Key("log10_p").Double(row.log10_p_filtered, 10);
    w.EndObject();
    if (row.has_exact) {
      w.Key("exact").BeginObject();
      w.Key("all_log10_p").Double(row.log10_px_all, 10);
      w.Key("filtered_log10_p").Double(row.log10_px_filtered, 10);
      w.EndObject();
    }
    if (row.has_reading) {
      w.Key("reading").BeginObject().Field("prompts", row.reading_prompts);
      w.Field("tokens", row.reading_tokens).Field("scored", row.reading.scored);
      w.Key("statistic").Double(row.reading.statistic, 12);
      w.Key("log10_p").Double(row.log10_p_reading, 10);
      w.EndObject();
    }
    if (row.has_weighted) {
      w.Key("weighted").BeginObject().Field("weight", std::string(CountWeightName(o.kgw_weight)));
      w.Field("all_statistic", row.weighted_all);
      w.Key("all_log10_p").Double(row.log10_pw_all, 10);
      w.Field("filtered_statistic", row.weighted_filtered);
      w.Key("filtered_log10_p").Double(row.log10_pw_filtered, 10);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("curve").BeginArray();
  for (const auto& c : r.curve) {
    w.BeginObject().Field("scheme", c.scheme).Field("rate", c.rate);
    w.Field("answers", c.answers).Field("tokens", c.tokens);
    w.Field("tuples", c.tuples_all).Key("log10_p").Double(c.log10_p_all, 8);
    w.Field("tuples_filtered", c.tuples_filtered);
    w.Key("log10_p_filtered").Double(c.log10_p_filtered, 8);
    if (c.has_weighted) w.Key("weighted_log10_p_filtered").Double(c.log10_pw_filtered, 8);
    if (c.has_exact) {
      w.Key("exact_log10_p").Double(c.log10_px_all, 8);
      w.Key("exact_log10_p_filtered").Double(c.log10_px_filtered, 8);
    }
    if (c.has_reading) {
      w.Field("tuples_reading", c.tuples_reading);
      w.Key("log10_p_reading").Double(c.log10_p_reading, 8);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("reading_checks").BeginArray();
  for (const auto& c : r.reading_checks) {
    w.BeginObject().Field("scheme", c.scheme);
    w.Field("valid_scored", c.valid.scored).Key("valid_log10_p").Double(c.log10_p_valid, 8);
    w.Field("naive_scored", c.naive.scored).Key("naive_log10_p").Double(c.log10_p_naive, 8);
    w.EndObject();
  }
  w.EndArray();
  w.Key("calibration").BeginArray();
  for (const auto& c : r.calibration) {
    w.BeginObject().Field("scheme", c.scheme).Field("sample", c.sample);
    w.Field("filtered", c.filtered).Field("deduplicated", c.deduplicated).Field("keys", c.keys);
    w.Field("weighted", c.weighted).Field("exact", c.exact);
    w.Key("ks_d").Double(c.ks_d, 8);
    w.Key("ks_p").Double(c.ks_p, 8);
    w.Field("below_0_01", c.below_01);
    w.Key("min_log10_p").Double(c.min_log10_p, 8);
    w.EndObject();
  }
  w.EndArray().EndObject();
  out += "\n";
  return out;
}

}  // namespace dg::prove
