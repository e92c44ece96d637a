// parse_limit: the throughput ceiling for `make bench` (issue 7).
//
// Reads exchange-log JSONL files and does the least any detector must do per record: parse it
// with simdjson On-Demand (iterate_many over large chunks, like the engine's BlockParser), read
// the fields the engine reads (ts, account_id, api_key_id, end_user, client_ip, user_agent,
// client_fingerprint, request.model / messages / n / temperature / top_p / max_tokens /
// logprobs / top_logprobs / logit_bias / seed / stream / tools / reasoning_effort,
// response.status / usage / choices) and hash the prompt text (the last user message, plus the
// system text) with XXH3. One thread, no state, no features, no output per record.
//
// Usage: parse_limit FILE...   (plain JSONL only)
// Prints one JSON line on stdout: {"records":…,"bytes":…,"seconds":…,"events_per_s":…,
// "mb_per_s":…,"checksum":…}. The checksum folds every value read so nothing is optimised away.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include <simdjson.h>
#include <xxhash.h>

namespace {

using simdjson::ondemand::array;
using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

struct Totals {
  uint64_t records = 0, errors = 0, checksum = 0;
};

inline uint64_t Fold(uint64_t acc, uint64_t v) { return (acc ^ v) * 0x9E3779B97F4A7C15ULL; }

// Hashes a message content: a string or an array of strings / {type, text} parts.
uint64_t HashContent(value v, uint64_t seed) {
  json_type t;
  if (v.type().get(t)) return seed;
  if (t == json_type::string) {
    std::string_view s;
    if (!v.get_string().get(s)) return XXH3_64bits_withSeed(s.data(), s.size(), seed);
    return seed;
  }
  if (t != json_type::array) return seed;
  array arr;
  if (v.get_array().get(arr)) return seed;
  uint64_t h = seed;
  for (auto elem : arr) {
    value ev;
    if (elem.get(ev)) break;
    if (ev.type().get(t)) break;
    std::string_view s;
    if (t == json_type::string) {
      if (!ev.get_string().get(s)) h = XXH3_64bits_withSeed(s.data(), s.size(), h);
    } else if (t == json_type::object) {
      object part;
      if (ev.get_object().get(part)) break;
      for (auto f : part) {
        std::string_view k;
        if (f.unescaped_key().get(k)) break;
        if ((k == "text" || k == "input_text") && !f.value().get_string().get(s)) {
          h = XXH3_64bits_withSeed(s.data(), s.size(), h);
        }
      }
    }
  }
  return h;
}

inline uint64_t StrHash(value v) {
  std::string_view s;
  if (v.get_string().get(s)) return 0;
  return s.size() * 131 + (s.empty() ? 0 : static_cast<unsigned char>(s[0]));
}
inline uint64_t Num(value v) {
  double d;
  if (v.get_double().get(d)) return 0;
  return static_cast<uint64_t>(d * 16);
}

uint64_t ParseRequest(value v) {
  object req;
  if (v.get_object().get(req)) return 0;
  uint64_t acc = 0, prompt = 0, system = 0;
  for (auto f : req) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return acc;
    value fv;
    if (f.value().get(fv)) return acc;
    if (key == "messages") {
      array msgs;
      if (fv.get_array().get(msgs)) continue;
      for (auto m : msgs) {
        object mo;
        if (m.get_object().get(mo)) break;
        std::string_view role;
        uint64_t h = 0;
        for (auto mf : mo) {
          std::string_view mk;
          if (mf.unescaped_key().get(mk)) break;
          if (mk == "role") {
            if (mf.value().get_string().get(role)) role = {};
          } else if (mk == "content") {
            h = HashContent(mf.value(), 0);
          }
        }
        if (role == "system" || role == "developer") {
          system = Fold(system, h);
        } else if (role == "user") {
          prompt = h;  // the last user message is the prompt
        }
      }
    } else if (key == "model" || key == "reasoning_effort") {
      acc = Fold(acc, StrHash(fv));
    } else if (key == "n" || key == "temperature" || key == "top_p" || key == "max_tokens" ||
               key == "max_completion_tokens" || key == "top_logprobs" || key == "seed") {
      acc = Fold(acc, Num(fv));
    } else if (key == "logprobs" || key == "stream") {
      bool b;
      if (!fv.get_bool().get(b)) acc = Fold(acc, b);
    } else if (key == "logit_bias") {
      object o;
      size_t n = 0;
      if (!fv.get_object().get(o) && !o.count_fields().get(n)) acc = Fold(acc, n);
    } else if (key == "tools") {
      array a;
      size_t n = 0;
      if (!fv.get_array().get(a) && !a.count_elements().get(n)) acc = Fold(acc, n);
    }
  }
  return Fold(Fold(acc, prompt), system);
}

uint64_t ParseResponse(value v) {
  object r;
  if (v.get_object().get(r)) return 0;
  uint64_t acc = 0;
  for (auto f : r) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return acc;
    if (key == "status") {
      acc = Fold(acc, Num(f.value()));
    } else if (key == "usage") {
      object u;
      if (f.value().get_object().get(u)) continue;
      for (auto uf : u) {
        std::string_view uk;
        if (uf.unescaped_key().get(uk)) break;
        if (uk == "prompt_tokens" || uk == "completion_tokens") {
          acc = Fold(acc, Num(uf.value()));
        } else if (uk == "completion_tokens_details") {
          object d;
          if (uf.value().get_object().get(d)) continue;
          for (auto df : d) {
            std::string_view dk;
            if (df.unescaped_key().get(dk)) break;
            if (dk == "reasoning_tokens") acc = Fold(acc, Num(df.value()));
          }
        }
      }
    } else if (key == "choices") {
      array cs;
      if (f.value().get_array().get(cs)) continue;
      for (auto c : cs) {
        object co;
        if (c.get_object().get(co)) break;
        for (auto cf : co) {
          std::string_view ck;
          if (cf.unescaped_key().get(ck)) break;
          if (ck == "finish_reason") {
            acc = Fold(acc, StrHash(cf.value()));
          } else if (ck == "message") {
            object m;
            if (cf.value().get_object().get(m)) continue;
            for (auto mf : m) {
              std::string_view mk;
              if (mf.unescaped_key().get(mk)) break;
              if (mk == "content") acc = Fold(acc, StrHash(mf.value()));
            }
          }
        }
      }
    }
  }
  return acc;
}

bool ParseRecord(object obj, Totals& t) {
  uint64_t acc = 0;
  bool have_ts = false, have_account = false;
  for (auto f : obj) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    value v;
    if (f.value().get(v)) return false;
    if (key == "request") {
      acc = Fold(acc, ParseRequest(v));
    } else if (key == "response") {
      acc = Fold(acc, ParseResponse(v));
    } else if (key == "ts") {
      have_ts = true;
      acc = Fold(acc, StrHash(v));
    } else if (key == "account_id") {
      have_account = true;
      std::string_view s;
      if (v.get_string().get(s)) return false;
      acc = Fold(acc, XXH3_64bits(s.data(), s.size()));
    } else if (key == "api_key_id" || key == "end_user" || key == "client_ip" ||
               key == "user_agent" || key == "client_fingerprint" || key == "endpoint") {
      acc = Fold(acc, StrHash(v));
    } else if (key == "latency_ms" || key == "client_asn") {
      acc = Fold(acc, Num(v));
    }
  }
  t.checksum ^= acc;
  return have_ts && have_account;
}

// Parses the complete lines of buf[0, len) (padded); returns bytes consumed.
void ParseChunk(simdjson::ondemand::parser& parser, const char* buf, size_t len, Totals& t) {
  simdjson::ondemand::document_stream stream;
  if (parser.iterate_many(buf, len, 1 << 22).get(stream)) {
    ++t.errors;
    return;
  }
  for (auto doc : stream) {
    object obj;
    if (doc.get_object().get(obj)) {
      ++t.errors;
      continue;
    }
    if (ParseRecord(obj, t)) {
      ++t.records;
    } else {
      ++t.errors;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.jsonl...\n", argv[0]);
    return 2;
  }
  constexpr size_t kChunk = 16u << 20;
  std::vector<char> buf(kChunk + (1u << 20) + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  Totals t;
  uint64_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 1; i < argc; ++i) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      std::perror(argv[i]);
      return 2;
    }
    size_t have = 0;  // bytes carried over (a partial last line)
    bool eof = false;
    while (!eof || have > 0) {
      if (!eof) {
        if (buf.size() - simdjson::SIMDJSON_PADDING - have < kChunk) {
          buf.resize(have + kChunk + simdjson::SIMDJSON_PADDING);
        }
        ssize_t n = read(fd, buf.data() + have, kChunk);
        if (n < 0) {
          std::perror(argv[i]);
          return 2;
        }
        if (n == 0) eof = true;
        bytes += static_cast<uint64_t>(n);
        have += static_cast<size_t>(n);
      }
      size_t end = have;
      if (!eof) {
        const void* nl = memrchr(buf.data(), '\n', have);
        if (nl == nullptr) continue;  // a line longer than the buffer: read more
        end = static_cast<size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
      }
      if (end > 0) {
        std::memset(buf.data() + have, 0, simdjson::SIMDJSON_PADDING);
        ParseChunk(parser, buf.data(), end, t);
      }
      std::memmove(buf.data(), buf.data() + end, have - end);
      have -= end;
      if (eof) break;
    }
    close(fd);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"records\":%llu,\"errors\":%llu,\"bytes\":%llu,\"seconds\":%.4f,\"events_per_s\":%.0f,"
      "\"mb_per_s\":%.1f,\"checksum\":%llu}\n",
      static_cast<unsigned long long>(t.records), static_cast<unsigned long long>(t.errors),
      static_cast<unsigned long long>(bytes), secs, t.records / secs, bytes / secs / 1e6,
      static_cast<unsigned long long>(t.checksum));
  return t.records > 0 ? 0 : 1;
}
