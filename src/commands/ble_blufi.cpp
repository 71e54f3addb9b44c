// Spec 3.4.45-3.4.47 (issue 11, BluFi step): Wi-Fi provisioning by a phone over Bluetooth LE
// (module/ble_blufi.cpp). README "Bluetooth LE" says what the guide leaves open and what was
// chosen.
#include "commands/ble.hpp"
#include "commands/handler.hpp"
#include "module/ble.hpp"

namespace espat::commands {

namespace {

// ---- AT+BLUFI (3.4.45) ------------------------------------------------------------------------
Result blufi_query(Ctx& ctx, Call& c) {
  if (!ctx.ble()) return Result::error();
  c.reply(line(c, ctx.ble()->blufi_on() ? "1" : "0"));
  return Result::ok();
}
Result blufi_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  if (!b) return Result::error();
  // "You can only start or stop BluFi when Bluetooth LE is not initialized" (3.4.45 note).
  if (c.args.integer(0) == 0) return b->blufi_stop() ? Result::ok() : Result::error();
  return b->blufi_start(int(c.args.integer(1, 0))) ? Result::ok() : Result::error();
}

// ---- AT+BLUFINAME (3.4.46) --------------------------------------------------------------------
Result blufiname_query(Ctx& ctx, Call& c) {
  if (!ctx.ble()) return Result::error();
  c.reply(line(c, ctx.ble()->blufi_name));
  return Result::ok();
}
Result blufiname_set(Ctx& ctx, Call& c) {
  if (!ctx.ble()) return Result::error();
  ctx.ble()->blufi_name = c.args.text(0);  // used from the next AT+BLUFI=1 (3.4.46 note)
  // Saved as AT+SYSSTORE says: the firmware's NVS has a BLUFI namespace with blufi_name
  // (reference esp-at-formats.md §7.3, NVM_019).
  ctx.save("BLE", "blufi_name", flash::nvs::Value::str(ctx.ble()->blufi_name));
  return Result::ok();
}

// ---- AT+BLUFISEND (3.4.47) --------------------------------------------------------------------
asio::awaitable<Result> blufisend(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  if (!b || !b->blufi_on() || b->links().empty()) co_return Result::error();  // no phone
  const std::string data = co_await c.read_data(std::size_t(c.args.integer(0)), {}, ">");
  co_return b->blufi_send(data) ? Result::ok() : Result::error();
}

}  // namespace

std::vector<at::Command> ble_blufi_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+BLUFI", .query = plain(blufi_query), .set = plain(blufi_set),
               .params = {at::Int{"option", 0, 1}, at::Int{"auth floor", 0, 7, true, 0}}});
  r.push_back({.name = "+BLUFINAME", .query = plain(blufiname_query), .set = plain(blufiname_set),
               .params = {at::Str{"device_name", 26, 1}}});
  r.push_back({.name = "+BLUFISEND", .set = coro(blufisend), .params = {at::Int{"length", 1, 600}}});
  return r;
}

}  // namespace espat::commands
