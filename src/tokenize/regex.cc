// See regex.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/regex.h"

#include <fmt/format.h>
#include <pcre2.h>

namespace dg::tokenize {
namespace {

// Unicode White_Space (PropList.txt), as class items.
constexpr std::string_view kWhiteSpaceItems =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

// Per thread: a JIT stack (the default 32 kB on the machine stack is too small for long look-ahead
// runs); grows up to 8 MB. The match data holds one offset pair: only the whole match is used
// (pcre2_match then returns 0 for patterns with groups, and still sets the whole match).
struct MatchState {
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  pcre2_match_data* md = nullptr;
  MatchState() {
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    md = pcre2_match_data_create(1, nullptr);
    if (stack && ctx) pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~MatchState() {
    if (md) pcre2_match_data_free(md);
    if (ctx) pcre2_match_context_free(ctx);
    if (stack) pcre2_jit_stack_free(stack);
  }
};

std::string PcreError(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof(buf)) < 0) return fmt::format("error {}", code);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() {
    if (code) pcre2_code_free(code);
  }
};

Regex::~Regex() = default;

std::string RewriteWhitespaceClasses(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      ++i;
      if (e == 's') {
        if (in_class) {
          out += kWhiteSpaceItems;
        } else {
          out += '[';
          out += kWhiteSpaceItems;
          out += ']';
        }
      } else if (e == 'S' && !in_class) {
        out += "[^";
        out += kWhiteSpaceItems;
        out += ']';
      } else if (e == 'S') {
        // \S inside a class cannot be spelled as items; PCRE2's own \S differs only at U+180E.
        out += "\\S";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      // POSIX class [:name:] inside a class: copy through its closing ":]".
      size_t end = p.find(":]", i + 2);
      if (end != std::string_view::npos) {
        out.append(p.substr(i, end + 2 - i));
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

std::unique_ptr<Regex> Regex::Compile(std::string_view pattern, bool literal, std::string* err) {
  std::unique_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  const std::string src = literal ? std::string(pattern) : RewriteWhitespaceClasses(pattern);
  // PCRE2_LITERAL admits no UCP (nothing in a literal depends on it).
  const uint32_t options = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  int code = 0;
  PCRE2_SIZE offset = 0;
  re->code_ = std::make_unique<Code>();
  re->code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(src.data()), src.size(), options,
                                  &code, &offset, nullptr);
  if (!re->code_->code) {
    *err = fmt::format("bad regex /{}/ at offset {}: {}", std::string(pattern), offset,
                       PcreError(code));
    return nullptr;
  }
  // Without JIT (an unsupported platform) pcre2_match falls back to the interpreter.
  pcre2_jit_compile(re->code_->code, PCRE2_JIT_COMPLETE);
  return re;
}

bool Regex::FindAll(std::string_view s, std::vector<std::pair<size_t, size_t>>* out,
                    std::string* err) const {
  thread_local MatchState state;
  pcre2_match_data* md = state.md;
  if (!md || !state.ctx) {
    *err = "out of memory (regex match state)";
    return false;
  }
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t pos = 0;
  bool ok = true;
  while (pos <= s.size()) {
    const int rc =
        pcre2_match(code_->code, subject, s.size(), pos, PCRE2_NO_UTF_CHECK, md, state.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      *err = fmt::format("regex /{}/ failed at byte {}: {}", pattern_, pos, PcreError(rc));
      ok = false;
      break;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t start = ov[0], end = ov[1];
    out->emplace_back(start, end);
    if (end > start) {
      pos = end;
    } else {
      // Empty match (kept: it still splits a gap): step over one UTF-8 character.
      if (start >= s.size()) break;
      pos = start + 1;
      while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
  return ok;
}

}  // namespace dg::tokenize
