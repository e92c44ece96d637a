// How a field of AccountState's table (state/account_state_fields.inc) is walked: scalars as
// they are, std::arrays element by element, RegistryInfo and Verdict through their own
// ForEachField, anything else (a sketch) through its Save/Load. Shared by the encoding in
// account_state.cc and the table test, so both classify a field the same way.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "state/account_state.h"

namespace dg::state::field_traits {

template <typename T>
struct IsStdArray : std::false_type {};
template <typename T, size_t N>
struct IsStdArray<std::array<T, N>> : std::true_type {};

// Structures the table nests (walked field by field rather than as a sketch).
template <typename T>
constexpr bool kNested = std::is_same_v<T, RegistryInfo> || std::is_same_v<T, Verdict>;

}  // namespace dg::state::field_traits
