// Phrase categories via one Hyperscan multi-pattern database.
//
// Design: all patterns (built-in + optional file) are compiled once into an immutable
// `PhraseMatcherDb` (block mode, every pattern CASELESS | UTF8 | MULTILINE | SINGLEMATCH, plus UCP
// when the pattern itself holds non-ASCII bytes so that Cyrillic/accented case folding and \b
// work). The db is shared read-only by all threads. Each thread owns a `PhraseMatcher` holding its
// own Hyperscan scratch (allocated once in the constructor) and a reusable sanitising buffer, so
// `Match` never allocates on the common path: pure-ASCII text (most prompts) is scanned with a
// second, byte-mode compilation of the same patterns (on ASCII input both modes match alike, and
// byte mode is faster and needs no validation); other text is validated as UTF-8 (SIMD), scanned
// with the UTF-8 database; either way it ORs the category bit of every pattern that fired. Invalid
// UTF-8 (undefined for HS_FLAG_UTF8 scans) is first copied with bad bytes replaced by '?'; that
// buffer only grows when a larger invalid input arrives. Patterns are written to be specific (e.g.
// "think step by step" rather than "step by step") so that human prompts fire rarely; they are
// heuristics, not proof of intent.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;
struct hs_scratch;

namespace dg::features {

enum PhraseCategory : uint32_t {
  kCotElicit = 1u << 0,        // chain-of-thought / reasoning-trace elicitation
  kReasoningFormat = 1u << 1,  // demands a reasoning/answer format (tags, "The answer is", \boxed)
  kTranslation = 1u << 2,      // translation templates
  kDataGen = 1u << 3,          // synthetic-data generation instructions (self-instruct etc.)
  kRoleplay = 1u << 4,         // persona / role-play set-ups
  kJsonOutput = 1u << 5,       // structured JSON output demands
  kSystemPromptProbe = 1u << 6,  // attempts to extract the system prompt / instructions
  kExhaustiveAnswer = 1u << 7,   // "as detailed as possible", "comprehensive"...
  kTaskStyle = 1u << 8,  // opens as a self-contained task ("Generate…", "Classify…", "Rewrite…")
  kFirstPerson = 1u << 9,    // the opening paragraph speaks of the writer ("I", "my", "me")
  kTrainPurpose = 1u << 10,  // says the answers are collected to train/fine-tune/distill a model
};
inline constexpr uint32_t kNumPhraseCategories = 11;
inline constexpr uint32_t kAllPhraseCategories = (1u << kNumPhraseCategories) - 1;

// Stable snake_case name of one category bit ("cot_elicit"...), or "unknown".
const char* PhraseCategoryName(uint32_t bit);
// Inverse of PhraseCategoryName (case-insensitive); 0 if unknown.
uint32_t PhraseCategoryFromName(std::string_view name);

struct PhrasePattern {
  uint32_t category;       // exactly one PhraseCategory bit
  std::string_view regex;  // Hyperscan/PCRE syntax; compiled caseless, UTF-8, multiline
};

// The built-in pattern table (static storage).
std::span<const PhrasePattern> BuiltinPhrasePatterns();

// Immutable compiled database; thread-safe to share. Not copyable or movable (matchers refer to
// it).
class PhraseMatcherDb {
 public:
  // Process-wide db of the built-in patterns: the databases serialised at build time when this
  // host can use them, else compiled on first use.
  static const PhraseMatcherDb& Default();
  // Throws std::invalid_argument naming the failing pattern (index + regex + Hyperscan message).
  explicit PhraseMatcherDb(std::span<const PhrasePattern> patterns);
  ~PhraseMatcherDb();
  PhraseMatcherDb(const PhraseMatcherDb&) = delete;
  PhraseMatcherDb& operator=(const PhraseMatcherDb&) = delete;

  // Loads `category<TAB>regex` lines (blank and '#' lines ignored; category by name, e.g.
  // "data_gen", or as a bit number 0-7). With include_builtin the built-in patterns are compiled in
  // too. On failure returns nullptr and sets *error to a message naming the file line.
  static std::unique_ptr<PhraseMatcherDb> FromFile(const std::string& path, std::string* error,
                                                   bool include_builtin = true);

  size_t size() const { return categories_.size(); }
  // True when this db was loaded from the databases serialised at build time.
  bool embedded() const { return embedded_; }
  const hs_database* db() const { return db_; }
  // The same patterns in byte mode, for pure-ASCII text (null if they did not compile so).
  const hs_database* ascii_db() const { return ascii_db_; }
  uint32_t CategoryOf(unsigned id) const { return categories_[id]; }

 private:
  PhraseMatcherDb() = default;
  // Loads the built-in patterns' databases serialised at build time; false if absent or unusable.
  bool LoadEmbedded();
  // Non-throwing construction: on failure db_ stays null, *error / *bad_index describe it.
  PhraseMatcherDb(std::span<const PhrasePattern> patterns, std::string* error, int* bad_index);
  void Init(std::span<const PhrasePattern> patterns, std::string* error, int* bad_index);

  hs_database* db_ = nullptr;
  hs_database* ascii_db_ = nullptr;
  bool embedded_ = false;
  std::vector<uint32_t> categories_;  // pattern id -> category bit
  std::vector<std::string> regexes_;  // kept for diagnostics
};

// Per-thread matcher: owns Hyperscan scratch. Not thread-safe; create one per thread.
class PhraseMatcher {
 public:
  explicit PhraseMatcher(const PhraseMatcherDb& db);  // throws std::runtime_error on HS failure
  ~PhraseMatcher();
  PhraseMatcher(const PhraseMatcher&) = delete;
  PhraseMatcher& operator=(const PhraseMatcher&) = delete;

  // OR of the categories matched anywhere in `text` (0 on empty text or scan error).
  uint32_t Match(std::string_view text);
  // The same through the UTF-8 database only, whatever the text (the reference for the ASCII
  // fast path; tests).
  uint32_t MatchUtf8(std::string_view text);

 private:
  const PhraseMatcherDb& db_;
  hs_scratch* scratch_ = nullptr;
  std::string sanitized_;  // reused for invalid UTF-8 input
};

}  // namespace dg::features
