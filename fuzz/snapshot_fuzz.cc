// libFuzzer target for checkpoint / snapshot load: Pipeline::Restore (the service's
// data_dir/checkpoint.bin: WAL position, counters, pending reorder records, then the engine
// snapshot) and Engine::LoadSnapshot. An engine snapshot ends in an XXH3 checksum of everything
// before it, which random bytes never match, so the input is a checkpoint *without* that
// checksum and the harness appends it (and fixes the snapshot length field), letting the fuzzer
// reach the section decoders. When the input is too short for a checkpoint header it is taken
// as a bare engine snapshot, again without its checksum. The raw input is also restored as is
// (the checksum path). Invariants: no crash, exception or sanitizer report; a refused input
// comes with a message. A checksummed snapshot that loads is trusted from then on (the checksum
// guards against torn or rotted files; the data directory is the service's own).
//
// Seeds: DG_FUZZ_WRITE_SEEDS=DIR ./snapshot_fuzz writes checkpoints of a few small pipelines
// (without the checksum) into DIR and exits; fuzz/corpus/snapshot/ was made that way.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "ingest/reject.h"
#include "serve/pipeline.h"

namespace {

// Magic, 11 counters and the reject counts (see Pipeline::Checkpoint); then the pending count.
constexpr size_t kPipeHeader = 8 + 11 * 8 + sizeof(dg::ingest::RejectCounts);

const dg::serve::PipelineOptions& Options() {
  static const dg::serve::PipelineOptions opt;  // parses the built-in model once
  return opt;
}

std::string WithSum(std::string_view body) {
  std::string out(body);
  const uint64_t sum = XXH3_64bits(body.data(), body.size());
  out.append(reinterpret_cast<const char*>(&sum), 8);
  return out;
}

// One pipeline for the whole run: building one (featurizer, engine, scorer) costs ~100 ms,
// which would leave the fuzzer at a few inputs per second. Restore() replaces every part of the
// state it reads (the name table only grows), so inputs do not leak into each other's results.
void Restore(std::string_view blob) {
  static dg::serve::Pipeline* pipe = new dg::serve::Pipeline(Options());
  std::string err;
  if (!pipe->Restore(blob, &err) && err.empty()) std::abort();
}

void WriteSeeds(const char* dir) {
  const std::string line =
      R"({"ts":"2025-01-01T00:00:0SZ","account_id":"acct-A","api_key_id":"k1","client_ip":"10.0.0.S",)"
      R"("request":{"model":"gpt-4o","messages":[{"role":"user","content":"q S"}],"n":1},)"
      R"("response":{"status":200,"usage":{"prompt_tokens":3,"completion_tokens":4},)"
      R"("choices":[{"finish_reason":"stop","message":{"content":"a"}}]}})";
  auto body = [&](int from, int to, const char* account, bool minutes = false) {
    std::string b;
    for (int i = from; i < to; ++i) {
      std::string l = line;
      if (minutes) l.replace(l.find("00:00:0S"), 8, "00:0S:00");
      for (size_t p; (p = l.find('S')) != std::string::npos;) l[p] = static_cast<char>('0' + i);
      l.replace(l.find("acct-A"), 6, account);
      b += l + "\n";
    }
    return b;
  };
  auto write = [&](const char* name, dg::serve::Pipeline& p) {
    std::string cp = p.Checkpoint();
    cp.resize(cp.size() - 8);  // the harness appends the checksum
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << cp;
  };
  dg::serve::Pipeline empty(Options());
  write("empty", empty);
  dg::serve::Pipeline some(Options());
  some.Apply(1, body(0, 5, "acct-A"));
  some.Apply(2, body(3, 9, "acct-B"));  // within the lateness: records stay pending
  write("two-accounts", some);
  some.Flush();
  write("two-accounts-flushed", some);
  // Events over several epochs: barriers ran, so the snapshot holds account states (field by
  // field), the linker and cluster verdicts, not only pending records.
  dg::serve::Pipeline states(Options());
  states.Apply(1, body(0, 10, "acct-A", true));
  states.Apply(2, body(0, 10, "acct-B", true));
  states.Flush();
  write("states", states);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("DG_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Restore(in);  // as stored: the checksum check refuses almost everything

  if (size >= kPipeHeader + 8) {
    uint64_t n;
    std::memcpy(&n, data + kPipeHeader, 8);
    const size_t rec = sizeof(dg::core::EventRecord);
    if (n <= (size - kPipeHeader - 8) / rec && size - kPipeHeader - 8 - n * rec >= 8) {
      const size_t eng_off = kPipeHeader + 8 + n * rec + 8;
      const std::string engine = WithSum(in.substr(eng_off));
      std::string blob(in.substr(0, eng_off - 8));
      const uint64_t len = engine.size();
      blob.append(reinterpret_cast<const char*>(&len), 8);
      blob += engine;
      Restore(blob);
      return 0;
    }
  }
  static dg::core::NameTable names;
  static dg::engine::Engine* eng = new dg::engine::Engine(Options().engine, names);
  std::string err;
  if (!eng->LoadSnapshot(WithSum(in), &err) && err.empty()) std::abort();
  return 0;
}
