// See activity.h.
#include "engine/activity.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/engine.h"

namespace dg::engine {
namespace {

constexpr char kActivityMagic[8] = {'D', 'G', 'A', 'C', 'T', 'V', '0', '1'};
constexpr char kSamplesMagic[8] = {'D', 'G', 'S', 'M', 'P', 'L', '0', '1'};

uint32_t HourOf(TimeUs ts) {
  if (ts <= 0) return 0;
  return static_cast<uint32_t>(std::min<int64_t>(ts / (3600 * kUsPerSec), UINT32_MAX));
}

template <typename T>
void Put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
bool Take(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

float MedianOf(std::vector<uint32_t>& v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  float m = static_cast<float>(v[mid]);
  if (v.size() % 2 == 0) {
    const uint32_t lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    m = (m + static_cast<float>(lo)) / 2;
  }
  return m;
}

}  // namespace

std::string JoinText(const ingest::TextParts& text, size_t max) {
  std::string out;
  for (uint8_t i = 0; i < text.count && out.size() < max + 4; ++i) {
    if (!out.empty()) out += ' ';
    out.append(text.parts[i].substr(0, max + 4));
  }
  if (out.size() <= max) return out;
  size_t cut = max;
  // Back up to a character boundary (never inside a UTF-8 sequence).
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "\xE2\x80\xA6";  // …
  return out;
}

void Activity::OnEvent(const core::EventRecord& r) {
  const uint32_t hour = HourOf(r.ts);
  if (hour > open_hour_) {
    if (!open_accounts_.empty()) {
      closed_.push_back(Median(open_hour_, open_accounts_));
      while (closed_.size() > kPeerHours) closed_.pop_front();
    }
    open_accounts_.clear();
    open_hour_ = hour;
  }
  auto& v = by_account_[r.account];
  HourBucket* b = nullptr;
  if (!v.empty() && v.back().hour == hour) {
    b = &v.back();
  } else if (v.empty() || v.back().hour < hour) {
    if (v.size() >= kMaxHours) v.erase(v.begin());
    v.push_back({hour, 0, 0, v.empty() ? uint16_t{0} : v.back().score, 0});
    b = &v.back();
    if (hour == open_hour_) open_accounts_.push_back(r.account);
  } else {
    // A late event: its hour's bucket, created in place if the account was idle then.
    auto it = std::lower_bound(v.begin(), v.end(), hour,
                               [](const HourBucket& x, uint32_t h) { return x.hour < h; });
    if (it == v.end() || it->hour != hour) {
      if (v.size() >= kMaxHours && it == v.begin()) return;  // older than everything kept
      it = v.insert(it, {hour, 0, 0, it == v.begin() ? uint16_t{0} : (it - 1)->score, 0});
      if (v.size() > kMaxHours) {
        v.erase(v.begin());
      }
    }
    b = &*std::lower_bound(v.begin(), v.end(), hour,
                           [](const HourBucket& x, uint32_t h) { return x.hour < h; });
  }
  ++b->requests;
  const uint64_t out = static_cast<uint64_t>(std::max<int64_t>(r.completion_tokens, 0));
  b->output_tokens = static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{b->output_tokens} + out, std::numeric_limits<uint32_t>::max()));
  if (!v.back().touched) {
    v.back().touched = 1;
    touched_.push_back(r.account);
  }
}

void Activity::OnBarrier(const Engine& engine) {
  for (uint64_t a : touched_) {
    auto it = by_account_.find(a);
    if (it == by_account_.end() || it->second.empty()) continue;
    auto& b = it->second.back();
    b.touched = 0;
    if (const auto* s = engine.FindAccount(a)) {
      const float score = std::clamp(s->verdict.score, 0.0f, 1.0f);
      b.score = static_cast<uint16_t>(score * 65535.0f + 0.5f);
    }
  }
  touched_.clear();
}

const std::vector<HourBucket>* Activity::Of(uint64_t account) const {
  auto it = by_account_.find(account);
  return it == by_account_.end() ? nullptr : &it->second;
}

PeerHour Activity::Median(uint32_t hour, const std::vector<uint64_t>& active) const {
  std::vector<uint32_t> req, out;
  req.reserve(active.size());
  out.reserve(active.size());
  for (uint64_t a : active) {
    auto it = by_account_.find(a);
    if (it == by_account_.end()) continue;
    for (auto b = it->second.rbegin(); b != it->second.rend(); ++b) {
      if (b->hour < hour) break;
      if (b->hour == hour) {
        req.push_back(b->requests);
        out.push_back(b->output_tokens);
        break;
      }
    }
  }
  PeerHour p;
  p.hour = hour;
  p.accounts = static_cast<uint32_t>(req.size());
  p.median_requests = MedianOf(req);
  p.median_output = MedianOf(out);
  return p;
}

PeerHour Activity::Peers(uint32_t hour) const {
  if (hour == open_hour_ && !open_accounts_.empty()) return Median(hour, open_accounts_);
  auto it = std::lower_bound(closed_.begin(), closed_.end(), hour,
                             [](const PeerHour& p, uint32_t h) { return p.hour < h; });
  if (it != closed_.end() && it->hour == hour) return *it;
  PeerHour none;
  none.hour = hour;
  return none;
}

size_t Activity::MemoryBytes() const {
  size_t n = by_account_.bucket_count() * sizeof(void*) +
             by_account_.size() * (sizeof(uint64_t) + sizeof(std::vector<HourBucket>) + 16);
  for (const auto& [a, v] : by_account_) n += v.capacity() * sizeof(HourBucket);
  return n + open_accounts_.capacity() * 8 + touched_.capacity() * 8 +
         closed_.size() * sizeof(PeerHour);
}

void Activity::Save(std::string& out) const {
  out.append(kActivityMagic, 8);
  Put(out, open_hour_);
  Put(out, static_cast<uint64_t>(by_account_.size()));
  for (const auto& [a, v] : by_account_) {
    Put(out, a);
    Put(out, static_cast<uint32_t>(v.size()));
    out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(HourBucket));
  }
  Put(out, static_cast<uint64_t>(open_accounts_.size()));
  for (uint64_t a : open_accounts_) Put(out, a);
  Put(out, static_cast<uint64_t>(touched_.size()));
  for (uint64_t a : touched_) Put(out, a);
  Put(out, static_cast<uint64_t>(closed_.size()));
  for (const auto& p : closed_) Put(out, p);
}

bool Activity::Load(std::string_view in, std::string* error) {
  auto bad = [&](const char* why) {
    *error = std::string("activity: ") + why;
    *this = Activity{};
    return false;
  };
  if (in.size() < 8 || std::memcmp(in.data(), kActivityMagic, 8) != 0) return bad("bad magic");
  in.remove_prefix(8);
  *this = Activity{};
  uint64_t n = 0;
  if (!Take(in, open_hour_) || !Take(in, n)) return bad("truncated");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t a = 0;
    uint32_t m = 0;
    if (!Take(in, a) || !Take(in, m) || m > kMaxHours || in.size() < m * sizeof(HourBucket))
      return bad("truncated or corrupt account");
    auto& v = by_account_[a];
    v.resize(m);
    std::memcpy(v.data(), in.data(), m * sizeof(HourBucket));
    in.remove_prefix(m * sizeof(HourBucket));
  }
  auto take_list = [&](std::vector<uint64_t>& list) {
    uint64_t k = 0;
    if (!Take(in, k) || k > in.size() / 8) return false;
    list.resize(k);
    for (auto& a : list) Take(in, a);
    return true;
  };
  if (!take_list(open_accounts_) || !take_list(touched_)) return bad("truncated lists");
  if (!Take(in, n) || n > kPeerHours || n > in.size() / sizeof(PeerHour))
    return bad("truncated peer hours");
  for (uint64_t i = 0; i < n; ++i) {
    PeerHour p;
    Take(in, p);
    closed_.push_back(p);
  }
  if (!in.empty()) return bad("trailing bytes");
  return true;
}

void PromptSamples::Offer(uint64_t skeleton, uint64_t order, const ingest::TextParts& text) {
  if (text.empty()) return;
  std::lock_guard lock(mu_);
  auto it = index_.find(skeleton);
  Entry* e = nullptr;
  if (it != index_.end()) {
    e = &entries_[it->second];
  } else if (entries_.size() < max_templates_) {
    index_[skeleton] = static_cast<uint32_t>(entries_.size());
    entries_.push_back({});
    e = &entries_.back();
  } else {
    // Second chance: skip entries seen again since the hand last passed, evict the first other.
    for (size_t step = 0; step < 2 * entries_.size(); ++step) {
      Entry& c = entries_[hand_];
      if (!c.ref) break;
      c.ref = false;
      hand_ = (hand_ + 1) % entries_.size();
    }
    Entry& victim = entries_[hand_];
    index_.erase(victim.skeleton);
    victim = Entry{};
    index_[skeleton] = static_cast<uint32_t>(hand_);
    e = &victim;
    hand_ = (hand_ + 1) % entries_.size();
  }
  if (e->seen) e->ref = true;
  e->skeleton = skeleton;
  ++e->seen;
  auto& s = e->samples;
  if (s.size() >= kPerTemplate && order >= s.back().first) return;
  std::string t = JoinText(text, kMaxChars);
  for (const auto& x : s) {
    if (x.second == t) return;  // the same prompt again: keep samples distinct
  }
  auto pos = std::lower_bound(s.begin(), s.end(), order,
                              [](const auto& x, uint64_t o) { return x.first < o; });
  s.insert(pos, {order, std::move(t)});
  if (s.size() > kPerTemplate) s.pop_back();
}

std::vector<std::string> PromptSamples::Get(uint64_t skeleton) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  auto it = index_.find(skeleton);
  if (it == index_.end()) return out;
  for (const auto& x : entries_[it->second].samples) out.push_back(x.second);
  return out;
}

size_t PromptSamples::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void PromptSamples::Save(std::string& out) const {
  std::lock_guard lock(mu_);
  out.append(kSamplesMagic, 8);
  Put(out, static_cast<uint64_t>(hand_));
  Put(out, static_cast<uint64_t>(entries_.size()));
  for (const auto& e : entries_) {
    Put(out, e.skeleton);
    Put(out, e.seen);
    Put(out, static_cast<uint8_t>(e.ref));
    Put(out, static_cast<uint8_t>(e.samples.size()));
    for (const auto& [o, t] : e.samples) {
      Put(out, o);
      Put(out, static_cast<uint32_t>(t.size()));
      out += t;
    }
  }
}

bool PromptSamples::Load(std::string_view in, std::string* error) {
  std::lock_guard lock(mu_);
  entries_.clear();
  index_.clear();
  hand_ = 0;
  auto bad = [&](const char* why) {
    *error = std::string("prompt samples: ") + why;
    entries_.clear();
    index_.clear();
    hand_ = 0;
    return false;
  };
  if (in.size() < 8 || std::memcmp(in.data(), kSamplesMagic, 8) != 0) return bad("bad magic");
  in.remove_prefix(8);
  uint64_t hand = 0, n = 0;
  if (!Take(in, hand) || !Take(in, n) || n > max_templates_) return bad("truncated or too many");
  for (uint64_t i = 0; i < n; ++i) {
    Entry e;
    uint8_t ref = 0, k = 0;
    if (!Take(in, e.skeleton) || !Take(in, e.seen) || !Take(in, ref) || !Take(in, k) ||
        k > kPerTemplate)
      return bad("truncated entry");
    e.ref = ref != 0;
    for (uint8_t j = 0; j < k; ++j) {
      uint64_t o = 0;
      uint32_t len = 0;
      if (!Take(in, o) || !Take(in, len) || len > kMaxChars + 8 || in.size() < len)
        return bad("truncated sample");
      e.samples.emplace_back(o, std::string(in.substr(0, len)));
      in.remove_prefix(len);
    }
    index_[e.skeleton] = static_cast<uint32_t>(entries_.size());
    entries_.push_back(std::move(e));
  }
  hand_ = entries_.empty() ? 0 : static_cast<size_t>(hand % entries_.size());
  if (!in.empty()) return bad("trailing bytes");
  return true;
}

}  // namespace dg::engine
