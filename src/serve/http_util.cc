// See http_util.h.
#include "serve/http_util.h"

#include <zlib.h>

#include "common/json_writer.h"

namespace dg::serve {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (s.size() - i < 3) return std::nullopt;  // truncated: "%" or "%a" at the end
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return out;
}

std::string_view NumberErrorText(NumberError e) {
  switch (e) {
    case NumberError::kNone:
      return "ok";
    case NumberError::kEmpty:
      return "is empty";
    case NumberError::kInvalid:
      return "is not a decimal number";
    case NumberError::kOutOfRange:
      return "is out of range";
  }
  return "is invalid";
}

QueryParam GetQueryParam(std::string_view query, std::string_view name) {
  QueryParam p;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view kv = query.substr(pos, amp - pos);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      if (eq == std::string_view::npos) {
        p.status = QueryParam::Status::kPresent;
        p.value = "1";
      } else if (auto v = UrlDecode(kv.substr(eq + 1))) {
        p.status = QueryParam::Status::kPresent;
        p.value = std::move(*v);
      } else {
        p.status = QueryParam::Status::kMalformed;
      }
      return p;
    }
    pos = amp + 1;
  }
  return p;
}

void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
  const size_t q = target.find('?');
  *path = target.substr(0, q);
  *query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::string ErrorJson(std::string_view type, std::string_view message, std::string_view param,
                      std::string_view code) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("error").BeginObject();
  w.Field("message", message);
  w.Field("type", type);
  if (param.empty()) {
    w.Key("param").Null();
  } else {
    w.Field("param", param);
  }
  if (code.empty()) {
    w.Key("code").Null();
  } else {
    w.Field("code", code);
  }
  w.EndObject().EndObject();
  return body;
}

bool Gunzip(std::string_view in, size_t cap, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 32 + 15) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(buf, sizeof(buf) - zs.avail_out);
    if (out->size() > cap) {
      rc = Z_MEM_ERROR;
      break;
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) break;
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

}  // namespace dg::serve
