// Unit tests of the request bodies parsed outside the Service: the POST /v1/decide body
// (serve/decide_body.h) and compressed POST /v1/events bodies (Gunzip in serve/http_util.h).
#include "serve/decide_body.h"

#include <gtest/gtest.h>

#include <string>

#include "serve/http_util.h"
#include "testutil/testutil.h"

namespace dg::serve {
namespace {

TEST(DecideBody, ParsesEveryField) {
  DecideBody b;
  ASSERT_FALSE(ParseDecideBody(
      R"({"account_id":"a\"1","api_key_id":"k","end_user":"eu","client_ip":"10.0.0.1",)"
      R"("user_agent":"ua","extra":[1,{"x":2}],)"
      R"("request":{"n":3,"max_completion_tokens":512,"logprobs":true,"model":"m"}})",
      &b));
  EXPECT_EQ(b.account_id, "a\"1");
  EXPECT_EQ(b.api_key_id, "k");
  EXPECT_EQ(b.end_user, "eu");
  EXPECT_EQ(b.client_ip, "10.0.0.1");
  EXPECT_EQ(b.user_agent, "ua");
  EXPECT_EQ(b.n, 3);
  EXPECT_EQ(b.max_tokens, 512);
  EXPECT_TRUE(b.logprobs);
  const DecisionInput in = b.Input();
  EXPECT_EQ(in.account_id, "a\"1");
  EXPECT_EQ(in.max_tokens, 512);
}

// The end user named only in the request body (the input contract's rule, as scan reads it):
// `end_user` first, else `request.safety_identifier`, else `request.user`.
TEST(DecideBody, EndUserFromTheRequestBodyWhenAbsent) {
  DecideBody b;
  ASSERT_FALSE(ParseDecideBody(
      R"({"account_id":"a","request":{"user":"u-1","safety_identifier":"sid-1"}})", &b));
  EXPECT_EQ(b.end_user, "sid-1");
  ASSERT_FALSE(ParseDecideBody(R"({"account_id":"a","request":{"user":"u-1"}})", &b));
  EXPECT_EQ(b.end_user, "u-1");
  ASSERT_FALSE(
      ParseDecideBody(R"({"account_id":"a","end_user":"eu","request":{"user":"u-1"}})", &b));
  EXPECT_EQ(b.end_user, "eu");
  ASSERT_FALSE(ParseDecideBody(R"({"account_id":"a","request":{"user":7}})", &b));
  EXPECT_EQ(b.end_user, "");
}

TEST(DecideBody, ClampsNumbersAndIgnoresWrongTypes) {
  DecideBody b;
  ASSERT_FALSE(ParseDecideBody(
      R"({"account_id":"a","client_ip":7,"request":{"n":-5,"max_tokens":1000000000000,"logprobs":1}})",
      &b));
  EXPECT_EQ(b.client_ip, "");
  EXPECT_EQ(b.n, 0);
  EXPECT_EQ(b.max_tokens, 2147483647);
  EXPECT_FALSE(b.logprobs);
}

TEST(DecideBody, RefusedBodiesNameTheirError) {
  DecideBody b;
  for (const char* bad : {"", "[1]", "not json", "\"s\"", R"({"account_id":)"}) {
    const auto err = ParseDecideBody(bad, &b);
    ASSERT_TRUE(err) << bad;
    EXPECT_EQ(err->code, "invalid_body") << bad;
  }
  const auto missing = ParseDecideBody(R"({"api_key_id":"k"})", &b);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, "missing_account");
  EXPECT_EQ(missing->param, "account_id");
}

TEST(HttpUtil, GunzipInflatesAndRefusesBadOrOversizedBodies) {
  const std::string plain(200000, 'x');
  const std::string gz = testutil::Gzip(plain);
  std::string out;
  ASSERT_TRUE(Gunzip(gz, plain.size(), &out));
  EXPECT_EQ(out, plain);
  EXPECT_FALSE(Gunzip(gz, plain.size() - 1, &out));                  // over the cap
  EXPECT_FALSE(Gunzip(gz.substr(0, gz.size() / 2), 1 << 20, &out));  // truncated
  EXPECT_FALSE(Gunzip("\x1f\x8bgarbage", 1 << 20, &out));
  EXPECT_FALSE(Gunzip("", 1 << 20, &out));
}

}  // namespace
}  // namespace dg::serve
