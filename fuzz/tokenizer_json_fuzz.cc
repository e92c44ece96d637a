// libFuzzer target for the tokenizer.json loader (tokenize::Tokenizer::FromHuggingFaceJson, what
// `--tokenizer FILE` loads), followed by encoding a few texts with whatever loaded. The input
// bytes are the file's text. A bad file must give a null tokenizer and a non-empty message; a
// crash, an exception or a sanitizer report is a finding. Invariants for a tokenizer that loads:
// every id it encodes is below vocab_size(), and encoding the same text twice gives the same ids.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::string err;
  auto tok = dg::tokenize::Tokenizer::FromHuggingFaceJson(json, &err);
  if (!tok) {
    if (err.empty()) std::abort();
    return 0;
  }
  static const char* kTexts[] = {"", "Hello, world! It's 42.", "  \n\n\t x",
                                 "\xE4\xBD\xA0\xE5\xA5\xBD <|end|> \xF0\x9F\x98\x80"};
  for (const char* text : kTexts) {
    for (bool special : {true, false}) {
      std::vector<uint32_t> a, b;
      std::string e1, e2;
      const bool ok1 = tok->Encode(text, &a, &e1, {special});
      const bool ok2 = tok->Encode(text, &b, &e2, {special});
      if (ok1 != ok2 || a != b) std::abort();
      if (!ok1 && e1.empty()) std::abort();
      for (uint32_t id : a) {
        if (id >= tok->vocab_size()) std::abort();
      }
      (void)tok->Decode(a);
    }
  }
  return 0;
}
