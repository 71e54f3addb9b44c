#include "commands/table.hpp"

#include "commands/basic.hpp"
#include "commands/ble.hpp"
#include "commands/catalog.hpp"
#include "commands/http.hpp"
#include "commands/mqtt.hpp"
#include "commands/fs.hpp"
#include "commands/tcpip.hpp"
#include "commands/wifi.hpp"
#include "commands/ws.hpp"

namespace espat::commands {

namespace {
// ATE0 and ATE1 are the catalog's ATE; AT+UART, the firmware's third spelling of AT+UART_DEF
// (reference §9.5), is not in the guide's list and keeps the section of the command it spells.
void join_catalog(at::Family& f) {
  for (auto& c : f.rows) {
    std::string name = "AT" + c.name;
    if (name == "ATE0" || name == "ATE1") name = "ATE";
    if (name == "AT+UART") name = "AT+UART_DEF";
    for (const auto& e : catalog())
      if (name == e.name) {
        c.section = e.section;
        c.saved_in_flash = e.saved_in_flash;
      }
  }
}

// In the firmware's order of registration, which AT+CMD? lists (reference §1.2: ... net 7,
// ping 8, mqtt 9, http 10, ws 11, ..., fs 18).
at::Registry build() {
  at::Registry r;
  for (auto* family : {basic_family, wifi_family, tcpip_family, mqtt_family, http_family, ws_family, ble_family, fs_family}) {
    at::Family f = family();
    join_catalog(f);
    r.add(std::move(f));
  }
  return r;
}
}  // namespace

const at::Registry& command_table() {
  static const at::Registry table = build();
  return table;
}

}  // namespace espat::commands
