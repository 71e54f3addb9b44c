// Spec 3.4.41-3.4.44 (issue 11, HID step): the module as a Bluetooth LE keyboard, mouse and
// consumer control (module/ble_hid.cpp). README "Bluetooth LE" says what the guide leaves open
// and what was chosen.
#include "commands/ble.hpp"
#include "commands/handler.hpp"
#include "module/ble.hpp"

namespace espat::commands {

namespace {

// ---- AT+BLEHIDINIT (3.4.41) -------------------------------------------------------------------
Result hidinit_query(Ctx& ctx, Call& c) {
  if (!ctx.ble()) return Result::error();
  c.reply(line(c, ctx.ble()->hid_on() ? "1" : "0"));
  return Result::ok();
}
Result hidinit_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  if (!b) return Result::error();
  if (c.args.integer(0) == 0) {
    b->hid_deinit();
    return Result::ok();
  }
  // "cannot be used at the same time with general GATT/GAP commands" (3.4.41 note): not after
  // AT+BLEINIT=1 or 2, nor with BluFi on.
  return b->hid_init() ? Result::ok() : Result::error();
}

// Each report takes a connection event; a key or a consumer usage is pressed, then released
// (esp-at issue #601: one AT+BLEHIDKB types one character).
asio::awaitable<Result> send_reports(Ctx& ctx, Call& c, int report_id, std::string pressed, bool release) {
  auto* b = ctx.ble();
  const int index = b ? b->hid_host() : -1;
  if (index < 0) co_return Result::error();  // no host paired
  co_await b->air_time(index, c.stop);
  if (!b->hid_send(report_id, pressed)) co_return Result::error();
  if (release) {
    co_await b->air_time(index, c.stop);
    if (!b->hid_send(report_id, std::string(pressed.size(), '\0'))) co_return Result::error();
  }
  co_return Result::ok();
}

// ---- AT+BLEHIDKB (3.4.42): <Modifier_keys>,<key_1>..<key_6> ----------------------------------------
asio::awaitable<Result> hidkb(Ctx& ctx, Call& c) {
  std::string report(8, '\0');
  report[0] = char(c.args.integer(0));
  for (int k = 1; k <= 6; ++k) report[std::size_t(k) + 1] = char(c.args.integer(std::size_t(k)));
  co_return co_await send_reports(ctx, c, 2, std::move(report), true);
}

// ---- AT+BLEHIDMUS (3.4.43): <buttons>,<X_displacement>,<Y_displacement>,<wheel> ---------------------
asio::awaitable<Result> hidmus(Ctx& ctx, Call& c) {
  std::string report(4, '\0');
  for (std::size_t k = 0; k < 4; ++k) report[k] = char(c.args.integer(k));  // X, Y, wheel in two's complement
  co_return co_await send_reports(ctx, c, 1, std::move(report), false);
}

// ---- AT+BLEHIDCONSUMER (3.4.44): <consumer_usage_id> ------------------------------------------------
asio::awaitable<Result> hidconsumer(Ctx& ctx, Call& c) {
  const auto usage = std::uint16_t(c.args.integer(0));
  std::string report{char(usage & 0xff), char(usage >> 8)};
  co_return co_await send_reports(ctx, c, 3, std::move(report), true);
}

}  // namespace

std::vector<at::Command> ble_hid_commands() {
  const at::Int key_code{"key", 0, 255}, displacement{"displacement", -127, 127};
  std::vector<at::Command> r;
  r.push_back({.name = "+BLEHIDINIT", .query = plain(hidinit_query), .set = plain(hidinit_set),
               .params = {at::Int{"init", 0, 1}}});
  r.push_back({.name = "+BLEHIDKB", .set = coro(hidkb),
               .params = {at::Int{"Modifier_keys", 0, 255}, key_code, key_code, key_code, key_code, key_code, key_code}});
  r.push_back({.name = "+BLEHIDMUS", .set = coro(hidmus),
               .params = {at::Int{"buttons", 0, 255}, displacement, displacement, at::Int{"wheel", -127, 127}}});
  r.push_back({.name = "+BLEHIDCONSUMER", .set = coro(hidconsumer), .params = {at::Int{"consumer_usage_id", 0, 0xffff}}});
  return r;
}

}  // namespace espat::commands
