// The Wi-Fi settings in the runtime NVS partition (spec 3.16, reference §7.3). Where the
// reference names the firmware's namespace (NVM_001 softAP IP ... NVM_022 CWAUTOCONN) espat
// uses it; what the ESP-IDF Wi-Fi driver keeps in its own "nvs.net80211" (mode, the station and
// softAP configurations, PHY protocols) espat keeps in "wifi_cfg", with keys of its own.
// Every save_* writes only when AT+SYSSTORE=1, except CWAUTOCONN, which is always saved.
#pragma once
#include "flash/nvs.hpp"
#include "module/wifi.hpp"

namespace espat::module {

class Context;

// Overlays what the NVS holds on `s` (which starts as the defaults).
void load_wifi(const flash::nvs::Storage& nvs, WifiSettings& s);

bool save_wifi_mode(Context& ctx, const WifiSettings& s);       // AT+CWMODE
bool save_wifi_station(Context& ctx, const WifiSettings& s);    // AT+CWJAP
bool save_wifi_softap(Context& ctx, const WifiSettings& s);     // AT+CWSAP
bool save_wifi_reconnect(Context& ctx, const WifiSettings& s);  // AT+CWRECONNCFG, AT+CWJAP
bool save_wifi_autoconn(Context& ctx, const WifiSettings& s);   // AT+CWAUTOCONN (always)
bool save_wifi_dhcp(Context& ctx, const WifiSettings& s);       // AT+CWDHCP (and CIPSTA/CIPAP)
bool save_wifi_dhcps(Context& ctx, const WifiSettings& s);      // AT+CWDHCPS
bool save_wifi_station_ip(Context& ctx, const WifiSettings& s); // AT+CIPSTA
bool save_wifi_softap_ip(Context& ctx, const WifiSettings& s);  // AT+CIPAP
bool save_wifi_station_mac(Context& ctx, const WifiSettings& s);// AT+CIPSTAMAC
bool save_wifi_softap_mac(Context& ctx, const WifiSettings& s); // AT+CIPAPMAC
bool save_wifi_protocols(Context& ctx, const WifiSettings& s);  // AT+CWSTAPROTO, AT+CWAPPROTO
bool save_wifi_eap(Context& ctx, const WifiSettings& s);        // AT+CWJEAP

}  // namespace espat::module
