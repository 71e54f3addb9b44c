// Spec 3.1.20-3.1.27: AT+RFPOWER, AT+SYSROLLBACK, AT+SYSTIMESTAMP, AT+SYSLOG, AT+SLEEPWKCFG,
// AT+SYSSTORE, AT+SYSREG.
#include "commands/basic.hpp"
#include "commands/handler.hpp"
#include "flash/otadata.hpp"
#include "module/ble.hpp"
#include "module/rf_power.hpp"

namespace espat::commands {

namespace {
Result rfpower_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  // The three BLE values come together, and need Bluetooth LE initialised (3.1.21 note): by
  // AT+BLEINIT, AT+BLEHIDINIT or AT+BLUFI. Scanning and connections take the advertising
  // value ("automatically adjusted to the value of <ble_adv_power>").
  if (a.has(1) || a.has(2) || a.has(3)) {
    if (!(a.has(1) && a.has(2) && a.has(3))) return Result::error(at::ErrCode::para_num(4, unsigned(a.given())));
    auto* b = ctx.ble();
    if (!b || !b->stack_on()) return Result::error();
    auto& s = ctx.state();
    s.ble_adv_power = s.ble_scan_power = s.ble_conn_power = int(a.integer(1));
    b->refresh();  // what scanners hear changes at once
  }
  ctx.state().wifi_power = module::wifi_power_level(int(a.integer(0)));
  return Result::ok();
}

// AT+SYSROLLBACK (3.1.22): boots the other OTA slot, only when it holds an application.
Result rollback(Ctx& ctx, Call& c) {
  auto& image = ctx.image();
  const int other = 1 - flash::boot_slot(image);
  auto slot = image.partition(other ? "ota_1" : "ota_0");
  if (!slot || slot->read(0, 1)[0] != 0xE9) return Result::error();  // no app image there
  flash::set_boot_slot(image, other);
  c.after_result([&ctx] { ctx.restart(); });
  return Result::ok();
}

Result sleepwkcfg(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  // Sources 0 and 1 are "reserved, not supported now" (3.1.25): only GPIO wakes the ESP32.
  if (a.integer(0) != 2) return Result::invalid(0);
  if (a.integer(1) < 0 || a.integer(1) > 39) return Result::invalid(1);
  if (!a.has(2)) return Result::error(at::ErrCode::para_num(3, unsigned(a.given())));
  ctx.state().wake_gpio = std::pair{int(a.integer(1)), int(a.integer(2))};
  return Result::ok();
}

Result sysreg(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const auto addr = std::uint32_t(a.integer(1));
  auto& regs = ctx.state().registers;
  if (a.integer(0) == 0) {
    if (a.has(2)) return Result::error(at::ErrCode::para_num(2, unsigned(a.given())));
    auto it = regs.find(addr);
    c.reply(line(c, fmt::format("0x{:x}", it == regs.end() ? 0u : it->second)));
    return Result::ok();
  }
  if (!a.has(2)) return Result::error(at::ErrCode::para_num(3, unsigned(a.given())));
  regs[addr] = std::uint32_t(a.integer(2));
  return Result::ok();
}

template <class Get, class Set>
at::Command flag(const char* name, const char* param, Get get, Set set) {
  return {.name = name,
          .query = plain([get](Ctx& ctx, Call& c) {
            c.reply(line(c, std::to_string(get(ctx))));
            return Result::ok();
          }),
          .set = plain([set](Ctx& ctx, Call& c) {
            set(ctx, int(c.args.integer(0)));
            return Result::ok();
          }),
          .params = {at::Int{param, 0, 1}}};
}
}  // namespace

std::vector<at::Command> misc_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+RFPOWER",
         .query = plain([](Ctx& ctx, Call& c) {
           const auto& s = ctx.state();
           c.reply(line(c, fmt::format("{},{},{},{}", s.wifi_power, s.ble_adv_power, s.ble_scan_power, s.ble_conn_power)));
           return Result::ok();
         }),
         .set = plain(rfpower_set),
         .params = {at::Int{"wifi_power", 40, 84}, at::Int{"ble_adv_power", 0, 7, true},
                    at::Int{"ble_scan_power", 0, 7, true}, at::Int{"ble_conn_power", 0, 7, true}}});

  r.push_back({.name = "+SYSROLLBACK", .exec = plain(rollback)});

  r.push_back({.name = "+SYSTIMESTAMP",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(line(c, std::to_string(ctx.now())));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) {
           ctx.set_now(c.args.integer(0));
           return Result::ok();
         }),
         .params = {at::Int{"Unix_timestamp", 0, UINT32_MAX}}});

  r.push_back(flag("+SYSLOG", "status", [](Ctx& ctx) { return int(ctx.engine().syslog()); },
                   [](Ctx& ctx, int v) { ctx.engine().set_syslog(v == 1); }));

  r.push_back({.name = "+SLEEPWKCFG", .set = plain(sleepwkcfg),
         .params = {at::Int{"wakeup source", 0, 2}, at::Int{"param1", INT32_MIN, INT32_MAX}, at::Int{"param2", 0, 1, true}}});

  r.push_back(flag("+SYSSTORE", "store_mode", [](Ctx& ctx) { return ctx.state().sysstore; },
                   [](Ctx& ctx, int v) { ctx.state().sysstore = v; }));

  r.push_back({.name = "+SYSREG", .set = plain(sysreg),
         .params = {at::Int{"direct", 0, 1}, at::Int{"address", 0, UINT32_MAX}, at::Int{"write value", 0, UINT32_MAX, true}}});
  return r;
}

}  // namespace espat::commands
