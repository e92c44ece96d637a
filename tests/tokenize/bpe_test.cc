// The BPE core: merge order (lowest rank, leftmost), the linear and heap algorithms agreeing,
// direct lookup, unknown bytes; and the byte-level alphabet.
#include "tokenize/bpe.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tokenize/byte_level.h"

namespace dg::tokenize {
namespace {

// Bytes 'a'.. as ids 0.., merges added by the test.
Bpe Letters(int n) {
  Bpe b;
  for (int i = 0; i < n; ++i) b.AddToken(std::string(1, static_cast<char>('a' + i)), i);
  return b;
}

std::vector<uint32_t> Enc(const Bpe& b, std::string_view s) {
  std::vector<uint32_t> out;
  b.Encode(s, &out);
  return out;
}

TEST(Bpe, LowestRankFirstThenLeftmost) {
  Bpe b = Letters(3);  // a=0 b=1 c=2
  b.AddToken("ab", 10);
  b.AddToken("bc", 11);
  b.AddToken("abc", 12);
  b.AddMerge(1, 2, 0, 11);   // b c -> bc, rank 0: beats a b
  b.AddMerge(0, 1, 1, 10);   // a b -> ab, rank 1
  b.AddMerge(10, 2, 2, 12);  // ab c -> abc (never reached: bc merges first)
  EXPECT_EQ(Enc(b, "abc"), (std::vector<uint32_t>{0, 11}));
  b.AddMerge(0, 11, 3, 12);  // a bc -> abc
  EXPECT_EQ(Enc(b, "abc"), (std::vector<uint32_t>{12}));
  // Equal ranks: the leftmost pair merges first. "aaa" -> aa a.
  Bpe c = Letters(1);
  c.AddToken("aa", 5);
  c.AddMerge(0, 0, 0, 5);
  EXPECT_EQ(Enc(c, "aaa"), (std::vector<uint32_t>{5, 0}));
  EXPECT_EQ(Enc(c, "aaaa"), (std::vector<uint32_t>{5, 5}));
}

TEST(Bpe, DirectLookupAndUnknownBytes) {
  Bpe b = Letters(2);
  b.AddToken("ab", 7);  // in the vocabulary but not reachable by merges
  EXPECT_EQ(Enc(b, "ab"), (std::vector<uint32_t>{0, 1}));
  b.set_direct_lookup(true);
  EXPECT_EQ(Enc(b, "ab"), (std::vector<uint32_t>{7}));
  // 'z' has no entry: dropped without an unk token, unk (fused) with one.
  EXPECT_EQ(Enc(b, "azzb"), (std::vector<uint32_t>{0, 1}));
  b.set_unknown(99, /*fuse=*/true);
  EXPECT_EQ(Enc(b, "azzb"), (std::vector<uint32_t>{0, 99, 1}));
  b.set_unknown(99, /*fuse=*/false);
  EXPECT_EQ(Enc(b, "azzb"), (std::vector<uint32_t>{0, 99, 99, 1}));
}

// Random merge tables over a 4-letter alphabet; both algorithms, on pieces of every length up to
// 200 (across the switch between them), must agree with a naive reference.
TEST(Bpe, LinearAndHeapAgreeWithNaiveMerging) {
  std::mt19937 rng(12345);
  for (int table = 0; table < 30; ++table) {
    Bpe b = Letters(4);
    std::vector<std::string> tokens = {"a", "b", "c", "d"};
    std::map<std::pair<uint32_t, uint32_t>, std::pair<uint32_t, uint32_t>> merges;
    for (uint32_t rank = 0; rank < 40; ++rank) {
      const uint32_t l = rng() % tokens.size(), r = rng() % tokens.size();
      if (merges.count({l, r})) continue;
      const auto id = static_cast<uint32_t>(tokens.size());
      tokens.push_back(tokens[l] + tokens[r]);
      b.AddToken(tokens.back(), id);
      b.AddMerge(l, r, rank, id);
      merges[{l, r}] = {rank, id};
    }
    for (int len = 1; len <= 200; len += (len < 60 ? 1 : 17)) {
      std::string s;
      for (int i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + rng() % 4));
      // Naive: repeatedly merge the lowest-rank, leftmost pair.
      std::vector<uint32_t> naive;
      for (char ch : s) naive.push_back(static_cast<uint32_t>(ch - 'a'));
      for (;;) {
        size_t best = SIZE_MAX;
        uint32_t best_rank = UINT32_MAX;
        for (size_t i = 0; i + 1 < naive.size(); ++i) {
          auto it = merges.find({naive[i], naive[i + 1]});
          if (it != merges.end() && it->second.first < best_rank) {
            best_rank = it->second.first;
            best = i;
          }
        }
        if (best == SIZE_MAX) break;
        naive[best] = merges[{naive[best], naive[best + 1]}].second;
        naive.erase(naive.begin() + static_cast<ptrdiff_t>(best) + 1);
      }
      std::vector<uint32_t> lin, heap;
      b.EncodeLinear(s, &lin);
      b.EncodeHeap(s, &heap);
      ASSERT_EQ(lin, naive) << "table " << table << " piece " << s;
      ASSERT_EQ(heap, naive) << "table " << table << " piece " << s;
    }
  }
}

TEST(ByteLevel, Gpt2Alphabet) {
  const auto& t = ByteLevelCodepoints();
  EXPECT_EQ(t[' '], 0x120u);   // 'Ġ'
  EXPECT_EQ(t['\n'], 0x10Au);  // 'Ċ'
  EXPECT_EQ(t['!'], static_cast<uint32_t>('!'));
  EXPECT_EQ(t[0xAD], 0x143u);  // soft hyphen is the last remapped byte
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string back;
  ASSERT_TRUE(ByteLevelDecode(ByteLevelEncode(all), &back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(ByteLevelEncode(" the"), "\xC4\xA0the");
  EXPECT_FALSE(ByteLevelDecode("\xEF\xBD\x9C", &back));  // '｜' is outside the alphabet
}

}  // namespace
}  // namespace dg::tokenize
