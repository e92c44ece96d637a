// Reading texts to tokenise (`--texts FILE`): JSONL with one {"id": ..., "text": "..."} per line,
// or plain text with one text per line.
//
// Design: the format is decided once per file, by its first non-blank line ('{' starts JSONL),
// unless the caller fixes it. Records stream to a callback, so a large file is never held whole.
// A bad line (malformed JSON, no "text" string, an "id" that is neither string nor integer,
// invalid UTF-8) is reported as "FILE: line N: reason" and skipped; reading goes on. Only an
// unreadable file is fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dg::tokenize {

enum class TextFormat { kAuto, kJsonl, kPlain };

struct TextRecord {
  std::string id;  // "line-N" when the line has none (and always for plain text)
  std::string text;
  int64_t line = 0;
};

// Calls on_text for every good record in file order; appends one message per bad line to
// *errors. Plain text: a trailing '\r' is removed and empty lines are skipped; JSONL: blank lines
// are skipped. False (and *err) only if the file cannot be read.
bool ReadTexts(const std::string& path, TextFormat format,
               const std::function<void(TextRecord&&)>& on_text, std::vector<std::string>* errors,
               std::string* err);

}  // namespace dg::tokenize
