// The end-to-end radioactivity study without a GPU (`distillguard prove simulate`): a teacher
// language model trained on the shared prompt corpora serves watermarked text (vLLM Gumbel or HF
// KGW, prove/generate.h); students are trained on human text plus teacher text of which 0%, 1%,
// 5% … is watermarked; each student is queried and `prove radioactivity`'s test is run on its
// answers. Calibration: the same test under many keys that the student never saw, on the 0%
// student, on the most-watermarked student (wrong keys) and on held-out human text, must give
// uniform p-values (exact one-sample KS test).
//
// Design: documents are split by a hash of their text (50% teacher training, 40% the students'
// human text and the attacker's prompts, 10% held-out human text), so the run is deterministic
// and independent of file order. A student's data is its human text H plus N_T teacher tokens
// (N_T = teacher_share / (1 - teacher_share) x |H|); rate r means r x (|H| + N_T) of them are
// watermarked (the first texts of one watermarked pool, so the 1% set is inside the 5% set), the
// rest plain teacher samples. The provider queries a suspect with the prompts it served
// watermarked answers to, and restricts the test to the windows of those answers; for the 0%
// student (which never saw them) it uses the largest pool's prompts and windows. All randomness
// comes from `seed`; calibration keys are derived from it and never equal the true key. KGW's
// binomial tail is discrete, so its calibration p-values are randomised (P[X > k] + U P[X = k]),
// which is exactly uniform under the null; Gumbel's Gamma tail is continuous already.
//
// KGW's one-token window leaves little trace in a student's free answers, so the study also runs
// KGW's "reading mode" (Sander et al.'s closed-model setting: the suspect continues the beginnings
// of the served texts), in a design that stays valid for one-token windows: the texts are cut
// before any scored window could have shaped them (study.cc, docs/FORENSICS.md); an innocent
// copier checks it. A power curve repeats the tests on the first N answers for several N.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "prove/scheme.h"
#include "prove/weighted.h"

namespace dg::prove {

struct StudyOptions {
  int64_t max_docs = 0;  // use at most this many documents (hash order); 0 = all
  int64_t vocab_size = 8192;
  int teacher_order = 3;
  int student_order = 5;
  int prompt_words = 4;  // a prompt is the first words of an attacker-split document
  int max_new_tokens = 64;
  int top_k = 50;
  double teacher_share = 0.5;
  std::vector<double> rates = {0.0, 0.01, 0.05};
  int64_t suspect_texts = 2000;
  int calibration_keys = 200;
  std::vector<std::string> schemes = {"vllm-gumbel", "hf-kgw"};
  uint64_t vllm_key = 42;
  int context_width = 4;
  uint64_t kgw_key = 15485863;  // transformers' default hashing key
  double gamma = 0.25, delta = 2.0;
  uint64_t seed = 1;
  // KGW's count-weighted statistic (prove/weighted.h), reported next to the binomial test: weight
  // of a distinct tuple by how often the suspect produced it. kOne: not computed.
  CountWeight kgw_weight = CountWeight::kOne;
  // The power curve: the same test on the first N answers, for each N (answers generated up to
  // the largest N or suspect_texts, whichever is larger).
  std::vector<int64_t> query_curve;
  // KGW reading mode: the suspect is also prompted with the beginnings of the served answers,
  // each cut right after its first token in a fixed, key-independent part of the vocabulary (ids
  // whose hash is 0 mod reading_mod); only tuples whose window is in that part are scored
  // (docs/FORENSICS.md says why this keeps the test valid). 0 = off.
  int reading_mod = 4;
  int reading_new_tokens = 0;  // tokens per reading-mode answer; 0 = max_new_tokens
};

struct StudyRow {
  std::string scheme;
  double rate = 0;
  int64_t watermarked_tokens = 0;  // in the student's training data
  int64_t student_tokens = 0;      // all training tokens
  int64_t suspect_tokens = 0;      // tokens of the student's answers scored
  int64_t windows = 0;             // distinct windows of the served watermarked answers
  Tally all, filtered;
  double log10_p_all = 0, log10_p_filtered = 0;
  // KGW only: the same green count against its exact law (independent hypergeometrics per
  // window, prove/weighted.h) instead of the conservative binomial.
  bool has_exact = false;
  double log10_px_all = 0, log10_px_filtered = 0;
  // KGW only: the count-weighted statistic over the same tuples (weighted green count).
  bool has_weighted = false;
  int64_t weighted_all = 0, weighted_filtered = 0;
  double log10_pw_all = 0, log10_pw_filtered = 0;
  // KGW reading mode: answers to the cut served answers, tuples with a window in the scored part.
  bool has_reading = false;
  int64_t reading_prompts = 0, reading_tokens = 0;
  Tally reading;
  double log10_p_reading = 0;
};

// Reading mode's validity check on the 0% student (never trained on watermarked text) turned into
// an innocent *copier*: it repeats, half of the time, what followed the previous token earlier in
// its prompt, as a language model quoting its input does. With the true key, the valid design
// (cut before the scored part, score only that part) must not flag it; scoring every window of
// answers to uncut watermarked prompts does.
struct ReadingCheck {
  std::string scheme;
  Tally valid, naive;
  double log10_p_valid = 0, log10_p_naive = 0;
};

// One point of the power curve: the test on the first `answers` answers of a student.
struct CurveRow {
  std::string scheme;
  double rate = 0;
  int64_t answers = 0, tokens = 0;
  int64_t tuples_all = 0, tuples_filtered = 0;
  double log10_p_all = 0, log10_p_filtered = 0;
  bool has_weighted = false;
  double log10_pw_filtered = 0;
  bool has_exact = false;
  double log10_px_all = 0, log10_px_filtered = 0;
  bool has_reading = false;
  int64_t tuples_reading = 0;
  double log10_p_reading = 0;
};

struct CalibrationRow {
  std::string scheme, sample;
  bool filtered = false;
  bool deduplicated = true;  // false: the invalid no-dedup variant, expected to be rejected
  bool weighted = false;     // the count-weighted KGW statistic instead of the tuple count
  bool exact = false;        // KGW's green count against its exact (hypergeometric) law
  int64_t keys = 0;
  double ks_d = 0, ks_p = 1;
  double min_log10_p = 0;
  int64_t below_01 = 0;  // p-values below 0.01 (about keys / 100 expected)
};

struct StudyResult {
  bool ok = false;
  std::string error;
  int64_t documents = 0, words = 0, vocab = 0;
  int64_t teacher_tokens = 0, human_tokens = 0, heldout_tokens = 0, plain_teacher_tokens = 0;
  std::vector<StudyRow> rows;
  std::vector<CalibrationRow> calibration;
  std::vector<CurveRow> curve;
  std::vector<ReadingCheck> reading_checks;
};

// Runs the study on `documents` (human texts: the shared corpora's turns, read by the caller,
// e.g. with sim::Corpora); `progress` (may be empty) receives one line per stage.
StudyResult RunStudy(const StudyOptions& o, const std::vector<std::string>& documents,
                     const std::function<void(const std::string&)>& progress);

std::string StudyTable(const StudyOptions& o, const StudyResult& r);
std::string StudyJson(const StudyOptions& o, const StudyResult& r);

}  // namespace dg::prove
