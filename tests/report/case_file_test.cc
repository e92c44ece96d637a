// Case files (report/case_file.h): built from the golden report (one flagged cluster of two),
// JSON round trip, forensics attached from real `prove --json` output, kept when the case is
// regenerated, bad input refused with a reason; and the CLI: `scan --cases DIR` then
// `case attach` then `case show`.
#include "report/case_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testutil/testutil.h"

namespace dg {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(DG_SOURCE_DIR) / "tests/report/data/golden";

const char kDetectJson[] =
    R"({"texts":[{"id":"a","scored":10,"statistic":25.5,"log10_p":-3.2}],)"
    R"("pooled":{"scored":10,"statistic":25.5,"log10_p":-3.2},"scheme":"vllm-gumbel","bad_lines":0})";
const char kRadioJson[] =
    R"({"scheme":"hf-kgw","suspect_texts":40,"watermarked_windows":12,)"
    R"("pooled":{"scored":900,"statistic":400,"log10_p":-41.5},"bad_lines":0})";

std::vector<report::Case> GoldenCases() {
  const std::string rep = testutil::ReadAll(kGolden / "expected_report.json");
  const std::string links =
      R"({"type":"payment_fingerprint","value":"pm_123","operator":"C-cot-harvester"})"
      "\n"
      R"({"type":"ip24","value":"203.0.113.0/24","operator":"someone-else"})"
      "\nnot json\n";
  std::vector<report::Case> cases;
  std::string err;
  EXPECT_TRUE(report::BuildCases(rep, links, "2025-03-05T00:00:00Z", &cases, &err)) << err;
  return cases;
}

TEST(CaseFile, OneCasePerFlaggedClusterWithMembersEvidenceAndLinks) {
  auto cases = GoldenCases();
  ASSERT_EQ(cases.size(), 1u);
  const report::Case& c = cases[0];
  EXPECT_EQ(c.cluster_id, "C-cot-harvester");
  EXPECT_TRUE(c.flagged);
  ASSERT_EQ(c.members.size(), 2u);
  for (const auto& m : c.members) {
    EXPECT_TRUE(m.flagged);
    EXPECT_GT(m.requests, 0);
    EXPECT_FALSE(m.evidence.empty());
  }
  EXPECT_GE(c.members[0].score, c.members[1].score);
  EXPECT_FALSE(c.evidence.empty());
  ASSERT_EQ(c.links.size(), 1u);  // only this cluster's indicators
  EXPECT_EQ(c.links[0].value, "pm_123");
  EXPECT_EQ(c.report_generated_at, "2025-03-04T00:00:00.000Z");
}

TEST(CaseFile, JsonRoundTripAndForensics) {
  report::Case c = GoldenCases().at(0);
  std::string err;
  ASSERT_TRUE(
      report::AttachForensics(kDetectJson, "served texts", "2025-03-06T00:00:00Z", &c, &err))
      << err;
  ASSERT_TRUE(
      report::AttachForensics(kRadioJson, "suspect model", "2025-03-07T00:00:00Z", &c, &err))
      << err;
  ASSERT_EQ(c.forensics.size(), 2u);
  EXPECT_EQ(c.forensics[0].kind, "detect");
  EXPECT_EQ(c.forensics[1].kind, "radioactivity");
  EXPECT_EQ(c.forensics[1].scheme, "hf-kgw");
  EXPECT_EQ(c.forensics[1].scored, 900);
  EXPECT_DOUBLE_EQ(c.forensics[1].log10_p, -41.5);
  const std::string json = report::CaseToJson(c);
  report::Case back;
  ASSERT_TRUE(report::ParseCase(json, &back, &err)) << err;
  EXPECT_EQ(report::CaseToJson(back), json);  // lossless
  const std::string md = report::CaseToMarkdown(back);
  EXPECT_NE(md.find("# Case C-cot-harvester"), std::string::npos);
  EXPECT_NE(md.find("10^-41.50"), std::string::npos);
  EXPECT_NE(md.find("pm_123"), std::string::npos);
  // Regenerating the case keeps what was attached (once).
  report::Case fresh = GoldenCases().at(0);
  report::MergeForensics(back, &fresh);
  report::MergeForensics(back, &fresh);
  EXPECT_EQ(fresh.forensics.size(), 2u);
}

TEST(CaseFile, BadInputIsRefusedWithAReason) {
  report::Case c;
  std::string err;
  EXPECT_FALSE(report::AttachForensics("{\"pooled\": 3", "x", "t", &c, &err));
  EXPECT_NE(err.find("not JSON"), std::string::npos);
  EXPECT_FALSE(report::AttachForensics("[1,2]", "x", "t", &c, &err));
  EXPECT_NE(err.find("not a JSON object"), std::string::npos);
  EXPECT_FALSE(report::AttachForensics(R"({"pooled":{"scored":3}})", "x", "t", &c, &err));
  EXPECT_NE(err.find("log10_p"), std::string::npos);
  EXPECT_TRUE(c.forensics.empty());
  std::vector<report::Case> cases;
  EXPECT_FALSE(report::BuildCases("{\"accounts\": []}", "", "t", &cases, &err));
  EXPECT_FALSE(report::ParseCase("{\"case_version\": 2}", &c, &err));
  EXPECT_EQ(report::CaseFileStem("../../etc/passwd"), "_._.._etc_passwd");
  EXPECT_EQ(report::CaseFileStem("C-1.a_b"), "C-1.a_b");
}

TEST(CaseCli, ScanCasesAttachShow) {
  auto dir = testutil::TempDir("cases-cli");
  const fs::path cases = dir / "cases";
  auto scan = [&] {
    return testutil::Run(fmt::format(
        "{} scan {} --accounts {} --cases {} --generated-at 2025-03-04T00:00:00Z -q 2>&1",
        DG_BINARY, (kGolden / "events.jsonl").string(), (kGolden / "accounts.jsonl").string(),
        cases.string()));
  };
  ASSERT_EQ(scan().exit_code, 0);
  const fs::path json = cases / "C-cot-harvester.json";
  ASSERT_TRUE(fs::exists(json));
  ASSERT_TRUE(fs::exists(cases / "C-cot-harvester.md"));
  testutil::WriteAll(dir / "radio.json", kRadioJson);
  testutil::WriteAll(dir / "bad.json", "{not json");
  auto attach =
      testutil::Run(fmt::format("{} case attach --case {} --forensics {} --label 'suspect model' "
                                "--attached-at 2025-03-08T00:00:00Z 2>&1",
                                DG_BINARY, json.string(), (dir / "radio.json").string()));
  ASSERT_EQ(attach.exit_code, 0) << attach.out;
  EXPECT_NE(attach.out.find("log10 p -41.5"), std::string::npos);
  auto bad = testutil::Run(fmt::format("{} case attach --case {} --forensics {} 2>&1", DG_BINARY,
                                       json.string(), (dir / "bad.json").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("not JSON"), std::string::npos);
  // A new scan rewrites the case but keeps the attached result.
  ASSERT_EQ(scan().exit_code, 0);
  report::Case c;
  std::string err;
  ASSERT_TRUE(report::ParseCase(testutil::ReadAll(json), &c, &err)) << err;
  ASSERT_EQ(c.forensics.size(), 1u);
  EXPECT_EQ(c.forensics[0].label, "suspect model");
  auto show = testutil::Run(fmt::format("{} case show --case {}", DG_BINARY, json.string()));
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("suspect model"), std::string::npos);
  EXPECT_EQ(show.out, testutil::ReadAll(cases / "C-cot-harvester.md"));
}

}  // namespace
}  // namespace dg
