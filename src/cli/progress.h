// A one-line progress bar on stderr (only when stderr is a terminal): done/total, rate, ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dg::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  bool enabled() const { return enabled_; }
  // `done`/`total` in bytes (total 0 = unknown); `items` counted as events.
  void Update(uint64_t done, uint64_t total, uint64_t items, bool final = false);

 private:
  std::string label_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace dg::cli
