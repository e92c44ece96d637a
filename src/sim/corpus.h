// Corpora of real prompts, read at run time (never copied into the repository).
//
// Design: `--corpora DIR` names a directory with distill/, benign/ and benchmark/ subfolders of
// *.jsonl files ({"id","turns":[...],"source","license"}) and optionally a sibling templates/
// folder (DIR/../templates or DIR/templates) of *.txt generation templates. Files are loaded
// lazily per (group, file-prefix) selector the scenario names, parsed with simdjson, and kept in
// memory (a few MB). Files are visited in sorted name order so results are deterministic.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dg::sim {

struct CorpusItem {
  std::vector<std::string> turns;
};

class Corpora {
 public:
  // `dir` may be empty (no corpora: every lookup misses).
  explicit Corpora(std::string dir);

  bool available() const { return !dir_.empty(); }
  // Selector "group" or "group:prefix1,prefix2" (file-name prefixes). Returns nullptr if the
  // corpora are absent or nothing matches. Throws std::runtime_error on unreadable/bad files.
  const std::vector<CorpusItem>* Get(const std::string& selector);
  // Template text by file name (e.g. "alpaca_self_instruct_generation.txt"), or nullopt.
  std::optional<std::string> Template(const std::string& name);

 private:
  std::string dir_, templates_dir_;
  std::map<std::string, std::vector<CorpusItem>> cache_;
  std::map<std::string, std::optional<std::string>> templates_;
};

}  // namespace dg::sim
