// Unicode normalisation of the text between added tokens (Hugging Face normalizers NFC, NFD,
// NFKC, NFKD and a Sequence of them) on utf8proc. ASCII text is returned unchanged without a
// call, since all four forms leave it alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dg::tokenize {

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };

// False for a name that is none of "NFC", "NFD", "NFKC", "NFKD".
bool ParseNormalForm(std::string_view name, NormalForm* form);

// Applies `forms` in order to valid UTF-8 `in`. False (and *err) if utf8proc fails.
bool Normalize(std::string_view in, const std::vector<NormalForm>& forms, std::string* out,
               std::string* err);

}  // namespace dg::tokenize
