// See normalize.h.
#include "tokenize/normalize.h"

#include <fmt/format.h>
#include <utf8proc.h>

#include <cstdlib>

namespace dg::tokenize {

bool ParseNormalForm(std::string_view name, NormalForm* form) {
  if (name == "NFC") return *form = NormalForm::kNFC, true;
  if (name == "NFD") return *form = NormalForm::kNFD, true;
  if (name == "NFKC") return *form = NormalForm::kNFKC, true;
  if (name == "NFKD") return *form = NormalForm::kNFKD, true;
  return false;
}

bool Normalize(std::string_view in, const std::vector<NormalForm>& forms, std::string* out,
               std::string* err) {
  out->assign(in);
  bool ascii = true;
  for (unsigned char c : in) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii || in.empty()) return true;
  for (NormalForm f : forms) {
    int opts = UTF8PROC_STABLE;
    switch (f) {
      case NormalForm::kNFC:
        opts |= UTF8PROC_COMPOSE;
        break;
      case NormalForm::kNFD:
        opts |= UTF8PROC_DECOMPOSE;
        break;
      case NormalForm::kNFKC:
        opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
      case NormalForm::kNFKD:
        opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
    utf8proc_uint8_t* dst = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(out->data()),
                                            static_cast<utf8proc_ssize_t>(out->size()), &dst,
                                            static_cast<utf8proc_option_t>(opts));
    if (n < 0) {
      *err = fmt::format("normalisation failed: {}", utf8proc_errmsg(n));
      return false;
    }
    out->assign(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
    std::free(dst);
  }
  return true;
}

}  // namespace dg::tokenize
