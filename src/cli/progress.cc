// See progress.h.
#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace dg::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void ProgressBar::Update(uint64_t done, uint64_t total, uint64_t items, bool final) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::max(1e-3, std::chrono::duration<double>(now - start_).count());
  const double frac =
      total ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0;
  constexpr int kWidth = 28;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  std::string eta = "--:--";
  if (total && frac > 0.001 && !final) {
    const int rem = static_cast<int>(secs / frac - secs);
    eta = fmt::format("{}:{:02}", rem / 60, rem % 60);
  } else if (final) {
    eta = fmt::format("{:.1f}s", secs);
  }
  fmt::print(stderr, "\r{} [{}] {:3.0f}%  {:.2f}M events  {:.0f}k ev/s  {:.1f} MB/s  {} {}", label_,
             bar, 100 * (final ? 1.0 : frac), static_cast<double>(items) / 1e6,
             static_cast<double>(items) / secs / 1e3, static_cast<double>(done) / secs / 1e6,
             final ? "done in" : "ETA", eta);
  if (final) fmt::print(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace dg::cli
