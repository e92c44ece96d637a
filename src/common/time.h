// Event time. The engine runs on event time in microseconds since the Unix epoch (UTC), never on
// the wall clock; the wall clock reaches code only through an injected Clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dg {

using TimeUs = int64_t;  // microseconds since 1970-01-01T00:00:00Z
inline constexpr TimeUs kUsPerSec = 1'000'000;
inline constexpr TimeUs kUsPerMin = 60 * kUsPerSec;
inline constexpr TimeUs kUsPerHour = 60 * kUsPerMin;
inline constexpr TimeUs kUsPerDay = 24 * kUsPerHour;

// Parses RFC 3339 ("2025-01-02T03:04:05.123Z", "...+02:00", space instead of 'T' accepted).
// Returns nullopt on any malformed or out-of-range input. Never throws, never allocates.
std::optional<TimeUs> ParseRfc3339(std::string_view s);

// Epoch seconds (possibly fractional) to TimeUs; nullopt if not finite or out of range
// (years 1970..9999).
std::optional<TimeUs> FromEpochSeconds(double secs);

// Formats as RFC 3339 UTC with millisecond precision: "2025-01-02T03:04:05.123Z".
std::string FormatRfc3339(TimeUs t);
void AppendRfc3339(std::string& out, TimeUs t);

// Injected wall clock (serve's timeouts, generated_at). Tests pass a fixed clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeUs Now() const = 0;
};
class SystemClock final : public Clock {
 public:
  TimeUs Now() const override;
};
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimeUs t) : t_(t) {}
  TimeUs Now() const override { return t_; }
  void Set(TimeUs t) { t_ = t; }

 private:
  TimeUs t_;
};

}  // namespace dg
