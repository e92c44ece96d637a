// See file_util.h.
#include "common/file_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dg {

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  tmp_ = fmt::format("{}.tmp.{}", path_, ::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) error_ = fmt::format("{}: {}", tmp_, std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

bool AtomicFileWriter::Fail(const std::string& what) {
  error_ = fmt::format("{}: {}", what, std::strerror(errno));
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
    fd_ = -1;
  }
  return false;
}

bool AtomicFileWriter::Append(std::string_view data) {
  if (fd_ < 0) return false;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd_, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Fail(tmp_);
    off += static_cast<size_t>(w);
  }
  return true;
}

bool AtomicFileWriter::Commit() {
  if (fd_ < 0) return false;
  if (::fsync(fd_) != 0) return Fail(tmp_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    error_ = fmt::format("{}: {}", tmp_, std::strerror(errno));
    ::unlink(tmp_.c_str());
    return false;
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    error_ = fmt::format("{}: {}", path_, std::strerror(errno));
    ::unlink(tmp_.c_str());
    return false;
  }
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool WriteFileAtomically(const std::string& path, std::string_view data, std::string* error) {
  AtomicFileWriter w(path);
  if (w.Append(data) && w.Commit()) return true;
  *error = w.error();
  return false;
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("{}: {}", path, std::strerror(errno));
    return false;
  }
  out->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *error = fmt::format("{}: {}", path, std::strerror(errno));
      ::close(fd);
      return false;
    }
    if (r == 0) break;
    out->append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return true;
}

}  // namespace dg
