// AtomicFileWriter / WriteFileAtomically: the target holds the old or the complete new content.
#include "common/file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace dg {
namespace {

namespace fs = std::filesystem;

class FileUtil : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dg_file_util_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read(const fs::path& p) {
    std::string s, err;
    EXPECT_TRUE(ReadFile(p.string(), &s, &err)) << err;
    return s;
  }
  size_t Entries() { return std::distance(fs::directory_iterator(dir_), {}); }
  fs::path dir_;
};

TEST_F(FileUtil, PiecesBecomeTheFileOnlyOnCommit) {
  const fs::path target = dir_ / "report.json";
  std::string err;
  ASSERT_TRUE(WriteFileAtomically(target.string(), "old", &err)) << err;
  {
    AtomicFileWriter w(target.string());
    ASSERT_TRUE(w.Append("new "));
    ASSERT_TRUE(w.Append("content"));
    EXPECT_EQ(Read(target), "old");  // not visible before Commit
    ASSERT_TRUE(w.Commit()) << w.error();
  }
  EXPECT_EQ(Read(target), "new content");
  EXPECT_EQ(Entries(), 1u);  // no temporary left behind
}

TEST_F(FileUtil, AbandonedWriterLeavesTheOldFile) {
  const fs::path target = dir_ / "report.json";
  std::string err;
  ASSERT_TRUE(WriteFileAtomically(target.string(), "old", &err)) << err;
  {
    AtomicFileWriter w(target.string());
    ASSERT_TRUE(w.Append("partial"));
  }  // destroyed without Commit (e.g. the serialiser failed)
  EXPECT_EQ(Read(target), "old");
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(FileUtil, UnwritableDirectoryIsAnError) {
  AtomicFileWriter w((dir_ / "missing" / "report.json").string());
  EXPECT_FALSE(w.Append("x"));
  EXPECT_FALSE(w.Commit());
  EXPECT_NE(w.error().find("missing"), std::string::npos);
  std::string err;
  EXPECT_FALSE(WriteFileAtomically((dir_ / "missing" / "r").string(), "x", &err));
  EXPECT_FALSE(err.empty());
}

}  // namespace
}  // namespace dg
