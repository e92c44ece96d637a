// See input.h.
#include "ingest/input.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace dg::ingest {
namespace {

class FdStream final : public ByteStream {
 public:
  FdStream(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdStream() override {
    if (owned_) ::close(fd_);
  }
  // Peeked bytes are served first.
  void Unread(const char* p, size_t n) { peek_.assign(p, p + n); }
  int64_t Read(char* buf, size_t n) override {
    if (!peek_.empty()) {
      size_t k = std::min(n, peek_.size() - peek_pos_);
      std::memcpy(buf, peek_.data() + peek_pos_, k);
      peek_pos_ += k;
      if (peek_pos_ == peek_.size()) {
        peek_.clear();
        peek_pos_ = 0;
      }
      return static_cast<int64_t>(k);
    }
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        error_ = std::strerror(errno);
        return -1;
      }
      raw_ += static_cast<uint64_t>(r);
      return r;
    }
  }
  const std::string& error() const override { return error_; }
  uint64_t raw_bytes_read() const override { return raw_; }

 private:
  int fd_;
  bool owned_;
  std::string peek_;
  size_t peek_pos_ = 0;
  uint64_t raw_ = 0;
  std::string error_;
};

// gzip (including concatenated members) through zlib's inflate.
class GzipStream final : public ByteStream {
 public:
  explicit GzipStream(std::unique_ptr<ByteStream> in) : in_(std::move(in)), inbuf_(1 << 18) {
    std::memset(&z_, 0, sizeof(z_));
    ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;
    if (!ok_) error_ = "zlib init failed";
  }
  ~GzipStream() override { inflateEnd(&z_); }
  int64_t Read(char* buf, size_t n) override {
    if (!ok_) return -1;
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out == n) {
      if (z_.avail_in == 0) {
        if (in_eof_) {
          if (mid_member_) {
            error_ = "truncated gzip stream";
            return -1;
          }
          return 0;
        }
        int64_t r = in_->Read(inbuf_.data(), inbuf_.size());
        if (r < 0) {
          error_ = in_->error();
          return -1;
        }
        if (r == 0) {
          in_eof_ = true;
          continue;
        }
        z_.next_in = reinterpret_cast<Bytef*>(inbuf_.data());
        z_.avail_in = static_cast<uInt>(r);
      }
      mid_member_ = true;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        mid_member_ = false;
        inflateReset(&z_);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = fmt::format("gzip: {}", z_.msg ? z_.msg : "corrupt data");
        return -1;
      }
    }
    return static_cast<int64_t>(n - z_.avail_out);
  }
  const std::string& error() const override { return error_; }
  uint64_t raw_bytes_read() const override { return in_->raw_bytes_read(); }

 private:
  std::unique_ptr<ByteStream> in_;
  std::vector<char> inbuf_;
  z_stream z_;
  bool ok_ = false;
  bool in_eof_ = false;
  bool mid_member_ = false;
  std::string error_;
};

class ZstdStream final : public ByteStream {
 public:
  explicit ZstdStream(std::unique_ptr<ByteStream> src)
      : src_(std::move(src)), inbuf_(ZSTD_DStreamInSize()), ds_(ZSTD_createDStream()) {
    ZSTD_initDStream(ds_);
  }
  ~ZstdStream() override { ZSTD_freeDStream(ds_); }
  int64_t Read(char* buf, size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (zin_.pos == zin_.size) {
        if (src_eof_) {
          if (last_ret_ != 0) {
            error_ = "truncated zstd stream";
            return -1;
          }
          return 0;
        }
        int64_t r = src_->Read(inbuf_.data(), inbuf_.size());
        if (r < 0) {
          error_ = src_->error();
          return -1;
        }
        if (r == 0) {
          src_eof_ = true;
          continue;
        }
        zin_ = ZSTD_inBuffer{inbuf_.data(), static_cast<size_t>(r), 0};
      }
      size_t ret = ZSTD_decompressStream(ds_, &out, &zin_);
      if (ZSTD_isError(ret)) {
        error_ = fmt::format("zstd: {}", ZSTD_getErrorName(ret));
        return -1;
      }
      last_ret_ = ret;
    }
    return static_cast<int64_t>(out.pos);
  }
  const std::string& error() const override { return error_; }
  uint64_t raw_bytes_read() const override { return src_->raw_bytes_read(); }

 private:
  std::unique_ptr<ByteStream> src_;
  std::vector<char> inbuf_;
  ZSTD_DStream* ds_;
  ZSTD_inBuffer zin_{nullptr, 0, 0};
  bool src_eof_ = false;
  size_t last_ret_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<ByteStream> OpenByteStream(const std::string& path, std::string* error,
                                           Compression* detected) {
  int fd = 0;
  bool owned = false;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
      return nullptr;
    }
    owned = true;
  }
  auto raw = std::make_unique<FdStream>(fd, owned);
  char magic[4];
  size_t got = 0;
  while (got < sizeof(magic)) {
    int64_t r = raw->Read(magic + got, sizeof(magic) - got);
    if (r < 0) {
      *error = fmt::format("cannot read {}: {}", path, raw->error());
      return nullptr;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  raw->Unread(magic, got);
  Compression c = Compression::kNone;
  if (got >= 2 && static_cast<unsigned char>(magic[0]) == 0x1f &&
      static_cast<unsigned char>(magic[1]) == 0x8b) {
    c = Compression::kGzip;
  } else if (got >= 4 && static_cast<unsigned char>(magic[0]) == 0x28 &&
             static_cast<unsigned char>(magic[1]) == 0xb5 &&
             static_cast<unsigned char>(magic[2]) == 0x2f &&
             static_cast<unsigned char>(magic[3]) == 0xfd) {
    c = Compression::kZstd;
  }
  if (detected) *detected = c;
  switch (c) {
    case Compression::kGzip:
      return std::make_unique<GzipStream>(std::move(raw));
    case Compression::kZstd:
      return std::make_unique<ZstdStream>(std::move(raw));
    case Compression::kNone:
      break;
  }
  return raw;
}

BlockReader::BlockReader(std::unique_ptr<ByteStream> stream, size_t block_size,
                         size_t max_line_bytes)
    : stream_(std::move(stream)), block_size_(block_size), max_line_(max_line_bytes) {}

bool BlockReader::Next(Block& b) {
  b.oversized.clear();
  b.len = 0;
  b.n_lines = 0;
  b.block_index = blocks_++;
  const size_t want = std::max(block_size_, max_line_ + 2);
  if (b.buf.size() < want + simdjson::SIMDJSON_PADDING) {
    b.buf.resize(want + simdjson::SIMDJSON_PADDING);
  }
  size_t fill = carry_.size();  // the carried partial line starts line next_line_
  if (fill) std::memcpy(b.buf.data(), carry_.data(), fill);
  carry_.clear();

  while (!eof_ && fill < want) {
    int64_t r = stream_->Read(b.buf.data() + fill, want - fill);
    if (r < 0) {
      error_ = stream_->error();
      eof_ = true;
      break;
    }
    if (r == 0) {
      eof_ = true;
      break;
    }
    bytes_read_ += static_cast<uint64_t>(r);
    if (skipping_) {
      // Still inside an oversized line (fill is 0 here): discard up to its newline.
      char* start = b.buf.data() + fill;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', static_cast<size_t>(r)));
      if (!nl) {
        skip_bytes_ += static_cast<uint64_t>(r);
        continue;
      }
      size_t consumed = static_cast<size_t>(nl - start) + 1;
      skip_bytes_ += consumed - 1;
      pending_oversized_.push_back({skip_line_, skip_bytes_});
      skipping_ = false;
      std::memmove(start, nl + 1, static_cast<size_t>(r) - consumed);
      r -= static_cast<int64_t>(consumed);
    }
    fill += static_cast<size_t>(r);
  }
  b.first_line = next_line_;

  size_t cut = fill;
  if (!eof_) {
    const void* last_nl = memrchr(b.buf.data(), '\n', fill);
    cut = last_nl ? static_cast<size_t>(static_cast<const char*>(last_nl) - b.buf.data()) + 1 : 0;
  }
  const size_t tail = fill - cut;
  uint64_t lines = 0;
  for (const char* p = b.buf.data(); p < b.buf.data() + cut;) {
    const char* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(b.buf.data() + cut - p)));
    ++lines;
    if (!nl) break;
    p = nl + 1;
  }
  b.len = cut;
  b.n_lines = lines;
  next_line_ = b.first_line + lines;
  if (tail > 0) {
    if (tail > max_line_) {
      // Longer than any allowed line already: skip the rest of it without buffering.
      skipping_ = true;
      skip_line_ = next_line_++;
      skip_bytes_ = tail;
    } else {
      carry_.assign(b.buf.data() + cut, b.buf.data() + fill);
    }
  }
  if (eof_ && skipping_) {
    pending_oversized_.push_back({skip_line_, skip_bytes_});
    skipping_ = false;
  }
  b.oversized.swap(pending_oversized_);
  pending_oversized_.clear();
  std::memset(b.buf.data() + cut, ' ', simdjson::SIMDJSON_PADDING);
  return cut > 0 || !b.oversized.empty() || !eof_ || !carry_.empty();
}

}  // namespace dg::ingest
