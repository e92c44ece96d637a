// See web_auth.h.
#include "serve/web_auth.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <algorithm>

#include "serve/http_util.h"

namespace dg::serve {

bool ConstantTimeEquals(std::string_view got, std::string_view want) {
  unsigned diff = got.size() == want.size() ? 0u : 1u;
  for (size_t i = 0; i < got.size(); ++i) {
    diff |= static_cast<unsigned char>(got[i] ^ (want.empty() ? 0 : want[i % want.size()]));
  }
  return diff == 0;
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) != name) continue;
    std::string_view v = part.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::string(v);
  }
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body,
                                                                          size_t max_fields) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view part = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (part.empty()) continue;
    if (out.size() >= max_fields) return std::nullopt;
    const size_t eq = part.find('=');
    auto k = UrlDecode(part.substr(0, eq), true);
    auto v =
        UrlDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
    if (!k || !v) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

SessionStore::SessionStore(const Clock& clock, RandomFn random, TimeUs ttl, size_t max_sessions)
    : clock_(clock), random_(std::move(random)), ttl_(ttl), max_sessions_(max_sessions) {}

void SessionStore::SystemRandom(uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = getrandom(out + got, n - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
}

std::string SessionStore::RandomHex() {
  uint8_t b[32];
  random_(b, sizeof b);
  std::string s;
  s.reserve(64);
  for (uint8_t c : b) fmt::format_to(std::back_inserter(s), "{:02x}", c);
  return s;
}

WebSession SessionStore::Create(std::string_view user) {
  WebSession s;
  s.id = RandomHex();
  s.csrf = RandomHex();
  s.user = std::string(user);
  const TimeUs now = clock_.Now();
  s.expires_us = now + ttl_;
  std::lock_guard lock(mu_);
  if (sessions_.size() >= max_sessions_) {
    // Drop expired sessions, then the one closest to expiry, so logins never grow memory.
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_us <= now; });
    if (sessions_.size() >= max_sessions_) {
      auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
        return a.second.expires_us < b.second.expires_us;
      });
      sessions_.erase(oldest);
    }
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<WebSession> SessionStore::Find(std::string_view id) {
  if (id.size() != 64) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_us <= clock_.Now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(std::string_view id) {
  std::lock_guard lock(mu_);
  sessions_.erase(std::string(id));
}

size_t SessionStore::size() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::string SessionCookie(std::string_view id, TimeUs ttl) {
  if (id.empty()) return "dg_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  return fmt::format("dg_session={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", id,
                     ttl / kUsPerSec);
}

}  // namespace dg::serve
