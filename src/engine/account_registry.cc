// See account_registry.h. The registry is small next to the event log (one line per account),
// so it is read line by line with a padded copy per line; clarity over speed here.
#include "engine/account_registry.h"

#include <simdjson.h>

#include "common/hash.h"
#include "common/utf8.h"
#include "ingest/adapter.h"
#include "ingest/input.h"

namespace dg::engine {

RegistryLoad LoadAccountRegistry(const std::string& path, Engine& engine, NameTable& names,
                                 size_t max_samples) {
  RegistryLoad out;
  auto stream = ingest::OpenByteStream(path, &out.error);
  if (!stream) return out;
  ingest::BlockReader reader(std::move(stream), 1 << 20, 1 << 16);
  ingest::Block block;
  simdjson::ondemand::parser parser;
  auto reject = [&](uint64_t line, ingest::RejectReason r, std::string detail) {
    out.rejected.Add(r);
    if (out.samples.size() < max_samples) out.samples.push_back({path, line, r, std::move(detail)});
  };
  while (reader.Next(block)) {
    for (const auto& o : block.oversized) reject(o.line, ingest::RejectReason::kTooLong, "");
    uint64_t line_no = block.first_line;
    size_t pos = 0;
    std::string_view data(block.buf.data(), block.len);
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      std::string_view line = data.substr(pos, nl == data.npos ? data.npos : nl - pos);
      pos = nl == data.npos ? data.size() : nl + 1;
      const uint64_t this_line = line_no++;
      if (line.find_first_not_of(" \t\r") == line.npos) continue;
      if (!IsValidUtf8(line)) {
        reject(this_line, ingest::RejectReason::kInvalidUtf8, "");
        continue;
      }
      simdjson::padded_string padded(line);
      simdjson::ondemand::document doc;
      simdjson::ondemand::object obj;
      if (auto err = parser.iterate(padded).get(doc); err || doc.get_object().get(obj)) {
        reject(this_line, ingest::RejectReason::kInvalidJson,
               err ? simdjson::error_message(err) : "");
        continue;
      }
      std::string_view account, payment, email, country, tier;
      state::RegistryInfo info;
      bool broken = false;
      for (auto f : obj) {
        std::string_view key;
        if (f.unescaped_key().get(key)) {
          broken = true;
          break;
        }
        simdjson::ondemand::value v;
        if (f.value().get(v)) {
          broken = true;
          break;
        }
        if (key == "account_id") {
          ingest::json::GetString(v, account);
        } else if (key == "created_at") {
          TimeUs t;
          if (ingest::json::GetTimestamp(v, t) == ingest::RejectReason::kNone) info.created_at = t;
        } else if (key == "payment_fingerprint") {
          ingest::json::GetString(v, payment);
        } else if (key == "email_domain") {
          ingest::json::GetString(v, email);
        } else if (key == "country") {
          ingest::json::GetString(v, country);
        } else if (key == "tier") {
          ingest::json::GetString(v, tier);
        }
      }
      const char* trailing = nullptr;
      if (broken || !doc.current_location().get(trailing)) {
        reject(this_line, ingest::RejectReason::kInvalidJson, "");
        continue;
      }
      if (account.empty()) {
        reject(this_line, ingest::RejectReason::kMissingAccount, "");
        continue;
      }
      const uint64_t a = Hash64(account, kHashAccount);
      names.Insert(NameKind::kAccount, a, account);
      if (!payment.empty()) {
        info.payment = Hash64(payment, kHashPayment);
        names.Insert(NameKind::kPayment, info.payment, payment);
      }
      if (!email.empty()) {
        info.email_domain = Hash64(email, kHashEmailDomain);
        names.Insert(NameKind::kEmailDomain, info.email_domain, email);
      }
      if (country.size() == 2) {
        info.country = static_cast<uint16_t>((static_cast<uint8_t>(country[0]) << 8) |
                                             static_cast<uint8_t>(country[1]));
      }
      info.tier = tier.empty() ? 0 : static_cast<uint8_t>(Hash64(tier) % 250 + 1);
      engine.SetRegistry(a, info);
      ++out.accounts;
    }
  }
  if (!reader.error().empty()) out.error = reader.error();
  return out;
}

}  // namespace dg::engine
