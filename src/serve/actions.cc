// See actions.h.
#include "serve/actions.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/hash.h"
#include "common/json_writer.h"
#include "common/time.h"
#include "common/utf8.h"
#include "core/event.h"

namespace dg::serve {
namespace {

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    if (error) *error = msg ? msg : "sqlite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

std::string Col(sqlite3_stmt* st, int i) {
  const auto* p = sqlite3_column_text(st, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(st, i)))
           : std::string();
}

void Bind(sqlite3_stmt* st, int i, std::string_view s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// A statement finalised on scope exit.
struct Stmt {
  sqlite3_stmt* st = nullptr;
  ~Stmt() { sqlite3_finalize(st); }
};

}  // namespace

std::string_view TargetKindName(TargetKind k) {
  switch (k) {
    case TargetKind::kAccount:
      return "account";
    case TargetKind::kKey:
      return "api_key";
    case TargetKind::kEndUser:
      return "end_user";
    case TargetKind::kCluster:
      return "cluster";
  }
  return "account";
}

std::optional<TargetKind> ParseTargetKind(std::string_view s) {
  if (s == "account") return TargetKind::kAccount;
  if (s == "api_key" || s == "key") return TargetKind::kKey;
  if (s == "end_user") return TargetKind::kEndUser;
  if (s == "cluster") return TargetKind::kCluster;
  return std::nullopt;
}

std::string_view OverrideName(Override o) {
  switch (o) {
    case Override::kBlock:
      return "block";
    case Override::kAllow:
      return "allow";
    case Override::kNone:
      break;
  }
  return "none";
}

uint64_t ClusterOverrideKey(uint64_t root_account_hash) {
  return HashMix(root_account_hash, 0x636c7573746572ULL);
}

uint64_t OverrideKey(TargetKind kind, std::string_view scope, std::string_view target) {
  switch (kind) {
    case TargetKind::kAccount:
      return Hash64(target, core::kHashAccount);
    case TargetKind::kKey:
      return HashMix(Hash64(scope, core::kHashAccount) ^ 0x6b6579, Hash64(target));
    case TargetKind::kEndUser:
      return HashMix(Hash64(scope, core::kHashAccount) ^ 0x7573, Hash64(target));
    case TargetKind::kCluster: {
      // "C-<root account id>"; anything else can never match a live cluster, but is keyed anyway.
      std::string_view root = target;
      if (root.size() > 2 && root.substr(0, 2) == "C-") root.remove_prefix(2);
      return ClusterOverrideKey(Hash64(root, core::kHashAccount));
    }
  }
  return 0;
}

ActionStore::ActionStore() { overrides_.store(std::make_shared<const OverrideMap>()); }

ActionStore::~ActionStore() {
  if (db_) sqlite3_close(db_);
}

bool ActionStore::Open(const std::string& path, std::string* error) {
  std::lock_guard lock(mu_);
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    *error = fmt::format("cannot open {}: {}", path, db_ ? sqlite3_errmsg(db_) : "?");
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  if (!Exec(db_, "PRAGMA journal_mode=WAL;", error) ||
      !Exec(db_, "PRAGMA synchronous=FULL;", error) ||
      !Exec(db_,
            "CREATE TABLE IF NOT EXISTS audit ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, wall_us INTEGER NOT NULL, who TEXT NOT NULL,"
            " kind TEXT NOT NULL, scope TEXT NOT NULL, target TEXT NOT NULL,"
            " action TEXT NOT NULL, note TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS audit_target ON audit(kind, scope, target);"
            "CREATE TABLE IF NOT EXISTS case_state ("
            " kind TEXT NOT NULL, scope TEXT NOT NULL, target TEXT NOT NULL,"
            " override TEXT NOT NULL, status TEXT NOT NULL, updated_us INTEGER NOT NULL,"
            " PRIMARY KEY(kind, scope, target));",
            error)) {
    return false;
  }
  Stmt q;
  if (sqlite3_prepare_v2(db_,
                         "SELECT kind, scope, target, override, status, updated_us FROM case_state",
                         -1, &q.st, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db_);
    return false;
  }
  while (sqlite3_step(q.st) == SQLITE_ROW) {
    const auto kind = ParseTargetKind(Col(q.st, 0));
    if (!kind) continue;
    CaseState s;
    const std::string o = Col(q.st, 3);
    s.override_ = o == "block"   ? Override::kBlock
                  : o == "allow" ? Override::kAllow
                                 : Override::kNone;
    s.status = Col(q.st, 4);
    s.updated_us = sqlite3_column_int64(q.st, 5);
    states_[{static_cast<uint8_t>(*kind), Col(q.st, 1), Col(q.st, 2)}] = std::move(s);
  }
  PublishLocked();
  return true;
}

void ActionStore::PublishLocked() {
  auto m = std::make_shared<OverrideMap>();
  for (const auto& [k, s] : states_) {
    if (s.override_ == Override::kNone) continue;
    m->by_key[OverrideKey(static_cast<TargetKind>(std::get<0>(k)), std::get<1>(k),
                          std::get<2>(k))] = s.override_;
  }
  overrides_.store(std::shared_ptr<const OverrideMap>(std::move(m)), std::memory_order_release);
}

bool ActionStore::Record(const ActionRow& in, int64_t wall_us, ActionRow* stored,
                         std::string* error) {
  static const char* kActions[] = {"confirm", "dismiss", "reopen", "block", "allow", "clear"};
  bool known = false;
  for (const char* a : kActions) known |= in.action == a;
  if (!known) {
    *error = "action must be one of confirm, dismiss, reopen, block, allow, clear";
    return false;
  }
  if (in.target.empty() || in.target.size() > kMaxTargetBytes) {
    *error = fmt::format("target must be 1 to {} bytes", kMaxTargetBytes);
    return false;
  }
  const bool scoped = in.kind == TargetKind::kKey || in.kind == TargetKind::kEndUser;
  if (scoped && (in.scope.empty() || in.scope.size() > kMaxTargetBytes)) {
    *error = "scope (the account of the key or end user) is required";
    return false;
  }
  if (in.who.empty() || in.who.size() > kMaxWhoBytes) {
    *error = fmt::format("who must be 1 to {} bytes", kMaxWhoBytes);
    return false;
  }
  if (in.note.size() > kMaxNoteBytes) {
    *error = fmt::format("note is longer than {} bytes", kMaxNoteBytes);
    return false;
  }
  for (const std::string* s : {&in.who, &in.scope, &in.target, &in.note}) {
    if (!IsValidUtf8(*s)) {
      *error = "text fields must be valid UTF-8";
      return false;
    }
  }
  const std::string scope = scoped ? in.scope : std::string();
  std::lock_guard lock(mu_);
  if (!db_) {
    *error = "action store is not open";
    return false;
  }
  const auto key = std::make_tuple(static_cast<uint8_t>(in.kind), scope, in.target);
  CaseState next;
  if (auto it = states_.find(key); it != states_.end()) next = it->second;
  if (in.action == "confirm") next.status = "confirmed";
  if (in.action == "dismiss") next.status = "dismissed";
  if (in.action == "reopen") next.status = "open";
  if (in.action == "block") next.override_ = Override::kBlock;
  if (in.action == "allow") next.override_ = Override::kAllow;
  if (in.action == "clear") next.override_ = Override::kNone;
  next.updated_us = wall_us;

  if (!Exec(db_, "BEGIN IMMEDIATE;", error)) return false;
  auto fail = [&]() {
    *error = sqlite3_errmsg(db_);
    Exec(db_, "ROLLBACK;", nullptr);
    return false;
  };
  int64_t id = 0;
  {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO audit (wall_us, who, kind, scope, target, action, note)"
                           " VALUES (?,?,?,?,?,?,?)",
                           -1, &st.st, nullptr) != SQLITE_OK) {
      return fail();
    }
    sqlite3_bind_int64(st.st, 1, wall_us);
    Bind(st.st, 2, in.who);
    Bind(st.st, 3, TargetKindName(in.kind));
    Bind(st.st, 4, scope);
    Bind(st.st, 5, in.target);
    Bind(st.st, 6, in.action);
    Bind(st.st, 7, in.note);
    if (sqlite3_step(st.st) != SQLITE_DONE) return fail();
    id = sqlite3_last_insert_rowid(db_);
  }
  {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO case_state"
                           " (kind, scope, target, override, status, updated_us)"
                           " VALUES (?,?,?,?,?,?)",
                           -1, &st.st, nullptr) != SQLITE_OK) {
      return fail();
    }
    Bind(st.st, 1, TargetKindName(in.kind));
    Bind(st.st, 2, scope);
    Bind(st.st, 3, in.target);
    Bind(st.st, 4, OverrideName(next.override_));
    Bind(st.st, 5, next.status);
    sqlite3_bind_int64(st.st, 6, wall_us);
    if (sqlite3_step(st.st) != SQLITE_DONE) return fail();
  }
  if (!Exec(db_, "COMMIT;", error)) {
    Exec(db_, "ROLLBACK;", nullptr);
    return false;
  }
  states_[key] = next;
  PublishLocked();
  *stored = in;
  stored->id = id;
  stored->wall_us = wall_us;
  stored->scope = scope;
  return true;
}

std::vector<ActionRow> ActionStore::Audit(int64_t since, int limit, const ActionRow* only) {
  std::vector<ActionRow> out;
  std::lock_guard lock(mu_);
  if (!db_) return out;
  Stmt st;
  const char* sql =
      only ? "SELECT id, wall_us, who, kind, scope, target, action, note FROM audit"
             " WHERE id > ? AND kind = ? AND scope = ? AND target = ? ORDER BY id LIMIT ?"
           : "SELECT id, wall_us, who, kind, scope, target, action, note FROM audit"
             " WHERE id > ? ORDER BY id LIMIT ?";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.st, nullptr) != SQLITE_OK) return out;
  sqlite3_bind_int64(st.st, 1, since);
  if (only) {
    Bind(st.st, 2, TargetKindName(only->kind));
    Bind(st.st, 3, only->scope);
    Bind(st.st, 4, only->target);
    sqlite3_bind_int(st.st, 5, limit);
  } else {
    sqlite3_bind_int(st.st, 2, limit);
  }
  while (sqlite3_step(st.st) == SQLITE_ROW) {
    ActionRow r;
    r.id = sqlite3_column_int64(st.st, 0);
    r.wall_us = sqlite3_column_int64(st.st, 1);
    r.who = Col(st.st, 2);
    r.kind = ParseTargetKind(Col(st.st, 3)).value_or(TargetKind::kAccount);
    r.scope = Col(st.st, 4);
    r.target = Col(st.st, 5);
    r.action = Col(st.st, 6);
    r.note = Col(st.st, 7);
    out.push_back(std::move(r));
  }
  return out;
}

CaseState ActionStore::State(TargetKind kind, std::string_view scope,
                             std::string_view target) const {
  std::lock_guard lock(mu_);
  auto it = states_.find({static_cast<uint8_t>(kind), std::string(scope), std::string(target)});
  return it == states_.end() ? CaseState{} : it->second;
}

std::map<std::tuple<uint8_t, std::string, std::string>, CaseState> ActionStore::States() const {
  std::lock_guard lock(mu_);
  return states_;
}

std::string ActionJson(const ActionRow& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("id", r.id).Field("at", FormatRfc3339(r.wall_us));
  w.Field("who", r.who).Field("kind", TargetKindName(r.kind));
  w.Field("scope", r.scope).Field("target", r.target).Field("action", r.action);
  w.Field("note", r.note).EndObject();
  return out;
}

std::string AuditJson(const std::vector<ActionRow>& rows) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& r : rows) w.Raw(ActionJson(r));
  w.EndArray();
  return out;
}

}  // namespace dg::serve
