// End-to-end tests of the real binary: bad input never stops a scan, compressed and stdin
// inputs, exit status, help and version on every command.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "common/rng.h"
#include "common/time.h"
#include "testutil/testutil.h"

namespace dg {
namespace {

namespace fs = std::filesystem;
using testutil::Run;

const std::string kBin = DG_BINARY;

class ScanCliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testutil::TempDir("scancli"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ScanCliTest, MalformedLinesAreRejectedAndCountedWhileValidOnesAllCount) {
  Rng rng(7);
  std::string data;
  std::set<std::string> accounts;
  int valid = 0, bad = 0;
  const TimeUs t0 = *ParseRfc3339("2025-05-01T00:00:00Z");
  const std::vector<std::string> malformed = {
      R"({"ts":"2025-05-01T00:00:00Z","account_id":"trunc","request":{"model":"gpt-4o","messages":[{"role":"user","content":"hel)",
      std::string("{\"ts\":\"2025-05-01T00:00:00Z\",\"account_id\":\"bad\xff\xfeutf8\"}"),
      std::string("{\"ts\":\"2025-05-01T00:00:00Z\",\"account_id\":\"nul\0byte\"}", 47),
      R"({"ts":true,"account_id":"wrongtype-ts"})",
      R"({"ts":"2025-05-01T00:00:00Z","account_id":12345})",
      R"({"ts":"2025-05-01T00:00:00Z","account_id":["a"]})",
      R"({"ts":"yesterday","account_id":"badts"})",
      R"({"account_id":"missing-ts"})",
      R"({"ts":"2025-05-01T00:00:00Z"})",
      R"({"ts":"2025-05-01T00:00:00Z","account_id":""})",
      R"({"ts":"2025-05-01T00:00:00Z","account_id":"trailing-comma",})",
      R"({"ts":"2025-05-01T00:00:00Z","account_id":"nested-comma","request":{"model":"x",}})",
      R"({"ts":"2025-05-01T00:00:00Z","account_id":"two"} {"ts":"2025-05-01T00:00:00Z","account_id":"values"})",
      R"([1,2,3])",
      R"("just a string")",
      R"(not json at all)",
      std::string("{\"ts\":\"2025-05-01T00:00:00Z\",\"account_id\":\"huge\",\"pad\":\"") +
          std::string(3 << 20, 'x') + "\"}",
  };
  for (int i = 0; i < 20000; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + i * kUsPerSec;
    s.account = fmt::format("acct-{}", rng.Below(500));
    s.prompt = fmt::format("question {}", i);
    accounts.insert(s.account);
    data += testutil::ExchangeLine(s) + "\n";
    ++valid;
    if (i % 1000 == 500) {
      data += malformed[static_cast<size_t>(bad) % malformed.size()] + "\n";
      ++bad;
      data += "\n   \n";  // blank lines are skipped, not rejected
    }
  }
  // Every kind at least once more, at the end (including the last line without a newline).
  for (const auto& m : malformed) {
    data += m + "\n";
    ++bad;
  }
  data += R"({"ts":"2025-05-01T00:00:00Z","account_id":"last-unterminated")";
  ++bad;
  testutil::WriteAll(dir_ / "mixed.jsonl", data);
  auto r =
      testutil::Run(fmt::format("{} scan {} --report {} -q", kBin, (dir_ / "mixed.jsonl").string(),
                                (dir_ / "report.json").string()));
  ASSERT_EQ(r.exit_code, 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.load((dir_ / "report.json").string());
  EXPECT_EQ(uint64_t(doc["input"]["events"]), static_cast<uint64_t>(valid));
  EXPECT_EQ(uint64_t(doc["input"]["rejected"]), static_cast<uint64_t>(bad));
  EXPECT_GT(uint64_t(doc["input"]["blank_lines"]), 0u);
  simdjson::dom::object reasons = doc["input"]["rejected_by_reason"];
  for (const char* reason : {"invalid_json", "invalid_utf8", "nul_byte", "bad_ts", "missing_ts",
                             "missing_account_id", "bad_account_id", "not_object", "too_long"}) {
    EXPECT_GT(uint64_t(reasons[reason]), 0u) << reason;
  }
  std::set<std::string> seen;
  for (auto a : doc["accounts"]) seen.insert(std::string(std::string_view(a["account_id"])));
  EXPECT_EQ(seen, accounts);  // every valid account, and nothing from a rejected line
}

TEST_F(ScanCliTest, RejectionsNameFileLineAndReason) {
  testutil::ExchangeSpec spec;
  spec.ts = 1'700'000'000'000'000;
  spec.account = "a";
  spec.prompt = "x";
  std::string data = testutil::ExchangeLine(spec) + "\n{oops}\n";
  testutil::WriteAll(dir_ / "e.jsonl", data);
  auto r = testutil::Run(fmt::format("{} scan {} -q 2>&1", kBin, (dir_ / "e.jsonl").string()));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("e.jsonl:2: rejected (invalid_json)"), std::string::npos) << r.out;
}

TEST_F(ScanCliTest, CompressedAndStdinInputsGiveTheSameReport) {
  std::string accounts;
  testutil::WriteAll(dir_ / "ev.jsonl", testutil::SmallTraffic(3, 20, &accounts));
  const std::string ev = (dir_ / "ev.jsonl").string();
  ASSERT_EQ(
      testutil::Run(fmt::format("gzip -c {} > {}.gz && zstd -q -c {} > {}.zst", ev, ev, ev, ev))
          .exit_code,
      0);
  auto report_of = [&](const std::string& args, const std::string& name) {
    const std::string out = (dir_ / name).string();
    auto r = testutil::Run(fmt::format(
        "{} scan {} --report {} --generated-at 2025-01-01T00:00:00Z -q", kBin, args, out));
    EXPECT_EQ(r.exit_code, 0) << args;
    std::string j = testutil::ReadAll(out);
    // Drop the byte counters, which count compressed input differently.
    return j.substr(j.find("\"accounts\":["));
  };
  const std::string plain = report_of(ev, "plain.json");
  EXPECT_EQ(plain, report_of(ev + ".gz", "gz.json"));
  EXPECT_EQ(plain, report_of(ev + ".zst", "zst.json"));
  EXPECT_EQ(plain, report_of("- < " + ev, "stdin.json"));
}

TEST_F(ScanCliTest, UnreadableInputExitsNonZeroButReadableOnesAreStillScanned) {
  std::string accounts;
  testutil::WriteAll(dir_ / "ev.jsonl", testutil::SmallTraffic(3, 5, &accounts));
  auto r = testutil::Run(fmt::format("{} scan {} /nonexistent/file.jsonl --report {} -q", kBin,
                                     (dir_ / "ev.jsonl").string(), (dir_ / "r.json").string()));
  EXPECT_EQ(r.exit_code, 2);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.load((dir_ / "r.json").string());
  EXPECT_GT(uint64_t(doc["input"]["events"]), 0u);
  EXPECT_EQ(simdjson::dom::array(doc["input"]["unreadable"]).size(), 1u);
}

TEST_F(ScanCliTest, CorruptCompressedInputIsReportedNotFatal) {
  std::string accounts;
  testutil::WriteAll(dir_ / "ev.jsonl", testutil::SmallTraffic(3, 5, &accounts));
  const std::string ev = (dir_ / "ev.jsonl").string();
  ASSERT_EQ(testutil::Run(fmt::format("gzip -c {} | head -c 3000 > {}.gz", ev, ev)).exit_code, 0);
  auto r = testutil::Run(
      fmt::format("{} scan {}.gz -q --report {}", kBin, ev, (dir_ / "r.json").string()));
  EXPECT_EQ(r.exit_code, 2);  // the input could not be read to the end
  EXPECT_TRUE(fs::exists(dir_ / "r.json"));
}

TEST(CliTest, EveryCommandHasHelpAndTheBinaryHasAVersion) {
  auto v = testutil::Run(kBin + " --version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("distillguard"), std::string::npos);
  auto h = testutil::Run(kBin + " --help");
  EXPECT_EQ(h.exit_code, 0);
  // Every subcommand listed in the top-level help answers --help.
  std::istringstream in(h.out);
  bool in_subs = false;
  int checked = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_subs = true;
      continue;
    }
    if (!in_subs || line.size() < 3 || line[0] != ' ') continue;
    std::string name = line.substr(2, line.find(' ', 2) - 2);
    auto sub = testutil::Run(kBin + " " + name + " --help");
    EXPECT_EQ(sub.exit_code, 0) << name;
    EXPECT_NE(sub.out.find("Usage"), std::string::npos) << name;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

// `simulate --hours` runs a scenario's populations over another window (the stress family over a
// week): events span it, and a window out of range is refused with a message.
TEST_F(ScanCliTest, SimulateHoursReplacesTheScenariosDuration) {
  const std::string tiny = std::string(DG_SOURCE_DIR) + "/scenarios/tiny.toml";  // 24 hours
  auto last_ts = [&](const std::string& hours) {
    const fs::path out = dir_ / ("h" + hours);
    auto r =
        testutil::Run(fmt::format("{} simulate --scenario {} --out {} --seed 3 --hours {} 2>&1",
                                  kBin, tiny, out.string(), hours));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::string last;
    std::ifstream in(out / "events.jsonl");
    for (std::string line; std::getline(in, line);) {
      const auto at = line.find("\"ts\":\"");
      if (at != std::string::npos) last = std::max(last, line.substr(at + 6, 20));
    }
    return last;
  };
  const std::string day = last_ts("24"), three = last_ts("72"), two = last_ts("2");
  EXPECT_LT(day, "2025-03-05T00:00:00Z");
  EXPECT_GT(three, "2025-03-06T00:00:00Z");
  EXPECT_LT(three, "2025-03-07T00:00:00Z");
  EXPECT_LT(two, "2025-03-04T02:00:00Z");
  auto bad = testutil::Run(fmt::format("{} simulate --scenario {} --out {} --hours 0 2>&1", kBin,
                                       tiny, (dir_ / "bad").string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--hours"), std::string::npos) << bad.out;
}

TEST(CliTest, BadOptionsFailWithAMessage) {
  auto r = testutil::Run(kBin + " scan --threads 0 x.jsonl 2>&1");
  EXPECT_NE(r.exit_code, 0);
  r = testutil::Run(kBin + " scan --format nope x.jsonl 2>&1");
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace dg

namespace dg {
namespace {

// A log with no ASNs: one account's requests minutes apart from four countries' residential
// networks, two client agents. With the packaged country database (the default) the country
// changes count as network hops: client_rotation is at full strength by the third request and
// says so; with --geoip none (or without the database) only the /24 evidence speaks, which needs a
// rotating client. Rotation is concealment: with nothing harvested ("question N" prompts, short
// answers) the account is not flagged either way.
TEST_F(ScanCliTest, CountryHopsStandInForMissingAsns) {
  const char* ips[] = {"73.1.20.42", "126.15.104.3", "49.42.134.1", "177.32.223.188"};
  std::string data;
  const TimeUs t0 = 1'700'000'000LL * kUsPerSec;
  for (int i = 0; i < 8; ++i) {
    testutil::ExchangeSpec s;
    s.ts = t0 + i * 120 * kUsPerSec;
    s.account = "pool";
    s.ip = ips[i % 4];
    s.user_agent = i / 2 % 2 ? "curl/8.5.0" : "OpenAI/Python 1.54.3";
    s.prompt = fmt::format("question {}", i);
    data += testutil::ExchangeLine(s) + "\n";
  }
  testutil::WriteAll(dir_ / "e.jsonl", data);
  auto scan = [&](const std::string& extra, simdjson::dom::parser& p) {
    const auto out = dir_ / "r.json";
    auto r = testutil::Run(fmt::format("{} scan {} --report {} -q {}", kBin,
                                       (dir_ / "e.jsonl").string(), out.string(), extra));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    simdjson::dom::element doc = p.load(out.string());
    return doc["accounts"].at(0);
  };
  auto rotation = [](auto account, std::string* detail) {
    double strength = 0;
    for (auto e : account["evidence"].get_array()) {
      if (std::string_view(e["detector"]) == "client_rotation") {
        strength = double(e["strength"]);
        *detail = std::string(std::string_view(e["detail"]));
        EXPECT_EQ(std::string_view(e["family"]), "concealment");
        EXPECT_EQ(double(e["weight"]), 0.0);  // no harvest evidence: it adds nothing
      }
    }
    return strength;
  };
  simdjson::dom::parser p1, p2;
  auto with_geo = scan("", p1);
  std::string detail;
  EXPECT_GT(rotation(with_geo, &detail), 0.9);
  EXPECT_NE(detail.find("came from another country, 4 countries"), std::string::npos) << detail;
  EXPECT_NE(detail.find("never flags alone"), std::string::npos) << detail;
  EXPECT_FALSE(bool(with_geo["flagged"]));
  auto without = scan("--geoip none", p2);
  EXPECT_LT(rotation(without, &detail), 0.5);
  EXPECT_FALSE(bool(without["flagged"]));
  // A database path that does not exist is a usage error, not a silent fallback.
  auto bad = testutil::Run(fmt::format("{} scan {} -q --geoip /nonexistent/GeoIP.dat 2>&1", kBin,
                                       (dir_ / "e.jsonl").string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("/nonexistent/GeoIP.dat"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace dg

namespace dg {
namespace {

// The founding case's naive harvester: one account pulling ~1.2M output tokens a day around the
// clock (~0.94 requests a minute, 900-token answers) through one template, one client, among 40
// ordinary accounts. It must be flagged within its first hour; the ordinary accounts must not.
TEST_F(ScanCliTest, NaiveBulkHarvesterIsFlaggedWithinItsFirstHour) {
  const TimeUs t0 = 1'700'000'000LL * kUsPerSec;
  std::vector<std::pair<TimeUs, std::string>> lines;
  Rng rng(5);
  const char* topics[] = {"my garden",        "a birthday card", "my resume", "python lists",
                          "a trip to Lisbon", "my cat's diet",   "a budget",  "a cover letter"};
  // Ordinary accounts with some history before the harvester starts (a peer baseline needs 20
  // accounts with 20 requests each).
  for (int a = 0; a < 40; ++a) {
    for (int k = 0; k < 40; ++k) {
      testutil::ExchangeSpec s;
      s.ts = t0 + static_cast<TimeUs>(rng.Uniform(0, 36.0 * 3600) * kUsPerSec);
      s.account = fmt::format("person-{}", a);
      s.ip = fmt::format("203.0.113.{}", a);
      s.prompt =
          fmt::format("Can you help me with {}? Question {} from me", topics[(a + k) % 8], k);
      s.completion_tokens = 150 + static_cast<int>(rng.Uniform(0, 200));
      lines.emplace_back(s.ts, testutil::ExchangeLine(s));
    }
  }
  const TimeUs start = t0 + 24 * kUsPerHour;
  for (int i = 0; i < 150; ++i) {
    testutil::ExchangeSpec s;
    s.ts = start + static_cast<TimeUs>(i) * 64 * kUsPerSec;
    s.account = "harvester";
    s.ip = "192.0.2.10";
    s.prompt = fmt::format(
        "Write a detailed encyclopedia entry about the following subject. Subject: entry {} of "
        "the catalogue, section {}",
        i, i * 7 % 13);
    s.completion_tokens = 900;
    s.prompt_tokens = 40;
    lines.emplace_back(s.ts, testutil::ExchangeLine(s));
  }
  std::sort(lines.begin(), lines.end());
  std::string data;
  for (const auto& [ts, line] : lines) data += line + "\n";
  testutil::WriteAll(dir_ / "bulk.jsonl", data);
  const auto out = dir_ / "r.json";
  auto r = testutil::Run(
      fmt::format("{} scan {} --report {} -q", kBin, (dir_ / "bulk.jsonl").string(), out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.load(out.string());
  bool seen = false;
  for (auto a : doc["accounts"].get_array()) {
    const std::string_view id = a["account_id"];
    if (id != "harvester") {
      EXPECT_FALSE(bool(a["flagged"])) << id;
      continue;
    }
    seen = true;
    ASSERT_TRUE(bool(a["flagged"]));
    const std::string_view at = a["first_flagged_at"];
    const auto flagged_at = ParseRfc3339(at);
    ASSERT_TRUE(flagged_at.has_value()) << at;
    EXPECT_LE(*flagged_at - start, kUsPerHour) << "flagged at " << at;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace dg
