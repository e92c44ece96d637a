// The labels file parser shared by eval and train: defaults, file order, and refusals that name
// the entry and the reason.
#include "eval/labels.h"

#include <gtest/gtest.h>

namespace dg::eval {
namespace {

TEST(Labels, ParsesAccountsAndCampaignsInFileOrder) {
  const Labels l = ParseLabels(R"({"accounts":{
      "b":{"label":"benign","persona":"small_dev","campaign":null},
      "a":{"label":"attack","campaign":"c1"},
      "r":{"label":"benign"}},
    "campaigns":{"c1":{"description":"d","accounts":["a"]},
                 "h":{"end_users":["u1"],"api_keys":["k1"],"host_accounts":["r"]}}})",
                               "labels.json");
  ASSERT_EQ(l.accounts.size(), 3u);
  EXPECT_EQ(l.accounts[0].id, "b");
  EXPECT_FALSE(l.accounts[0].attack);
  EXPECT_EQ(l.accounts[0].persona, "small_dev");
  EXPECT_EQ(l.accounts[0].campaign, "");
  EXPECT_EQ(l.accounts[1].id, "a");
  EXPECT_TRUE(l.accounts[1].attack);
  EXPECT_EQ(l.accounts[1].persona, "attack");  // defaults to the label
  EXPECT_EQ(l.accounts[1].campaign, "c1");
  ASSERT_EQ(l.campaigns.size(), 2u);
  EXPECT_EQ(l.campaigns[0].name, "c1");
  EXPECT_EQ(l.campaigns[0].description, "d");
  EXPECT_EQ(l.campaigns[0].accounts, std::vector<std::string>{"a"});
  EXPECT_EQ(l.campaigns[1].end_users, std::vector<std::string>{"u1"});
  EXPECT_EQ(l.campaigns[1].api_keys, std::vector<std::string>{"k1"});
  EXPECT_EQ(l.campaigns[1].host_accounts, std::vector<std::string>{"r"});
}

TEST(Labels, CampaignsAreOptional) {
  EXPECT_TRUE(ParseLabels(R"({"accounts":{}})", "l").campaigns.empty());
  EXPECT_TRUE(ParseLabels(R"({"accounts":{},"campaigns":null})", "l").campaigns.empty());
}

std::string ErrorOf(const std::string& json) {
  try {
    ParseLabels(json, "labels.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Labels, RefusesBadEntriesNamingThem) {
  EXPECT_EQ(ErrorOf(R"({"accounts":{"x":{"label":"maybe"}}})"),
            "labels.json: account x has no label benign|attack");
  EXPECT_EQ(ErrorOf(R"({"accounts":{"x":{"persona":"p"}}})"),
            "labels.json: account x has no label benign|attack");
  EXPECT_EQ(ErrorOf(R"({"accounts":{"x":"attack"}})"),
            "labels.json: account x has no label benign|attack");
  EXPECT_EQ(ErrorOf(R"({"accounts":{"x":{"label":"attack","persona":3}}})"),
            "labels.json: account x: \"persona\" must be a string");
  EXPECT_EQ(ErrorOf(R"({"accounts":{},"campaigns":{"c":{"accounts":["a",1]}}})"),
            "labels.json: campaign c: \"accounts\" holds a non-string");
  EXPECT_EQ(ErrorOf(R"({"accounts":{},"campaigns":{"c":{"end_users":"u"}}})"),
            "labels.json: campaign c: \"end_users\" must be an array of strings");
  EXPECT_EQ(ErrorOf(R"({"accounts":{},"campaigns":[]})"),
            "labels.json: \"campaigns\" must be an object");
  EXPECT_EQ(ErrorOf(R"({"campaigns":{}})"), "labels.json: no \"accounts\" object");
  EXPECT_NE(ErrorOf(R"({"accounts":)").find("labels.json: "), std::string::npos);
}

TEST(Labels, LoadNamesAMissingFile) {
  try {
    LoadLabels("/nonexistent/labels.json");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/labels.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace dg::eval
