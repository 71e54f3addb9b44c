// Spec 3.2.22-3.2.28: AT+CWSTARTSMART, AT+CWSTOPSMART, AT+WPS, AT+MDNS, AT+CWJEAP,
// AT+CWHOSTNAME, AT+CWCOUNTRY.
#include "commands/handler.hpp"
#include "commands/wifi.hpp"
#include "module/wifi.hpp"
#include "module/wifi_settings.hpp"

namespace espat::commands {

namespace {
using namespace std::chrono_literals;


// ---- AT+CWJEAP (3.2.26) ----------------------------------------------------------------
// The WPA2-Enterprise error codes of 3.2.26, printed like the other module codes (MQTT 0x60xx,
// HTTP 0x7xxx) in the extension of an "execution failed" code: ERR CODE:0x010a8022.
enum Eap : std::uint16_t {
  kEapConnFailed = 0x8003,
  kEapSsidNull = 0x8013,
  kEapSsidLen = 0x8014,
  kEapGetMethod = 0x8015,
  kEapConnTimeout = 0x8016,
  kEapGetIdentity = 0x8017,
  kEapIdentityLen = 0x8018,
  kEapGetUsername = 0x8019,
  kEapUsernameLen = 0x801A,
  kEapGetPassword = 0x801B,
  kEapPasswordLen = 0x801C,
  kEapGetSecurity = 0x801D,
  kEapSecurity = 0x801E,
  kEapMethodSecurity = 0x801F,
  kEapParamCount = 0x8020,
  kEapModeNotSta = 0x8022,
  kEapMethod = 0x8024,
};
Result eap_error(Eap code) { return Result::error(at::ErrCode::make(at::Sub::ExecFail, code)); }

bool len_ok(const std::string& s) { return !s.empty() && s.size() <= 32; }

// The checks in the order of 3.2.26's parameter list; nullopt when the account is usable.
std::optional<Eap> eap_check(const at::Args& a) {
  if (a.given() < 6) return kEapParamCount;
  if (!a.has(0)) return kEapSsidNull;
  if (!len_ok(a.text(0))) return kEapSsidLen;
  if (!a.has(1)) return kEapGetMethod;
  const auto method = a.integer(1);
  if (method < 0 || method > 2) return kEapMethod;
  if (!a.has(2)) return kEapGetIdentity;
  if (!len_ok(a.text(2))) return kEapIdentityLen;
  if (method != 0) {  // PEAP and TTLS log in with a username and password; TLS with certificates
    if (!a.has(3)) return kEapGetUsername;
    if (!len_ok(a.text(3))) return kEapUsernameLen;
    if (!a.has(4)) return kEapGetPassword;
    if (!len_ok(a.text(4))) return kEapPasswordLen;
  }
  if (!a.has(5)) return kEapGetSecurity;
  const auto security = a.integer(5);
  if (security < 0 || security > 3) return kEapSecurity;
  if (method == 0 && !(security & 1)) return kEapMethodSecurity;  // TLS needs the client certificate
  return std::nullopt;
}

asio::awaitable<Result> cwjeap_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  if (!w.station_on()) co_return eap_error(kEapModeNotSta);
  const auto& a = c.args;
  if (auto bad = eap_check(a)) co_return eap_error(*bad);
  module::StationConfig cfg;
  cfg.ssid = a.text(0);
  sim::EapAccount acc;
  acc.method = int(a.integer(1));
  acc.identity = a.text(2);
  if (acc.method != 0) {
    acc.username = a.text(3);
    acc.password = a.text(4);
  }
  cfg.eap = acc;
  cfg.eap_security = int(a.integer(5));
  auto& s = w.settings();
  s.station = cfg;
  persist(ctx, c, [&] { return module::save_wifi_station(ctx, s) && module::save_wifi_eap(ctx, s); });
  auto error = co_await w.join(cfg, std::chrono::seconds(a.integer("jeap_timeout")), c.stop);
  if (error == sim::JoinError::None) co_return Result::ok();
  if (error == sim::JoinError::Timeout) {
    c.reply("+CWJEAP:Timeout\r\n");
    co_return eap_error(kEapConnTimeout);
  }
  co_return eap_error(kEapConnFailed);
}

// +CWJEAP:<ssid>,<method>,<identity>,<username>,<password>,<security> of the Enterprise AP the
// station is connected to; ERROR when it is not connected through AT+CWJEAP.
Result cwjeap_query(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const auto& st = w.settings().station;
  if (!w.link() || !st || !st->eap) return Result::error();
  const auto& e = *st->eap;
  c.reply(line(c, fmt::format("{},{},{},{},{},{}", at::quoted(st->ssid), e.method, at::quoted(e.identity),
                              at::quoted(e.username), at::quoted(e.password), st->eap_security)));
  return Result::ok();
}

// ---- AT+MDNS (3.2.25) ------------------------------------------------------------------
Result mdns_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const auto& a = c.args;
  if (a.integer("enable") == 0) {
    w.stop_mdns();
    return Result::ok();
  }
  return w.start_mdns(a.text("hostname"), a.text("service_name"), int(a.integer("port"))) ? Result::ok()
                                                                                        : Result::error();
}

// ---- AT+CWCOUNTRY (3.2.28) -------------------------------------------------------------
Result cwcountry_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const auto start = a.integer(2), count = a.integer(3);
  if (start + count - 1 > 14) return Result::invalid(3);  // channels end at 14
  auto& s = ctx.wifi().settings();
  s.country_policy = int(a.integer(0));
  s.country = a.text(1);
  s.start_channel = int(start);
  s.channel_count = int(count);
  return Result::ok();
}
}  // namespace

std::vector<at::Command> wifi_provision_commands() {
  using namespace need;
  std::vector<at::Command> r;
  r.push_back({.name = "+CWSTARTSMART",
               .set = plain([](Ctx& ctx, Call& c) {
                 const auto& a = c.args;
                 const bool ok = ctx.wifi().start_smartconfig(int(a.integer("type")), int(a.integer("auth floor")),
                                                              a.text("esptouch v2 key"));
                 return ok ? Result::ok() : Result::error();
               }),
               .exec = plain([](Ctx& ctx, Call&) {
                 // Without parameters: ESP-TOUCH+AirKiss (3.2.22).
                 return ctx.wifi().start_smartconfig(3, 0, "") ? Result::ok() : Result::error();
               }),
               .params = {at::Int{"type", 1, 4}, at::Int{"auth floor", 0, 7, true},
                          at::Str{"esptouch v2 key", 16, 16, true}},
               .needs = wifi});

  r.push_back({.name = "+CWSTOPSMART",
               .exec = plain([](Ctx& ctx, Call&) {
                 ctx.wifi().stop_smartconfig();
                 return Result::ok();
               }),
               .needs = wifi});

  r.push_back({.name = "+WPS",
               .set = plain([](Ctx& ctx, Call& c) {
                 auto& w = ctx.wifi();
                 if (c.args.integer("enable") == 0) {
                   w.stop_wps();
                   return Result::ok();
                 }
                 return w.start_wps(int(c.args.integer("auth floor"))) ? Result::ok() : Result::error();
               }),
               .params = {at::Int{"enable", 0, 1}, at::Int{"auth floor", 0, 7, true}},
               .needs = station});  // 3.2.24 notes: station only

  // Enabling needs all three: "The following three parameters need to be set." (3.2.25)
  r.push_back({.name = "+MDNS",
               .set = plain(mdns_set),
               .params = at::Schema::by_first(at::Int{"enable", 0, 1},
                                              {{"0", {}},
                                               {"1", {at::Str{"hostname", 63, 1}, at::Str{"service_name", 63, 1},
                                                      at::Int{"port", 1, 65535}}}}),
               .needs = wifi});

  // The station check of the set form is the handler's: it has an EAP error code of its own.
  r.push_back({.name = "+CWJEAP",
               .query = plain(cwjeap_query),
               .set = coro(cwjeap_set),
               // Everything but the timeout is checked by the handler, which names the EAP error code.
               .params = {at::Str{"ssid", 256, 0, true}, at::Int{"method", INT32_MIN, INT32_MAX, true},
                          at::Str{"identity", 256, 0, true}, at::Str{"username", 256, 0, true},
                          at::Str{"password", 256, 0, true}, at::Int{"security", INT32_MIN, INT32_MAX, true},
                          at::Int{"jeap_timeout", 3, 600, true, 15}},
               .needs = wifi,
               .query_needs = station});

  r.push_back({.name = "+CWHOSTNAME",
               .query = plain([](Ctx& ctx, Call& c) {
                 c.reply(line(c, ctx.wifi().settings().hostname));
                 return Result::ok();
               }),
               .set = plain([](Ctx& ctx, Call& c) {
                 ctx.wifi().settings().hostname = c.args.text(0);  // not saved (3.2.27 note)
                 return Result::ok();
               }),
               .params = {at::Str{"hostname", 32, 1}},
               .needs = wifi,
               .set_needs = station});

  r.push_back({.name = "+CWCOUNTRY",
               .query = plain([](Ctx& ctx, Call& c) {
                 const auto& s = ctx.wifi().settings();
                 c.reply(line(c, fmt::format("{},{},{},{}", s.country_policy, at::quoted(s.country), s.start_channel,
                                             s.channel_count)));
                 return Result::ok();
               }),
               .set = plain(cwcountry_set),
               .params = {at::Int{"country_policy", 0, 1}, at::Str{"country_code", 3, 1},
                          at::Int{"start_channel", 1, 14}, at::Int{"total_channel_count", 1, 14}},
               .needs = wifi});
  return r;
}

}  // namespace espat::commands
