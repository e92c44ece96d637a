// libFuzzer target for the case-file parsers (report/case_file.h): the same bytes are read as a
// case file (ParseCase, `case attach`/`case show`), as a report with indicator lines
// (BuildCases, `scan --cases` and GET /v1/case-files) and as a `prove --json` result
// (AttachForensics, `case attach` and POST /v1/case-files/{id}/forensics). Invariants: no crash,
// exception or sanitizer report; a parsed case re-serialises to JSON that parses again to the
// same JSON (lossless round trip); every case and attachment renders as Markdown.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "report/case_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string err;
  dg::report::Case c;
  if (dg::report::ParseCase(in, &c, &err)) {
    const std::string once = dg::report::CaseToJson(c);
    dg::report::Case again;
    if (!dg::report::ParseCase(once, &again, &err)) std::abort();
    if (dg::report::CaseToJson(again) != once) std::abort();
    (void)dg::report::CaseToMarkdown(again);
  }
  // A report, with the same bytes after the first newline also read as indicator lines.
  const size_t nl = in.find('\n');
  std::vector<dg::report::Case> cases;
  if (dg::report::BuildCases(in, nl == std::string_view::npos ? std::string_view() : in.substr(nl),
                             "2025-01-01T00:00:00Z", &cases, &err)) {
    for (const auto& k : cases) (void)dg::report::CaseToMarkdown(k);
  }
  dg::report::Case holder;
  if (dg::report::AttachForensics(in, "fuzz", "2025-01-01T00:00:00Z", &holder, &err)) {
    if (holder.forensics.size() != 1) std::abort();
    holder.cluster_id = "x";
    dg::report::Case back;
    if (!dg::report::ParseCase(dg::report::CaseToJson(holder), &back, &err)) std::abort();
    (void)dg::report::CaseToMarkdown(back);
  }
  return 0;
}
