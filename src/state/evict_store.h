// EvictStore: the on-disk home of idle accounts' state (engine eviction, see engine/engine.h).
//
// One SQLite table of opaque records: `id` (assigned on insert, never reused: AUTOINCREMENT),
// the account hash (for inspection) and the encoded state. The engine keeps a small stub per
// evicted account naming its row id; a row is written once per eviction and read when the
// account returns. WAL journal mode; `durable` adds synchronous=FULL so a committed batch of
// evictions survives power loss as well as kill -9 (a checkpoint that names a row is only written
// after the row's transaction committed). Single-threaded: the engine calls it from the thread
// that owns it (the barrier, or the ingest thread of the service).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace dg::state {

class EvictStore {
 public:
  EvictStore() = default;
  ~EvictStore();
  EvictStore(const EvictStore&) = delete;
  EvictStore& operator=(const EvictStore&) = delete;

  // Opens (creating) the store at `path`. `fresh`: drop any rows already there (a scan's scratch
  // store). Returns false with *error naming the file and SQLite's reason.
  bool Open(const std::string& path, bool durable, bool fresh, std::string* error);
  bool is_open() const { return db_ != nullptr; }
  const std::string& path() const { return path_; }

  // Writes are grouped: Begin(), any number of Insert()/Delete(), Commit().
  bool Begin();
  bool Commit();
  // Returns the new row's id, or 0 on error (error() says why).
  uint64_t Insert(uint64_t account, std::string_view data);
  bool Delete(uint64_t id);
  // Reads row `id` into *data; false if it is missing or unreadable.
  bool Get(uint64_t id, std::string* data);
  // Calls fn(id) for every row, ascending (start-up pruning of rows no stub names).
  bool ForEachId(const std::function<void(uint64_t)>& fn);
  uint64_t Rows();
  const std::string& error() const { return error_; }
  // Records `what` with SQLite's current message as error(); returns false.
  bool Fail(const char* what);

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  std::string path_;
  std::string error_;
};

}  // namespace dg::state
