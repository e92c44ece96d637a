// CountryDb against Debian's geoip-database (installed by scripts/deps.sh): addresses whose
// country has not moved in decades, continent-level entries, bad input, bad files.
#include "features/geo.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace dg::features {
namespace {

class GeoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = CountryDb::Open(CountryDb::kDefaultPath, "/usr/share/GeoIP/GeoIPv6.dat", &error_);
    ASSERT_TRUE(db_->loaded()) << error_ << " (scripts/deps.sh installs geoip-database)";
  }
  std::string Code(std::string_view ip) { return std::string(CountryDb::Code(db_->Lookup(ip))); }
  std::unique_ptr<CountryDb> db_;
  std::string error_;
};

TEST_F(GeoTest, KnownAddresses) {
  EXPECT_EQ(Code("8.8.8.8"), "US");
  EXPECT_EQ(Code("126.15.104.3"), "JP");    // SoftBank
  EXPECT_EQ(Code("49.42.134.1"), "IN");     // Reliance Jio
  EXPECT_EQ(Code("177.32.223.188"), "BR");  // Claro
  EXPECT_EQ(Code("2001:4860:4860::8888"), "US");
  EXPECT_NE(db_->Lookup("8.8.8.8"), db_->Lookup("126.15.104.3"));
}

TEST_F(GeoTest, NotACountryIsUnknown) {
  EXPECT_EQ(db_->Lookup("62.115.132.109"), 0);  // "EU" in this database: a continent
  EXPECT_EQ(db_->Lookup("10.0.0.1"), 0);        // private
  EXPECT_EQ(db_->Lookup("127.0.0.1"), 0);
  EXPECT_EQ(CountryDb::Code(0), "--");
}

TEST_F(GeoTest, BadInputIsUnknownNotAnError) {
  const std::string_view bad[] = {"",    "not an address", "999.1.1.1",     "1.2.3", "1.2.3.4 ",
                                  "::g", "1.2.3.4.5",      {"1.2\0.3.4", 8}};
  for (std::string_view ip : bad) {
    EXPECT_EQ(db_->Lookup(ip), 0) << ip;
  }
  EXPECT_EQ(db_->Lookup(std::string(100, '1')), 0);
}

TEST_F(GeoTest, MissingOrWrongFilesLeaveLookupsOff) {
  std::string error;
  auto missing = CountryDb::Open("/nonexistent/GeoIP.dat", "", &error);
  EXPECT_FALSE(missing->loaded());
  EXPECT_NE(error.find("/nonexistent/GeoIP.dat: not found"), std::string::npos) << error;
  EXPECT_EQ(missing->Lookup("8.8.8.8"), 0);
  const auto junk = std::filesystem::temp_directory_path() / "dg_geo_junk.dat";
  std::ofstream(junk) << "this is not a GeoIP database\n";
  auto wrong = CountryDb::Open(junk.string(), "", &error);
  EXPECT_FALSE(wrong->loaded());
  EXPECT_NE(error.find(junk.string()), std::string::npos) << error;
  std::filesystem::remove(junk);
  // An IPv6 file given as the IPv4 database is the wrong edition.
  auto swapped = CountryDb::Open("/usr/share/GeoIP/GeoIPv6.dat", "", &error);
  EXPECT_FALSE(swapped->loaded());
  EXPECT_NE(error.find("not a GeoIP country database"), std::string::npos) << error;
}

}  // namespace
}  // namespace dg::features
