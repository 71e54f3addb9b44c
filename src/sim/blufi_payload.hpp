// BluFi data payloads (ESP-IDF docs api-guides/blufi, data frame table; blufi_prf.c, which
// builds them; EspBlufiForAndroid BlufiClientImpl.java, which reads them): the Wi-Fi connection
// state report, the Wi-Fi list, the version, the error report. Builders and readers, pure.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/blufi.hpp"

namespace espat::sim::blufi {

// The version a device reports to "get version" (blufi_int.h BTC_BLUFI_GREAT_VER/SUB_VER of
// current ESP-IDF: 1.3). EspBlufiForAndroid negotiates MD5/AES-128 below 1.4.
inline constexpr int kVersionMajor = 1, kVersionMinor = 3;

// Station connection state (esp_blufi_api.h esp_blufi_sta_conn_state_t).
enum StaState : int { StaConnected = 0, StaFailed = 1, StaConnecting = 2, StaNoIp = 3 };

// Data subtype 15. Three bytes (opmode 0 null, 1 station, 2 SoftAP, 3 both; the station state;
// the SoftAP's station count), then optional fields as subtype, length, value, in the order
// blufi_prf.c btc_blufi_wifi_conn_report writes them; SSIDs are cut at 32 bytes, passwords at 64.
struct WifiReport {
  int opmode = 0;
  int sta_state = StaFailed;
  int softap_conn = 0;
  std::optional<std::array<std::uint8_t, 6>> sta_bssid;
  std::optional<std::string> sta_ssid, sta_password, softap_ssid, softap_password;
  std::optional<int> softap_auth_mode, softap_max_conn, softap_channel, sta_max_conn_retry, sta_end_reason;
  std::optional<int> sta_rssi;  // signed
  bool operator==(const WifiReport&) const = default;
};
std::string encode_wifi_report(const WifiReport& r);
// Unknown fields are skipped, as the app does; a field cut short, or a one-byte field without
// its byte, makes the report unreadable.
std::optional<WifiReport> parse_wifi_report(std::string_view payload);

// Data subtype 17: per AP, a length (SSID length + 1), the RSSI (signed byte), the SSID
// (blufi_prf.c btc_blufi_send_wifi_list; SSIDs of at most 32 bytes).
struct ApRecord {
  std::string ssid;
  int rssi = 0;
  bool operator==(const ApRecord&) const = default;
};
std::string encode_wifi_list(const std::vector<ApRecord>& aps);
std::optional<std::vector<ApRecord>> parse_wifi_list(std::string_view payload);

// Data subtype 16: two bytes, major then minor (blufi_protocol.c, GET_VERSION).
std::string encode_version(int major = kVersionMajor, int minor = kVersionMinor);
std::optional<std::array<int, 2>> parse_version(std::string_view payload);

// Data subtype 18: one byte, an Error (blufi_prf.c btc_blufi_send_error_info).
std::string encode_error(Error e);
std::optional<int> parse_error(std::string_view payload);

}  // namespace espat::sim::blufi
