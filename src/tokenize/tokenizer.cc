// Encoding and decoding over the loaded parts (see tokenizer.h); loading is in hf_json.cc and
// tiktoken.cc.
#include "tokenize/tokenizer.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <fstream>

#include "tokenize/byte_level.h"
#include "tokenize/tokenizer_impl.h"

namespace dg::tokenize {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

uint32_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
const std::string& Tokenizer::name() const { return impl_->name; }

void Tokenizer::Impl::SetDecode(uint32_t id, std::string_view bytes) {
  if (id >= id_bytes.size()) {
    id_bytes.resize(static_cast<size_t>(id) + 1);
    known.resize(static_cast<size_t>(id) + 1, false);
  }
  if (!known[id]) {
    id_bytes[id] = std::string(bytes);
    known[id] = true;
  }
  if (id + 1 > vocab_size) vocab_size = id + 1;
}

bool Tokenizer::Impl::BuildMatchers(std::string* err) {
  std::vector<const AddedToken*> raw, norm;
  std::vector<std::string> raw_c, norm_c;
  for (const AddedToken& t : added) {
    if (t.content.empty()) continue;
    if (t.normalized) {
      // Matched in the normalised text, after the raw-text tokens are cut out (two passes, as
      // Hugging Face does, even without a normalizer).
      std::string c = t.content;
      if (!normalizer.empty() && !Normalize(t.content, normalizer, &c, err)) return false;
      norm.push_back(&t);
      norm_c.push_back(std::move(c));
    } else {
      raw.push_back(&t);
      raw_c.push_back(t.content);
    }
  }
  raw_matcher.Build(raw, raw_c);
  normalized_matcher.Build(norm, norm_c);
  return true;
}

bool Tokenizer::Impl::EncodeText(std::string_view text, std::vector<uint32_t>* ids,
                                 std::string* err) const {
  thread_local std::vector<std::string_view> pieces;
  std::vector<std::unique_ptr<std::string>> arena;
  if (!PreTokenize(text, steps, &pieces, &arena, err)) return false;
  for (std::string_view p : pieces) bpe.Encode(p, ids);
  return true;
}

size_t FirstInvalidUtf8(std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) return std::string_view::npos;
  size_t i = 0;
  while (i < s.size()) {
    const size_t at = i;
    bool ok = true;
    NextCodepoint(s, &i, &ok);
    if (!ok) return at;
  }
  return std::string_view::npos;
}

size_t ReplaceInvalidUtf8(std::string* s) {
  if (FirstInvalidUtf8(*s) == std::string_view::npos) return 0;
  // Maximal subparts: a lead byte followed by the longest valid prefix of a sequence is one
  // error; any other invalid byte is one error each.
  std::string out;
  out.reserve(s->size() + 8);
  size_t n = 0, i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  const size_t len = s->size();
  while (i < len) {
    size_t j = i;
    bool ok = true;
    NextCodepoint(*s, &j, &ok);
    if (ok) {
      out.append(*s, i, j - i);
      i = j;
      continue;
    }
    // Length of the maximal subpart starting at i (at least 1).
    const unsigned char c = p[i];
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    size_t k = i + 1;
    if (need > 0 && k < len && p[k] >= lo && p[k] <= hi) {
      ++k;
      while (k < len && k < i + 1 + need && p[k] >= 0x80 && p[k] <= 0xBF) ++k;
    }
    out += "\xEF\xBF\xBD";
    ++n;
    i = k;
  }
  s->swap(out);
  return n;
}

bool Tokenizer::Encode(std::string_view text, std::vector<uint32_t>* ids, std::string* err,
                       const EncodeOptions& options) const {
  const size_t bad = FirstInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    *err = fmt::format("invalid UTF-8 at byte {}", bad);
    return false;
  }
  const Impl& im = *impl_;
  const size_t size0 = ids->size();
  auto fail = [&] {
    ids->resize(size0);
    return false;
  };
  std::vector<Segment> raw;
  if (im.raw_matcher.empty()) {
    raw.push_back({0, text.size(), -1});
  } else {
    im.raw_matcher.Split(text, options.match_special, &raw);
  }
  std::string normalized;
  std::vector<Segment> inner;
  for (const Segment& seg : raw) {
    if (seg.id >= 0) {
      ids->push_back(static_cast<uint32_t>(seg.id));
      continue;
    }
    std::string_view part = text.substr(seg.start, seg.end - seg.start);
    if (!im.normalizer.empty()) {
      if (!Normalize(part, im.normalizer, &normalized, err)) return fail();
      part = normalized;
    }
    if (im.normalized_matcher.empty()) {
      if (!im.EncodeText(part, ids, err)) return fail();
      continue;
    }
    inner.clear();
    im.normalized_matcher.Split(part, options.match_special, &inner);
    for (const Segment& s : inner) {
      if (s.id >= 0) {
        ids->push_back(static_cast<uint32_t>(s.id));
      } else if (!im.EncodeText(part.substr(s.start, s.end - s.start), ids, err)) {
        return fail();
      }
    }
  }
  return true;
}

std::string Tokenizer::Decode(std::span<const uint32_t> ids, size_t* unknown) const {
  std::string out;
  size_t unk = 0;
  for (uint32_t id : ids) {
    if (id < impl_->known.size() && impl_->known[id]) {
      out += impl_->id_bytes[id];
    } else {
      ++unk;
    }
  }
  if (unknown) *unknown = unk;
  return out;
}

std::unique_ptr<Tokenizer> Tokenizer::Load(const std::string& path, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = fmt::format("cannot open {}", path);
    return nullptr;
  }
  std::string data;
  in.seekg(0, std::ios::end);
  data.resize(static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0)));
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) {
    *err = fmt::format("cannot read {}", path);
    return nullptr;
  }
  const size_t first = data.find_first_not_of(" \t\r\n");
  std::unique_ptr<Tokenizer> t;
  if (first != std::string::npos && data[first] == '{') {
    t = FromHuggingFaceJson(data, err);
  } else {
    // The encoding from the file name, else from the number of ranks.
    const std::string base = path.substr(path.find_last_of('/') + 1);
    std::string encoding;
    if (base.find("cl100k_base") != std::string::npos) {
      encoding = "cl100k_base";
    } else if (base.find("o200k_base") != std::string::npos) {
      encoding = "o200k_base";
    } else {
      size_t lines = 0;
      for (char c : data) lines += c == '\n';
      if (!data.empty() && data.back() != '\n') ++lines;
      if (lines == 100256) encoding = "cl100k_base";
      if (lines == 199998) encoding = "o200k_base";
    }
    if (encoding.empty()) {
      *err = fmt::format(
          "{}: not a tokenizer.json, and not recognisable as a tiktoken rank file of cl100k_base "
          "or o200k_base (put the encoding name in the file name)",
          path);
      return nullptr;
    }
    t = FromTiktoken(data, encoding, err);
  }
  if (!t) *err = fmt::format("{}: {}", path, *err);
  return t;
}

}  // namespace dg::tokenize
