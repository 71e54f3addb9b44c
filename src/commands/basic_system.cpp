// Spec 3.1.2-3.1.8: AT, AT+RST, AT+GMR, AT+CMD, AT+GSLP, ATE, AT+RESTORE.
#include "commands/basic.hpp"
#include "commands/catalog.hpp"
#include "commands/handler.hpp"

#ifndef ESPAT_GIT_HASH
#define ESPAT_GIT_HASH "0000000"
#endif

namespace espat::commands {

namespace {
// AT+GMR (reference §9.1): the four-line format of an ESP32 running the ESP-AT v4.1.1.0 core,
// the layout espat implements. The compile line names espat's own commit and build time.
std::string gmr(const Ctx& ctx) {
  return fmt::format(
      "AT version:4.1.1.0(s-ba4dd0e - ESP32 - Jul 31 2025 08:39:40)\r\n"
      "SDK version:v5.4.1-espat\r\n"
      "compile time({}):{} {}\r\n"
      "Bin version:v4.1.1.0({})\r\n",
      ESPAT_GIT_HASH, __DATE__, __TIME__, ctx.factory().module_name);
}
}  // namespace

void register_system(at::Registry& r, Ctx& ctx) {
  r.add({.name = "", .section = "3.1.2", .exec = now([](Call&) { return Result::ok(); })});

  r.add({.name = "+RST", .section = "3.1.3", .exec = now([&ctx](Call& c) {
           c.after_result([&ctx] { ctx.restart(); });  // OK first, then the reboot (§3.1.3)
           return Result::ok();
         })});

  r.add({.name = "+GMR", .section = "3.1.4", .exec = now([&ctx](Call& c) {
           c.reply(gmr(ctx));
           return Result::ok();
         })});

  r.add({.name = "+CMD", .section = "3.1.5", .query = now([&ctx](Call& c) {
           c.reply(cmd_list(ctx.engine().registry()));
           return Result::ok();
         })});

  // AT+GSLP=<time>: prints the time, OK, then sleeps deaf; timer wake is a boot (§3.1.6, §4.10.8).
  r.add({.name = "+GSLP", .section = "3.1.6",
         .set = now([&ctx](Call& c) {
           auto ms = c.args.integer(0);
           c.reply(fmt::format("{}\r\n", ms));
           c.after_result([&ctx, ms] {
             if (ms == 0) ctx.restart();
             else ctx.deep_sleep(std::chrono::milliseconds(ms));
           });
           return Result::ok();
         }),
         .params = {at::Int{"time", 0, INT32_MAX}}});

  // ATE0 / ATE1 (§3.1.7): the echo of ATE0 itself is still printed.
  r.add({.name = "E0", .section = "3.1.7", .exec = now([&ctx](Call&) {
           ctx.engine().set_echo(false);
           return Result::ok();
         })});
  r.add({.name = "E1", .section = "3.1.7", .exec = now([&ctx](Call&) {
           ctx.engine().set_echo(true);
           return Result::ok();
         })});

  r.add({.name = "+RESTORE", .section = "3.1.8", .exec = now([&ctx](Call& c) {
           c.after_result([&ctx] { ctx.restore(); });
           return Result::ok();
         })});
}

}  // namespace espat::commands
