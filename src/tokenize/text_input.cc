// See text_input.h.
#include "tokenize/text_input.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <fstream>

#include "tokenize/tokenizer.h"

namespace dg::tokenize {

bool ReadTexts(const std::string& path, TextFormat format,
               const std::function<void(TextRecord&&)>& on_text, std::vector<std::string>* errors,
               std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = fmt::format("cannot open {}", path);
    return false;
  }
  simdjson::dom::parser parser;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool blank = line.find_first_not_of(" \t") == std::string::npos;
    if (format == TextFormat::kAuto && !blank) {
      format = line[line.find_first_not_of(" \t")] == '{' ? TextFormat::kJsonl : TextFormat::kPlain;
    }
    auto bad = [&](const std::string& why) {
      errors->push_back(fmt::format("{}: line {}: {}", path, lineno, why));
    };
    TextRecord rec;
    rec.line = lineno;
    if (format != TextFormat::kJsonl) {
      if (line.empty()) continue;
      const size_t at = FirstInvalidUtf8(line);
      if (at != std::string::npos) {
        bad(fmt::format("invalid UTF-8 at byte {} of the line", at));
        continue;
      }
      rec.id = fmt::format("line-{}", lineno);
      rec.text = std::move(line);
      on_text(std::move(rec));
      line.clear();
      continue;
    }
    if (blank) continue;
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
    simdjson::dom::element id_el;
    if (!obj["id"].get(id_el) && !id_el.is_null()) {
      std::string_view id;
      int64_t num;
      if (!id_el.get_string().get(id)) {
        rec.id = std::string(id);
      } else if (!id_el.get_int64().get(num)) {
        rec.id = std::to_string(num);
      } else {
        bad("\"id\" is not a string or integer");
        continue;
      }
    }
    std::string_view text;
    simdjson::dom::element text_el;
    if (obj["text"].get(text_el)) {
      bad("no \"text\"");
      continue;
    }
    if (text_el.get_string().get(text)) {
      bad("\"text\" is not a string");
      continue;
    }
    if (rec.id.empty()) rec.id = fmt::format("line-{}", lineno);
    rec.text = std::string(text);
    on_text(std::move(rec));
  }
  if (in.bad()) {
    *err = fmt::format("{}: read error", path);
    return false;
  }
  return true;
}

}  // namespace dg::tokenize
