// libFuzzer target for the serve configuration (LoadConfigText: the TOML of `serve --config`,
// including [policy], its allow / block lists and [[policy.detector]] rules). The input bytes
// are the file's text, applied to a default ServeConfig. By contract a bad file throws
// std::runtime_error with a message, which the harness catches; any other exception type, a
// crash or a sanitizer report is a finding. A config that loads is then used the way the
// service starts with it: the decider is built from its policy.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "common/hash.h"
#include "common/time.h"
#include "core/event.h"
#include "serve/config.h"
#include "serve/decider.h"
#include "serve/verdict_view.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dg::serve::ServeConfig cfg;
  try {
    dg::serve::LoadConfigText(text, cfg);
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).empty()) std::abort();
    return 0;
  }
  // Decisions under the loaded policy: an unknown account, a flagged one (levels, detector rules,
  // the throttled bucket), lagging fail-closed, and a request with token limits.
  dg::serve::VerdictView view;
  dg::serve::AccountVerdict flagged;
  flagged.flagged = true;
  flagged.level = 4;
  view.Update({{dg::Hash64("bad", dg::core::kHashAccount), flagged}});
  dg::FixedClock clock(1'000'000'000);
  dg::serve::Decider decider(cfg.policy, view, {"burst", "logprob_harvest"}, clock);
  dg::serve::DecisionInput in;
  for (const char* account : {"nobody", "bad", "bad"}) {
    in.account_id = account;
    in.end_user = "eu";
    in.n = 4;
    in.max_tokens = 1 << 30;
    (void)decider.Decide(in, false, cfg.fail_open);
    (void)decider.Decide(in, true, false);
    clock.Set(clock.Now() + 1'000'000);
  }
  return 0;
}
