#include "commands/handler.hpp"

namespace espat::commands {

std::vector<at::Alias> cur_def(const std::string& name) {
  return {{name + "_CUR", at::Store::Ram}, {name + "_DEF", at::Store::Flash}};
}

bool persist(Ctx& ctx, const Call& c, const std::function<bool()>& save) {
  switch (c.store) {
    case at::Store::Ram: return true;
    case at::Store::FollowSysstore: return save();
    case at::Store::Flash: break;
  }
  auto& store = ctx.state().sysstore;
  const int was = store;
  store = 1;
  const bool ok = save();
  store = was;
  return ok;
}

}  // namespace espat::commands
