// Built-in prompt material: a combinatorial generator (templates x word banks x random numbers)
// so the simulator needs no data files. Each kind yields plausible, varied text: many distinct
// prompts share templates the way real traffic does, so near-duplicate detection is meaningful
// but not trivial. All randomness comes from the caller's Rng (deterministic).
#pragma once

#include <string>
#include <string_view>

#include "common/rng.h"

namespace dg::sim {

// Kinds: instruction, chat, code, math, document, classify, translate, mcq, question.
bool IsBuiltinKind(std::string_view kind);
std::string GeneratePrompt(std::string_view kind, Rng& rng);

// Long document (for summarisation / RAG contexts) of roughly `chars` characters.
std::string GenerateDocument(Rng& rng, size_t chars);

// Special system prompts ("builtin:saas", "builtin:coding", "builtin:rag", "builtin:assistant").
// Returns false if `name` is not one of them.
bool GenerateSystemPrompt(std::string_view name, Rng& rng, std::string& out);

// A user follow-up in a multi-turn chat.
std::string GenerateFollowup(Rng& rng);

// A tool result (file content, command output) for agent loops.
std::string GenerateToolResult(Rng& rng);

// A short assistant reply of about `chars` characters.
std::string GenerateReply(Rng& rng, size_t chars);

// Company-ish names and domains for identities.
std::string GenerateCompanyDomain(Rng& rng);
std::string GenerateThrowawayDomain(Rng& rng);

}  // namespace dg::sim
