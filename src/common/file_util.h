// Small file helpers. Writes that must survive a crash go through WriteFileAtomically: write to a
// temporary file beside the target, fsync, rename over the target, fsync the directory.
#pragma once

#include <string>
#include <string_view>

namespace dg {

bool WriteFileAtomically(const std::string& path, std::string_view data, std::string* error);
bool ReadFile(const std::string& path, std::string* out, std::string* error);

}  // namespace dg
