// Country of a client address, from a MaxMind legacy country database (GeoIP.dat / GeoIPv6.dat,
// Debian's geoip-database package) read with libGeoIP.
//
// Design: the databases are memory-mapped once (GEOIP_MMAP_CACHE: pages are read as lookups touch
// them, about 2 MB resident, shared with other processes) and shared read-only by every thread;
// lookups use libGeoIP's `_gl` calls, which keep their per-lookup state in the caller's GeoIPLookup
// rather than in the shared handle, so they are thread-safe and allocate nothing. A lookup is a
// walk of at most 32 (IPv4) or 128 (IPv6) nodes of the database's binary trie. Countries come back
// as small ids (libGeoIP's, 1..255; 0 = unknown); continent-level and special entries ("EU", "AP",
// anonymous proxy "A1", satellite "A2", "O1") are mapped to 0, since a change between "EU" and "NL"
// is not a change of country.
//
// Used for one signal: where the gateway gives no client ASN, a change of country between
// requests minutes apart stands in for a change of network (see AccountState). Without a
// database every lookup returns 0 and that signal is off.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct GeoIPTag;

namespace dg::features {

class CountryDb {
 public:
  // Default location of Debian's geoip-database package.
  static constexpr const char* kDefaultPath = "/usr/share/GeoIP/GeoIP.dat";

  // Process-wide database used by every Featurizer: the file set by SetDefaultPath before first
  // use, else $DISTILLGUARD_GEOIP, else kDefaultPath; "none" turns lookups off. A GeoIPv6.dat
  // beside the IPv4 file is loaded too. A missing or unreadable file leaves lookups off (see
  // loaded() and error()).
  static const CountryDb& Default();
  // Must be called before the first Default() (the CLI does it while parsing options); later
  // calls have no effect and return false.
  static bool SetDefaultPath(std::string path);

  // Opens `v4_path` (and `v6_path` if not empty). On failure returns a db with no data and sets
  // *error to a message naming the file.
  static std::unique_ptr<CountryDb> Open(const std::string& v4_path, const std::string& v6_path,
                                         std::string* error);
  CountryDb() = default;
  ~CountryDb();
  CountryDb(const CountryDb&) = delete;
  CountryDb& operator=(const CountryDb&) = delete;

  // Country id of a textual IPv4/IPv6 address; 0 if unknown, not an address, or no database.
  uint8_t Lookup(std::string_view ip) const;
  // Same for an address already parsed (network byte order; 4 or 16 bytes).
  uint8_t LookupV4(uint32_t host_order) const;
  uint8_t LookupV6(const unsigned char addr[16]) const;
  // ISO 3166 alpha-2 code of an id ("US"); "--" for 0.
  static std::string_view Code(uint8_t id);

  bool loaded() const { return v4_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  uint8_t Normalise(int id) const;

  GeoIPTag* v4_ = nullptr;
  GeoIPTag* v6_ = nullptr;
  std::string path_;
};

}  // namespace dg::features
