// The body of POST /v1/decide, parsed apart from the Service so that it can be unit-tested and
// fuzzed on its own (fuzz/decide_body_fuzz.cc) without starting a service.
//
// Body: {account_id, api_key_id?, end_user?, client_ip?, user_agent?, request?}; string fields
// of another type read as absent; in `request`, n / max_tokens (or max_completion_tokens,
// max_output_tokens) are integers clamped into [0, INT_MAX], logprobs a boolean; other keys are
// ignored; `request.safety_identifier`, else `request.user`, names the end user when `end_user`
// is absent (as scan reads the exchange log). The parser never throws; a body it refuses yields
// the error the service answers 400.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "serve/decider.h"

namespace dg::serve {

// The decide body's fields, owning their strings (DecisionInput only views them).
struct DecideBody {
  std::string account_id, api_key_id, end_user, client_ip, user_agent;
  int n = -1;
  int max_tokens = -1;
  bool logprobs = false;
  // A DecisionInput viewing this body's strings (valid while *this lives unchanged).
  DecisionInput Input() const;
};

// Why a body was refused: the `param` (may be empty), message and code of the 400.
struct DecideBodyError {
  std::string param, message, code;
};

// Parses `body` into *out; nullopt on success. A missing or empty account_id is an error.
std::optional<DecideBodyError> ParseDecideBody(std::string_view body, DecideBody* out);

}  // namespace dg::serve
