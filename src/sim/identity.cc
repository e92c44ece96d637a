// See identity.h. ASN numbers and organisation names are real; the /16s are within ranges those
// networks are known to announce, which is enough for realistic enrichment-shaped data.
#include "sim/identity.h"

#include <fmt/format.h>

#include "common/hash.h"

namespace dg::sim {

const std::vector<AsnInfo>& AsnsFor(std::string_view network) {
  static const std::vector<AsnInfo> kResidential = {
      {7922, "COMCAST-7922", {{73, 1}, {73, 15}, {73, 162}, {98, 207}, {24, 6}}, "US"},
      {20115, "CHARTER-20115", {{66, 190}, {66, 191}, {97, 88}, {71, 85}}, "US"},
      {701, "UUNET", {{71, 163}, {71, 178}, {108, 28}}, "US"},
      {7018, "ATT-INTERNET4", {{99, 37}, {104, 3}, {107, 200}}, "US"},
      {812, "ROGERS-COMMUNICATIONS", {{99, 228}, {99, 230}, {174, 112}}, "CA"},
      {3320, "Deutsche Telekom AG", {{79, 200}, {87, 150}, {91, 58}, {93, 204}}, "DE"},
      {2856, "British Telecommunications PLC", {{86, 130}, {86, 150}, {81, 132}}, "GB"},
      {3215, "Orange S.A.", {{90, 12}, {90, 45}, {86, 246}}, "FR"},
      {12322, "Free SAS", {{88, 170}, {82, 64}, {78, 192}}, "FR"},
      {55836, "Reliance Jio Infocomm Limited", {{49, 36}, {49, 42}, {157, 35}}, "IN"},
      {17676, "SoftBank Corp.", {{126, 15}, {126, 72}, {126, 140}}, "JP"},
      {4766, "Korea Telecom", {{175, 196}, {121, 134}, {211, 36}}, "KR"},
      {1221, "Telstra Limited", {{120, 144}, {101, 164}, {58, 108}}, "AU"},
      {28573, "Claro NXT Telecomunicacoes Ltda", {{177, 32}, {179, 98}, {189, 6}}, "BR"},
      {6830, "Liberty Global B.V.", {{84, 24}, {62, 163}, {213, 46}}, "NL"},
  };
  static const std::vector<AsnInfo> kCloud = {
      {16509, "AMAZON-02", {{3, 80}, {3, 91}, {18, 204}, {54, 144}, {44, 192}}},
      {14618, "AMAZON-AES", {{52, 0}, {52, 20}, {34, 192}}},
      {396982, "GOOGLE-CLOUD-PLATFORM", {{34, 66}, {34, 118}, {35, 188}, {35, 222}}},
      {8075, "MICROSOFT-CORP-MSN-AS-BLOCK", {{20, 14}, {20, 83}, {40, 76}, {52, 151}}},
      {14061, "DIGITALOCEAN-ASN", {{159, 89}, {167, 99}, {164, 90}, {143, 198}}},
      {24940, "Hetzner Online GmbH", {{5, 75}, {65, 108}, {95, 216}, {88, 198}}},
      {16276, "OVH SAS", {{51, 68}, {51, 75}, {54, 37}, {145, 239}}},
      {63949, "Akamai Connected Cloud", {{172, 104}, {172, 105}, {139, 162}}},
      {20473, "AS-CHOOPA", {{45, 76}, {45, 77}, {149, 28}, {207, 148}}},
      {45102, "Alibaba US Technology Co., Ltd.", {{47, 74}, {47, 88}, {47, 251}}},
      {132203, "Tencent Building, Kejizhongyi Avenue", {{43, 128}, {43, 130}, {43, 153}}},
      {31898, "ORACLE-BMC-31898", {{129, 146}, {150, 136}, {152, 67}}},
  };
  static const std::vector<AsnInfo> kOffice = {
      {174, "COGENT-174", {{38, 104}, {38, 122}, {38, 140}}},
      {3356, "LEVEL3", {{4, 14}, {4, 53}, {8, 18}}},
      {6461, "ZAYO-6461", {{64, 125}, {208, 185}}},
      {7018, "ATT-INTERNET4", {{12, 130}, {12, 168}, {12, 245}}},
      {1299, "Arelion Sweden AB", {{62, 115}, {80, 239}}},
      {3257, "GTT Communications Inc.", {{89, 149}, {77, 67}}},
      {2914, "NTT-COMMUNICATIONS-2914", {{129, 250}, {128, 241}}},
      {6939, "HURRICANE", {{216, 218}, {184, 105}}},
  };
  static const std::vector<AsnInfo> kMobile = {
      {21928, "T-MOBILE-AS21928", {{172, 56}, {172, 58}, {172, 59}}, "US"},
      {22394, "CELLCO", {{174, 192}, {174, 205}, {174, 241}}, "US"},
      {20057, "ATT-MOBILITY-LLC-AS20057", {{166, 137}, {166, 170}}, "US"},
      {45609, "Bharti Airtel Ltd. AS for GPRS Service", {{106, 193}, {106, 205}}, "IN"},
  };
  static const std::vector<AsnInfo> kVpn = {
      {9009, "M247 Europe SRL", {{146, 70}, {185, 156}, {37, 120}}, "RO"},
      {212238, "Datacamp Limited", {{89, 187}, {185, 93}, {195, 181}}, "GB"},
      {60068, "Datacamp Limited", {{156, 146}, {212, 102}}, "GB"},
      {136787, "TEFINCOM S.A.", {{103, 86}, {45, 134}}, "PA"},
  };
  // Privacy-relay egress operators (e.g. iCloud Private Relay): addresses geolocate to the
  // user's region, not to the operator.
  static const std::vector<AsnInfo> kRelay = {
      {36183, "AKAMAI-AS", {{172, 224}, {172, 225}, {172, 226}}},
      {13335, "CLOUDFLARENET", {{104, 28}, {172, 71}}},
      {54113, "FASTLY", {{146, 75}, {151, 101}}},
  };
  if (network == "relay") return kRelay;
  if (network == "cloud") return kCloud;
  if (network == "office") return kOffice;
  if (network == "mobile") return kMobile;
  if (network == "vpn") return kVpn;
  return kResidential;
}

uint32_t RandomSubnet(const AsnInfo& asn, Rng& rng) {
  auto [a, b] = asn.prefixes16[rng.Below(asn.prefixes16.size())];
  return (uint32_t{a} << 16) | (uint32_t{b} << 8) | static_cast<uint32_t>(rng.Below(256));
}

std::string IpInSubnet(uint32_t s, Rng& rng) {
  return fmt::format("{}.{}.{}.{}", s >> 16, (s >> 8) & 0xFF, s & 0xFF, rng.Range(2, 254));
}

std::string FingerprintFor(std::string_view ua, int variant) {
  // Family: up to the first space, plus the major version; browsers collapse to their engine.
  std::string family;
  bool browser = ua.rfind("Mozilla/", 0) == 0;
  if (browser) {
    family =
        ua.find("Firefox") != std::string_view::npos ? "firefox"
        : ua.find("Safari") != std::string_view::npos && ua.find("Chrome") == std::string_view::npos
            ? "safari"
            : "chrome";
  } else {
    size_t sp = ua.find(' ');
    std::string_view head = ua.substr(0, sp);
    family = std::string(head.substr(0, head.find('/')));
    if (sp != std::string_view::npos) {
      std::string_view ver = ua.substr(sp + 1);
      family += "/" + std::string(ver.substr(0, ver.find('.')));
    } else if (auto sl = head.find('/'); sl != std::string_view::npos) {
      std::string_view ver = head.substr(sl + 1);
      family += "/" + std::string(ver.substr(0, ver.find('.')));
    }
    // The official SDKs are built on httpx / undici: the TLS stack is what the fingerprint sees.
    if (ua.rfind("OpenAI/Python", 0) == 0 || ua.rfind("litellm", 0) == 0) family = "httpx";
    if (ua.rfind("OpenAI/NodeJS", 0) == 0 || ua.rfind("OpenAI/JS", 0) == 0) family = "undici";
  }
  if (!browser && variant > 0) family += "#" + std::to_string(variant);
  uint64_t h = Hash64(family, 0x4a41);
  int ciphers = browser ? 15 + static_cast<int>(h % 3) : 9 + static_cast<int>(h % 12);
  int exts = browser ? 16 + static_cast<int>((h >> 8) % 3) : 5 + static_cast<int>((h >> 8) % 10);
  const char* alpn = browser || family == "undici" ? "h2" : ((h >> 16) % 3 == 0 ? "h2" : "h1");
  return fmt::format("t13d{:02d}{:02d}{}_{:012x}_{:012x}", ciphers, exts, alpn,
                     Hash64(family, 1) & 0xFFFFFFFFFFFFULL, Hash64(family, 2) & 0xFFFFFFFFFFFFULL);
}

ModelProfile ProfileFor(std::string_view m) {
  if (m.rfind("o1", 0) == 0 || m.rfind("o3", 0) == 0 || m.rfind("o4", 0) == 0)
    return {true, m.find("mini") != std::string_view::npos ? 900.0 : 2500.0,
            m.find("mini") != std::string_view::npos ? 150.0 : 60.0};
  if (m.find("mini") != std::string_view::npos || m.find("nano") != std::string_view::npos)
    return {false, 280, 110};
  if (m.rfind("gpt-3.5", 0) == 0) return {false, 250, 120};
  return {false, 420, 75};
}

std::string RandomHex(Rng& rng, int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(static_cast<size_t>(chars), '0');
  uint64_t bits = 0;
  for (int i = 0; i < chars; ++i) {
    if (i % 16 == 0) bits = rng.Next();
    s[static_cast<size_t>(i)] = kHex[bits & 0xF];
    bits >>= 4;
  }
  return s;
}

}  // namespace dg::sim
