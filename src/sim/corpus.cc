// See corpus.h. simdjson on-demand parsing, one padded line at a time.
#include "sim/corpus.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dg::sim {
namespace fs = std::filesystem;

Corpora::Corpora(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) return;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec))
    throw std::runtime_error(fmt::format("--corpora {}: not a directory", dir_));
  for (const fs::path& cand : {fs::path(dir_) / "templates", fs::path(dir_) / ".." / "templates"}) {
    if (fs::is_directory(cand, ec)) {
      templates_dir_ = cand.string();
      break;
    }
  }
}

static void LoadFile(const fs::path& path, std::vector<CorpusItem>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path.string()));
  simdjson::ondemand::parser parser;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    simdjson::padded_string padded(line);
    CorpusItem item;
    auto doc = parser.iterate(padded);
    simdjson::ondemand::array turns;
    if (doc.error() || doc["turns"].get_array().get(turns))
      throw std::runtime_error(
          fmt::format("{}:{}: not a corpus record (needs \"turns\")", path.string(), lineno));
    for (auto t : turns) {
      std::string_view sv;
      if (t.get_string().get(sv)) continue;
      item.turns.emplace_back(sv);
    }
    if (!item.turns.empty() && !item.turns[0].empty()) out.push_back(std::move(item));
  }
}

const std::vector<CorpusItem>* Corpora::Get(const std::string& selector) {
  if (dir_.empty()) return nullptr;
  if (auto it = cache_.find(selector); it != cache_.end())
    return it->second.empty() ? nullptr : &it->second;
  std::string group = selector, prefixes;
  if (auto c = selector.find(':'); c != std::string::npos) {
    group = selector.substr(0, c);
    prefixes = selector.substr(c + 1);
  }
  std::vector<std::string> pre;
  std::stringstream ss(prefixes);
  for (std::string p; std::getline(ss, p, ',');)
    if (!p.empty()) pre.push_back(p);
  std::vector<fs::path> files;
  std::error_code ec;
  fs::path gdir = fs::path(dir_) / group;
  if (fs::is_directory(gdir, ec)) {
    for (const auto& e : fs::directory_iterator(gdir, ec)) {
      if (e.path().extension() != ".jsonl") continue;
      std::string stem = e.path().stem().string();
      bool ok = pre.empty();
      for (const auto& p : pre) ok = ok || stem.rfind(p, 0) == 0;
      if (ok) files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  auto& items = cache_[selector];
  for (const auto& f : files) LoadFile(f, items);
  return items.empty() ? nullptr : &items;
}

std::optional<std::string> Corpora::Template(const std::string& name) {
  if (templates_dir_.empty()) return std::nullopt;
  if (auto it = templates_.find(name); it != templates_.end()) return it->second;
  std::optional<std::string> r;
  std::ifstream in(fs::path(templates_dir_) / name, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    r = ss.str();
    while (!r->empty() && (r->back() == '\n' || r->back() == ' ')) r->pop_back();
  }
  templates_[name] = r;
  return r;
}

}  // namespace dg::sim
