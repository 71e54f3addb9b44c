// One module as the control API lists it (GET /modules, README "Control API").
#pragma once
#include <string>

#include "module/module.hpp"
#include "sim/control_routes.hpp"

namespace espat::cli {

// `port` and `flash` are what the module was started with; the Wi-Fi state is read on each call.
sim::ModuleView module_view(module::Module& m, int index, std::string port, std::string flash);

}  // namespace espat::cli
