#include "sim/blufi_payload.hpp"

#include <algorithm>

namespace espat::sim::blufi {

namespace {
constexpr std::size_t kSsidMax = 32, kPasswordMax = 64;  // blufi_prf.c BLUFI_WIFI_SSID_MAX/PASS_MAX

void put_field(std::string& out, int type, std::string_view value, std::size_t max) {
  value = value.substr(0, max);
  out += char(type);
  out += char(value.size());
  out += value;
}
void put_byte(std::string& out, int type, int value) { out += {char(type), '\x01', char(value)}; }
}  // namespace

std::string encode_wifi_report(const WifiReport& r) {
  std::string out{char(r.opmode), char(r.sta_state), char(r.softap_conn)};
  if (r.sta_bssid)
    put_field(out, data::StaBssid, std::string_view(reinterpret_cast<const char*>(r.sta_bssid->data()), 6), 6);
  if (r.sta_ssid) put_field(out, data::StaSsid, *r.sta_ssid, kSsidMax);
  if (r.sta_password) put_field(out, data::StaPassword, *r.sta_password, kPasswordMax);
  if (r.softap_ssid) put_field(out, data::SoftapSsid, *r.softap_ssid, kSsidMax);
  if (r.softap_password) put_field(out, data::SoftapPassword, *r.softap_password, kPasswordMax);
  if (r.softap_auth_mode) put_byte(out, data::SoftapAuthMode, *r.softap_auth_mode);
  if (r.softap_max_conn) put_byte(out, data::SoftapMaxConn, *r.softap_max_conn);
  if (r.softap_channel) put_byte(out, data::SoftapChannel, *r.softap_channel);
  if (r.sta_max_conn_retry) put_byte(out, data::StaMaxConnRetry, *r.sta_max_conn_retry);
  if (r.sta_end_reason) put_byte(out, data::StaConnEndReason, *r.sta_end_reason);
  if (r.sta_rssi) put_byte(out, data::StaConnRssi, *r.sta_rssi);
  return out;
}

std::optional<WifiReport> parse_wifi_report(std::string_view p) {
  if (p.size() < 3) return std::nullopt;
  WifiReport r;
  r.opmode = std::uint8_t(p[0]);
  r.sta_state = std::uint8_t(p[1]);
  r.softap_conn = std::uint8_t(p[2]);
  p.remove_prefix(3);
  while (!p.empty()) {
    if (p.size() < 2) return std::nullopt;
    const int type = std::uint8_t(p[0]);
    const std::size_t len = std::uint8_t(p[1]);
    if (p.size() - 2 < len) return std::nullopt;
    const std::string_view v = p.substr(2, len);
    p.remove_prefix(2 + len);
    const bool byte_field = type == data::SoftapAuthMode || type == data::SoftapMaxConn ||
                            type == data::SoftapChannel || type == data::StaMaxConnRetry ||
                            type == data::StaConnEndReason || type == data::StaConnRssi;
    if (byte_field && v.empty()) return std::nullopt;
    const int b = v.empty() ? 0 : std::uint8_t(v[0]);
    switch (type) {
      case data::StaBssid:
        if (v.size() != 6) return std::nullopt;
        r.sta_bssid.emplace();
        std::copy(v.begin(), v.end(), r.sta_bssid->begin());
        break;
      case data::StaSsid: r.sta_ssid = std::string(v); break;
      case data::StaPassword: r.sta_password = std::string(v); break;
      case data::SoftapSsid: r.softap_ssid = std::string(v); break;
      case data::SoftapPassword: r.softap_password = std::string(v); break;
      case data::SoftapAuthMode: r.softap_auth_mode = b; break;
      case data::SoftapMaxConn: r.softap_max_conn = b; break;
      case data::SoftapChannel: r.softap_channel = b; break;
      case data::StaMaxConnRetry: r.sta_max_conn_retry = b; break;
      case data::StaConnEndReason: r.sta_end_reason = b; break;
      case data::StaConnRssi: r.sta_rssi = std::int8_t(b); break;
      default: break;
    }
  }
  return r;
}

std::string encode_wifi_list(const std::vector<ApRecord>& aps) {
  std::string out;
  for (const auto& ap : aps) {
    const std::string_view ssid = std::string_view(ap.ssid).substr(0, kSsidMax);
    out += char(ssid.size() + 1);
    out += char(std::int8_t(ap.rssi));
    out += ssid;
  }
  return out;
}

std::optional<std::vector<ApRecord>> parse_wifi_list(std::string_view p) {
  std::vector<ApRecord> aps;
  while (!p.empty()) {
    const std::size_t len = std::uint8_t(p[0]);
    if (len < 1 || p.size() - 1 < len) return std::nullopt;
    aps.push_back({std::string(p.substr(2, len - 1)), std::int8_t(p[1])});
    p.remove_prefix(1 + len);
  }
  return aps;
}

std::string encode_version(int major, int minor) { return {char(major), char(minor)}; }

std::optional<std::array<int, 2>> parse_version(std::string_view p) {
  if (p.size() != 2) return std::nullopt;
  return std::array<int, 2>{std::uint8_t(p[0]), std::uint8_t(p[1])};
}

std::string encode_error(Error e) { return std::string(1, char(e)); }

std::optional<int> parse_error(std::string_view p) {
  if (p.size() != 1) return std::nullopt;
  return std::uint8_t(p[0]);
}

}  // namespace espat::sim::blufi
