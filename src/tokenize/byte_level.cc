// See byte_level.h. The table is GPT-2's bytes_to_unicode() (openai/gpt-2 encoder.py).
#include "tokenize/byte_level.h"

namespace dg::tokenize {

const std::array<uint32_t, 256>& ByteLevelCodepoints() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      t[b] = printable ? b : 256 + extra++;
    }
    return t;
  }();
  return table;
}

namespace {

// Inverse of the table over U+0000..U+0143; -1 outside the alphabet.
const std::array<int16_t, 0x144>& Inverse() {
  static const std::array<int16_t, 0x144> inv = [] {
    std::array<int16_t, 0x144> t;
    t.fill(-1);
    const auto& fwd = ByteLevelCodepoints();
    for (int b = 0; b < 256; ++b) t[fwd[b]] = static_cast<int16_t>(b);
    return t;
  }();
  return inv;
}

}  // namespace

uint32_t NextCodepoint(std::string_view s, size_t* i, bool* ok) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned char c = p[*i];
  size_t len;
  uint32_t cp, min_cp;
  if (c < 0x80) {
    ++*i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min_cp = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min_cp = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min_cp = 0x10000;
  } else {
    len = 0, cp = 0, min_cp = 0;
  }
  bool good = len > 0 && *i + len <= n;
  for (size_t k = 1; good && k < len; ++k) {
    if ((p[*i + k] & 0xC0) != 0x80) good = false;
    cp = (cp << 6) | (p[*i + k] & 0x3F);
  }
  if (good && (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) good = false;
  if (!good) {
    if (ok) *ok = false;
    ++*i;
    return 0xFFFD;
  }
  *i += len;
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string ByteLevelEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  const auto& fwd = ByteLevelCodepoints();
  for (unsigned char b : bytes) AppendUtf8(fwd[b], &out);
  return out;
}

bool ByteLevelDecode(std::string_view text, std::string* bytes) {
  bytes->clear();
  const auto& inv = Inverse();
  size_t i = 0;
  while (i < text.size()) {
    bool ok = true;
    const uint32_t cp = NextCodepoint(text, &i, &ok);
    if (!ok || cp >= inv.size() || inv[cp] < 0) return false;
    bytes->push_back(static_cast<char>(inv[cp]));
  }
  return true;
}

}  // namespace dg::tokenize
