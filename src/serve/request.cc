// See request.h.
#include "serve/request.h"

#include <fmt/format.h>

#include <atomic>
#include <memory>

namespace dg::serve {

Reply ReplyOnce(Reply reply) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  return [reply = std::move(reply), done](HttpResponse r) {
    if (!done->exchange(true)) reply(std::move(r));
  };
}

HttpResponse JsonAnswer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse ApiError(int status, std::string_view type, std::string_view message,
                      std::string_view code, std::string_view param) {
  return JsonAnswer(status, ErrorJson(type, message, param, code));
}

HttpResponse Params::BadRequest(std::string_view param, std::string_view message,
                                std::string_view code) const {
  ++metrics_.bad_requests;
  return ApiError(400, "invalid_request_error", message, code, param);
}

std::optional<HttpResponse> Params::String(const HttpRequest& req, std::string_view name,
                                           std::string* out) const {
  QueryParam q = req.Query(name);
  if (q.malformed()) {
    return BadRequest(name,
                      fmt::format("query parameter '{}' has a bad or truncated %-escape", name),
                      "invalid_encoding");
  }
  if (q.present()) *out = std::move(q.value);
  return std::nullopt;
}

HttpResponse Params::BadNumber(std::string_view name, NumberError why,
                               const std::pair<std::string, std::string>& range) const {
  return BadRequest(
      name, fmt::format("query parameter '{}' {}: expected a decimal integer in [{}, {}]", name,
                        NumberErrorText(why), range.first, range.second));
}

}  // namespace dg::serve
