// Web authentication for the analyst UI (`/ui`): a login form checked against the admin token,
// then a session cookie, and a CSRF token on every state-changing request.
//
// Design:
//   - The login form (POST /ui/login, application/x-www-form-urlencoded: `user`, `token`) is
//     checked against the admin token in constant time; `user` is the analyst's name, written to
//     the audit log with every action (the token is shared, the name says who acted).
//   - A session is 32 random bytes (hex) named by the cookie `dg_session` with HttpOnly (no
//     script can read it), SameSite=Strict (no other site's page can send it) and Path=/; it
//     lasts `ttl` of wall time from login. Sessions live in memory: a restarted service asks the
//     analysts to log in again (their actions are durable; sessions need not be).
//   - Each session has its own CSRF token (32 random bytes), handed to the page in the session
//     JSON and required in the `x-csrf-token` header of every POST; compared in constant time.
//   - Cookie and form parsing never throw and are fuzzed (fuzz/cookie_fuzz.cc,
//     fuzz/form_body_fuzz.cc).
// Randomness and the clock are injected (tests use fixed ones).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/time.h"

namespace dg::serve {

// Compares a presented secret with the expected one in time that depends only on the presented
// length, never on where they differ.
bool ConstantTimeEquals(std::string_view got, std::string_view want);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt. Values are taken as
// they are (no decoding; a quoted value loses its quotes). Never throws.
std::optional<std::string> CookieValue(std::string_view header, std::string_view name);

// An application/x-www-form-urlencoded body as (name, value) pairs, decoded ('+' is space).
// nullopt on a bad %-escape or more than `max_fields` fields. Never throws.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body,
                                                                          size_t max_fields = 32);

struct WebSession {
  std::string id, csrf, user;
  TimeUs expires_us = 0;
};

class SessionStore {
 public:
  // `random`: fills a buffer with unpredictable bytes (the service uses getrandom()).
  using RandomFn = std::function<void(uint8_t*, size_t)>;
  SessionStore(const Clock& clock, RandomFn random, TimeUs ttl = 12 * 3600 * kUsPerSec,
               size_t max_sessions = 10000);
  // Creates a session for `user`.
  WebSession Create(std::string_view user);
  // The live session named by `id` (expired ones are dropped), or nullopt.
  std::optional<WebSession> Find(std::string_view id);
  void Remove(std::string_view id);
  size_t size();

  static void SystemRandom(uint8_t* out, size_t n);

 private:
  std::string RandomHex();
  const Clock& clock_;
  RandomFn random_;
  TimeUs ttl_;
  size_t max_sessions_;
  std::mutex mu_;
  std::unordered_map<std::string, WebSession> sessions_;
};

// The Set-Cookie value for a session (or an expired one to log out when `id` is empty).
std::string SessionCookie(std::string_view id, TimeUs ttl);

}  // namespace dg::serve
