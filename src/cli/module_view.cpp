#include "cli/module_view.hpp"

#include "module/net.hpp"
#include "module/wifi.hpp"

namespace espat::cli {

sim::ModuleView module_view(module::Module& m, int index, std::string port, std::string flash) {
  module::Wifi& w = m.wifi();
  sim::ModuleView v;
  v.index = index;
  v.station = &w;
  v.softap = &w;
  v.reset = [&m] { m.reset(); };
  v.power_cycle = [&m] { m.power_cycle(); };
  v.links = [&m] {
    auto all = nlohmann::json::array();
    for (const auto& r : m.net().link_reports())
      all.push_back({{"id", r.info.id},
                     {"type", r.info.type},
                     {"remote_ip", r.info.remote_ip},
                     {"remote_port", r.info.remote_port},
                     {"local_ip", r.local_ip},
                     {"local_port", r.info.local_port},
                     {"server_side", r.info.server_side},
                     {"bytes_sent", r.sent},
                     {"bytes_received", r.received},
                     {"stalled", r.stalled}});
    return all;
  };
  v.link_action = [&m](int id, std::string_view action) {
    auto [status, error] = m.net().link_action(id, action);
    return sim::LinkActionResult{status, error};
  };
  v.state = [&w, port = std::move(port), flash = std::move(flash)] {
    const auto& s = w.settings();
    const auto ip = w.station_ip();
    nlohmann::json sta = {
        {"mac", s.sta_mac.str()},
        {"state", int(w.state())},  // AT+CWSTATE's <state> (spec 3.2.4)
        {"ssid", w.target_ssid()},  // the AP joined or being joined, as AT+CWSTATE shows it
        {"ap", nullptr},
        {"bssid", nullptr},
        {"ip", ip.ip.str()},
        {"gateway", ip.gateway.str()},
        {"netmask", ip.netmask.str()},
    };
    if (const auto& link = w.link()) {
      sta["ap"] = link->ap.id;
      sta["bssid"] = link->ap.bssid.str();
    }
    nlohmann::json ap = {
        {"mac", s.ap_mac.str()},
        {"on", w.softap_on()},
        {"id", nullptr},
        {"ssid", w.softap_ssid()},
        {"ip", s.ap_ip.ip.str()},
        {"clients", nlohmann::json::array()},
    };
    if (w.softap_on()) ap["id"] = w.softap_id();
    for (const auto& c : w.softap_clients()) ap["clients"].push_back({{"mac", c.mac.str()}, {"ip", c.ip.str()}});
    return nlohmann::json{{"port", port},
                          {"flash", flash},
                          {"mode", s.mode},               // AT+CWMODE
                          {"initialized", s.initialized},  // AT+CWINIT
                          {"station", sta},
                          {"softap", ap}};
  };
  return v;
}

}  // namespace espat::cli
