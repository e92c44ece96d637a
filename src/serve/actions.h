// ActionStore: the analysts' decisions on cases (confirm / dismiss / reopen a case; block / allow
// / clear an override on an account, an API key, an end user or a cluster), kept in SQLite
// (data_dir/actions.db, WAL journal, synchronous=FULL: an action acknowledged to the analyst has
// reached the disk and survives kill -9).
//
// Two tables, written in one transaction per action: `audit` (append-only: who, when, what, on
// what, why) and `case_state` (the current override and status per target, what the service
// loads at start). The overrides the decider reads are published like verdicts
// (serve/verdict_view.h): an immutable map behind an atomically swapped shared_ptr, rebuilt on
// every action (actions are rare), so a decision pays one atomic load and a hash lookup, and an
// action takes effect on the next decision.
//
// Targets: an account by its id; an API key or an end user by its id within its account
// (`scope` = account id; the engine judges keys and end users within their account); a cluster
// by its id ("C-<root account id>", as in the report), matched against the cluster each account
// is in when decided.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace dg::serve {

enum class TargetKind : uint8_t { kAccount = 0, kKey = 1, kEndUser = 2, kCluster = 3 };
std::string_view TargetKindName(TargetKind k);
std::optional<TargetKind> ParseTargetKind(std::string_view s);

enum class Override : uint8_t { kNone = 0, kBlock = 1, kAllow = 2 };
std::string_view OverrideName(Override o);

// One analyst action as requested (validated by ActionStore::Record) and as stored.
struct ActionRow {
  int64_t id = 0;
  int64_t wall_us = 0;
  std::string who;
  TargetKind kind = TargetKind::kAccount;
  std::string scope;   // the account of a key / end user; empty otherwise
  std::string target;  // account id, key id, end-user id or cluster id
  std::string action;  // confirm, dismiss, reopen, block, allow, clear
  std::string note;
};

struct CaseState {
  Override override_ = Override::kNone;
  std::string status = "open";  // open, confirmed, dismissed
  int64_t updated_us = 0;
};

// Key of a target in the override map and the case-state map.
uint64_t OverrideKey(TargetKind kind, std::string_view scope, std::string_view target);
// The key a cluster's override is looked up under, from the hash of its root account
// (core::kHashAccount): cluster ids are "C-" + the root account's id.
uint64_t ClusterOverrideKey(uint64_t root_account_hash);

// What the decider reads: overrides by OverrideKey (clusters by ClusterOverrideKey).
struct OverrideMap {
  std::unordered_map<uint64_t, Override> by_key;
  Override Find(uint64_t key) const {
    auto it = by_key.find(key);
    return it == by_key.end() ? Override::kNone : it->second;
  }
};

// Limits on what an analyst can write (a note is free text shown back as text).
inline constexpr size_t kMaxWhoBytes = 64, kMaxTargetBytes = 512, kMaxNoteBytes = 4000;

class ActionStore {
 public:
  ActionStore();
  ~ActionStore();
  ActionStore(const ActionStore&) = delete;
  ActionStore& operator=(const ActionStore&) = delete;

  // Opens or creates the database and loads the current case states and overrides.
  bool Open(const std::string& path, std::string* error);
  // Validates `in` (known action, kind, non-empty target, scope set for keys and end users,
  // sizes), stores it durably with `wall_us`, updates the case state and republishes the
  // overrides. On success fills *stored (with its id) and returns true; otherwise *error says why
  // (a validation error, or the database's).
  bool Record(const ActionRow& in, int64_t wall_us, ActionRow* stored, std::string* error);
  // Audit rows with id > since, oldest first, at most `limit`; optionally of one target only.
  std::vector<ActionRow> Audit(int64_t since, int limit, const ActionRow* only = nullptr);
  // Current state of a target (open / no override when it has none).
  CaseState State(TargetKind kind, std::string_view scope, std::string_view target) const;
  // All targets with a state (for the case queue).
  std::map<std::tuple<uint8_t, std::string, std::string>, CaseState> States() const;
  std::shared_ptr<const OverrideMap> overrides() const {
    return overrides_.load(std::memory_order_acquire);
  }

 private:
  void PublishLocked();
  mutable std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::map<std::tuple<uint8_t, std::string, std::string>, CaseState> states_;
  std::atomic<std::shared_ptr<const OverrideMap>> overrides_;
};

// The audit rows as a JSON array; one row as an object.
std::string AuditJson(const std::vector<ActionRow>& rows);
std::string ActionJson(const ActionRow& row);

}  // namespace dg::serve
