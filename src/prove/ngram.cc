// Word vocabulary and interpolated Kneser-Ney n-gram model; see ngram.h.
#include "prove/ngram.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dg::prove {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Sorted, counted n-grams of one order: `grams` holds n ids per entry, `counts` one per entry.
struct Counted {
  int n = 0;
  std::vector<uint32_t> grams;
  std::vector<uint32_t> counts;
  size_t size() const { return counts.size(); }
  std::span<const uint32_t> Gram(size_t i) const {
    return std::span<const uint32_t>(grams).subspan(i * static_cast<size_t>(n), n);
  }
};

// Sorts the n-grams of `flat` (stride n) and counts equal ones.
Counted SortCount(std::vector<uint32_t> flat, int n) {
  const size_t count = flat.size() / static_cast<size_t>(n);
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  auto gram = [&](uint32_t i) { return flat.data() + static_cast<size_t>(i) * n; };
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::lexicographical_compare(gram(a), gram(a) + n, gram(b), gram(b) + n);
  });
  Counted out;
  out.n = n;
  for (size_t k = 0; k < count; ++k) {
    const uint32_t* g = gram(order[k]);
    if (!out.counts.empty() &&
        std::equal(g, g + n, out.grams.data() + out.grams.size() - static_cast<size_t>(n))) {
      ++out.counts.back();
      continue;
    }
    out.grams.insert(out.grams.end(), g, g + n);
    out.counts.push_back(1);
  }
  return out;
}

// Chen & Goodman's discount from the counts of counts, kept inside (0.05, 0.95).
double Discount(const std::vector<uint32_t>& counts) {
  double n1 = 0, n2 = 0;
  for (uint32_t c : counts) {
    n1 += c == 1;
    n2 += c == 2;
  }
  if (n1 + 2 * n2 <= 0) return 0.75;
  return std::clamp(n1 / (n1 + 2 * n2), 0.05, 0.95);
}

}  // namespace

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c <= ' ') {
      ++i;
      continue;
    }
    if (!IsWordByte(c)) {
      out.emplace_back(1, static_cast<char>(c));
      ++i;
      continue;
    }
    std::string w;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      char ch = text[i++];
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      w.push_back(ch);
    }
    out.push_back(std::move(w));
  }
  return out;
}

WordVocab WordVocab::Build(const std::vector<std::vector<std::string>>& docs, int64_t size) {
  std::unordered_map<std::string, int64_t> freq;
  for (const auto& d : docs)
    for (const auto& w : d) ++freq[w];
  std::vector<std::pair<std::string, int64_t>> items(freq.begin(), freq.end());
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  WordVocab v;
  v.words_ = {"<|endoftext|>", "<unk>"};
  for (const auto& [w, n] : items) {
    if (static_cast<int64_t>(v.words_.size()) >= std::max<int64_t>(size, 2)) break;
    v.words_.push_back(w);
  }
  for (size_t i = 0; i < v.words_.size(); ++i) v.ids_.emplace(v.words_[i], i);
  return v;
}

int64_t WordVocab::Id(std::string_view word) const {
  auto it = ids_.find(std::string(word));
  return it == ids_.end() ? kUnknown : it->second;
}

std::vector<int64_t> WordVocab::Encode(const std::vector<std::string>& words) const {
  std::vector<int64_t> out;
  out.reserve(words.size());
  for (const auto& w : words) out.push_back(Id(w));
  return out;
}

NgramLm::NgramLm(int order, int64_t vocab_size)
    : order_(std::clamp(order, 1, kMaxOrder)),
      vocab_(std::max<int64_t>(vocab_size, 2)),
      unigram_(static_cast<size_t>(vocab_), 1.0 / static_cast<double>(vocab_)),
      levels_(static_cast<size_t>(order_ - 1)) {}

uint64_t NgramLm::ContextKey(std::span<const uint32_t> ctx) {
  return XXH3_64bits(ctx.data(), ctx.size() * sizeof(uint32_t));
}

const NgramLm::Node* NgramLm::Level::Find(uint64_t key) const {
  auto it = std::lower_bound(keys.begin(), keys.end(), key);
  if (it == keys.end() || *it != key) return nullptr;
  return &nodes[static_cast<size_t>(it - keys.begin())];
}

void NgramLm::Train(const std::vector<std::vector<int64_t>>& docs) {
  const int n_top = order_;
  trained_tokens_ = 0;
  std::vector<uint32_t> flat;
  for (const auto& d : docs) {
    std::vector<uint32_t> seq(static_cast<size_t>(n_top - 1), 0u);
    for (int64_t t : d) seq.push_back(static_cast<uint32_t>(std::clamp<int64_t>(t, 0, vocab_ - 1)));
    seq.push_back(0u);
    trained_tokens_ += static_cast<int64_t>(d.size()) + 1;
    for (size_t j = static_cast<size_t>(n_top - 1); j < seq.size(); ++j)
      flat.insert(flat.end(), seq.begin() + (j + 1 - n_top), seq.begin() + (j + 1));
  }
  // Counts per order, top down: raw counts at the top order, continuation counts (the number of
  // distinct one-token left extensions) below it, as Kneser-Ney prescribes.
  std::vector<Counted> by_order(static_cast<size_t>(n_top + 1));
  by_order[n_top] = SortCount(std::move(flat), n_top);
  for (int n = n_top - 1; n >= 1; --n) {
    const Counted& up = by_order[n + 1];
    std::vector<uint32_t> suffixes;
    suffixes.reserve(up.size() * n);
    for (size_t i = 0; i < up.size(); ++i) {
      auto g = up.Gram(i);
      suffixes.insert(suffixes.end(), g.begin() + 1, g.end());
    }
    by_order[n] = SortCount(std::move(suffixes), n);
  }
  // Unigram: discounted continuation counts interpolated with the uniform distribution.
  unigram_.assign(static_cast<size_t>(vocab_), 0.0);
  {
    const Counted& u = by_order[1];
    const double d = Discount(u.counts);
    double total = 0;
    for (uint32_t c : u.counts) total += c;
    const double types = static_cast<double>(u.size());
    const double uniform = total > 0 ? d * types / total / static_cast<double>(vocab_)
                                     : 1.0 / static_cast<double>(vocab_);
    for (double& p : unigram_) p = uniform;
    for (size_t i = 0; i < u.size(); ++i)
      unigram_[u.Gram(i)[0]] += (static_cast<double>(u.counts[i]) - d) / total;
  }
  levels_.assign(static_cast<size_t>(std::max(0, n_top - 1)), Level{});
  for (int n = 2; n <= n_top; ++n) {
    const Counted& c = by_order[n];
    Level& lv = levels_[static_cast<size_t>(n - 2)];
    lv.discount = Discount(c.counts);
    std::vector<std::pair<uint64_t, Node>> nodes;
    // n-grams are sorted, so each context's followers are one contiguous run.
    size_t i = 0;
    while (i < c.size()) {
      auto ctx = c.Gram(i).first(static_cast<size_t>(n - 1));
      Node node;
      node.begin = static_cast<uint32_t>(lv.followers.size());
      size_t j = i;
      while (j < c.size() && std::equal(ctx.begin(), ctx.end(), c.Gram(j).begin())) {
        lv.followers.push_back({c.Gram(j)[static_cast<size_t>(n - 1)], c.counts[j]});
        node.total += c.counts[j];
        ++node.distinct;
        ++j;
      }
      nodes.emplace_back(ContextKey(ctx), node);
      i = j;
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    lv.keys.reserve(nodes.size());
    lv.nodes.reserve(nodes.size());
    for (const auto& [k, node] : nodes) {
      lv.keys.push_back(k);
      lv.nodes.push_back(node);
    }
  }
}

void NgramLm::Distribution(std::span<const int64_t> history, std::vector<double>* p) const {
  p->assign(static_cast<size_t>(vocab_), 0.0);
  std::vector<uint32_t> ctx(static_cast<size_t>(std::max(order_ - 1, 0)), 0u);
  const size_t h = std::min(history.size(), ctx.size());
  for (size_t i = 0; i < h; ++i) {
    ctx[ctx.size() - h + i] =
        static_cast<uint32_t>(std::clamp<int64_t>(history[history.size() - h + i], 0, vocab_ - 1));
  }
  // Top order down: each order adds its discounted counts scaled by the back-off weights of the
  // orders above it; what is left goes to the unigram.
  double scale = 1.0;
  for (int n = order_; n >= 2; --n) {
    const Level& lv = levels_[static_cast<size_t>(n - 2)];
    auto c = std::span<const uint32_t>(ctx).last(static_cast<size_t>(n - 1));
    const Node* node = lv.Find(ContextKey(c));
    if (!node || node->total == 0) continue;
    const double inv = 1.0 / node->total;
    for (uint32_t k = 0; k < node->distinct; ++k) {
      const Follower& f = lv.followers[node->begin + k];
      (*p)[f.token] += scale * (static_cast<double>(f.count) - lv.discount) * inv;
    }
    scale *= lv.discount * node->distinct * inv;
  }
  for (size_t w = 0; w < p->size(); ++w) (*p)[w] += scale * unigram_[w];
}

}  // namespace dg::prove
