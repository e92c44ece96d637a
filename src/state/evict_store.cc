// See evict_store.h.
#include "state/evict_store.h"

#include <sqlite3.h>

namespace dg::state {

EvictStore::~EvictStore() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(get_);
  sqlite3_finalize(delete_);
  if (db_) sqlite3_close(db_);
}

bool EvictStore::Fail(const char* what) {
  error_ = std::string(what) + " (" + path_ + "): " + (db_ ? sqlite3_errmsg(db_) : "not open");
  return false;
}

bool EvictStore::Open(const std::string& path, bool durable, bool fresh, std::string* error) {
  path_ = path;
  auto fail = [&](const char* what) {
    Fail(what);
    if (error) *error = error_;
    return false;
  };
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    return fail("cannot open the eviction store");
  }
  const std::string pragmas =
      std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + (durable ? "FULL" : "OFF") +
      "; CREATE TABLE IF NOT EXISTS evicted (id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " account INTEGER NOT NULL, data BLOB NOT NULL);" +
      (fresh ? " DELETE FROM evicted;" : "");
  char* msg = nullptr;
  if (sqlite3_exec(db_, pragmas.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    return fail("cannot set up the eviction store");
  }
  if (sqlite3_prepare_v2(db_, "INSERT INTO evicted(account, data) VALUES(?, ?)", -1, &insert_,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "SELECT data FROM evicted WHERE id = ?", -1, &get_, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db_, "DELETE FROM evicted WHERE id = ?", -1, &delete_, nullptr) !=
          SQLITE_OK) {
    return fail("cannot prepare the eviction store's statements");
  }
  return true;
}

bool EvictStore::Begin() {
  return sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK || Fail("begin");
}

bool EvictStore::Commit() {
  return sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK || Fail("commit");
}

uint64_t EvictStore::Insert(uint64_t account, std::string_view data) {
  sqlite3_reset(insert_);
  sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(account));
  sqlite3_bind_blob64(insert_, 2, data.data(), data.size(), SQLITE_STATIC);
  if (sqlite3_step(insert_) != SQLITE_DONE) {
    Fail("insert");
    return 0;
  }
  return static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
}

bool EvictStore::Delete(uint64_t id) {
  sqlite3_reset(delete_);
  sqlite3_bind_int64(delete_, 1, static_cast<sqlite3_int64>(id));
  return sqlite3_step(delete_) == SQLITE_DONE || Fail("delete");
}

bool EvictStore::Get(uint64_t id, std::string* data) {
  sqlite3_reset(get_);
  sqlite3_bind_int64(get_, 1, static_cast<sqlite3_int64>(id));
  if (sqlite3_step(get_) != SQLITE_ROW) {
    error_ = "eviction store (" + path_ + "): row " + std::to_string(id) + " is missing";
    return false;
  }
  const auto* p = static_cast<const char*>(sqlite3_column_blob(get_, 0));
  data->assign(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(get_, 0)));
  sqlite3_reset(get_);
  return true;
}

bool EvictStore::ForEachId(const std::function<void(uint64_t)>& fn) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT id FROM evicted ORDER BY id", -1, &st, nullptr) !=
      SQLITE_OK) {
    return Fail("list");
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fn(static_cast<uint64_t>(sqlite3_column_int64(st, 0)));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE || Fail("list");
}

uint64_t EvictStore::Rows() {
  sqlite3_stmt* st = nullptr;
  uint64_t n = 0;
  if (sqlite3_prepare_v2(db_, "SELECT count(*) FROM evicted", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
  }
  sqlite3_finalize(st);
  return n;
}

}  // namespace dg::state
