// Input: byte streams (file or stdin, plain / gzip / zstd detected from magic bytes) cut into
// blocks of whole lines.
//
// A Block owns one padded buffer of complete lines (simdjson needs SIMDJSON_PADDING readable
// bytes after the data) and the number of its first line. Blocks are reused: the reader refills
// a returned block's buffer without reallocating once it has grown to the block size. A line
// longer than the cap is never buffered whole: the reader skips it in streaming fashion and
// reports it in the next block's `oversized` list, so a 3 GiB line costs no memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dg::ingest {

// A decompressed byte stream.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to n bytes; returns the count, 0 at end of stream, -1 on error (see error()).
  virtual int64_t Read(char* buf, size_t n) = 0;
  virtual const std::string& error() const = 0;
  // Bytes consumed from the underlying file (compressed size), for progress.
  virtual uint64_t raw_bytes_read() const = 0;
};

enum class Compression { kNone, kGzip, kZstd };

// Opens `path` ("-" = stdin) and detects compression from the first bytes. Returns nullptr and
// sets *error when the file cannot be opened.
std::unique_ptr<ByteStream> OpenByteStream(const std::string& path, std::string* error,
                                           Compression* detected = nullptr);

struct OversizedLine {
  uint64_t line = 0;
  uint64_t bytes = 0;
};

struct Block {
  std::vector<char> buf;  // size() >= len + padding
  size_t len = 0;         // bytes of complete lines (the last one may lack its '\n' at EOF)
  uint64_t first_line = 1;
  uint64_t n_lines = 0;                  // lines in buf
  std::vector<OversizedLine> oversized;  // skipped lines longer than the cap, before this block
  uint64_t block_index = 0;
};

class BlockReader {
 public:
  BlockReader(std::unique_ptr<ByteStream> stream, size_t block_size, size_t max_line_bytes);
  // Fills `b` with the next lines. Returns false at end of input (b may still hold oversized
  // entries to report). An I/O error ends the stream and sets error().
  bool Next(Block& b);
  const std::string& error() const { return error_; }
  uint64_t raw_bytes_read() const { return stream_->raw_bytes_read(); }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool Refill();
  std::unique_ptr<ByteStream> stream_;
  size_t block_size_;
  size_t max_line_;
  std::vector<char> carry_;  // partial line carried to the next block
  bool eof_ = false;
  bool skipping_ = false;  // inside an oversized line
  uint64_t skip_line_ = 0, skip_bytes_ = 0;
  uint64_t next_line_ = 1;
  uint64_t bytes_read_ = 0;
  uint64_t blocks_ = 0;
  std::vector<OversizedLine> pending_oversized_;
  std::string error_;
};

}  // namespace dg::ingest
