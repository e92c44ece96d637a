// Write-ahead log of accepted event batches. Each record is one accepted body (decompressed
// JSONL) framed as [u32 payload length][u32 CRC-32 of header tail + payload][u64 sequence]
// [u64 aux][payload]; records have dense sequence numbers starting at 1. Records live in segment
// files `wal-<first seq>.log` in the data directory; a new segment starts once the current one
// passes the segment size. Append() writes, Sync() makes everything appended durable (fdatasync),
// so one Sync covers a whole group of batches (group commit). Open() validates the segments and
// truncates a torn tail (a record cut short by a crash, or failing its CRC), which can only be a
// record that was never acknowledged. Segments wholly before a checkpoint are deleted by
// DropBefore(). `aux` is free for the caller (the file tailer stores its input offset there).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dg::serve {

class Wal {
 public:
  ~Wal();
  // Opens (creating) the log in `dir`. Returns false and sets *error on failure.
  bool Open(const std::string& dir, size_t segment_bytes, std::string* error);
  // Calls fn(seq, aux, payload) for every record with seq >= from, in order.
  bool Replay(uint64_t from, const std::function<void(uint64_t, uint64_t, std::string_view)>& fn,
              std::string* error) const;
  // Appends a record; returns its sequence number, 0 on I/O error.
  uint64_t Append(std::string_view payload, uint64_t aux = 0);
  bool Sync();
  // Deletes segments whose records all precede `seq`.
  void DropBefore(uint64_t seq);
  uint64_t next_seq() const { return next_seq_; }
  // aux of the last record appended with a non-zero aux (0 if none).
  uint64_t last_aux() const { return last_aux_; }
  uint64_t bytes_written() const { return bytes_written_; }
  size_t segments() const { return segments_.size(); }

 private:
  struct Segment {
    uint64_t first_seq = 0;
    uint64_t end_seq = 0;  // one past the last record
    std::string path;
  };
  bool StartSegment(std::string* error);
  std::string dir_;
  size_t segment_bytes_ = 0;
  std::vector<Segment> segments_;
  int fd_ = -1;
  uint64_t size_ = 0;  // of the current segment
  uint64_t next_seq_ = 1;
  uint64_t last_aux_ = 0;
  uint64_t bytes_written_ = 0;
  bool dirty_ = false;
};

}  // namespace dg::serve
