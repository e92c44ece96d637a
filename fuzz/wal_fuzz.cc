// libFuzzer target for the WAL reader (serve/wal): what Open() and Replay() make of segment
// files left on disk by a crash, a torn write or a bad disk. The input is a control byte and the
// contents of one or two segments: bit 0 of the control byte re-computes each record's CRC (so
// that the fuzzer reaches sequence and framing checks instead of stopping at the checksum),
// bit 1 splits the rest into two segments at a position given by the next byte, bits 2-3 pick
// the first segment's starting sequence. The segments are written into a fresh temp directory
// and the log is opened, replayed, appended to and reopened. Invariants: no crash or sanitizer
// report; Open() either fails with a message or succeeds with a dense sequence: Replay(1)
// yields seq first, first + 1, ... up to next_seq() - 1 and never a payload beyond the file;
// an Append() after it gets next_seq(), and a reopen sees exactly that record more.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "serve/wal.h"

namespace {

namespace fs = std::filesystem;

// A per-process scratch directory (removed and recreated per input).
const fs::path& Scratch() {
  static const fs::path dir = [] {
    // tmpfs when there is one: the WAL fsyncs, which on a disk would cap the fuzzer at ~100/s.
    std::string tmpl = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    tmpl += "/dg_wal_fuzz.XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    return fs::path(tmpl);
  }();
  return dir;
}

// Rewrites the CRC of every record whose header and payload fit in `seg` (the framing of
// wal.h: [u32 len][u32 crc of seq, aux, payload][u64 seq][u64 aux][payload]).
void FixCrcs(std::string& seg) {
  size_t pos = 0;
  while (seg.size() - pos >= 24) {
    uint32_t len;
    std::memcpy(&len, seg.data() + pos, 4);
    if (seg.size() - pos - 24 < len) break;
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, reinterpret_cast<const Bytef*>(seg.data() + pos + 8), 16);
    c = crc32(c, reinterpret_cast<const Bytef*>(seg.data() + pos + 24), len);
    const uint32_t crc = static_cast<uint32_t>(c);
    std::memcpy(seg.data() + pos + 4, &crc, 4);
    pos += 24 + len;
  }
}

void WriteFile(const fs::path& p, std::string_view data) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  if (!data.empty() && ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    std::abort();
  ::close(fd);
}

std::string SegmentName(uint64_t first) {
  char name[64];
  std::snprintf(name, sizeof(name), "wal-%020llu.log", static_cast<unsigned long long>(first));
  return name;
}

// Replays from 1 and checks density; returns the number of records, or -1 on a replay error.
int64_t CheckReplay(const dg::serve::Wal& wal, size_t total_bytes) {
  std::string err;
  uint64_t expect = 0;
  int64_t count = 0;
  const bool ok = wal.Replay(
      1,
      [&](uint64_t seq, uint64_t, std::string_view payload) {
        if (expect != 0 && seq != expect) std::abort();
        if (payload.size() > total_bytes) std::abort();
        expect = seq + 1;
        ++count;
      },
      &err);
  if (!ok) return -1;
  if (count > 0 && expect != wal.next_seq()) std::abort();
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t ctl = data[0];
  std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string seg1 = rest, seg2;
  const bool two = ctl & 2;
  if (two) {
    const size_t cut = rest.empty() ? 0 : (data[1] * rest.size()) / 255;
    seg1 = rest.substr(0, cut);
    seg2 = rest.substr(cut);
  }
  if (ctl & 1) {
    FixCrcs(seg1);
    FixCrcs(seg2);
  }
  static const uint64_t kFirst[4] = {1, 2, 1000, uint64_t{1} << 40};
  const uint64_t first = kFirst[(ctl >> 2) & 3];

  const fs::path& dir = Scratch();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  WriteFile(dir / SegmentName(first), seg1);
  if (two) {
    // The second segment starts where the first one's valid records end, if they parse.
    dg::serve::Wal probe;
    std::string err;
    uint64_t second = first + 1;
    if (probe.Open(dir.string(), 1 << 20, &err)) second = probe.next_seq();
    WriteFile(dir / SegmentName(second), seg2);
  }

  uint64_t next = 0;
  {
    dg::serve::Wal wal;
    std::string err;
    if (!wal.Open(dir.string(), 1 << 20, &err)) {
      if (err.empty()) std::abort();
      return 0;
    }
    next = wal.next_seq();
    if (next < first && next != 1) std::abort();
    if (CheckReplay(wal, rest.size()) < 0) return 0;
    const uint64_t seq = wal.Append("{\"after\":1}\n", 7);
    if (seq != 0 && seq != next) std::abort();
    if (seq == 0) return 0;
    if (!wal.Sync()) std::abort();
  }
  dg::serve::Wal again;
  std::string err;
  if (!again.Open(dir.string(), 1 << 20, &err)) std::abort();  // our own append must reopen
  if (again.next_seq() != next + 1 || again.last_aux() != 7) std::abort();
  return 0;
}
