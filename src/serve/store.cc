// See store.h.
#include "serve/store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "common/json_writer.h"
#include "common/time.h"

namespace dg::serve {
namespace {

constexpr size_t kMaxQueue = 100000;

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    if (error) *error = msg ? msg : "sqlite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

// POSTs `body` to an http:// URL; true on a 2xx answer.
bool PostJson(const std::string& url, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;
  if (url.rfind("http://", 0) != 0) return false;
  std::string rest = url.substr(7);
  std::string hostport = rest.substr(0, rest.find('/'));
  std::string target = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
  std::string host = hostport, port = "80";
  if (auto c = hostport.rfind(':'); c != std::string::npos) {
    host = hostport.substr(0, c);
    port = hostport.substr(c + 1);
  }
  try {
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, hostport);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "distillguard-webhook");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    beast::error_code ec;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    return res.result_int() >= 200 && res.result_int() < 300;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

Store::~Store() {
  Stop();
  if (db_) sqlite3_close(db_);
}

bool Store::Open(const std::string& path, std::string* error) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    *error = fmt::format("cannot open {}: {}", path, db_ ? sqlite3_errmsg(db_) : "?");
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  return Exec(db_, "PRAGMA journal_mode=WAL;", error) &&
         Exec(db_, "PRAGMA synchronous=FULL;", error) &&
         Exec(db_,
              "CREATE TABLE IF NOT EXISTS alerts ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL,"
              " at_us INTEGER NOT NULL, by_cluster INTEGER NOT NULL, level TEXT, score REAL,"
              " cluster_id TEXT, created_us INTEGER, delivered INTEGER NOT NULL DEFAULT 0,"
              " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_us INTEGER NOT NULL DEFAULT 0,"
              " UNIQUE(account_id, at_us, by_cluster));"
              "CREATE TABLE IF NOT EXISTS decisions ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, wall_us INTEGER, account_id TEXT,"
              " action TEXT, would TEXT, reasons TEXT);"
              "CREATE INDEX IF NOT EXISTS decisions_account ON decisions(account_id);"
              "CREATE TABLE IF NOT EXISTS case_forensics ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, cluster_id TEXT NOT NULL,"
              " attached_at TEXT NOT NULL, label TEXT NOT NULL, result TEXT NOT NULL);"

              "CREATE INDEX IF NOT EXISTS alerts_account ON alerts(account_id);",
              error);
}

void Store::StartThreads(const std::string& webhook_url, int max_attempts) {
  writer_ = std::thread([this] { WriterLoop(); });
  if (!webhook_url.empty()) {
    webhook_ =
        std::thread([this, webhook_url, max_attempts] { WebhookLoop(webhook_url, max_attempts); });
  }
}

void Store::Stop() {
  {
    std::lock_guard lock(q_mu_);
    if (stop_) return;
    stop_ = true;
  }
  q_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (webhook_.joinable()) webhook_.join();
}

bool Store::InsertAlert(const AlertRow& a, int64_t wall_us) {
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_,
                     "INSERT OR IGNORE INTO alerts(account_id, at_us, by_cluster, level, score,"
                     " cluster_id, created_us) VALUES(?,?,?,?,?,?,?)",
                     -1, &st, nullptr);
  sqlite3_bind_text(st, 1, a.account_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, a.at_us);
  sqlite3_bind_int(st, 3, a.by_cluster);
  sqlite3_bind_text(st, 4, a.level.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 5, a.score);
  sqlite3_bind_text(st, 6, a.cluster_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 7, wall_us);
  sqlite3_step(st);
  sqlite3_finalize(st);
  const bool fresh = sqlite3_changes(db_) > 0;
  if (fresh) q_cv_.notify_all();
  return fresh;
}

void Store::LogDecision(DecisionRow row) {
  {
    std::lock_guard lock(q_mu_);
    if (queue_.size() >= kMaxQueue) {
      ++decisions_dropped;
      return;
    }
    queue_.push_back(std::move(row));
  }
  q_cv_.notify_one();
}

void Store::WriterLoop() {
  std::deque<DecisionRow> batch;
  for (;;) {
    {
      std::unique_lock lock(q_mu_);
      q_cv_.wait_for(lock, std::chrono::milliseconds(200),
                     [&] { return stop_ || !queue_.empty(); });
      batch.swap(queue_);
      if (batch.empty() && stop_) return;
    }
    if (batch.empty()) continue;
    std::lock_guard lock(db_mu_);
    Exec(db_, "BEGIN", nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_,
                       "INSERT INTO decisions(wall_us, account_id, action, would, reasons)"
                       " VALUES(?,?,?,?,?)",
                       -1, &st, nullptr);
    for (const auto& d : batch) {
      sqlite3_bind_int64(st, 1, d.wall_us);
      sqlite3_bind_text(st, 2, d.account_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, d.action.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 4, d.would.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 5, d.reasons.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    Exec(db_, "COMMIT", nullptr);
    decisions_written += batch.size();
    batch.clear();
  }
}

bool Store::AddForensics(const ForensicsRow& f, std::string* error) {
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO case_forensics(cluster_id, attached_at, label, result)"
                         " VALUES(?,?,?,?)",
                         -1, &st, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db_);
    return false;
  }
  sqlite3_bind_text(st, 1, f.cluster_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, f.attached_at.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, f.label.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, f.result.c_str(), -1, SQLITE_TRANSIENT);
  const bool ok = sqlite3_step(st) == SQLITE_DONE;
  if (!ok) *error = sqlite3_errmsg(db_);
  sqlite3_finalize(st);
  return ok;
}

namespace {
std::string Text(sqlite3_stmt* st, int col) {
  const auto* p = sqlite3_column_text(st, col);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}
}  // namespace

std::vector<ForensicsRow> Store::Forensics(const std::string& cluster_id) {
  std::vector<ForensicsRow> out;
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_,
                     "SELECT cluster_id, attached_at, label, result FROM case_forensics"
                     " WHERE cluster_id = ? ORDER BY id",
                     -1, &st, nullptr);
  sqlite3_bind_text(st, 1, cluster_id.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.push_back({Text(st, 0), Text(st, 1), Text(st, 2), Text(st, 3)});
  sqlite3_finalize(st);
  return out;
}

std::vector<DecisionSummary> Store::SummariseDecisions(const std::vector<std::string>& accounts) {
  std::vector<DecisionSummary> out;
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_,
                     "SELECT action, would, COUNT(*), MIN(wall_us), MAX(wall_us) FROM decisions"
                     " WHERE account_id = ? GROUP BY action, would ORDER BY MIN(wall_us)",
                     -1, &st, nullptr);
  for (const auto& a : accounts) {
    sqlite3_bind_text(st, 1, a.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
      out.push_back({a, Text(st, 0), Text(st, 1), sqlite3_column_int64(st, 2),
                     sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)});
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return out;
}

std::string Store::AlertsJson(int64_t since, int limit) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_,
                     "SELECT id, account_id, at_us, by_cluster, level, score, cluster_id,"
                     " delivered FROM alerts WHERE id > ? ORDER BY id LIMIT ?",
                     -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, since);
  sqlite3_bind_int(st, 2, limit);
  while (sqlite3_step(st) == SQLITE_ROW) {
    w.BeginObject();
    w.Field("id", static_cast<int64_t>(sqlite3_column_int64(st, 0)));
    w.Field("account_id", std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))));
    w.Field("at", FormatRfc3339(sqlite3_column_int64(st, 2)));
    w.Field("by_cluster", sqlite3_column_int(st, 3) != 0);
    const auto* level = sqlite3_column_text(st, 4);
    w.Field("level", std::string(level ? reinterpret_cast<const char*>(level) : ""));
    w.Field("score", sqlite3_column_double(st, 5));
    const auto* cid = sqlite3_column_text(st, 6);
    w.Field("cluster_id", std::string(cid ? reinterpret_cast<const char*>(cid) : ""));
    w.Field("delivered", sqlite3_column_int(st, 7) != 0);
    w.EndObject();
  }
  sqlite3_finalize(st);
  w.EndArray();
  return out;
}

namespace {
// "?,?,?" for n placeholders (n >= 1).
std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
  return s;
}
constexpr size_t kMaxAccountsPerQuery = 500;  // SQLite's default limit of host parameters: 32766
}  // namespace

std::string Store::AlertsOf(const std::vector<std::string>& accounts, int limit) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  const size_t n = std::min(accounts.size(), kMaxAccountsPerQuery);
  if (n > 0) {
    std::lock_guard lock(db_mu_);
    sqlite3_stmt* st = nullptr;
    const std::string sql =
        "SELECT id, account_id, at_us, by_cluster, level, score, delivered FROM alerts"
        " WHERE account_id IN (" +
        Placeholders(n) + ") ORDER BY at_us DESC, id DESC LIMIT ?";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      for (size_t i = 0; i < n; ++i) {
        sqlite3_bind_text(st, static_cast<int>(i + 1), accounts[i].data(),
                          static_cast<int>(accounts[i].size()), SQLITE_TRANSIENT);
      }
      sqlite3_bind_int(st, static_cast<int>(n + 1), limit);
      while (sqlite3_step(st) == SQLITE_ROW) {
        w.BeginObject();
        w.Field("id", static_cast<int64_t>(sqlite3_column_int64(st, 0)));
        w.Field("account_id", Text(st, 1));
        w.Field("at", FormatRfc3339(sqlite3_column_int64(st, 2)));
        w.Field("by_cluster", sqlite3_column_int(st, 3) != 0);
        w.Field("level", Text(st, 4));
        w.Field("score", sqlite3_column_double(st, 5));
        w.Field("delivered", sqlite3_column_int(st, 6) != 0);
        w.EndObject();
      }
    }
    sqlite3_finalize(st);
  }
  w.EndArray();
  return out;
}

std::string Store::DecisionsOf(const std::vector<std::string>& accounts, int limit) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  const size_t n = std::min(accounts.size(), kMaxAccountsPerQuery);
  if (n > 0) {
    std::lock_guard lock(db_mu_);
    sqlite3_stmt* st = nullptr;
    const std::string sql =
        "SELECT id, wall_us, account_id, action, would, reasons FROM decisions"
        " WHERE account_id IN (" +
        Placeholders(n) + ") ORDER BY id DESC LIMIT ?";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      for (size_t i = 0; i < n; ++i) {
        sqlite3_bind_text(st, static_cast<int>(i + 1), accounts[i].data(),
                          static_cast<int>(accounts[i].size()), SQLITE_TRANSIENT);
      }
      sqlite3_bind_int(st, static_cast<int>(n + 1), limit);
      while (sqlite3_step(st) == SQLITE_ROW) {
        w.BeginObject();
        w.Field("id", static_cast<int64_t>(sqlite3_column_int64(st, 0)));
        w.Field("at", FormatRfc3339(sqlite3_column_int64(st, 1)));
        w.Field("account_id", Text(st, 2));
        w.Field("action", Text(st, 3));
        w.Field("would", Text(st, 4));
        w.Field("reasons", Text(st, 5));
        w.EndObject();
      }
    }
    sqlite3_finalize(st);
  }
  w.EndArray();
  return out;
}

std::unordered_map<std::string, std::array<uint64_t, 4>> Store::WouldCounts() {
  std::unordered_map<std::string, std::array<uint64_t, 4>> out;
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT account_id, would, COUNT(*) FROM decisions"
                         " GROUP BY account_id, would",
                         -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const std::string would = Text(st, 1);
      const int a = would == "degrade" ? 1 : would == "throttle" ? 2 : would == "block" ? 3 : 0;
      out[Text(st, 0)][a] += static_cast<uint64_t>(sqlite3_column_int64(st, 2));
    }
  }
  sqlite3_finalize(st);
  return out;
}

uint64_t Store::alerts_total() {
  std::lock_guard lock(db_mu_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM alerts", -1, &st, nullptr);
  uint64_t n = 0;
  if (sqlite3_step(st) == SQLITE_ROW) n = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return n;
}

void Store::WebhookLoop(std::string url, int max_attempts) {
  SystemClock clock;
  for (;;) {
    {
      std::unique_lock lock(q_mu_);
      q_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
      if (stop_) return;
    }
    struct Pending {
      int64_t id;
      int attempts;
      std::string body;
    };
    std::vector<Pending> todo;
    {
      std::lock_guard lock(db_mu_);
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db_,
                         "SELECT id, account_id, at_us, by_cluster, level, score, cluster_id,"
                         " attempts FROM alerts WHERE delivered = 0 AND attempts < ? AND"
                         " next_attempt_us <= ? ORDER BY id LIMIT 32",
                         -1, &st, nullptr);
      sqlite3_bind_int(st, 1, max_attempts);
      sqlite3_bind_int64(st, 2, clock.Now());
      while (sqlite3_step(st) == SQLITE_ROW) {
        std::string body;
        JsonWriter w(body);
        w.BeginObject();
        w.Field("type", std::string("distillguard.alert"));
        w.Field("id", static_cast<int64_t>(sqlite3_column_int64(st, 0)));
        w.Field("account_id",
                std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))));
        w.Field("flagged_at", FormatRfc3339(sqlite3_column_int64(st, 2)));
        w.Field("by_cluster", sqlite3_column_int(st, 3) != 0);
        const auto* level = sqlite3_column_text(st, 4);
        w.Field("level", std::string(level ? reinterpret_cast<const char*>(level) : ""));
        w.Field("score", sqlite3_column_double(st, 5));
        const auto* cid = sqlite3_column_text(st, 6);
        w.Field("cluster_id", std::string(cid ? reinterpret_cast<const char*>(cid) : ""));
        w.EndObject();
        todo.push_back({sqlite3_column_int64(st, 0), sqlite3_column_int(st, 7), std::move(body)});
      }
      sqlite3_finalize(st);
    }
    for (const auto& p : todo) {
      const bool ok = PostJson(url, p.body);
      std::lock_guard lock(db_mu_);
      sqlite3_stmt* st = nullptr;
      if (ok) {
        ++webhook_sent;
        sqlite3_prepare_v2(db_, "UPDATE alerts SET delivered = 1 WHERE id = ?", -1, &st, nullptr);
        sqlite3_bind_int64(st, 1, p.id);
      } else {
        ++webhook_failed;
        const int64_t backoff = std::min<int64_t>(300, int64_t{1} << std::min(p.attempts, 8));
        sqlite3_prepare_v2(db_,
                           "UPDATE alerts SET attempts = attempts + 1, next_attempt_us = ?"
                           " WHERE id = ?",
                           -1, &st, nullptr);
        sqlite3_bind_int64(st, 1, clock.Now() + backoff * kUsPerSec);
        sqlite3_bind_int64(st, 2, p.id);
      }
      sqlite3_step(st);
      sqlite3_finalize(st);
    }
  }
}

}  // namespace dg::serve
