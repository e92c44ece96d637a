// libFuzzer target for request parsing (issue 18: one bad escape used to end the process). The
// input bytes are used (1) as a request target: split into path and query, the path and every
// query parameter the service reads decoded, numbers parsed as the handlers parse them, through
// HttpRequest::Query as well as the free functions; and (2) as raw bytes on the socket: through
// Beast's request parser with the server's limits, then the same target handling. Invariants:
// no crash, exception or sanitizer report; a decoded string is never longer than its input;
// re-encoding a decoded value and decoding it again gives it back; a parsed number prints back
// to a string that parses to the same integer.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>

#include "serve/http_util.h"
#include "serve/service.h"

namespace {

namespace http = boost::beast::http;
using dg::serve::GetQueryParam;
using dg::serve::ParseNumber;
using dg::serve::UrlDecode;

std::string PercentEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

void CheckDecode(std::string_view s, bool plus_is_space) {
  const auto d = UrlDecode(s, plus_is_space);
  if (!d) return;
  if (d->size() > s.size()) std::abort();
  if (s.find('%') == std::string_view::npos && d->size() != s.size()) std::abort();
  const auto again = UrlDecode(PercentEncode(*d), plus_is_space);
  if (!again || *again != *d) std::abort();
}

template <class T>
void CheckNumber(std::string_view s) {
  const auto v = ParseNumber<T>(s);
  if (!v) return;
  if (s.empty()) std::abort();
  if constexpr (std::is_integral_v<T>) {  // to_string would round a double
    const auto back = ParseNumber<T>(std::to_string(*v));
    if (!back || *back != *v) std::abort();
  }
}

// What the service does with a target before any handler logic.
void HandleTarget(std::string_view target) {
  std::string_view path, query;
  dg::serve::SplitTarget(target, &path, &query);
  if (path.size() + query.size() > target.size()) std::abort();
  CheckDecode(path, false);
  CheckDecode(query, true);
  dg::serve::HttpRequest req;
  req.target = std::string(target);
  req.path = std::string(path);
  req.query = std::string(query);
  for (const char* name : {"gateway", "since", "limit", "final", ""}) {
    const auto p = req.Query(name);
    if (p.present()) {
      CheckNumber<int64_t>(p.value);
      CheckNumber<uint64_t>(p.value);
      CheckNumber<int>(p.value);
    } else if (!p.value.empty()) {
      std::abort();  // absent and malformed carry no value
    }
  }
  CheckNumber<int64_t>(target);
  CheckNumber<uint16_t>(target);
  CheckNumber<double>(target);
  if (path.rfind("/v1/accounts/", 0) == 0) (void)UrlDecode(path.substr(13), false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  HandleTarget(bytes);
  CheckDecode(bytes, true);
  CheckDecode(bytes, false);
  (void)GetQueryParam(bytes, "a");

  // The same bytes as a request on the wire, with the server's limits.
  http::request_parser<http::string_body> parser;
  parser.header_limit(32 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (ec == http::error::need_more || (!ec && !parser.is_done())) {
    ec = {};
    parser.put_eof(ec);
  }
  if (!ec && parser.is_header_done()) HandleTarget(parser.get().target());
  return 0;
}
