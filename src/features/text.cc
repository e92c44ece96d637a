// See text.h for the design. Everything here works on fixed-size stack state: one Scanner per call,
// one byte-counting pass plus one tokenising pass (URL/e-mail chunks and label lines add a bounded
// look-ahead), so the cost is O(n) with no allocation.
#include "features/text.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "common/hash.h"
#include "common/utf8.h"

namespace dg::features {
namespace {

constexpr uint64_t kWordSeed = 0x6a09e667f3bcc908ull;

// Word-list categories, decided by the tokeniser from the word hashes it computes anyway (a
// Hyperscan alternation of short words with \b boundaries fires on every letter 'i' and cost a
// fifth of the phrase scan). First-person words: English, German, French, Spanish; the CJK and
// Cyrillic forms stay in the phrase database. They count in the opening paragraph only (up to the
// first blank line after a word): that is where the writer speaks; what follows a blank line is
// the material a task is about (a persona's scene, a letter to rewrite), in whoever's voice. A
// writer who states the task first and their own situation after a blank line is missed.
constexpr std::string_view kFirstPersonWords[] = {
    "i",      "im",     "ive",  "my",  "me", "mine", "myself", "ich", "mein", "meine", "meinen",
    "meinem", "meiner", "mich", "mir", "je", "moi",  "mon",    "yo",  "mi",   "mis"};

struct WordSet {
  static constexpr size_t kSize = 64;  // power of two, > 2x the words
  std::array<uint64_t, kSize> slot{};  // 0 = empty
  WordSet() {
    for (std::string_view w : kFirstPersonWords) {
      const uint64_t h = Hash64(w, kWordSeed) | 1;
      size_t i = h & (kSize - 1);
      while (slot[i] != 0) i = (i + 1) & (kSize - 1);
      slot[i] = h;
    }
  }
  bool Has(uint64_t h) const {
    h |= 1;
    for (size_t i = h & (kSize - 1);; i = (i + 1) & (kSize - 1)) {
      if (slot[i] == h) return true;
      if (slot[i] == 0) return false;
    }
  }
};
const WordSet kFirstPersonSet;
constexpr uint64_t kExactSeed = 0xbb67ae8584caa73bull;
constexpr uint64_t kSkelSeed = 0x3c6ef372fe94f82bull;
constexpr uint64_t kPrefixSeed = 0xa54ff53a5f1d36f1ull;
constexpr uint64_t kSuffixSeed = 0x510e527fade682d1ull;
constexpr uint64_t kShingleSeed = 0x9b05688c2b3e6c1full;
// Skeleton placeholder tokens.
constexpr uint64_t kTokNum = 0x1f83d9abfb41bd6bull;    // '#'
constexpr uint64_t kTokQuote = 0x5be0cd19137e2179ull;  // <q>
constexpr uint64_t kTokUrl = 0xcbbb9d5dc1059ed8ull;    // <u>
constexpr uint64_t kTokEmail = 0x629a292a367cd507ull;  // <e>
constexpr uint64_t kTokLong = 0x9159015a3070dd17ull;   // <l>
constexpr uint64_t kTokVar = 0x152fecd8f70e5939ull;    // <v>
constexpr size_t kLongWordBytes = 24;
constexpr size_t kLabelLookahead = 48;
constexpr int kLabelMaxWords = 4;

// kSpread[v]: bit i of v moved to the low bit of byte i.
constexpr auto kSpread = [] {
  std::array<uint64_t, 256> t{};
  for (unsigned v = 0; v < 256; ++v)
    for (unsigned i = 0; i < 8; ++i) t[v] |= static_cast<uint64_t>((v >> i) & 1) << (8 * i);
  return t;
}();

inline uint64_t Fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}
inline uint64_t Fold(uint64_t acc, uint64_t h) { return Fmix(acc * 0x100000001b3ull + h); }
inline uint64_t RotL(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline bool IsAsciiSpace(unsigned c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}
inline bool IsAsciiWord(unsigned c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
}

enum class Cls : uint8_t { kSpace, kWord, kIdeo, kPunct };

constexpr uint32_t kInvalidCp = 0x110000;  // sentinel for an invalid byte (treated as a letter)

struct Decoded {
  uint32_t cp;
  uint32_t len;
};

inline Decoded Decode(const unsigned char* p, size_t rem) {
  const unsigned c = p[0];
  if (c < 0x80) return {c, 1};
  size_t len = Utf8SequenceLength(
      std::string_view(reinterpret_cast<const char*>(p), rem < 4 ? rem : size_t{4}));
  if (len == 0) return {kInvalidCp, 1};
  uint32_t cp;
  if (len == 2) {
    cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
  } else if (len == 3) {
    cp = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  } else {
    cp = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
  return {cp, static_cast<uint32_t>(len)};
}

// Class of a non-ASCII code point.
inline Cls ClassifyNonAscii(uint32_t cp) {
  if (cp == kInvalidCp) return Cls::kWord;
  if (cp < 0xC0) return cp == 0xA0 ? Cls::kSpace : Cls::kPunct;
  if (cp == 0xD7 || cp == 0xF7) return Cls::kPunct;
  if (cp < 0x2000) return Cls::kWord;
  if (cp <= 0x200B || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F)
    return Cls::kSpace;
  if (cp < 0x2C00) return Cls::kPunct;  // general punctuation, symbols, arrows, math, boxes
  if (cp == 0x3000) return Cls::kSpace;
  if (cp >= 0x3001 && cp <= 0x303F) return Cls::kPunct;
  if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0x20000 && cp <= 0x2FFFF))
    return Cls::kIdeo;
  if ((cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE4F)) return Cls::kPunct;
  if ((cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
      (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65))
    return Cls::kPunct;
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return Cls::kPunct;  // emoji & pictographs
  return Cls::kWord;
}

inline uint16_t ScriptOf(uint32_t cp) {
  if (cp < 0x250 || (cp >= 0x1E00 && cp <= 0x1EFF)) return kScriptLatin;
  if (cp >= 0x400 && cp <= 0x52F) return kScriptCyrillic;
  if ((cp >= 0x600 && cp <= 0x6FF) || (cp >= 0x750 && cp <= 0x77F) ||
      (cp >= 0x8A0 && cp <= 0x8FF) || (cp >= 0xFB50 && cp <= 0xFDFF) ||
      (cp >= 0xFE70 && cp <= 0xFEFF))
    return kScriptArabic;
  if ((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3040 && cp <= 0x30FF) ||
      (cp >= 0x3130 && cp <= 0x318F) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF))
    return kScriptCjk;
  return kScriptOther;
}

// Byte-counting pass: chars (lead bytes), non-ASCII chars, digits, lines. SWAR, 8 bytes a step.
void CountBytes(const unsigned char* p, size_t n, TextFeatures& out) {
  constexpr uint64_t k01 = 0x0101010101010101ull, k7F = 0x7F7F7F7F7F7F7F7Full,
                     k80 = 0x8080808080808080ull;
  uint64_t cont = 0, non_ascii = 0, digits = 0, newlines = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    cont += __builtin_popcountll(v & ~(v << 1) & k80);      // 10xxxxxx
    non_ascii += __builtin_popcountll(v & (v << 1) & k80);  // 11xxxxxx
    const uint64_t x = v & k7F;
    const uint64_t ge0 = x + (0x80 - '0') * k01, ge10 = x + (0x80 - ':') * k01;
    digits += __builtin_popcountll(ge0 & ~ge10 & ~v & k80);
    const uint64_t nl = v ^ ('\n' * k01);
    newlines += __builtin_popcountll(~(((nl & k7F) + k7F) | nl | k7F));
  }
  for (; i < n; ++i) {
    const unsigned c = p[i];
    cont += (c & 0xC0) == 0x80;
    non_ascii += (c & 0xC0) == 0xC0;
    digits += (c - '0') < 10u;
    newlines += c == '\n';
  }
  out.chars = static_cast<uint32_t>(n - cont);
  out.non_ascii_chars = static_cast<uint32_t>(non_ascii);
  out.digits = static_cast<uint32_t>(digits);
  out.lines = n ? static_cast<uint32_t>(newlines) + 1 : 0;
}

class Scanner {
 public:
  Scanner(std::string_view t) : p_(reinterpret_cast<const unsigned char*>(t.data())), n_(t.size()) {
    std::fill(std::begin(mh_), std::end(mh_), UINT32_MAX);
  }

  void Run(TextFeatures& out);

 private:
  // ---- exact stream ----
  void ExactToken(uint64_t h) {
    exact_acc_ = Fold(exact_acc_, h);
    ++words_;
    if (words_ >= 3) AddShingle(Fmix(prev_[0] ^ RotL(prev_[1], 21) ^ RotL(h, 42) ^ kShingleSeed));
    prev_[0] = prev_[1];
    prev_[1] = h;
  }
  void AddShingle(uint64_t s) {
    // SimHash bit counting with 8-bit lanes: byte k of `s` spreads into lane bytes of lanes_[k];
    // lanes are flushed into 32-bit counters before they can overflow.
    for (int k = 0; k < 8; ++k) lanes_[k] += kSpread[(s >> (8 * k)) & 0xFF];
    if (++lane_n_ == 255) FlushLanes();
    ++shingles_;
    const unsigned bin = static_cast<unsigned>(s >> 61);
    const uint32_t v = static_cast<uint32_t>(s);
    if (v < mh_[bin]) mh_[bin] = v;
    filled_ |= 1u << bin;
  }

  void FlushLanes() {
    for (int k = 0; k < 8; ++k) {
      for (int j = 0; j < 8; ++j) ones_[8 * k + j] += (lanes_[k] >> (8 * j)) & 0xFF;
      lanes_[k] = 0;
    }
    lane_n_ = 0;
  }

  // ---- skeleton stream ----
  void Push(uint64_t h) {
    skel_acc_ = Fold(skel_acc_, h);
    if (skel_n_ < kAffixWords) {
      pre_[skel_n_] = h;
      pre_b_[skel_n_] = boundary_;
    }
    suf_[skel_n_ % kAffixWords] = h;
    suf_b_[skel_n_ % kAffixWords] = boundary_;
    ++skel_n_;
    boundary_ = false;
  }
  void SkelToken(uint64_t h) {
    if (in_region_) {
      ++region_tokens_;
    } else if (quote_close_ != 0) {
      // masked; <q> is pushed when the quote closes
    } else {
      Push(h);
    }
  }
  void OpenRegion() {
    in_region_ = true;
    region_tokens_ = 0;
    region_boundary_ = boundary_;
  }
  void EndRegion(bool then_boundary) {
    in_region_ = false;
    quote_close_ = 0;
    if (region_tokens_ > 0) {
      boundary_ = region_boundary_;
      Push(kTokVar);
    }
    boundary_ = then_boundary || boundary_;
  }
  void OpenQuote(uint32_t close, bool code) {
    quote_close_ = close;
    quote_code_ = code;
    quote_boundary_ = boundary_;
  }
  void CloseQuote() {
    quote_close_ = 0;
    if (!in_region_) {
      boundary_ = quote_boundary_;
      Push(kTokQuote);
    }
  }

  bool NextIsSpaceOrEnd(size_t i) const { return i >= n_ || IsAsciiSpace(p_[i]); }
  bool IsLabelLine(size_t pos) const;
  void ClassifyChunk(size_t i);
  size_t ScanWord(size_t i);
  void HandleNewline(size_t i);
  void HandlePunct(uint32_t cp, size_t i, size_t len);

  const unsigned char* p_;
  size_t n_;
  // exact stream
  uint64_t exact_acc_ = kExactSeed;
  uint32_t words_ = 0;
  uint64_t prev_[2] = {0, 0};
  uint64_t lanes_[8] = {};
  uint32_t lane_n_ = 0;
  uint32_t ones_[64] = {};
  uint32_t shingles_ = 0;
  uint32_t mh_[kMinhashBins];
  uint32_t filled_ = 0;
  // skeleton stream
  uint64_t skel_acc_ = kSkelSeed;
  uint32_t skel_n_ = 0;
  uint64_t pre_[kAffixWords] = {};
  bool pre_b_[kAffixWords] = {};
  uint64_t suf_[kAffixWords] = {};
  bool suf_b_[kAffixWords] = {};
  bool boundary_ = false;
  bool in_region_ = false;
  bool region_boundary_ = false;
  uint32_t region_tokens_ = 0;
  uint32_t quote_close_ = 0;
  bool quote_code_ = false;
  bool quote_boundary_ = false;
  bool last_num_ = false;  // last skeleton token of this chunk was '#'
  size_t masked_end_ = 0;  // words before this offset belong to a URL/e-mail chunk
  uint32_t script_[6] = {};
  bool first_person_ = false;  // a first-person word (kFirstPersonWords) occurred
  bool past_opening_ = false;  // a blank line followed the first words (see ScanWord)
};

// A label line starts (after indentation and '#', '*', '-', '>' marks) with <= 4 words and a colon
// followed by whitespace/end, or a full-width colon. Looks at most kLabelLookahead bytes.
bool Scanner::IsLabelLine(size_t j) const {
  while (j < n_ && (p_[j] == ' ' || p_[j] == '\t' || p_[j] == '#' || p_[j] == '*' || p_[j] == '-' ||
                    p_[j] == '>'))
    ++j;
  if (j >= n_ || !(IsAsciiWord(p_[j]) || p_[j] >= 0x80)) return false;
  const size_t end = std::min(n_, j + kLabelLookahead);
  int words = 1;
  bool in_space = false;
  for (; j < end; ++j) {
    const unsigned c = p_[j];
    if (c == ':') return NextIsSpaceOrEnd(j + 1);
    if (c == 0xEF && j + 2 < n_ && p_[j + 1] == 0xBC && p_[j + 2] == 0x9A) return true;  // '：'
    if (c == '\n' || c == '.' || c == '?' || c == '!' || c == ';' || c == ',') return false;
    if (c == ' ' || c == '\t') {
      in_space = true;
    } else if (in_space) {
      in_space = false;
      if (++words > kLabelMaxWords) return false;
    }
  }
  return false;
}

// At the first byte of a whitespace-delimited chunk: URLs and e-mail addresses become one skeleton
// token and their words are kept out of the skeleton.
void Scanner::ClassifyChunk(size_t i) {
  size_t e = i;
  size_t at = SIZE_MAX;
  bool scheme = false;
  while (e < n_ && !IsAsciiSpace(p_[e])) {
    const unsigned c = p_[e];
    if (c == '@' && at == SIZE_MAX) at = e;
    if (c == ':' && e + 2 < n_ && p_[e + 1] == '/' && p_[e + 2] == '/') scheme = true;
    ++e;
  }
  bool www = e - i > 4 && (p_[i] | 0x20) == 'w' && (p_[i + 1] | 0x20) == 'w' &&
             (p_[i + 2] | 0x20) == 'w' && p_[i + 3] == '.';
  uint64_t tok = 0;
  if (scheme || www) {
    tok = kTokUrl;
  } else if (at != SIZE_MAX && at > i) {
    const void* dot = std::memchr(p_ + at + 1, '.', e - at - 1);
    if (dot != nullptr && static_cast<const unsigned char*>(dot) > p_ + at + 1) tok = kTokEmail;
  }
  if (tok != 0) {
    masked_end_ = e;
    SkelToken(tok);
    last_num_ = false;
  }
}

// Scans one word starting at i; returns the offset after it.
size_t Scanner::ScanWord(size_t i) {
  char buf[128];
  size_t bl = 0;
  uint64_t h = kWordSeed;
  bool has_digit = false;
  const size_t start = i;
  while (i < n_) {
    const unsigned c = p_[i];
    if (c < 0x80) {
      if (!IsAsciiWord(c)) break;
      if (c <= '9' && c >= '0') {
        has_digit = true;
      } else if (c != '_') {
        ++script_[kScriptLatin];
      }
      if (bl + 1 > sizeof(buf)) {
        h = Hash64(std::string_view(buf, bl), h);
        bl = 0;
      }
      buf[bl++] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
      ++i;
      continue;
    }
    const Decoded d = Decode(p_ + i, n_ - i);
    if (ClassifyNonAscii(d.cp) != Cls::kWord) break;
    if (bl + 4 > sizeof(buf)) {
      h = Hash64(std::string_view(buf, bl), h);
      bl = 0;
    }
    if (d.cp == kInvalidCp) {
      buf[bl++] = static_cast<char>(c);
      ++script_[kScriptOther];
    } else {
      ++script_[ScriptOf(d.cp)];
      uint32_t cp = d.cp;
      // Case folding: Latin-1 and Cyrillic upper case (all two-byte sequences stay two bytes).
      if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x410 && cp <= 0x42F)) {
        cp += 0x20;
      } else if (cp >= 0x400 && cp <= 0x40F) {
        cp += 0x50;
      }
      if (d.len == 2) {
        buf[bl++] = static_cast<char>(0xC0 | (cp >> 6));
        buf[bl++] = static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        std::memcpy(buf + bl, p_ + i, d.len);
        bl += d.len;
      }
    }
    i += d.len;
  }
  h = Hash64(std::string_view(buf, bl), h);
  ExactToken(h);
  if (i - start <= 6 && !past_opening_ && kFirstPersonSet.Has(h)) first_person_ = true;
  if (start < masked_end_) return i;  // inside a URL/e-mail chunk: skeleton already has <u>/<e>
  if (has_digit) {
    if (!last_num_) SkelToken(kTokNum);
    last_num_ = true;
  } else {
    SkelToken(i - start > kLongWordBytes ? kTokLong : h);
    last_num_ = false;
  }
  return i;
}

void Scanner::HandleNewline(size_t i) {
  boundary_ = true;
  if (words_ != 0 && !past_opening_) {
    size_t j = i + 1;
    while (j < n_ && (p_[j] == ' ' || p_[j] == '\t' || p_[j] == '\r')) ++j;
    past_opening_ = j < n_ && p_[j] == '\n';
  }
  if (quote_close_ != 0 && !quote_code_) {
    // Plain quotes do not span paragraphs: close at a blank line.
    size_t j = i + 1;
    while (j < n_ && (p_[j] == ' ' || p_[j] == '\t' || p_[j] == '\r')) ++j;
    if (j < n_ && p_[j] == '\n') CloseQuote();
  }
  if (in_region_ && quote_close_ == 0 && IsLabelLine(i + 1)) EndRegion(true);
}

void Scanner::HandlePunct(uint32_t cp, size_t i, size_t len) {
  if (i < masked_end_) return;
  if (quote_close_ != 0) {
    if (cp == quote_close_ || (quote_close_ == 0x201D && cp == '"') ||
        (quote_close_ == '"' && cp == 0x201D))
      CloseQuote();
    return;
  }
  switch (cp) {
    case '.':
    case '?':
    case '!':
    case ';':
      if (NextIsSpaceOrEnd(i + len)) boundary_ = true;
      return;
    case 0x3002:  // 。
    case 0xFF1F:  // ？
    case 0xFF01:  // ！
    case 0xFF1B:  // ；
      boundary_ = true;
      return;
    case ':':
      if (!in_region_ && NextIsSpaceOrEnd(i + len)) OpenRegion();
      return;
    case 0xFF1A:  // ：
      if (!in_region_) OpenRegion();
      return;
    case '"':
      if (i == 0 || !(IsAsciiWord(p_[i - 1]) || p_[i - 1] >= 0x80)) OpenQuote('"', false);
      return;
    case '`':
      OpenQuote('`', true);
      return;
    case 0x201C:  // “ … ”
      OpenQuote(0x201D, false);
      return;
    case 0x201E:  // „ … “
      OpenQuote(0x201C, false);
      return;
    case 0xAB:  // « … »
      OpenQuote(0xBB, false);
      return;
    case 0x300C:  // 「 … 」
      OpenQuote(0x300D, false);
      return;
    case 0x300E:  // 『 … 』
      OpenQuote(0x300F, false);
      return;
    default:
      return;
  }
}

void Scanner::Run(TextFeatures& out) {
  CountBytes(p_, n_, out);
  bool chunk_start = true;
  size_t i = 0;
  while (i < n_) {
    const unsigned c = p_[i];
    if (c < 0x80) {
      if (IsAsciiSpace(c)) {
        if (c == '\n') HandleNewline(i);
        chunk_start = true;
        last_num_ = false;
        ++i;
        continue;
      }
      if (chunk_start) {
        chunk_start = false;
        ClassifyChunk(i);
      }
      if (IsAsciiWord(c)) {
        i = ScanWord(i);
      } else {
        HandlePunct(c, i, 1);
        ++i;
      }
      continue;
    }
    const Decoded d = Decode(p_ + i, n_ - i);
    const Cls k = ClassifyNonAscii(d.cp);
    if (k == Cls::kSpace) {
      chunk_start = true;
      last_num_ = false;
      i += d.len;
      continue;
    }
    if (chunk_start) {
      chunk_start = false;
      ClassifyChunk(i);
    }
    if (k == Cls::kWord) {
      i = ScanWord(i);
    } else if (k == Cls::kIdeo) {
      const uint64_t h =
          Hash64(std::string_view(reinterpret_cast<const char*>(p_ + i), d.len), kWordSeed);
      ++script_[kScriptCjk];
      ExactToken(h);
      if (i >= masked_end_) {
        SkelToken(h);
        last_num_ = false;
      }
      i += d.len;
    } else {
      HandlePunct(d.cp, i, d.len);
      i += d.len;
    }
  }
  if (in_region_) {
    EndRegion(false);
  } else if (quote_close_ != 0) {
    CloseQuote();
  }

  // Texts of one or two words still get one shingle.
  if (words_ == 1 || words_ == 2) AddShingle(Fmix(prev_[0] ^ RotL(prev_[1], 21) ^ kShingleSeed));

  out.words = words_;
  out.exact_hash = words_ ? Fmix(exact_acc_ ^ words_) : 0;
  out.skeleton_hash = skel_n_ ? Fmix(skel_acc_ ^ skel_n_) : 0;

  // Prefix: first tokens, cut at the first boundary leaving >= 3 tokens.
  const size_t m = std::min<size_t>(skel_n_, kAffixWords);
  size_t pm = m;
  for (size_t j = 3; j < m; ++j) {
    if (pre_b_[j]) {
      pm = j;
      break;
    }
  }
  uint64_t ph = kPrefixSeed;
  for (size_t j = 0; j < pm; ++j) ph = Fold(ph, pre_[j]);
  out.prefix_hash = m ? Fmix(ph ^ pm) : 0;

  // Suffix: last tokens, cut at the last boundary leaving >= 3 tokens.
  const size_t base = skel_n_ - m;
  size_t start = 0;
  for (size_t j = m >= 3 ? m - 3 : 0; j >= 1 && j < m; --j) {
    if (suf_b_[(base + j) % kAffixWords]) {
      start = j;
      break;
    }
  }
  uint64_t sh = kSuffixSeed;
  for (size_t j = start; j < m; ++j) sh = Fold(sh, suf_[(base + j) % kAffixWords]);
  out.suffix_hash = m ? Fmix(sh ^ (m - start)) : 0;

  // SimHash.
  uint64_t sim = 0;
  FlushLanes();
  for (int b = 0; b < 64; ++b) sim |= static_cast<uint64_t>(2 * ones_[b] > shingles_) << b;
  out.simhash = sim;

  // MinHash with rotation densification of empty bins.
  for (size_t b = 0; b < kMinhashBins; ++b) {
    if (filled_ & (1u << b) || filled_ == 0) {
      out.minhash[b] = mh_[b];
      continue;
    }
    for (size_t d = 1; d < kMinhashBins; ++d) {
      const size_t src = (b + d) % kMinhashBins;
      if (filled_ & (1u << src)) {
        out.minhash[b] = mh_[src] + static_cast<uint32_t>(d) * 0x9E3779B9u;
        break;
      }
    }
  }

  // Dominant script.
  uint16_t best = kScriptNone;
  uint32_t best_n = 0;
  for (uint16_t s = kScriptLatin; s <= kScriptOther; ++s) {
    if (script_[s] > best_n) {
      best_n = script_[s];
      best = s;
    }
  }
  out.script = best;
  if (first_person_) out.phrase_mask |= kFirstPerson;
}

}  // namespace

const char* ScriptBucketName(uint16_t script) {
  switch (script) {
    case kScriptNone:
      return "none";
    case kScriptLatin:
      return "latin";
    case kScriptCyrillic:
      return "cyrillic";
    case kScriptCjk:
      return "cjk";
    case kScriptArabic:
      return "arabic";
    default:
      return "other";
  }
}

namespace {

// The gear table of the chunker: one pseudo-random word per byte value (splitmix64).
constexpr std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> g{};
  uint64_t x = 0x6765617263686b73ULL;
  for (auto& v : g) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    v = z ^ (z >> 31);
  }
  return g;
}
constexpr std::array<uint64_t, 256> kGear = MakeGear();
// A boundary where the top 8 bits of the rolling hash are 0: a chunk ends about 256 bytes after
// kChunkMin. The gear hash shifts left, so its top bits depend on the last 64 bytes hashed; it
// starts at kChunkMin into each chunk, so from kChunkMin + 64 bytes on a boundary is a function
// of the content alone.
constexpr uint64_t kBoundaryMask = 0xFF00000000000000ULL;

// Keeps the kAnchors chunks of smallest key (the high half of their XXH3), sorted by key.
void ComputeAnchors(std::string_view text, TextFeatures& out) {
  out.bytes = static_cast<uint32_t>(std::min<size_t>(text.size(), UINT32_MAX));
  uint32_t keys[kAnchors];
  size_t kept = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t start = 0;
  while (start < n) {
    size_t end = std::min(n, start + kChunkMin);
    const size_t limit = std::min(n, start + kChunkMax);
    uint64_t h = 0;
    for (; end < limit; ++end) {
      h = (h << 1) + kGear[p[end]];
      if ((h & kBoundaryMask) == 0) {
        ++end;
        break;
      }
    }
    const uint64_t x = XXH3_64bits(p + start, end - start);
    const auto key = static_cast<uint32_t>(x >> 32);
    const auto len = static_cast<uint16_t>(end - start);
    if (kept < kAnchors || key < keys[kept - 1]) {
      size_t i = kept < kAnchors ? kept++ : kAnchors - 1;
      for (; i > 0 && keys[i - 1] > key; --i) {
        keys[i] = keys[i - 1];
        out.anchor_hash[i] = out.anchor_hash[i - 1];
        out.anchor_len[i] = out.anchor_len[i - 1];
      }
      keys[i] = key;
      out.anchor_hash[i] = static_cast<uint32_t>(x);
      out.anchor_len[i] = len;
    }
    start = end;
  }
}

}  // namespace

void ComputeTextFeatures(std::string_view text, TextFeatures& out) {
  std::memset(&out, 0, sizeof(out));
  Scanner(text).Run(out);
  ComputeAnchors(text, out);
}

uint64_t NormalisedHash(std::string_view text) {
  TextFeatures f;
  ComputeTextFeatures(text, f);
  return f.exact_hash;
}

uint64_t SkeletonHash(std::string_view text) {
  TextFeatures f;
  ComputeTextFeatures(text, f);
  return f.skeleton_hash;
}

double MinhashSimilarity(const uint32_t (&a)[kMinhashBins], const uint32_t (&b)[kMinhashBins]) {
  int eq = 0;
  for (size_t i = 0; i < kMinhashBins; ++i) eq += a[i] == b[i];
  return static_cast<double>(eq) / kMinhashBins;
}

double MinhashSimilarity(const TextFeatures& a, const TextFeatures& b) {
  return MinhashSimilarity(a.minhash, b.minhash);
}

TextFeaturizer::TextFeaturizer(const PhraseMatcherDb& db) : matcher_(db) { joined_.reserve(16384); }

void TextFeaturizer::Compute(std::string_view text, TextFeatures& out) {
  ComputeTextFeatures(text, out);
  out.phrase_mask |= matcher_.Match(text);
}

void TextFeaturizer::Compute(std::span<const std::string_view> parts, TextFeatures& out) {
  if (parts.size() == 1) return Compute(parts[0], out);
  joined_.clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) joined_.append(kPartSeparator);
    joined_.append(parts[i]);
  }
  Compute(std::string_view(joined_), out);
}

}  // namespace dg::features
