#include "commands/wifi.hpp"

#include "commands/handler.hpp"
#include "module/wifi.hpp"

namespace espat::commands {

namespace {
// A Wi-Fi command with the driver deinitialised (AT+CWINIT=0), or for an interface AT+CWMODE
// left off, fails.
std::optional<at::ErrCode> wifi_needs(at::Host& host, at::Needs needs) {
  auto& w = static_cast<Ctx&>(host).wifi();
  const bool ok = (!(needs & need::wifi) || w.settings().initialized) && (!(needs & need::station) || w.station_on()) &&
                  (!(needs & need::softap) || w.softap_on());
  if (ok) return std::nullopt;
  return at::ErrCode::make(at::Sub::ExecFail);
}
}  // namespace

at::Family wifi_family() {
  at::Family f{.name = "wifi", .check = wifi_needs};
  for (auto* rows : {wifi_station_commands, wifi_softap_commands, wifi_config_commands, wifi_provision_commands})
    for (auto& c : rows()) f.rows.push_back(std::move(c));
  return f;
}

}  // namespace espat::commands
