// libFuzzer target for what the UI's login and session code parses from a client: the Cookie
// header (CookieValue) and the login form body (ParseForm, application/x-www-form-urlencoded).
// The first input byte picks the parser, the rest is the header or body. Invariants: no crash,
// exception or sanitizer report; a cookie value is a substring of the header; decoded form
// fields are never longer than the body and at most max_fields of them; both are deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serve/web_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    const auto v = dg::serve::CookieValue(bytes, "dg_session");
    if (v && bytes.find(*v) == std::string_view::npos) std::abort();
    if (v != dg::serve::CookieValue(bytes, "dg_session")) std::abort();
  } else {
    const auto f = dg::serve::ParseForm(bytes, 8);
    if (f) {
      if (f->size() > 8) std::abort();
      for (const auto& [k, v] : *f) {
        if (k.size() > bytes.size() || v.size() > bytes.size()) std::abort();
      }
    }
    if (f.has_value() != dg::serve::ParseForm(bytes, 8).has_value()) std::abort();
  }
  // The comparison must agree with plain equality.
  const size_t half = bytes.size() / 2;
  const auto a = bytes.substr(0, half), b = bytes.substr(half);
  if (dg::serve::ConstantTimeEquals(a, b) != (a == b)) std::abort();
  return 0;
}
