// libFuzzer target for the labels file parser (eval/labels.h): any input either parses or throws
// std::runtime_error with a message; nothing else escapes and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "eval/labels.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto labels =
        dg::eval::ParseLabels(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    for (const auto& a : labels.accounts) {
      if (a.id.size() > size) __builtin_trap();
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
