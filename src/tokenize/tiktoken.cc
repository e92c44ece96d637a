// Loading a tiktoken rank file ("<base64 token> <rank>" per line, the format of OpenAI's
// cl100k_base.tiktoken / o200k_base.tiktoken) with the split regex and special tokens of its
// encoding, copied from tiktoken's tiktoken_ext/openai_public.py (the cl100k_base pattern of
// tiktoken 0.7-0.9, which js-tiktoken also uses; a later rewrite ending in `\s++$|...|\s` splits
// whitespace at the very end of a text differently).
//
// tiktoken merges the adjacent pair whose concatenation has the lowest rank; here that becomes a
// merge table built from every split of every token into two tokens (pair -> rank and id of the
// whole), which is the same rule for the shared BPE core. Pieces that are whole tokens are looked
// up first, as tiktoken does; only regex matches are encoded (the regex covers all text).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "tokenize/tokenizer_impl.h"

namespace dg::tokenize {
namespace {

struct Encoding {
  std::string_view name;
  std::string_view pattern;
  std::vector<std::pair<std::string_view, uint32_t>> specials;
};

const std::vector<Encoding>& Encodings() {
  static const std::vector<Encoding> e = {
      {"cl100k_base",
       R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)",
       {{"<|endoftext|>", 100257},
        {"<|fim_prefix|>", 100258},
        {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260},
        {"<|endofprompt|>", 100276}}},
      {"o200k_base",
       R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
       {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}},
  };
  return e;
}

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with '=' padding. False on any other character or a bad length.
bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const unsigned char c = static_cast<unsigned char>(in[i + k]);
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = Base64Value(c)) < 0) {
        return false;
      }
    }
    const uint32_t w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>(w >> 16));
    if (pad < 2) out->push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::FromTiktoken(std::string_view ranks,
                                                   std::string_view encoding, std::string* err) {
  const Encoding* enc = nullptr;
  for (const Encoding& e : Encodings()) {
    if (e.name == encoding) enc = &e;
  }
  if (!enc) {
    *err = fmt::format("unknown tiktoken encoding \"{}\" (cl100k_base or o200k_base)", encoding);
    return nullptr;
  }
  auto im = std::make_unique<Impl>();
  im->name = std::string(enc->name);
  // Parse: every token's bytes, by rank.
  std::vector<std::pair<std::string, uint32_t>> tokens;
  const size_t lines = static_cast<size_t>(std::count(ranks.begin(), ranks.end(), '\n')) + 1;
  tokens.reserve(lines);
  im->bpe.Reserve(lines, 0);
  size_t pos = 0, lineno = 0;
  std::string bytes;
  while (pos < ranks.size()) {
    size_t end = ranks.find('\n', pos);
    if (end == std::string_view::npos) end = ranks.size();
    std::string_view line = ranks.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    uint32_t rank = 0;
    if (sp == std::string_view::npos) {
      *err = fmt::format("line {}: expected \"<base64> <rank>\"", lineno);
      return nullptr;
    }
    std::string_view r = line.substr(sp + 1);
    auto [p, ec] = std::from_chars(r.data(), r.data() + r.size(), rank);
    if (ec != std::errc() || p != r.data() + r.size() || rank > Tokenizer::kMaxTokenId) {
      *err = fmt::format("line {}: bad rank \"{}\" (a number up to {})", lineno, r,
                         Tokenizer::kMaxTokenId);
      return nullptr;
    }
    if (!Base64Decode(line.substr(0, sp), &bytes)) {
      *err = fmt::format("line {}: bad base64 \"{}\"", lineno, line.substr(0, sp));
      return nullptr;
    }
    if (im->bpe.Find(bytes)) {
      *err = fmt::format("line {}: token listed twice", lineno);
      return nullptr;
    }
    im->bpe.AddToken(bytes, rank);
    im->SetDecode(rank, bytes);
    tokens.emplace_back(bytes, rank);
  }
  for (int b = 0; b < 256; ++b) {
    if (!im->bpe.Find(std::string(1, static_cast<char>(b)))) {
      *err = fmt::format("the rank file has no token for byte 0x{:02X}", b);
      return nullptr;
    }
  }
  // Pair table: every split of a token into two tokens merges into it at its rank (about three
  // pairs per token in cl100k/o200k).
  im->bpe.Reserve(0, tokens.size() * 3);
  for (const auto& [tok, rank] : tokens) {
    const std::string_view t = tok;
    for (size_t k = 1; k < t.size(); ++k) {
      auto l = im->bpe.Find(t.substr(0, k));
      if (!l) continue;
      auto r = im->bpe.Find(t.substr(k));
      if (r) im->bpe.AddMerge(*l, *r, rank, rank);
    }
  }
  im->bpe.set_direct_lookup(true);
  PreTokenStep step;
  step.regex = Regex::Compile(enc->pattern, false, err);
  if (!step.regex) return nullptr;
  // Only matches are encoded: the inverted "Removed" behaviour keeps exactly the matches.
  step.behavior = SplitBehavior::kRemoved;
  step.invert = true;
  im->steps.push_back(std::move(step));
  for (const auto& [content, id] : enc->specials) {
    AddedToken t;
    t.content = std::string(content);
    t.id = id;
    t.special = true;
    im->SetDecode(id, content);
    im->added.push_back(std::move(t));
  }
  if (!im->BuildMatchers(err)) return nullptr;
  return Impl::Wrap(std::move(im));
}

}  // namespace dg::tokenize
