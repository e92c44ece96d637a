// libFuzzer target for compressed POST /v1/events bodies (Gunzip in serve/http_util). The input
// bytes are inflated as they arrive (gzip or zlib, auto-detected) under a small cap, then the
// first byte picks a cap, and the same bytes are inflated again. Invariants: no crash or sanitizer
// report; an accepted body is never larger than its cap; a body accepted under a cap is accepted,
// identically, under any larger cap; and what we deflate ourselves (the input as plain text,
// gzip-wrapped) always inflates back to the input.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "serve/http_util.h"

namespace {

std::string GzipOf(std::string_view plain) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::abort();
  }
  std::string out(deflateBound(&zs, plain.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const size_t small_cap = size == 0 ? 0 : size_t{1} << (data[0] % 20);  // 1 B .. 512 KiB
  const size_t big_cap = 1 << 20;
  std::string a, b;
  const bool ok_small = dg::serve::Gunzip(bytes, small_cap, &a);
  const bool ok_big = dg::serve::Gunzip(bytes, big_cap, &b);
  if (ok_small && a.size() > small_cap) std::abort();
  if (ok_big && b.size() > big_cap) std::abort();
  if (ok_small && (!ok_big || a != b)) std::abort();

  std::string back;
  if (!dg::serve::Gunzip(GzipOf(bytes), size, &back) || back != bytes) std::abort();
  return 0;
}
