#include "commands/wifi.hpp"

namespace espat::commands {
// Not written yet: nothing registered, so AT+CMD? and the README table show these as missing.
void register_wifi_softap(at::Registry&, module::Context&) {}
}  // namespace espat::commands
