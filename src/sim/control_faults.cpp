// The control API's network fault endpoints (README "Network faults"): a module's own faults,
// its links, and what can be done to one link from outside (reset, stall, resume). The AP's
// faults are keys of PATCH /aps/{id} (control_routes.cpp).
#include <charconv>

#include <fmt/format.h>

#include "sim/control_routes.hpp"
#include "sim/world_json.hpp"

namespace espat::sim {

using nlohmann::json;

namespace {
ApiReply error(int status, std::string message) { return {status, {{"error", std::move(message)}}}; }
}  // namespace

// GET: the module's own faults; PATCH: the keys given change, the rest stay (checked whole
// before anything changes). They apply from the module's next operation on each link.
ApiReply ControlRoutes::module_faults(const std::string& index, const json* patch) {
  const ModuleView& m = module_or_404(index);
  if (patch) world_.set_module_faults(m.index, faults_from_json(*patch, world_.module_faults(m.index)));
  return {200, to_json(world_.module_faults(m.index))};
}

ApiReply ControlRoutes::module_links(const std::string& index) const {
  const ModuleView& m = module_or_404(index);
  return {200, m.links ? m.links() : json::array()};
}

ApiReply ControlRoutes::link_action(const std::string& index, const std::string& id, const std::string& action) {
  const ModuleView& m = module_or_404(index);
  int link = -1;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), link);
  if (ec != std::errc() || end != id.data() + id.size() || link < 0) return error(404, fmt::format("no link \"{}\"", id));
  if (!m.link_action) return error(409, fmt::format("module {} has no links to act on", index));
  auto r = m.link_action(link, action);
  if (r.status != 200) return error(r.status, r.error);
  return {200, {{action, link}}};
}

}  // namespace espat::sim
