// Adapter registry and format detection. To add a log shape: implement Adapter in its own file,
// expose a Make…Adapter() factory, and list it in kAdapters below.
#include "ingest/adapter.h"

#include <array>
#include <functional>

namespace dg::ingest {

std::unique_ptr<Adapter> MakeExchangeAdapter();
std::unique_ptr<Adapter> MakeOtlpAdapter();
std::unique_ptr<Adapter> MakeLiteLlmAdapter();

namespace {
struct AdapterEntry {
  std::string_view name;
  std::unique_ptr<Adapter> (*make)();
};
constexpr std::array kAdapters = {
    AdapterEntry{"exchange", &MakeExchangeAdapter},
    AdapterEntry{"otlp", &MakeOtlpAdapter},
    AdapterEntry{"litellm", &MakeLiteLlmAdapter},
};
}  // namespace

std::vector<std::string> AdapterNames() {
  std::vector<std::string> names;
  for (const auto& e : kAdapters) names.emplace_back(e.name);
  return names;
}

std::unique_ptr<Adapter> MakeAdapter(std::string_view name) {
  for (const auto& e : kAdapters) {
    if (e.name == name) return e.make();
  }
  return nullptr;
}

std::string DetectFormat(std::string_view sample) {
  // Look at the top-level keys of the first parsable record among the sample's lines.
  simdjson::ondemand::parser parser;
  size_t pos = 0;
  int tried = 0;
  while (pos < sample.size() && tried < 16) {
    size_t nl = sample.find('\n', pos);
    std::string_view line =
        sample.substr(pos, nl == std::string_view::npos ? sample.npos : nl - pos);
    pos = nl == std::string_view::npos ? sample.size() : nl + 1;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    ++tried;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc)) continue;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) {
      // A top-level array: look at its first object.
      simdjson::ondemand::array arr;
      if (parser.iterate(padded).get(doc) || doc.get_array().get(arr)) continue;
      bool found = false;
      for (auto e : arr) {
        if (!e.get_object().get(obj)) found = true;
        break;
      }
      if (!found) continue;
    }
    bool has_account = false, has_ts = false, has_resource_spans = false, has_spend_shape = false;
    for (auto f : obj) {
      std::string_view key;
      if (f.unescaped_key().get(key)) break;
      if (key == "resourceSpans" || key == "resource_spans") has_resource_spans = true;
      if (key == "account_id") has_account = true;
      if (key == "ts") has_ts = true;
      if (key == "startTime" || key == "spend" || key == "api_key" || key == "requester_ip_address")
        has_spend_shape = true;
    }
    if (has_resource_spans) return "otlp";
    if (has_account && has_ts) return "exchange";
    if (has_spend_shape) return "litellm";
  }
  return "exchange";
}

}  // namespace dg::ingest
