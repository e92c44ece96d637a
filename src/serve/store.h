// Store: alerts and decisions in SQLite (data_dir/distillguard.db, WAL journal mode), plus the
// webhook sender.
//
// Alerts are written synchronously by the ingest thread when the engine reports a flag, before
// the checkpoint that includes the flag can be written, so no alert is lost to a crash. The
// table's UNIQUE(account, at, by_cluster) key makes replay after a restart idempotent: the same
// flag re-emitted while replaying the WAL tail is ignored. Decisions (non-allow ones) go through
// a bounded queue to a writer thread that batches them per transaction; when the queue is full
// they are counted and dropped, so the decision path never waits on the disk. The webhook thread
// posts undelivered alerts (JSON, HTTP POST) and retries with exponential backoff, across
// restarts too, since delivery state lives in the table.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <array>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace dg::serve {

struct AlertRow {
  std::string account_id;
  int64_t at_us = 0;  // event time of the flag
  bool by_cluster = false;
  std::string level;
  double score = 0;
  std::string cluster_id;
};

struct DecisionRow {
  int64_t wall_us = 0;
  std::string account_id;
  std::string action, would;
  std::string reasons;  // comma-separated
};

// A forensics result attached to a case (POST /v1/case-files/{id}/forensics), kept synchronously.
struct ForensicsRow {
  std::string cluster_id, attached_at, label, result;
};

// Decisions logged for one account, grouped by (action, would).
struct DecisionSummary {
  std::string account_id, action, would;
  int64_t count = 0, first_us = 0, last_us = 0;
};

class Store {
 public:
  Store() = default;
  ~Store();
  bool Open(const std::string& path, std::string* error);
  void StartThreads(const std::string& webhook_url, int max_attempts);
  void Stop();

  // Returns true if the alert is new.
  bool InsertAlert(const AlertRow& a, int64_t wall_us);
  void LogDecision(DecisionRow row);
  // Written before returning (survives kill -9 once it returns true).
  bool AddForensics(const ForensicsRow& f, std::string* error);
  std::vector<ForensicsRow> Forensics(const std::string& cluster_id);
  // Decisions already written (the log is asynchronous: the last ~200 ms may be missing).
  std::vector<DecisionSummary> SummariseDecisions(const std::vector<std::string>& accounts);
  // Alerts as a JSON array, newest last, with id > since.
  std::string AlertsJson(int64_t since, int limit);
  uint64_t alerts_total();
  // For the analyst UI: the newest alerts / decisions of these accounts (JSON arrays, newest
  // first, at most `limit`), and non-allow decision counts per account and `would` action
  // (what the policy decided, also in shadow mode), over the decision log.
  std::string AlertsOf(const std::vector<std::string>& accounts, int limit);
  std::string DecisionsOf(const std::vector<std::string>& accounts, int limit);
  std::unordered_map<std::string, std::array<uint64_t, 4>> WouldCounts();

  std::atomic<uint64_t> decisions_dropped{0}, decisions_written{0}, webhook_sent{0},
      webhook_failed{0};

 private:
  void WriterLoop();
  void WebhookLoop(std::string url, int max_attempts);
  std::mutex db_mu_;
  sqlite3* db_ = nullptr;
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<DecisionRow> queue_;
  bool stop_ = false;
  std::thread writer_, webhook_;
};

}  // namespace dg::serve
