// See geo.h.
#include "features/geo.h"

#include <GeoIP.h>
#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace dg::features {
namespace {

std::mutex& DefaultMutex() {
  static std::mutex mu;
  return mu;
}
std::string& DefaultPathSlot() {
  static std::string path;
  return path;
}
bool& DefaultUsed() {
  static bool used = false;
  return used;
}

// Ids whose code is not one country: unknown, continents, anonymous proxies, satellite, other.
std::array<bool, 256> BuildNotCountry() {
  std::array<bool, 256> t{};
  t[0] = true;
  const unsigned n = std::min(GeoIP_num_countries(), 256u);
  for (unsigned id = 1; id < 256; ++id) {
    const char* code = id < n ? GeoIP_code_by_id(static_cast<int>(id)) : nullptr;
    if (!code || std::strlen(code) != 2) {
      t[id] = true;
      continue;
    }
    const std::string_view c(code, 2);
    t[id] = c == "--" || c == "EU" || c == "AP" || c == "A1" || c == "A2" || c == "O1";
  }
  return t;
}

// 2001:4860:4860::8888
const geoipv6_t kGoogleDnsV6 = [] {
  geoipv6_t a{};
  inet_pton(AF_INET6, "2001:4860:4860::8888", &a);
  return a;
}();

GeoIP* OpenEdition(const std::string& path, unsigned char edition, std::string* error) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    *error = fmt::format("{}: not found", path);
    return nullptr;
  }
  GeoIP* gi = GeoIP_open(path.c_str(), GEOIP_MMAP_CACHE | GEOIP_SILENCE);
  if (!gi) {
    *error = fmt::format("{}: not a readable GeoIP database", path);
    return nullptr;
  }
  if (GeoIP_database_edition(gi) != edition) {
    *error = fmt::format("{}: not a GeoIP country database (edition {})", path,
                         static_cast<int>(GeoIP_database_edition(gi)));
    GeoIP_delete(gi);
    return nullptr;
  }
  // libGeoIP takes any file without a structure record for a country database (the format has
  // no magic number): probe an address whose country has never changed.
  GeoIPLookup gl{};
  const int probe = edition == GEOIP_COUNTRY_EDITION
                        ? GeoIP_id_by_ipnum_gl(gi, 0x08080808UL, &gl)  // 8.8.8.8
                        : GeoIP_id_by_ipnum_v6_gl(gi, kGoogleDnsV6, &gl);
  const char* code = probe > 0 ? GeoIP_code_by_id(probe) : nullptr;
  if (!code || std::string_view(code) != "US") {
    *error = fmt::format("{}: not a GeoIP country database (its lookups are not sane)", path);
    GeoIP_delete(gi);
    return nullptr;
  }
  return gi;
}

}  // namespace

bool CountryDb::SetDefaultPath(std::string path) {
  std::lock_guard lock(DefaultMutex());
  if (DefaultUsed()) return false;
  DefaultPathSlot() = std::move(path);
  return true;
}

const CountryDb& CountryDb::Default() {
  static const std::unique_ptr<CountryDb> db = [] {
    std::string path;
    {
      std::lock_guard lock(DefaultMutex());
      DefaultUsed() = true;
      path = DefaultPathSlot();
    }
    if (path.empty()) {
      const char* env = std::getenv("DISTILLGUARD_GEOIP");
      path = env && *env ? env : kDefaultPath;
    }
    if (path == "none") return std::make_unique<CountryDb>();
    std::filesystem::path v6 = std::filesystem::path(path).parent_path() / "GeoIPv6.dat";
    std::error_code ec;
    std::string error;
    auto opened = Open(path, std::filesystem::exists(v6, ec) ? v6.string() : "", &error);
    if (!opened->loaded() || !error.empty()) {
      std::fprintf(stderr,
                   "distillguard: geoip: %s; countries unknown (network changes are judged by "
                   "ASN and /24 only)\n",
                   error.c_str());
    }
    return opened;
  }();
  return *db;
}

std::unique_ptr<CountryDb> CountryDb::Open(const std::string& v4_path, const std::string& v6_path,
                                           std::string* error) {
  auto db = std::make_unique<CountryDb>();
  error->clear();
  db->v4_ = OpenEdition(v4_path, GEOIP_COUNTRY_EDITION, error);
  if (!db->v4_) return db;
  db->path_ = v4_path;
  if (!v6_path.empty()) db->v6_ = OpenEdition(v6_path, GEOIP_COUNTRY_EDITION_V6, error);
  return db;
}

CountryDb::~CountryDb() {
  if (v4_) GeoIP_delete(v4_);
  if (v6_) GeoIP_delete(v6_);
}

uint8_t CountryDb::Normalise(int id) const {
  static const std::array<bool, 256> not_country = BuildNotCountry();
  if (id <= 0 || id > 255) return 0;
  return not_country[static_cast<size_t>(id)] ? 0 : static_cast<uint8_t>(id);
}

uint8_t CountryDb::LookupV4(uint32_t host_order) const {
  if (!v4_) return 0;
  GeoIPLookup gl{};
  return Normalise(GeoIP_id_by_ipnum_gl(v4_, host_order, &gl));
}

uint8_t CountryDb::LookupV6(const unsigned char addr[16]) const {
  if (!v6_) return 0;
  geoipv6_t a;
  std::memcpy(&a, addr, 16);
  GeoIPLookup gl{};
  return Normalise(GeoIP_id_by_ipnum_v6_gl(v6_, a, &gl));
}

uint8_t CountryDb::Lookup(std::string_view ip) const {
  if (!v4_ || ip.empty() || ip.size() > 45) return 0;
  char tmp[64];
  std::memcpy(tmp, ip.data(), ip.size());
  tmp[ip.size()] = '\0';
  unsigned char addr[16];
  if (ip.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, tmp, addr) != 1) return 0;
    uint32_t n;
    std::memcpy(&n, addr, 4);
    return LookupV4(ntohl(n));
  }
  if (inet_pton(AF_INET6, tmp, addr) != 1) return 0;
  return LookupV6(addr);
}

std::string_view CountryDb::Code(uint8_t id) {
  if (id == 0 || id >= GeoIP_num_countries()) return "--";
  const char* code = GeoIP_code_by_id(id);
  return code ? std::string_view(code) : std::string_view("--");
}

}  // namespace dg::features
