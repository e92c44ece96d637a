// Adapters turn one JSON record of a given log shape into zero or more Exchanges.
//
// An adapter is stateless apart from scratch space, so each parsing thread owns its own
// instances (Envoy style: immutable factory, per-worker instance). Adapters never throw: simdjson
// errors come back as error codes and become a RejectReason for the record. New shapes are added
// by writing an Adapter and listing its factory in adapter.cc's registry.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/exchange.h"
#include "ingest/reject.h"

namespace dg::ingest {

// Receives parsed exchanges and rejections, in input order.
class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  virtual void OnExchange(const Exchange& ex, uint64_t line) = 0;
  virtual void OnReject(uint64_t line, RejectReason reason, std::string_view detail) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string_view name() const = 0;
  // Parses one top-level object. Emits exchanges through `sink` and returns kNone, or returns
  // why the whole record is rejected (optionally explained in `detail`). `scratch` is reused.
  virtual RejectReason Parse(simdjson::ondemand::object obj, Exchange& scratch, ExchangeSink& sink,
                             uint64_t line, std::string& detail) = 0;
};

// Registered log shapes. "auto" is resolved by DetectFormat before adapters are made.
std::vector<std::string> AdapterNames();
// Returns nullptr for an unknown name.
std::unique_ptr<Adapter> MakeAdapter(std::string_view name);
// Recognises the shape from the first records (a few lines of input). Returns "exchange" when
// nothing more specific matches.
std::string DetectFormat(std::string_view sample);

// Helpers shared by adapters (ondemand values; all return false on a type mismatch).
namespace json {
bool GetString(simdjson::ondemand::value v, std::string_view& out);
bool GetNumber(simdjson::ondemand::value v, double& out);
bool GetInt(simdjson::ondemand::value v, int64_t& out);
bool GetBool(simdjson::ondemand::value v, bool& out);
// Parses a timestamp given as RFC 3339 string or epoch seconds (or epoch milliseconds when the
// number is too large to be seconds). Returns kNone, kBadTs.
RejectReason GetTimestamp(simdjson::ondemand::value v, TimeUs& out);
// Message content: a string or an array of content parts ({"type":"text","text":…}).
// Returns false on a JSON syntax error (the record must be rejected).
bool AddContent(simdjson::ondemand::value v, TextParts& parts, uint32_t& chars);
// Response text of the same shapes: adds its length as written in JSON without unescaping it.
bool AddRawLength(simdjson::ondemand::value v, uint32_t& chars);
// True for simdjson errors that mean broken JSON rather than an unexpected type.
bool Fatal(simdjson::error_code e);
// The chat `messages` array (or a prompt string) into the exchange's conversation fields.
bool ParseMessageList(simdjson::ondemand::value v, Exchange& ex);
// An OpenAI-style response object (status, usage, choices).
bool ParseResponseObject(simdjson::ondemand::value v, Exchange& ex);
}  // namespace json

}  // namespace dg::ingest
