// Engine snapshots refuse what they cannot read: a file of another format version (older or
// newer) or written by a build with another account-state field list is refused with a message
// naming the reason, never misread or crashed on (docs/SNAPSHOT.md). Checksums are recomputed
// after each edit so that the header checks, not the checksum, do the refusing.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <string>

#include "core/names.h"
#include "engine/engine.h"

namespace dg::engine {
namespace {

std::string Snapshot() {
  core::NameTable names;
  Engine eng({}, names);
  std::string snap;
  eng.SaveSnapshot(snap);
  return snap;
}

void Reseal(std::string& snap) {
  const uint64_t sum = XXH3_64bits(snap.data(), snap.size() - 8);
  std::memcpy(snap.data() + snap.size() - 8, &sum, 8);
}

bool Load(const std::string& snap, std::string* err) {
  static core::NameTable names;
  static Engine eng({}, names);  // a load replaces everything it reads
  err->clear();
  return eng.LoadSnapshot(snap, err);
}

TEST(EngineSnapshotFormat, LoadsItsOwnVersion) {
  std::string err;
  EXPECT_TRUE(Load(Snapshot(), &err)) << err;
}

TEST(EngineSnapshotFormat, RefusesOtherVersions) {
  const std::string snap = Snapshot();
  uint32_t version = 0;
  std::memcpy(&version, snap.data() + 8, 4);  // after the magic
  for (uint32_t other : {version - 1, version + 1, 1u}) {
    std::string s = snap;
    std::memcpy(s.data() + 8, &other, 4);
    Reseal(s);
    std::string err;
    EXPECT_FALSE(Load(s, &err)) << other;
    EXPECT_NE(err.find("format version " + std::to_string(other)), std::string::npos) << err;
  }
}

TEST(EngineSnapshotFormat, RefusesAnotherFieldList) {
  std::string s = Snapshot();
  const uint64_t fp = state::AccountState::LayoutFingerprint();
  const size_t at = s.find(std::string(reinterpret_cast<const char*>(&fp), 8));
  ASSERT_NE(at, std::string::npos);
  s[at] ^= 1;
  Reseal(s);
  std::string err;
  EXPECT_FALSE(Load(s, &err));
  EXPECT_NE(err.find("account state fields differ"), std::string::npos) << err;
}

TEST(EngineSnapshotFormat, RefusesTruncation) {
  const std::string snap = Snapshot();
  for (size_t len = 0; len + 8 < snap.size(); len += len < 128 ? 1 : 97) {
    std::string s = snap.substr(0, len) + std::string(8, '\0');
    if (s.size() >= 16) Reseal(s);
    std::string err;
    EXPECT_FALSE(Load(s, &err)) << len;
    EXPECT_FALSE(err.empty()) << len;
  }
}

}  // namespace
}  // namespace dg::engine
