// BlockReader: lines across block boundaries, oversized lines skipped in streaming fashion with
// their line numbers, CRLF, a last line without newline; compressed streams.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "ingest/input.h"
#include "testutil/testutil.h"

namespace dg::ingest {
namespace {

class MemStream final : public ByteStream {
 public:
  explicit MemStream(std::string d) : d_(std::move(d)) {}
  int64_t Read(char* buf, size_t n) override {
    size_t k = std::min({n, d_.size() - pos_, size_t{7}});  // tiny reads too
    std::memcpy(buf, d_.data() + pos_, k);
    pos_ += k;
    return static_cast<int64_t>(k);
  }
  const std::string& error() const override { return err_; }
  uint64_t raw_bytes_read() const override { return pos_; }

 private:
  std::string d_, err_;
  size_t pos_ = 0;
};

struct Lines {
  std::vector<std::pair<uint64_t, std::string>> lines;
  std::vector<OversizedLine> oversized;
};

Lines ReadAll(const std::string& data, size_t block, size_t cap) {
  BlockReader r(std::make_unique<MemStream>(data), block, cap);
  Block b;
  Lines out;
  while (r.Next(b)) {
    for (auto& o : b.oversized) out.oversized.push_back(o);
    uint64_t n = b.first_line;
    std::string_view s(b.buf.data(), b.len);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t nl = s.find('\n', pos);
      out.lines.emplace_back(n++, std::string(s.substr(pos, nl == s.npos ? s.npos : nl - pos)));
      pos = nl == s.npos ? s.size() : nl + 1;
    }
    EXPECT_EQ(n, b.first_line + b.n_lines);
  }
  for (auto& o : b.oversized) out.oversized.push_back(o);
  return out;
}

TEST(BlockReaderTest, LinesSurviveTinyBlocksAndOversizedLinesAreSkippedWithTheirNumbers) {
  std::string data = "a1\r\nbb2\n" + std::string(300, 'x') + "\nccc3\n\n" + std::string(1000, 'y') +
                     "\nlast-without-newline";
  for (size_t block : {16, 64, 4096}) {
    auto got = ReadAll(data, block, 100);
    // A line longer than the cap is either skipped by the reader (when it does not fit a
    // block) or delivered whole for the parser to reject; never split or lost.
    std::map<uint64_t, uint64_t> too_long;
    for (auto& o : got.oversized) too_long[o.line] = o.bytes;
    std::vector<std::pair<uint64_t, std::string>> kept;
    for (auto& [n, l] : got.lines) {
      if (l.size() > 100) {
        too_long[n] = l.size();
      } else {
        kept.emplace_back(n, l);
      }
    }
    std::map<uint64_t, uint64_t> want_long = {{3, 300}, {6, 1000}};
    EXPECT_EQ(too_long, want_long) << block;
    std::vector<std::pair<uint64_t, std::string>> want = {
        {1, "a1\r"}, {2, "bb2"}, {4, "ccc3"}, {5, ""}, {7, "last-without-newline"}};
    EXPECT_EQ(kept, want) << block;
  }
  // Small blocks force the streaming skip.
  EXPECT_EQ(ReadAll(data, 16, 100).oversized.size(), 2u);
}

TEST(BlockReaderTest, GzipConcatenatedMembersAndZstdDecode) {
  auto dir = testutil::TempDir("reader");
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "{\"n\":" + std::to_string(i) + "}\n";
  testutil::WriteAll(dir / "t.jsonl", text);
  const std::string p = (dir / "t.jsonl").string();
  ASSERT_EQ(testutil::Run(fmt::format("head -c 40000 {0} | gzip -c > {0}.gz && tail -c +40001 {0} "
                                      "| gzip -c >> {0}.gz && zstd -q -c {0} > {0}.zst",
                                      p))
                .exit_code,
            0);
  for (const std::string& suffix : {".gz", ".zst"}) {
    std::string err;
    Compression c;
    auto s = OpenByteStream(p + suffix, &err, &c);
    ASSERT_TRUE(s) << err;
    EXPECT_EQ(c, suffix == ".gz" ? Compression::kGzip : Compression::kZstd);
    BlockReader r(std::move(s), 1 << 12, 1 << 10);
    Block b;
    std::string all;
    while (r.Next(b)) all.append(b.buf.data(), b.len);
    EXPECT_TRUE(r.error().empty()) << r.error();
    EXPECT_EQ(all, text) << suffix;
  }
  std::string err;
  EXPECT_FALSE(OpenByteStream((dir / "missing").string(), &err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dg::ingest
