// Activity: what the analyst UI plots and quotes, kept beside the engine in bounded memory.
//
//   - Per account, hourly buckets (event time) of requests and output tokens, and the account's
//     latest score at the last barrier of each hour. A bucket is 16 bytes and only hours in which
//     the account was active have one (a hobbyist active for 3 hours costs 48 bytes plus the map
//     entry); at most kMaxHours per account, the oldest dropped first. AccountState stays
//     untouched (fixed-size, asserted): this is a separate structure.
//   - Per hour, the median requests and output tokens over the accounts active in that hour
//     (the "peer median" line of the plots), computed when the hour closes (an event of a later
//     hour arrives) from the list of accounts active in it; kept for kPeerHours. Events later
//     than the hour's close count in their account's bucket but not in the closed median.
//   - PromptSamples: up to kPerTemplate sample prompts (the last user message, cut to kMaxChars)
//     per template skeleton, for a bounded number of templates (second-chance eviction, so
//     templates seen once churn and a campaign's template stays). Per template it keeps the
//     samples of the lowest record order (source, line), so samples do not depend on thread
//     timing while nothing is evicted. Never any other text.
//
// Fed by the engine's observer (Engine::Push order, one thread) and by the parsing sinks
// (PromptSamples is thread-safe). Serialised for `serve` checkpoints (Save/Load).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event.h"
#include "ingest/exchange.h"

namespace dg::engine {

class Engine;

struct HourBucket {
  uint32_t hour = 0;  // hours since the Unix epoch (event time)
  uint32_t requests = 0;
  uint32_t output_tokens = 0;  // saturating
  uint16_t score = 0;          // latest score at the hour's last barrier, x65535
  uint16_t touched = 0;        // internal: listed for the next barrier
};
static_assert(sizeof(HourBucket) == 16);

struct PeerHour {
  uint32_t hour = 0;
  uint32_t accounts = 0;  // active accounts in the hour
  float median_requests = 0, median_output = 0;
};

class Activity {
 public:
  static constexpr size_t kMaxHours = 168;  // one week of active hours per account
  static constexpr size_t kPeerHours = 24 * 31;

  void OnEvent(const core::EventRecord& r);
  // After a barrier: records the latest score of the accounts active since the last one.
  void OnBarrier(const Engine& engine);

  // An account's buckets, oldest first; nullptr if never seen.
  const std::vector<HourBucket>* Of(uint64_t account) const;
  // The peer medians of `hour` (the open hour is computed on the spot); accounts = 0 if unknown.
  PeerHour Peers(uint32_t hour) const;
  size_t accounts() const { return by_account_.size(); }
  size_t MemoryBytes() const;

  void Save(std::string& out) const;
  bool Load(std::string_view data, std::string* error);

 private:
  PeerHour Median(uint32_t hour, const std::vector<uint64_t>& active) const;
  std::unordered_map<uint64_t, std::vector<HourBucket>> by_account_;
  std::vector<uint64_t> touched_;  // accounts whose bucket of their latest hour awaits a score
  uint32_t open_hour_ = 0;
  std::vector<uint64_t> open_accounts_;  // accounts with a bucket in open_hour_
  std::deque<PeerHour> closed_;          // ascending hours
};

class PromptSamples {
 public:
  static constexpr size_t kPerTemplate = 3;
  static constexpr size_t kMaxChars = 400;

  explicit PromptSamples(size_t max_templates = 16384) : max_templates_(max_templates) {}
  // A prompt of template `skeleton` seen at record order `order` (thread-safe).
  void Offer(uint64_t skeleton, uint64_t order, const ingest::TextParts& text);
  struct Entry {
    uint64_t skeleton = 0;
    uint64_t seen = 0;
    bool ref = false;
    std::vector<std::pair<uint64_t, std::string>> samples;  // (order, text), ascending order
  };
  // Samples of a template (empty if none kept), in record order.
  std::vector<std::string> Get(uint64_t skeleton) const;
  size_t size() const;

  void Save(std::string& out) const;
  bool Load(std::string_view data, std::string* error);

 private:
  mutable std::mutex mu_;
  size_t max_templates_;
  std::vector<Entry> entries_;
  std::unordered_map<uint64_t, uint32_t> index_;
  size_t hand_ = 0;
};

// Joins the parts of a text with single spaces and cuts it to at most `max` bytes at a UTF-8
// character boundary (an ellipsis marks a cut).
std::string JoinText(const ingest::TextParts& text, size_t max);

}  // namespace dg::engine
