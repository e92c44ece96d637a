// GPT-2's byte-level alphabet: every byte maps to one printable code point (the printable Latin-1
// bytes to themselves, the other 68 to U+0100..U+0143), so a byte-level BPE vocabulary can be
// stored as text. tokenizer.json vocabularies and merges are written in this alphabet; the
// tokenizer works on raw bytes, so the loader maps them back once.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace dg::tokenize {

// The code point byte b is written as.
const std::array<uint32_t, 256>& ByteLevelCodepoints();
// Maps raw bytes to their byte-level text (UTF-8).
std::string ByteLevelEncode(std::string_view bytes);
// Maps byte-level text back to raw bytes. False if `text` is not valid UTF-8 or holds a code
// point outside the alphabet (such vocabulary entries, e.g. DeepSeek's "<｜begin▁of▁sentence｜>",
// can only be reached as added tokens).
bool ByteLevelDecode(std::string_view text, std::string* bytes);

// Decodes the UTF-8 sequence at s[*i] (valid UTF-8 assumed checked by the caller unless `ok`
// is given) and advances *i. On an invalid sequence sets *ok = false and advances by one byte.
uint32_t NextCodepoint(std::string_view s, size_t* i, bool* ok = nullptr);
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace dg::tokenize
