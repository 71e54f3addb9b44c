#include "commands/wifi.hpp"

#include "module/wifi.hpp"

namespace espat::commands {

void register_wifi(at::Registry& r, module::Context& ctx) {
  register_wifi_station(r, ctx);
  register_wifi_softap(r, ctx);
  register_wifi_config(r, ctx);
  register_wifi_provision(r, ctx);
}

bool wifi_ready(module::Context& ctx) { return ctx.wifi().settings().initialized; }

std::vector<std::string> cur_def(const std::string& name) { return {name + "_CUR", name + "_DEF"}; }

bool persist(module::Context& ctx, const at::Call& c, const std::function<bool()>& save) {
  const bool cur = c.name.ends_with("_CUR"), def = c.name.ends_with("_DEF");
  if (cur) return true;
  if (!def) return save();
  auto& store = ctx.state().sysstore;
  const int was = store;
  store = 1;
  const bool ok = save();
  store = was;
  return ok;
}

}  // namespace espat::commands
