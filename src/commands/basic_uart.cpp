// Spec 3.1.9-3.1.12: AT+SAVETRANSLINK, AT+TRANSINTVL, AT+UART_CUR, AT+UART_DEF (and AT+UART,
// which the firmware also registers: its query is _CUR's, its set is _DEF's; reference §9.5).
#include "commands/basic.hpp"
#include "commands/handler.hpp"
#include "module/settings.hpp"

namespace espat::commands {

namespace {
using transport::LineConfig;

// What the ESP32 UART really runs at: the divider is (80 MHz << 4) / baud, truncated, and the
// rate read back is (80 MHz << 4) / divider (spec 3.1.11: "minor differences").
std::uint32_t esp32_actual_baud(std::uint32_t baud) {
  const std::uint64_t sclk16 = 80'000'000ull << 4;
  const std::uint64_t div = sclk16 / baud;
  return std::uint32_t(sclk16 / div);
}

std::string uart_line(const Call& c, const LineConfig& l, bool actual) {
  return line(c, fmt::format("{},{},{},{},{}", actual ? esp32_actual_baud(l.baud) : l.baud, l.databits, l.stopbits,
                             l.parity, l.flow));
}

LineConfig uart_args(const at::Args& a) {
  return {std::uint32_t(a.integer(0)), int(a.integer(1)), int(a.integer(2)), int(a.integer(3)), int(a.integer(4))};
}

const std::vector<at::ParamSpec> kUartParams = {
    at::Int{"baudrate", 80, 5'000'000}, at::Int{"databits", 5, 8}, at::Int{"stopbits", 1, 3},
    at::Int{"parity", 0, 2}, at::Int{"flow control", 0, 3}};

Result set_uart(Ctx& ctx, Call& c, bool save) {
  LineConfig cfg = uart_args(c.args);
  if (save) {
    if (!module::save_uart_def(ctx, cfg)) return Result::error();
    ctx.state().uart_def = cfg;
  }
  ctx.state().uart_cur = cfg;
  c.after_result([&ctx, cfg] { ctx.set_uart(cfg); });  // OK leaves at the old rate
  return Result::ok();
}

// AT+SAVETRANSLINK (3.1.9): three shapes selected by <mode>; always saved, acted on at boot.
Result savetranslink(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  module::TransLink t;
  t.mode = int(a.integer(0));
  if (t.mode == 0) {
    // "0: will NOT enter passthrough on power-up": the link parameters may follow; unused.
  } else if (t.mode == 1) {
    if (!a.is_string(1) || a.text(1).empty() || a.text(1).size() > 64) return Result::invalid(1);
    if (!a.has(2) || a.is_string(2) || a.integer(2) < 1 || a.integer(2) > 65535) return Result::invalid(2);
    t.host = a.text(1);
    t.port = int(a.integer(2));
    if (a.has(3)) {
      if (!a.is_string(3)) return Result::invalid(3);
      t.type = a.text(3);
    }
    const bool udp = t.type == "UDP" || t.type == "UDPv6";
    if (!udp && t.type != "TCP" && t.type != "TCPv6" && t.type != "SSL" && t.type != "SSLv6") return Result::invalid(3);
    if (a.has(4)) {
      if (udp && (a.integer(4) < 1 || a.integer(4) > 65535)) return Result::invalid(4);
      if (!udp && (a.integer(4) < 0 || a.integer(4) > 7200)) return Result::invalid(4);
      (udp ? t.local_port : t.keep_alive) = int(a.integer(4));
    }
    if (a.given() > 5) return Result::error(at::ErrCode::para_num(5, unsigned(a.given())));
  } else {  // 2: BLE passthrough
    if (a.given() != 7) return Result::error(at::ErrCode::para_num(7, unsigned(a.given())));
    if (a.is_string(1) || (a.integer(1) != 1 && a.integer(1) != 2)) return Result::invalid(1);
    for (unsigned i = 2; i <= 5; ++i)
      if (!a.has(i) || a.integer(i) < 1 || a.integer(i) > 255) return Result::invalid(i);
    if (!a.is_string(6) || !module::valid_mac_text(a.text(6))) return Result::invalid(6);
    t.role = int(a.integer(1));
    t.tx_srv = int(a.integer(2)), t.tx_char = int(a.integer(3));
    t.rx_srv = int(a.integer(4)), t.rx_char = int(a.integer(5));
    t.peer_addr = a.text(6);
  }
  if (!module::save_translink(ctx, t)) return Result::error();
  ctx.state().translink = t;
  return Result::ok();
}
}  // namespace

std::vector<at::Command> uart_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+SAVETRANSLINK",
         .set = plain(savetranslink),
         .params = {at::Int{"mode", 0, 2}, at::Any{"remote host|role", true}, at::Int{"remote port|tx_srv", 0, 65535, true},
                    at::Any{"type|tx_char", true}, at::Int{"keep_alive|local port|rx_srv", 0, 65535, true},
                    at::Int{"rx_char", 0, 255, true}, at::Str{"peer_addr", 17, 0, true}}});

  r.push_back({.name = "+TRANSINTVL",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(line(c, std::to_string(ctx.state().transintvl_ms)));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) {
           ctx.state().transintvl_ms = int(c.args.integer(0));
           return Result::ok();
         }),
         .params = {at::Int{"interval", 0, 1000}}});

  r.push_back({.name = "+UART_CUR",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(uart_line(c, ctx.state().uart_cur, true));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) { return set_uart(ctx, c, false); }),
         .params = kUartParams});

  r.push_back({.name = "+UART_DEF",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(uart_line(c, ctx.state().uart_def, false));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) { return set_uart(ctx, c, true); }),
         .params = kUartParams});

  r.push_back({.name = "+UART",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(uart_line(c, ctx.state().uart_cur, true));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) { return set_uart(ctx, c, true); }),
         .params = kUartParams});
  return r;
}

}  // namespace espat::commands
