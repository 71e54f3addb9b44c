// Spec 3.1.13-3.1.14: AT+SLEEP, AT+SYSRAM.
#include "commands/basic.hpp"
#include "commands/ble.hpp"
#include "commands/handler.hpp"

namespace espat::commands {

std::vector<at::Command> power_commands() {
  std::vector<at::Command> r;
  // AT+SLEEP (3.1.13). Light-sleep (2) without a wake source set by AT+SLEEPWKCFG never wakes
  // up again (3.1.13 note): the module stops answering until it is reset.
  r.push_back({.name = "+SLEEP",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(line(c, std::to_string(ctx.state().sleep_mode)));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) {
           // Sleep cannot be turned off while Bluetooth LE is initialised (protocol-rules §10).
           if (c.args.integer(0) == 0 && ble_initialized(ctx)) return Result::error();
           ctx.state().sleep_mode = int(c.args.integer(0));
           if (ctx.state().sleep_mode == 2) c.after_result([&ctx] { ctx.light_sleep(); });
           return Result::ok();
         }),
         .params = {at::Int{"sleep mode", 0, 3}}});

  r.push_back({.name = "+SYSRAM", .query = plain([](Ctx& ctx, Call& c) {
           auto [free, min] = ctx.heap();
           c.reply(line(c, fmt::format("{},{}", free, min)));
           return Result::ok();
         })});
  return r;
}

}  // namespace espat::commands
