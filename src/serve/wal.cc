// See wal.h.
#include "serve/wal.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/file_util.h"

namespace dg::serve {
namespace {

constexpr size_t kHeader = 24;

uint32_t Crc(const char* header_tail, std::string_view payload) {
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, reinterpret_cast<const Bytef*>(header_tail), 16);
  c = crc32(c, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(c);
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Walks the records of a segment file's contents; returns the byte length of the valid prefix.
size_t Scan(std::string_view data, uint64_t expect_seq,
            const std::function<bool(uint64_t, uint64_t, std::string_view)>& fn) {
  size_t pos = 0;
  while (data.size() - pos >= kHeader) {
    uint32_t len, crc;
    uint64_t seq, aux;
    std::memcpy(&len, data.data() + pos, 4);
    std::memcpy(&crc, data.data() + pos + 4, 4);
    std::memcpy(&seq, data.data() + pos + 8, 8);
    std::memcpy(&aux, data.data() + pos + 16, 8);
    if (data.size() - pos - kHeader < len) break;
    std::string_view payload = data.substr(pos + kHeader, len);
    if (Crc(data.data() + pos + 8, payload) != crc || seq != expect_seq) break;
    if (!fn(seq, aux, payload)) break;
    ++expect_seq;
    pos += kHeader + len;
  }
  return pos;
}

}  // namespace

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

bool Wal::Open(const std::string& dir, size_t segment_bytes, std::string* error) {
  dir_ = dir;
  segment_bytes_ = segment_bytes;
  ::mkdir(dir.c_str(), 0755);
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    *error = fmt::format("cannot open {}: {}", dir, std::strerror(errno));
    return false;
  }
  while (dirent* ent = ::readdir(d)) {
    unsigned long long first = 0;
    char tail[8] = {};
    if (std::sscanf(ent->d_name, "wal-%llu.%3s", &first, tail) == 2 &&
        std::strcmp(tail, "log") == 0) {
      segments_.push_back({first, first, dir + "/" + ent->d_name});
    }
  }
  ::closedir(d);
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });
  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& s = segments_[i];
    std::string data;
    if (!ReadFile(s.path, &data, error)) return false;
    uint64_t end = s.first_seq;
    const size_t valid = Scan(data, s.first_seq, [&](uint64_t seq, uint64_t aux, std::string_view) {
      end = seq + 1;
      if (aux) last_aux_ = aux;
      return true;
    });
    s.end_seq = end;
    if (valid != data.size()) {
      if (i + 1 != segments_.size()) {
        *error = fmt::format("{}: corrupt record in the middle of the log", s.path);
        return false;
      }
      // Torn tail of the last segment: never acknowledged, drop it.
      if (::truncate(s.path.c_str(), static_cast<off_t>(valid)) != 0) {
        *error = fmt::format("cannot truncate {}: {}", s.path, std::strerror(errno));
        return false;
      }
    }
    if (i > 0 && segments_[i - 1].end_seq != s.first_seq) {
      *error = fmt::format("{}: gap in the log sequence", s.path);
      return false;
    }
    next_seq_ = end;
    if (i + 1 == segments_.size()) size_ = valid;
  }
  if (segments_.empty()) return StartSegment(error);
  fd_ = ::open(segments_.back().path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) {
    *error = fmt::format("cannot open {}: {}", segments_.back().path, std::strerror(errno));
    return false;
  }
  return true;
}

bool Wal::StartSegment(std::string* error) {
  if (fd_ >= 0) {
    if (dirty_) ::fdatasync(fd_);
    ::close(fd_);
  }
  Segment s{next_seq_, next_seq_, fmt::format("{}/wal-{:020}.log", dir_, next_seq_)};
  fd_ = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    if (error) *error = fmt::format("cannot create {}: {}", s.path, std::strerror(errno));
    return false;
  }
  SyncDir(dir_);
  segments_.push_back(std::move(s));
  size_ = 0;
  return true;
}

uint64_t Wal::Append(std::string_view payload, uint64_t aux) {
  if (size_ >= segment_bytes_ && size_ > 0 && !StartSegment(nullptr)) return 0;
  char header[kHeader];
  const uint32_t len = static_cast<uint32_t>(payload.size());
  const uint64_t seq = next_seq_;
  std::memcpy(header, &len, 4);
  std::memcpy(header + 8, &seq, 8);
  std::memcpy(header + 16, &aux, 8);
  const uint32_t crc = Crc(header + 8, payload);
  std::memcpy(header + 4, &crc, 4);
  if (!WriteAll(fd_, header, kHeader) || !WriteAll(fd_, payload.data(), payload.size())) return 0;
  size_ += kHeader + payload.size();
  bytes_written_ += kHeader + payload.size();
  segments_.back().end_seq = ++next_seq_;
  if (aux) last_aux_ = aux;
  dirty_ = true;
  return seq;
}

bool Wal::Sync() {
  if (!dirty_) return true;
  dirty_ = false;
  return ::fdatasync(fd_) == 0;
}

bool Wal::Replay(uint64_t from, const std::function<void(uint64_t, uint64_t, std::string_view)>& fn,
                 std::string* error) const {
  for (const Segment& s : segments_) {
    if (s.end_seq <= from) continue;
    std::string data;
    if (!ReadFile(s.path, &data, error)) return false;
    Scan(data, s.first_seq, [&](uint64_t seq, uint64_t aux, std::string_view payload) {
      if (seq >= from) fn(seq, aux, payload);
      return true;
    });
  }
  return true;
}

void Wal::DropBefore(uint64_t seq) {
  // Never the current (last) segment.
  while (segments_.size() > 1 && segments_.front().end_seq <= seq) {
    ::unlink(segments_.front().path.c_str());
    segments_.erase(segments_.begin());
  }
}

}  // namespace dg::serve
