// Engine snapshots (see Engine::SaveSnapshot). Not implemented yet: the live-service work owns
// this file and fills it in; until then loading reports that snapshots are unsupported.
#include "engine/engine.h"

namespace dg::engine {

void Engine::SaveSnapshot(std::string& out) const { out.clear(); }

bool Engine::LoadSnapshot(std::string_view data, std::string* error) {
  *error = "engine snapshots are not supported by this build";
  return false;
}

}  // namespace dg::engine
