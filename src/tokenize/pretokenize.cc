// See pretokenize.h.
#include "tokenize/pretokenize.h"

namespace dg::tokenize {

const char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

bool SplitPiece(std::string_view s, const Regex& regex, SplitBehavior behavior, bool invert,
                std::vector<std::string_view>* out, std::string* err) {
  if (s.empty()) return true;
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  matches.clear();
  if (!regex.FindAll(s, &matches, err)) return false;
  // Matches and gaps in order: (start, end, is_match).
  struct Span {
    size_t start, end;
    bool match;
  };
  thread_local std::vector<Span> spans;
  spans.clear();
  size_t prev = 0;
  for (const auto& [start, end] : matches) {
    if (prev != start) spans.push_back({prev, start, invert});
    spans.push_back({start, end, !invert});
    prev = end;
  }
  if (prev != s.size()) spans.push_back({prev, s.size(), invert});

  auto emit = [&](size_t a, size_t b) {
    if (b > a) out->push_back(s.substr(a, b - a));
  };
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Span& sp : spans) {
        if (!sp.match) emit(sp.start, sp.end);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const Span& sp : spans) emit(sp.start, sp.end);
      break;
    case SplitBehavior::kMergedWithPrevious:
    case SplitBehavior::kContiguous: {
      // MergedWithPrevious: a match joins the piece before it (unless that was a match too).
      // Contiguous: a span joins the piece before it if both are matches or both are not.
      std::vector<std::pair<size_t, size_t>> acc;
      bool previous_match = false;
      for (const Span& sp : spans) {
        const bool join = behavior == SplitBehavior::kMergedWithPrevious
                              ? (sp.match && !previous_match)
                              : (sp.match == previous_match);
        if (join && !acc.empty()) {
          acc.back().second = sp.end;
        } else {
          acc.emplace_back(sp.start, sp.end);
        }
        previous_match = sp.match;
      }
      for (const auto& [a, b] : acc) emit(a, b);
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      // Right to left: a match joins the piece after it (unless that was a match too).
      std::vector<std::pair<size_t, size_t>> acc;
      bool previous_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous_match && !acc.empty()) {
          acc.back().first = it->start;
        } else {
          acc.emplace_back(it->start, it->end);
        }
        previous_match = it->match;
      }
      for (auto it = acc.rbegin(); it != acc.rend(); ++it) emit(it->first, it->second);
      break;
    }
  }
  return true;
}

bool PreTokenize(std::string_view text, const std::vector<PreTokenStep>& steps,
                 std::vector<std::string_view>* pieces,
                 std::vector<std::unique_ptr<std::string>>* arena, std::string* err) {
  pieces->clear();
  if (text.empty()) return true;
  pieces->push_back(text);
  std::vector<std::string_view> next;
  for (const PreTokenStep& step : steps) {
    next.clear();
    for (std::string_view p : *pieces) {
      if (step.kind == PreTokenStep::Kind::kPrefixSpace) {
        if (p.empty() || p.front() != ' ') {
          arena->push_back(std::make_unique<std::string>(" " + std::string(p)));
          next.push_back(*arena->back());
        } else {
          next.push_back(p);
        }
      } else if (!SplitPiece(p, *step.regex, step.behavior, step.invert, &next, err)) {
        return false;
      }
    }
    pieces->swap(next);
  }
  return true;
}

}  // namespace dg::tokenize
