// Tuple deduplication, scheme construction and token JSONL reading; see detect.h.
#include "prove/detect.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <fstream>

#include "common/hash.h"
#include "prove/kgw.h"
#include "prove/stats.h"
#include "prove/vllm_gumbel.h"

namespace dg::prove {
namespace {

Fingerprint Print(std::span<const int64_t> window, const int64_t* token) {
  // Window ids, then a marker word, then the token if any: a window print never equals a tuple
  // print, and windows of different widths never collide by construction.
  std::vector<int64_t> buf(window.begin(), window.end());
  buf.push_back(token ? INT64_MIN + 1 : INT64_MIN);
  if (token) buf.push_back(*token);
  XXH128_hash_t h = XXH3_128bits(buf.data(), buf.size() * sizeof(int64_t));
  return {h.low64, h.high64};
}

}  // namespace

Fingerprint WindowPrint(std::span<const int64_t> window) { return Print(window, nullptr); }
Fingerprint TuplePrint(std::span<const int64_t> window, int64_t token) {
  return Print(window, &token);
}

Tally Accumulator::AddText(std::span<const int64_t> tokens) {
  Tally text;
  text_seen_.clear();
  ForEachTuple(scheme_, tokens, [&](std::span<const int64_t> window, int64_t token) {
    if (allowed_ && !allowed_->count(WindowPrint(window))) return;
    bool new_in_text = true, new_in_pool = true;
    if (dedup_ != Dedup::kNone) {
      Fingerprint fp = dedup_ == Dedup::kPair ? TuplePrint(window, token) : WindowPrint(window);
      new_in_text = text_seen_.insert(fp).second;
      new_in_pool = pooled_seen_.insert(fp).second;
    }
    if (!new_in_text && !new_in_pool) return;
    const double s = scheme_.Score(window, token);
    if (new_in_text) {
      ++text.scored;
      text.statistic += s;
    }
    if (new_in_pool) {
      ++pooled_.scored;
      pooled_.statistic += s;
    }
  });
  return text;
}

double Accumulator::Log10P(const Tally& t) const { return Log10(scheme_.LogP(t)); }

std::unique_ptr<Scheme> MakeScheme(const SchemeOptions& o, std::string* err) {
  if (o.scheme == "vllm-gumbel") {
    if (o.context_width < 1 || o.context_width > 1024) {
      *err = "--context-width must be in [1, 1024]";
      return nullptr;
    }
    return std::make_unique<VllmGumbelScheme>(o.key, o.context_width);
  }
  if (o.scheme == "hf-kgw") {
    if (o.vocab_size < 2 || o.vocab_size > (int64_t{1} << 31)) {
      *err = "hf-kgw needs --vocab-size V (the model's vocabulary size, 2 <= V <= 2^31)";
      return nullptr;
    }
    if (!(o.gamma > 0.0 && o.gamma < 1.0) || KgwGreenlistSize(o.vocab_size, o.gamma) < 1 ||
        KgwGreenlistSize(o.vocab_size, o.gamma) >= o.vocab_size) {
      *err = "--gamma must be in (0, 1) and leave a non-empty green and red list";
      return nullptr;
    }
    return std::make_unique<KgwScheme>(o.key, o.vocab_size, o.gamma);
  }
  *err = fmt::format("unknown scheme '{}' (vllm-gumbel or hf-kgw)", o.scheme);
  return nullptr;
}

bool ReadTokenJsonl(const std::string& path, const Scheme& scheme, std::vector<TokenText>* texts,
                    std::vector<std::string>* errors, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = fmt::format("cannot open {}", path);
    return false;
  }
  // The DOM parser validates the whole line (trailing garbage, bad values in unknown fields).
  simdjson::dom::parser parser;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto bad = [&](const std::string& why) {
      errors->push_back(fmt::format("{}: line {}: {}", path, lineno, why));
    };
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (auto e = parser.parse(line).get(doc); e) {
      bad(fmt::format("malformed JSON ({})", simdjson::error_message(e)));
      continue;
    }
    if (doc.get_object().get(obj)) {
      bad("not a JSON object");
      continue;
    }
    TokenText text;
    std::string why;
    simdjson::dom::element id_el, tokens_el;
    if (!obj["id"].get(id_el)) {
      std::string_view id;
      int64_t num;
      if (!id_el.get_string().get(id)) {
        text.id = std::string(id);
      } else if (!id_el.get_int64().get(num)) {
        text.id = std::to_string(num);
      } else {
        why = "\"id\" is not a string or integer";
      }
    }
    simdjson::dom::array arr;
    if (why.empty()) {
      if (obj["tokens"].get(tokens_el)) {
        why = "no \"tokens\" array";
      } else if (tokens_el.get_array().get(arr)) {
        why = "\"tokens\" is not an array";
      }
    }
    if (why.empty()) {
      for (simdjson::dom::element v : arr) {
        int64_t t = 0;
        std::string tw;
        if (v.get_int64().get(t)) {
          why = fmt::format("\"tokens\"[{}] is not an integer", text.tokens.size());
        } else if (!scheme.ValidToken(t, &tw)) {
          why = fmt::format("\"tokens\"[{}] = {}: {}", text.tokens.size(), t, tw);
        }
        if (!why.empty()) break;
        text.tokens.push_back(t);
      }
    }
    if (!why.empty()) {
      bad(why);
      continue;
    }
    if (text.id.empty()) text.id = fmt::format("line-{}", lineno);
    texts->push_back(std::move(text));
  }
  return true;
}

}  // namespace dg::prove
