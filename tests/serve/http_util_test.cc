// Unit tests of the non-throwing request helpers (serve/http_util.h): URL decoding of good,
// bad and truncated escapes, number parsing at and beyond the limits of the type, the query
// accessor's absent / present / malformed states, and the OpenAI-shaped error body.
#include "serve/http_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "serve/service.h"

namespace dg::serve {
namespace {

TEST(HttpUtil, UrlDecodeGoodEscapes) {
  EXPECT_EQ(UrlDecode("abc"), "abc");
  EXPECT_EQ(UrlDecode(""), "");
  EXPECT_EQ(UrlDecode("a%20b"), "a b");
  EXPECT_EQ(UrlDecode("%41%62%7e%7E"), "Ab~~");
  EXPECT_EQ(UrlDecode("%00"), std::string(1, '\0'));
  EXPECT_EQ(UrlDecode("%ff"), std::string(1, '\xff'));
  EXPECT_EQ(UrlDecode("%25zz"), "%zz");  // an escaped '%' is not decoded twice
}

TEST(HttpUtil, UrlDecodePlus) {
  EXPECT_EQ(UrlDecode("a+b"), "a b");                           // query: '+' is a space
  EXPECT_EQ(UrlDecode("a+b", /*plus_is_space=*/false), "a+b");  // path: a literal '+'
  EXPECT_EQ(UrlDecode("a%2Bb"), "a+b");
}

TEST(HttpUtil, UrlDecodeBadAndTruncatedEscapes) {
  EXPECT_EQ(UrlDecode("%zz"), std::nullopt);
  EXPECT_EQ(UrlDecode("%g0"), std::nullopt);
  EXPECT_EQ(UrlDecode("%0g"), std::nullopt);
  EXPECT_EQ(UrlDecode("% 1"), std::nullopt);
  EXPECT_EQ(UrlDecode("%-1"), std::nullopt);  // stoi would have accepted a sign
  EXPECT_EQ(UrlDecode("%"), std::nullopt);
  EXPECT_EQ(UrlDecode("abc%"), std::nullopt);
  EXPECT_EQ(UrlDecode("abc%4"), std::nullopt);
  EXPECT_EQ(UrlDecode("%4"), std::nullopt);
  EXPECT_EQ(UrlDecode("ok%41%"), std::nullopt);
  EXPECT_EQ(UrlDecode("%zz", false), std::nullopt);
}

TEST(HttpUtil, ParseNumberAccepts) {
  EXPECT_EQ(ParseNumber<int>("0"), 0);
  EXPECT_EQ(ParseNumber<int>("42"), 42);
  EXPECT_EQ(ParseNumber<int>("-42"), -42);
  EXPECT_EQ(ParseNumber<int64_t>("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseNumber<int64_t>("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ParseNumber<uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseNumber<uint16_t>("65535"), 65535);
  EXPECT_EQ(ParseNumber<int>("007"), 7);
  EXPECT_EQ(ParseNumber<double>("1.5"), 1.5);
}

TEST(HttpUtil, ParseNumberRejectsOverflow) {
  NumberError why = NumberError::kNone;
  EXPECT_EQ(ParseNumber<int>("99999999999999999999", &why), std::nullopt);
  EXPECT_EQ(why, NumberError::kOutOfRange);
  EXPECT_EQ(ParseNumber<int64_t>("9223372036854775808", &why), std::nullopt);
  EXPECT_EQ(why, NumberError::kOutOfRange);
  EXPECT_EQ(ParseNumber<int64_t>("-9223372036854775809"), std::nullopt);
  EXPECT_EQ(ParseNumber<uint64_t>("18446744073709551616", &why), std::nullopt);
  EXPECT_EQ(why, NumberError::kOutOfRange);
  EXPECT_EQ(ParseNumber<uint16_t>("65536"), std::nullopt);
  EXPECT_EQ(ParseNumber<uint8_t>("256"), std::nullopt);
}

TEST(HttpUtil, ParseNumberRejectsGarbageNegativeEmpty) {
  NumberError why = NumberError::kNone;
  EXPECT_EQ(ParseNumber<int>("", &why), std::nullopt);
  EXPECT_EQ(why, NumberError::kEmpty);
  EXPECT_EQ(ParseNumber<int>("x", &why), std::nullopt);
  EXPECT_EQ(why, NumberError::kInvalid);
  EXPECT_EQ(ParseNumber<int>("12x"), std::nullopt);  // the whole string must be consumed
  EXPECT_EQ(ParseNumber<int>("1 "), std::nullopt);
  EXPECT_EQ(ParseNumber<int>(" 1"), std::nullopt);
  EXPECT_EQ(ParseNumber<int>("+1"), std::nullopt);
  EXPECT_EQ(ParseNumber<int>("0x10"), std::nullopt);
  EXPECT_EQ(ParseNumber<int>("1.0"), std::nullopt);
  EXPECT_EQ(ParseNumber<int>("-"), std::nullopt);
  EXPECT_EQ(ParseNumber<uint64_t>("-1", &why), std::nullopt);  // strtoull would wrap it
  EXPECT_EQ(why, NumberError::kInvalid);
  EXPECT_EQ(ParseNumber<uint16_t>("-0"), std::nullopt);
  EXPECT_EQ(ParseNumber<int>(std::string_view("1\0002", 3)), std::nullopt);  // embedded NUL
  EXPECT_EQ(ParseNumber<double>("1.5x"), std::nullopt);
}

TEST(HttpUtil, QueryAccessor) {
  const std::string_view q =
      "gateway=nginx&since=12&flag&bad=%zz&trunc=%4&sp=a+b%21&e=&dup=1&dup=2";
  auto g = GetQueryParam(q, "gateway");
  EXPECT_TRUE(g.present());
  EXPECT_EQ(g.value, "nginx");
  EXPECT_EQ(GetQueryParam(q, "since").value, "12");
  EXPECT_TRUE(GetQueryParam(q, "flag").present());  // a bare name counts as "1"
  EXPECT_EQ(GetQueryParam(q, "flag").value, "1");
  EXPECT_TRUE(GetQueryParam(q, "bad").malformed());
  EXPECT_EQ(GetQueryParam(q, "bad").value_or("d"), "d");
  EXPECT_TRUE(GetQueryParam(q, "trunc").malformed());
  EXPECT_EQ(GetQueryParam(q, "sp").value, "a b!");
  EXPECT_TRUE(GetQueryParam(q, "e").present());
  EXPECT_EQ(GetQueryParam(q, "e").value, "");
  EXPECT_EQ(GetQueryParam(q, "dup").value, "1");  // the first occurrence wins
  EXPECT_TRUE(GetQueryParam(q, "missing").absent());
  EXPECT_TRUE(GetQueryParam(q, "gate").absent());  // names match whole
  EXPECT_TRUE(GetQueryParam("", "x").absent());
  EXPECT_TRUE(GetQueryParam("x=%", "x").malformed());  // '%' at the end of the query
  EXPECT_TRUE(GetQueryParam("&&=&x", "x").present());
  // Through the request type the handlers use.
  HttpRequest req;
  req.query = "gateway=%zz";
  EXPECT_TRUE(req.Query("gateway").malformed());
  EXPECT_TRUE(req.Query("limit").absent());
}

TEST(HttpUtil, SplitTarget) {
  std::string_view path, query;
  SplitTarget("/v1/alerts?since=1&limit=2", &path, &query);
  EXPECT_EQ(path, "/v1/alerts");
  EXPECT_EQ(query, "since=1&limit=2");
  SplitTarget("/healthz", &path, &query);
  EXPECT_EQ(path, "/healthz");
  EXPECT_EQ(query, "");
  SplitTarget("?", &path, &query);
  EXPECT_EQ(path, "");
  EXPECT_EQ(query, "");
}

TEST(HttpUtil, ErrorJsonIsOpenAiShaped) {
  EXPECT_EQ(ErrorJson("invalid_request_error", "bad \"x\"", "limit", "invalid_value"),
            R"({"error":{"message":"bad \"x\"","type":"invalid_request_error","param":"limit",)"
            R"("code":"invalid_value"}})");
  EXPECT_EQ(ErrorJson("server_error", "oops"),
            R"({"error":{"message":"oops","type":"server_error","param":null,"code":null}})");
}

}  // namespace
}  // namespace dg::serve
