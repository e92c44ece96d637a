// Adapters on real-shaped samples (OTLP/JSON GenAI spans, LiteLLM SpendLogs rows), format
// detection, and the parser's two paths agreeing.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "ingest/adapter.h"
#include "ingest/input.h"
#include "ingest/parser.h"

namespace dg::ingest {
namespace {

struct Got {
  uint64_t line;
  std::string account, model, end_user, ip, ua, last_user, system;
  TimeUs ts;
  int64_t prompt_tokens, completion_tokens;
  int32_t n;
  float latency_ms;
  uint16_t n_messages;
};

class Collect final : public ExchangeSink {
 public:
  void OnExchange(const Exchange& ex, uint64_t line) override {
    std::string last, sys;
    for (uint8_t i = 0; i < ex.last_user_text.count; ++i)
      last += std::string(ex.last_user_text.parts[i]);
    for (uint8_t i = 0; i < ex.system_text.count; ++i) sys += std::string(ex.system_text.parts[i]);
    got.push_back({line, std::string(ex.account_id), std::string(ex.model),
                   std::string(ex.end_user), std::string(ex.client_ip), std::string(ex.user_agent),
                   last, sys, ex.ts, ex.prompt_tokens, ex.completion_tokens, ex.n, ex.latency_ms,
                   ex.n_messages});
  }
  void OnReject(uint64_t line, RejectReason reason, std::string_view) override {
    rejects.emplace_back(line, reason);
  }
  std::vector<Got> got;
  std::vector<std::pair<uint64_t, RejectReason>> rejects;
};

Collect ParseText(const std::string& format, const std::string& text, bool iterate_many = true) {
  Block b;
  b.buf.assign(text.begin(), text.end());
  b.len = text.size();
  b.buf.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
  b.first_line = 1;
  ParserOptions po;
  po.format = format;
  po.use_iterate_many = iterate_many;
  BlockParser p(po);
  Collect c;
  p.Parse(b, c);
  return c;
}

const std::string kOtlp =
    R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"llm-gateway"}},)"
    R"({"key":"tenant.id","value":{"stringValue":"org-acme"}}]},"scopeSpans":[{"scope":{"name":"openllmetry"},"spans":[)"
    R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"chat gpt-4o",)"
    R"("startTimeUnixNano":"1735689600000000000","endTimeUnixNano":"1735689601500000000","attributes":[)"
    R"({"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},)"
    R"({"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},)"
    R"({"key":"gen_ai.request.choice.count","value":{"intValue":"3"}},)"
    R"({"key":"gen_ai.usage.input_tokens","value":{"intValue":"42"}},)"
    R"({"key":"gen_ai.usage.output_tokens","value":{"intValue":812}},)"
    R"({"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}},)"
    R"({"key":"client.address","value":{"stringValue":"203.0.113.9"}},)"
    R"({"key":"user_agent.original","value":{"stringValue":"OpenAI/Python 1.54.3"}},)"
    R"({"key":"enduser.id","value":{"stringValue":"u-17"}},)"
    R"({"key":"gen_ai.system_instructions","value":{"stringValue":"[{\"type\":\"text\",\"content\":\"Think step by step.\"}]"}},)"
    R"({"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"What is 2+2?\"}]}]"}}]},)"
    R"({"traceId":"5b8e","spanId":"aa01","name":"chat","startTimeUnixNano":"1735689602000000000","attributes":[)"
    R"({"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},)"
    R"({"key":"account.id","value":{"stringValue":"acct-span-level"}},)"
    R"({"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"content\":\"Second span prompt\"}]"}}]},)"
    R"({"traceId":"5b8e","spanId":"aa02","name":"chat","attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"x"}}]})"
    R"(]}]}]})";

TEST(OtlpAdapterTest, SpansBecomeExchangesAndABadSpanIsRejectedAlone) {
  auto c = ParseText("otlp", kOtlp + "\n");
  ASSERT_EQ(c.got.size(), 2u);
  const auto& a = c.got[0];
  EXPECT_EQ(a.account, "org-acme");  // from the resource
  EXPECT_EQ(a.model, "gpt-4o");
  EXPECT_EQ(a.n, 3);
  EXPECT_EQ(a.prompt_tokens, 42);
  EXPECT_EQ(a.completion_tokens, 812);
  EXPECT_EQ(a.ts, 1735689600LL * kUsPerSec);
  EXPECT_FLOAT_EQ(a.latency_ms, 1500.0f);
  EXPECT_EQ(a.ip, "203.0.113.9");
  EXPECT_EQ(a.ua, "OpenAI/Python 1.54.3");
  EXPECT_EQ(a.end_user, "u-17");
  EXPECT_EQ(a.last_user, "What is 2+2?");
  EXPECT_EQ(a.system, "Think step by step.");
  // The span's own account attribute wins over the resource's; its prompt is its own.
  EXPECT_EQ(c.got[1].account, "acct-span-level");
  EXPECT_EQ(c.got[1].last_user, "Second span prompt");
  ASSERT_EQ(c.rejects.size(), 1u);  // the third span has no start time
  EXPECT_EQ(c.rejects[0].second, RejectReason::kMissingTs);
}

TEST(OtlpAdapterTest, DetectedFromFirstRecord) { EXPECT_EQ(DetectFormat(kOtlp + "\n"), "otlp"); }

const std::string kLiteRow1 =
    R"({"request_id":"chatcmpl-1","call_type":"acompletion","api_key":"88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",)"
    R"("spend":0.0012,"total_tokens":130,"prompt_tokens":30,"completion_tokens":100,"startTime":"2025-01-01T10:00:00.250000",)"
    R"("endTime":"2025-01-01T10:00:02.250000","model":"gpt-4o","user":"user-9","team_id":"team-research",)"
    R"("end_user":"customer-1","requester_ip_address":"198.51.100.4",)"
    R"("metadata":{"user_api_key_org_id":"org-widgets","headers":{"user-agent":"litellm/1.52.0"}},)"
    R"("messages":"[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Name a prime.\"}]",)"
    R"("response":{"choices":[{"finish_reason":"stop","message":{"content":"7"}}]}})";
const std::string kLiteRow2 =
    R"({"request_id":"chatcmpl-2","api_key":"hashed-key-2","startTime":"2025-01-01T10:05:00+00:00","model":"gpt-4o-mini",)"
    R"("prompt_tokens":5,"completion_tokens":9,"messages":[{"role":"user","content":"second row"}],"response":"{}"})";

TEST(LiteLlmAdapterTest, RowsMapToExchanges) {
  auto c = ParseText("litellm", kLiteRow1 + "\n" + kLiteRow2 + "\n");
  ASSERT_EQ(c.got.size(), 2u);
  const auto& a = c.got[0];
  EXPECT_EQ(a.account, "org-widgets");  // org beats team, user and key
  EXPECT_EQ(a.end_user, "customer-1");
  EXPECT_EQ(a.ip, "198.51.100.4");
  EXPECT_EQ(a.ua, "litellm/1.52.0");
  EXPECT_EQ(a.ts, *ParseRfc3339("2025-01-01T10:00:00.250Z"));  // no zone: UTC
  EXPECT_FLOAT_EQ(a.latency_ms, 2000.0f);
  EXPECT_EQ(a.last_user, "Name a prime.");
  EXPECT_EQ(a.system, "Be brief.");
  EXPECT_EQ(a.completion_tokens, 100);
  EXPECT_EQ(c.got[1].account, "hashed-key-2");  // only the key identifies it
  EXPECT_EQ(c.got[1].last_user, "second row");
}

TEST(LiteLlmAdapterTest, ArrayExportOnOneLineKeepsEachRowsText) {
  auto c =
      ParseText("litellm", "[" + kLiteRow1 + "," + kLiteRow2 + "," +
                               R"({"request_id":"x","startTime":"2025-01-01T10:06:00"})" + "]\n");
  ASSERT_EQ(c.got.size(), 2u);
  EXPECT_EQ(c.got[0].last_user, "Name a prime.");
  EXPECT_EQ(c.got[1].last_user, "second row");
  ASSERT_EQ(c.rejects.size(), 1u);
  EXPECT_EQ(c.rejects[0].second, RejectReason::kMissingAccount);
}

TEST(LiteLlmAdapterTest, DetectedFromFirstRecord) {
  EXPECT_EQ(DetectFormat(kLiteRow1 + "\n"), "litellm");
  EXPECT_EQ(DetectFormat(R"({"ts":"2025-01-01T00:00:00Z","account_id":"a"})"), "exchange");
}

TEST(ParserTest, BothPathsAgreeOnMixedInput) {
  const std::string text = kLiteRow1 + "\n{broken\n" + kLiteRow2 + "\n\n" + kLiteRow1 + "\n";
  auto a = ParseText("litellm", text, true);
  auto b = ParseText("litellm", text, false);
  ASSERT_EQ(a.got.size(), b.got.size());
  for (size_t i = 0; i < a.got.size(); ++i) {
    EXPECT_EQ(a.got[i].line, b.got[i].line);
    EXPECT_EQ(a.got[i].last_user, b.got[i].last_user);
  }
  EXPECT_EQ(a.rejects, b.rejects);
  ASSERT_EQ(a.rejects.size(), 1u);
  EXPECT_EQ(a.rejects[0].first, 2u);
}

// Found by the record parser fuzzer: an array with a trailing comma between good lines was one
// invalid-JSON line on the per-line path but a record plus a "non-object element" in a stream.
TEST(ParserTest, BothPathsAgreeOnArrayWithTrailingComma) {
  const std::string text = R"({"ts":"2025-01-01T00:00:00Z","account_id":"a"})"
                           "\n[{\"account_id\":\"d\"},]\n]2=\n"
                           R"([{"ts":"2025-01-01T00:00:01Z","account_id":"b"},3])"
                           "\n";
  auto a = ParseText("exchange", text, true);
  auto b = ParseText("exchange", text, false);
  EXPECT_EQ(a.rejects, b.rejects);
  ASSERT_EQ(a.got.size(), b.got.size());
  ASSERT_EQ(a.got.size(), 2u);  // lines 1 and 4 (with its stray element rejected)
  const std::vector<std::pair<uint64_t, RejectReason>> want = {{2, RejectReason::kInvalidJson},
                                                               {3, RejectReason::kInvalidJson},
                                                               {4, RejectReason::kNotObject}};
  EXPECT_EQ(a.rejects, want);
}

// Found by the record parser fuzzer: a logit_bias object missing a colon (`{"1"{...}}`) keeps its
// brackets balanced, so on-demand skips it without a syntax error and stops short of the line's
// end. On its own line that was trailing content; in a stream of documents it was accepted.
TEST(ParserTest, BothPathsRefuseAValueSkippedShortOfTheLineEnd) {
  const std::string good = R"({"ts":"2025-01-01T00:00:00Z","account_id":"a"})";
  const std::string bad =
      R"({"ts":"2025-01-01T00:00:01Z","account_id":"b","request":{"logit_bias":{"1"{"x":3}},)"
      R"("choices":[{"message":{"content":"ok"}}]}})";
  for (bool many : {true, false}) {
    // Between good lines, and as the last line of the run.
    auto c = ParseText("exchange", good + "\n" + bad + "\n" + good + "\n", many);
    ASSERT_EQ(c.got.size(), 2u) << many;
    EXPECT_EQ(c.got[0].line, 1u);
    EXPECT_EQ(c.got[1].line, 3u);
    const std::vector<std::pair<uint64_t, RejectReason>> want = {{2, RejectReason::kInvalidJson}};
    EXPECT_EQ(c.rejects, want) << many;
    c = ParseText("exchange", good + "\n" + bad + "\n", many);
    EXPECT_EQ(c.got.size(), 1u) << many;
    EXPECT_EQ(c.rejects, want) << many;
  }
}

// Found by the record parser fuzzer: a raw control character between two tokens (here in a
// logit_bias object) was accepted in a stream of documents and refused on its own line. Both
// paths now refuse the line as invalid JSON and keep the good lines around it.
TEST(ParserTest, BothPathsRefuseARawControlCharacter) {
  const std::string good = R"({"ts":"2025-01-01T00:00:00Z","account_id":"a"})";
  const std::string text = good + "\n" +
                           "{\"ts\":\"2025-01-01T00:00:01Z\",\"account_id\":\"b\",\"request\":"
                           "{\"logit_bias\":{\"1\"\x1a"
                           "2}}}\n" +
                           good + "\n" +
                           "{\"ts\":\"2025-01-01T00:00:02Z\",\t\"account_id\":\"tab\"}\r\n";
  for (bool many : {true, false}) {
    auto c = ParseText("exchange", text, many);
    EXPECT_EQ(c.got.size(), 3u) << many << ": a tab between tokens and a CR are whitespace";
    const std::vector<std::pair<uint64_t, RejectReason>> want = {{2, RejectReason::kInvalidJson}};
    EXPECT_EQ(c.rejects, want) << many;
  }
}

}  // namespace
}  // namespace dg::ingest
