// Micro-benchmark of linking (issue 7): Linker::Post for 100k and 1M accounts posting the
// indicators the engine posts at a barrier, with realistic sharing:
//   payment      unique per account, except company / attacker groups of 2-12 sharing one card
//   email domain Zipf over 20k domains (gmail.com and friends become "common" past the cap)
//   /24 network  Zipf over 300k prefixes (offices and cloud subnets shared, homes unique)
//   client stack Zipf over 200 TLS fingerprint + user-agent combinations (mostly common)
//   system text  30% of accounts, Zipf over 50k prompts
//   template     60% of accounts, Zipf over 100k skeletons; 10% also template + parameters
// Reports posts/s and the linker's memory figures (pairs, posting entries, values) as counters.
// A value shared by h accounts adds ~h²/2 pairs before it becomes "common" (h > its kind's
// max_postings, 200 for most kinds), so mid-frequency values (small ISPs' e-mail domains,
// residential /24s) fill the pair table: `pairs_full` says whether it reached max_pairs.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "linking/linker.h"

namespace {

using dg::linking::IndicatorKind;
using dg::linking::Linker;

struct Post {
  uint32_t account;
  IndicatorKind kind;
  uint64_t value;
};

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Zipf {
 public:
  Zipf(size_t n, uint64_t salt) : hn_(std::log(static_cast<double>(n)) + 0.5772), n_(n), salt_(salt) {}
  uint64_t Draw(uint64_t& state) const {
    state = Mix(state);
    double r = static_cast<double>(state >> 11) / 9007199254740992.0;
    return Mix((static_cast<uint64_t>(std::exp(r * hn_)) % n_) ^ salt_);
  }

 private:
  double hn_;
  size_t n_;
  uint64_t salt_;
};

std::vector<Post> MakePosts(uint32_t accounts) {
  std::vector<Post> posts;
  posts.reserve(static_cast<size_t>(accounts) * 6);
  const Zipf email(20000, 1), net(300000, 2), stack(200, 3), sys(50000, 4), tmpl(100000, 5);
  uint64_t rng = 12345;
  uint64_t card = 0;
  uint32_t group_left = 0;
  for (uint32_t a = 0; a < accounts; ++a) {
    rng = Mix(rng);
    if (group_left == 0) {
      card = Mix(a ^ 0xCA4D);
      group_left = (rng % 10 == 0) ? 2 + static_cast<uint32_t>((rng >> 8) % 11) : 1;
    }
    --group_left;
    posts.push_back({a, dg::linking::kPayment, card});
    posts.push_back({a, dg::linking::kEmailDomain, email.Draw(rng)});
    posts.push_back({a, dg::linking::kIpPrefix, net.Draw(rng)});
    posts.push_back({a, dg::linking::kClientStack, stack.Draw(rng)});
    if (rng % 10 < 3) posts.push_back({a, dg::linking::kSystemPrompt, sys.Draw(rng)});
    if (rng % 10 < 6) {
      uint64_t t = tmpl.Draw(rng);
      posts.push_back({a, dg::linking::kTemplate, t});
      if (rng % 10 == 0) posts.push_back({a, dg::linking::kTemplateParams, Mix(t ^ 77)});
    }
  }
  return posts;
}

void BM_LinkerPost(benchmark::State& state) {
  const auto accounts = static_cast<uint32_t>(state.range(0));
  const auto posts = MakePosts(accounts);
  size_t pairs = 0, entries = 0, values = 0, roots = 0;
  for (auto _ : state) {
    Linker linker;
    for (uint32_t a = 0; a < accounts; ++a) linker.AddAccount();
    for (const auto& p : posts) linker.Post(p.account, p.kind, p.value);
    roots = linker.TakeMergedRoots().size();
    pairs = linker.pairs();
    entries = linker.posting_entries();
    values = linker.values();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * posts.size()));
  state.counters["pairs"] = static_cast<double>(pairs);
  state.counters["posting_entries"] = static_cast<double>(entries);
  state.counters["values"] = static_cast<double>(values);
  state.counters["merged_clusters"] = static_cast<double>(roots);
  // 1 when the pair table reached LinkerOptions::max_pairs (new pairs are then dropped).
  state.counters["pairs_full"] = pairs >= dg::linking::LinkerOptions{}.max_pairs ? 1 : 0;
}
BENCHMARK(BM_LinkerPost)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond)->Iterations(1);

// Re-posting the same values (an account's indicators at every barrier it is touched): the
// idempotent path.
void BM_LinkerRepost(benchmark::State& state) {
  const uint32_t accounts = 100000;
  const auto posts = MakePosts(accounts);
  Linker linker;
  for (uint32_t a = 0; a < accounts; ++a) linker.AddAccount();
  for (const auto& p : posts) linker.Post(p.account, p.kind, p.value);
  size_t i = 0;
  for (auto _ : state) {
    const auto& p = posts[i++ % posts.size()];
    linker.Post(p.account, p.kind, p.value);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LinkerRepost);

}  // namespace
