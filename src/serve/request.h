// The request and response every handler speaks, and the OpenAI-shaped answers they share.
// HttpServer fills an HttpRequest and hands it to the Router with a Reply; a handler answers
// through the Reply, possibly later and from another thread. Errors are values (HttpResponse with
// an OpenAI error body, ErrorJson in http_util.h), never exceptions: a handler that meets a bad
// parameter returns the 400 to send. Malformed requests are counted in ServeMetrics.
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "serve/http_util.h"
#include "serve/metrics.h"

namespace dg::serve {

struct HttpRequest {
  std::string method, target, path, query, body;
  std::unordered_map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // One query parameter: absent, present (decoded) or malformed (bad % escape).
  QueryParam Query(std::string_view key) const { return GetQueryParam(query, key); }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using Reply = std::function<void(HttpResponse)>;
// Wraps `reply` so that only its first call answers (later calls are dropped): a handler that
// replied and then threw must not make the catch site answer a second time.
Reply ReplyOnce(Reply reply);

// A JSON answer.
HttpResponse JsonAnswer(int status, std::string body);
// An OpenAI-shaped error: {"error":{"message","type","param","code"}}.
HttpResponse ApiError(int status, std::string_view type, std::string_view message,
                      std::string_view code = {}, std::string_view param = {});

// Query and parameter checks whose failures are answered 400 and counted as bad requests.
class Params {
 public:
  explicit Params(ServeMetrics& metrics) : metrics_(metrics) {}
  // A 400 invalid_request_error naming `param` (empty = null), counted as a bad request.
  HttpResponse BadRequest(std::string_view param, std::string_view message,
                          std::string_view code = "invalid_value") const;
  // Query parameter `name` into *out: absent leaves *out as is; present and valid sets it;
  // malformed (bad escape, not a number of type T) returns the 400 to answer.
  std::optional<HttpResponse> String(const HttpRequest& req, std::string_view name,
                                     std::string* out) const;
  template <class T>
  std::optional<HttpResponse> Number(const HttpRequest& req, std::string_view name, T* out) const {
    if (req.Query(name).absent()) return std::nullopt;
    std::string raw;
    if (auto bad = String(req, name, &raw)) return bad;
    NumberError why = NumberError::kNone;
    const auto v = ParseNumber<T>(raw, &why);
    if (!v) return BadNumber(name, why, NumberRange<T>());
    *out = *v;
    return std::nullopt;
  }

 private:
  template <class T>
  static std::pair<std::string, std::string> NumberRange() {
    return {std::to_string(std::numeric_limits<T>::min()),
            std::to_string(std::numeric_limits<T>::max())};
  }
  HttpResponse BadNumber(std::string_view name, NumberError why,
                         const std::pair<std::string, std::string>& range) const;
  ServeMetrics& metrics_;
};

}  // namespace dg::serve
