// Helpers shared by tests: temp dirs, running the real binary, reading report JSON, and a small
// deterministic generator of exchange-log traffic with known attackers.
#pragma once

#include <fmt/format.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_writer.h"
#include "common/rng.h"
#include "common/time.h"

namespace dg::testutil {

// A deterministic block of English-like text of at least `bytes` bytes: words of a small
// vocabulary, a sentence break now and then. Different seeds give different blocks.
inline std::string WordBlock(uint64_t seed, size_t bytes) {
  static const char* const kWords[] = {
      "the",     "answer",  "apples",    "train", "station", "because", "total",
      "each",    "minutes", "Question:", "step",  "so",      "she",     "buys",
      "dollars", "A:",      "more",      "than",  "half",    "of"};
  std::string s;
  while (s.size() < bytes) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    s += kWords[(seed >> 33) % 20];
    s += (seed >> 60) == 0 ? ".\n" : " ";
  }
  return s;
}

// A fresh directory for one test, removed with everything in it when the test's scope ends
// (set DG_KEEP_TEST_DIRS=1 to keep it for a post-mortem). It is a path: `dir / "events.jsonl"`.
class ScopedTempDir : public std::filesystem::path {
 public:
  explicit ScopedTempDir(std::filesystem::path p) : std::filesystem::path(std::move(p)) {
    std::filesystem::remove_all(*this);
    std::filesystem::create_directories(*this);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  ~ScopedTempDir() {
    if (std::getenv("DG_KEEP_TEST_DIRS")) return;
    std::error_code ec;  // a destructor must not throw; a leftover directory is harmless
    std::filesystem::remove_all(*this, ec);
  }
};

inline ScopedTempDir TempDir(const std::string& name) {
  return ScopedTempDir(std::filesystem::temp_directory_path() /
                       fmt::format("dg-test-{}-{}", name, ::getpid()));
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr goes to the test log).
inline CommandResult Run(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A gzip member holding `plain` (request bodies with Content-Encoding: gzip).
inline std::string Gzip(std::string_view plain) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, plain.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  out << data;
}

// One exchange-log line.
struct ExchangeSpec {
  TimeUs ts = 0;
  std::string account;
  std::string end_user;
  std::string api_key;  // api_key_id, when not empty
  std::string ip = "198.51.100.7";
  std::string user_agent = "OpenAI/Python 1.54.3";
  std::string system;
  std::string prompt;
  int completion_tokens = 100;
  int prompt_tokens = 50;
  int n = 1;
  double temperature = 0.7;
  int top_logprobs = 0;
  int logit_bias = 0;
  int max_tokens = -1;
};

inline std::string ExchangeLine(const ExchangeSpec& s) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Field("ts", FormatRfc3339(s.ts));
  w.Field("account_id", s.account);
  if (!s.end_user.empty()) w.Field("end_user", s.end_user);
  if (!s.api_key.empty()) w.Field("api_key_id", s.api_key);
  w.Field("client_ip", s.ip);
  w.Field("user_agent", s.user_agent);
  w.Field("endpoint", std::string("/v1/chat/completions"));
  w.Key("request").BeginObject();
  w.Field("model", std::string("gpt-4o"));
  w.Key("messages").BeginArray();
  if (!s.system.empty()) {
    w.BeginObject().Field("role", std::string("system")).Field("content", s.system).EndObject();
  }
  w.BeginObject().Field("role", std::string("user")).Field("content", s.prompt).EndObject();
  w.EndArray();
  if (s.n != 1) w.Field("n", s.n);
  w.Key("temperature").Double(s.temperature);
  if (s.top_logprobs) {
    w.Field("logprobs", true);
    w.Field("top_logprobs", s.top_logprobs);
  }
  if (s.logit_bias) {
    w.Key("logit_bias").BeginObject();
    for (int i = 0; i < s.logit_bias; ++i) w.Field(std::to_string(1000 + i), -100);
    w.EndObject();
  }
  if (s.max_tokens >= 0) w.Field("max_tokens", s.max_tokens);
  w.EndObject();
  w.Key("response").BeginObject();
  w.Field("status", 200);
  w.Key("usage").BeginObject();
  w.Field("prompt_tokens", s.prompt_tokens);
  w.Field("completion_tokens", s.completion_tokens);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return out;
}

// A small, deterministic day of traffic: `benign` ordinary accounts plus four attackers
// (CoT harvester, logprob extractor, a 6-account template hydra on one payment method), time
// ordered. Returns JSONL; `accounts_jsonl` receives the registry.
// With `tenant`, also a router account serving 30 end users, one of them a heavy harvester (so
// end users are promoted to their own states and one is flagged).
inline std::string SmallTraffic(uint64_t seed, int benign, std::string* accounts_jsonl,
                                int events_per_benign = 40, bool tenant = false) {
  Rng rng(seed);
  struct Ev {
    TimeUs ts;
    std::string line;
  };
  std::vector<Ev> evs;
  const TimeUs t0 = *ParseRfc3339("2025-03-03T00:00:00Z");
  auto add = [&](ExchangeSpec s) { evs.push_back({s.ts, ExchangeLine(s)}); };
  static const char* kTopics[] = {
      "my garden",      "a birthday party", "python lists",  "tax forms", "a cover letter",
      "rust lifetimes", "a trip to Lisbon", "my cat's diet", "SQL joins", "a wedding toast"};
  std::string reg;
  for (int a = 0; a < benign; ++a) {
    std::string acct = fmt::format("user-{:03}", a);
    reg +=
        fmt::format(
            R"({{"account_id":"{}","created_at":"2024-0{}-01T00:00:00Z","payment_fingerprint":"pm_u{}","email_domain":"example{}.com"}})",
            acct, 1 + a % 9, a, a) +
        "\n";
    int n = static_cast<int>(rng.Range(events_per_benign / 2, events_per_benign * 3 / 2));
    for (int i = 0; i < n; ++i) {
      ExchangeSpec s;
      s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 86400)) * kUsPerSec;
      s.account = acct;
      s.ip = fmt::format("192.0.2.{}", a % 250);
      s.prompt = fmt::format("Can you help me with {} — question {} about {}?",
                             kTopics[rng.Below(10)], rng.Below(100000), kTopics[rng.Below(10)]);
      s.completion_tokens = static_cast<int>(rng.Range(50, 400));
      add(s);
    }
  }
  // CoT harvester.
  reg +=
      R"({"account_id":"atk-cot","created_at":"2025-03-01T00:00:00Z","payment_fingerprint":"pm_x1"})"
      "\n";
  for (int i = 0; i < 300; ++i) {
    ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(i) * 280 * kUsPerSec;
    s.account = "atk-cot";
    s.ip = "203.0.113.10";
    s.system =
        "You are a careful tutor. Think step by step and show your full reasoning before the final "
        "answer.";
    s.prompt = fmt::format("Problem {}: a train leaves at {} km/h; how far does it go in {} hours?",
                           i, rng.Range(20, 200), rng.Range(1, 9));
    s.completion_tokens = static_cast<int>(rng.Range(600, 1200));
    add(s);
  }
  // Logprob extractor.
  reg +=
      R"({"account_id":"atk-logprob","created_at":"2025-03-02T00:00:00Z","payment_fingerprint":"pm_x2"})"
      "\n";
  for (int i = 0; i < 200; ++i) {
    ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(i) * 400 * kUsPerSec + 7 * kUsPerSec;
    s.account = "atk-logprob";
    s.ip = "203.0.113.20";
    s.prompt = fmt::format("Complete: the {} of {}", kTopics[rng.Below(10)], rng.Below(1000000));
    s.top_logprobs = 20;
    s.logit_bias = static_cast<int>(rng.Range(1, 5));
    s.max_tokens = 1;
    s.completion_tokens = 1;
    add(s);
  }
  // Hydra: 6 accounts, one payment method, one subnet, one template, disjoint questions.
  for (int a = 0; a < 6; ++a) {
    std::string acct = fmt::format("hydra-{}", a);
    reg +=
        fmt::format(
            R"({{"account_id":"{}","created_at":"2025-03-02T10:0{}:00Z","payment_fingerprint":"pm_hydra","email_domain":"mailbox.example"}})",
            acct, a) +
        "\n";
    for (int i = 0; i < 120; ++i) {
      ExchangeSpec s;
      s.ts =
          t0 + static_cast<TimeUs>(i) * 700 * kUsPerSec + static_cast<TimeUs>(a) * 13 * kUsPerSec;
      s.account = acct;
      s.ip = fmt::format("203.0.113.{}", 100 + a);
      s.user_agent = "python-httpx/0.27.0";
      s.prompt = fmt::format(
          "Below is an instruction that describes a task. Write a response that appropriately "
          "completes the request.\n\n### Instruction:\nExplain concept number {} of chapter {} in "
          "detail.\n\n### Response:",
          a * 1000 + i, i % 17);
      s.completion_tokens = static_cast<int>(rng.Range(250, 500));
      add(s);
    }
  }
  if (tenant) {
    reg +=
        R"({"account_id":"router","created_at":"2024-05-01T00:00:00Z","payment_fingerprint":"pm_router"})"
        "\n";
    for (int i = 0; i < 900; ++i) {
      ExchangeSpec s;
      s.ts = t0 + static_cast<TimeUs>(i) * 95 * kUsPerSec + 3 * kUsPerSec;
      s.account = "router";
      s.ip = fmt::format("198.51.100.{}", i % 6);
      s.user_agent = "litellm/1.52.0";
      const bool harvester = i % 3 == 0;
      s.end_user = harvester ? "eu-harvest" : fmt::format("eu-{}", rng.Below(29));
      s.prompt = harvester ? fmt::format(
                                 "Generate a detailed answer to instruction {}: list {} "
                                 "facts about topic {}.",
                                 i, rng.Range(3, 9), rng.Below(5000))
                           : fmt::format("Can you help me with {} — question {}?",
                                         kTopics[rng.Below(10)], rng.Below(100000));
      s.completion_tokens = static_cast<int>(harvester ? rng.Range(400, 900) : rng.Range(50, 300));
      add(s);
    }
  }
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& x, const Ev& y) { return x.ts < y.ts; });
  std::string out;
  for (auto& e : evs) {
    out += e.line;
    out += '\n';
  }
  if (accounts_jsonl) *accounts_jsonl = reg;
  return out;
}

// Prompt generators shared by tests of end users and clusters: an everyday question built from
// kChatWords ("my landlord visa …?"), and an instruction-pool task ("Classify the sentiment of cat
// essay (item 7)"), long answers expected.
inline constexpr const char* kChatWords[] = {"landlord", "resume", "garden",  "taxes",
                                             "python",   "cat",    "wedding", "budget",
                                             "knee",     "essay",  "router",  "visa"};
inline std::string ChatPrompt(Rng& rng, std::string_view opening = "my",
                              std::string_view ending = "?") {
  std::string prompt(opening);
  for (int w = 0, n = static_cast<int>(rng.Range(4, 12)); w < n; ++w) {
    prompt += " ";
    prompt += kChatWords[rng.Below(std::size(kChatWords))];
  }
  prompt += ending;
  return prompt;
}
// An instruction-tuning task: one of a dozen kinds of task (a pool spreads over many; a few
// kinds are an app's feature templates) about a couple of words, numbered.
inline std::string PoolTaskPrompt(Rng& rng, int item) {
  static const char* kTasks[] = {
      "Write a short story about",      "Classify the sentiment of",
      "Rewrite in formal English:",     "Summarize the main points of",
      "Generate three questions about", "Explain to a child",
      "List five facts about",          "Translate into French:",
      "Compose a haiku about",          "Give arguments for and against",
      "Describe the history of",        "Suggest a title for an essay on"};
  return fmt::format("{} {} {} (item {})", kTasks[rng.Below(std::size(kTasks))],
                     kChatWords[rng.Below(std::size(kChatWords))],
                     kChatWords[rng.Below(std::size(kChatWords))], item);
}

// A router ("router") whose 300 customers chat ("my landlord visa …?", 6000 requests over two
// days from t0) and one end user, "pool-9", that sends instruction-pool tasks for long answers
// every kPoolEndUserEvery from t0 + 1 h (200 requests). (ts, line) pairs, not sorted.
inline constexpr TimeUs kPoolEndUserEvery = 600 * kUsPerSec;
inline std::vector<std::pair<TimeUs, std::string>> RouterWithPoolEndUser(TimeUs t0) {
  Rng rng(11);
  std::vector<std::pair<TimeUs, std::string>> lines;
  for (int i = 0; i < 6000; ++i) {
    ExchangeSpec s;
    s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 2 * 86400)) * kUsPerSec;
    s.account = "router";
    s.end_user = fmt::format("cust-{}", rng.Below(300));
    s.prompt = ChatPrompt(rng);
    s.completion_tokens = static_cast<int>(rng.Range(80, 300));
    lines.emplace_back(s.ts, ExchangeLine(s));
  }
  for (int i = 0; i < 200; ++i) {
    ExchangeSpec s;
    s.ts = t0 + 3600 * kUsPerSec + i * kPoolEndUserEvery;
    s.account = "router";
    s.end_user = "pool-9";
    s.prompt = PoolTaskPrompt(rng, i);
    s.prompt_tokens = 30;
    s.completion_tokens = static_cast<int>(rng.Range(300, 700));
    lines.emplace_back(s.ts, ExchangeLine(s));
  }
  return lines;
}

}  // namespace dg::testutil
