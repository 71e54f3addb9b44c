#include "module/settings.hpp"

#include <cctype>

namespace espat::module {

using flash::nvs::Type;
using flash::nvs::Value;

namespace {
std::optional<std::int64_t> get_int(const flash::nvs::Storage& nvs, std::string_view ns, std::string_view key) {
  auto v = nvs.get(ns, key);
  if (!v || v->type == Type::Str || v->type == Type::Blob) return std::nullopt;
  return v->integer;
}

std::string get_str(const flash::nvs::Storage& nvs, std::string_view ns, std::string_view key) {
  auto v = nvs.get(ns, key);
  return v && v->type == Type::Str ? v->as_string() : std::string();
}

// ESP-IDF's uart_parity_t: 0 none, 2 even, 3 odd; AT's parity: 0 none, 1 odd, 2 even.
int idf_parity(int at) { return at == 1 ? 3 : at == 2 ? 2 : 0; }
int at_parity(int idf) { return idf == 3 ? 1 : idf == 2 ? 2 : 0; }
}  // namespace

bool save_uart_def(Context& ctx, const transport::LineConfig& c) {
  return ctx.save("UART", "rate", Value::i32(std::int32_t(c.baud)), true) &&
         ctx.save("UART", "databits", Value::i8(std::int8_t(c.databits - 5)), true) &&  // UART_DATA_5_BITS = 0
         ctx.save("UART", "stopbits", Value::i8(std::int8_t(c.stopbits)), true) &&
         ctx.save("UART", "parity", Value::i8(std::int8_t(idf_parity(c.parity))), true) &&
         ctx.save("UART", "flow_ctrl", Value::i8(std::int8_t(c.flow)), true);
}

std::optional<transport::LineConfig> load_uart_def(const flash::nvs::Storage& nvs) {
  auto rate = get_int(nvs, "UART", "rate"), data = get_int(nvs, "UART", "databits"),
       stop = get_int(nvs, "UART", "stopbits"), parity = get_int(nvs, "UART", "parity"),
       flow = get_int(nvs, "UART", "flow_ctrl");
  if (!rate || !data || !stop || !parity || !flow) return std::nullopt;
  // Range-checked on load, as the firmware does (§7.2).
  if (*rate < 80 || *rate > 5'000'000 || *data < 0 || *data > 3 || *stop < 1 || *stop > 3 || *parity < 0 ||
      *parity > 3 || *parity == 1 || *flow < 0 || *flow > 3)
    return std::nullopt;
  return transport::LineConfig{std::uint32_t(*rate), int(*data) + 5, int(*stop), at_parity(int(*parity)), int(*flow)};
}

bool save_translink(Context& ctx, const TransLink& t) {
  constexpr std::string_view ns = "NVM_005";
  return ctx.save(ns, "mode", Value::u8(std::uint8_t(t.mode)), true) &&
         ctx.save(ns, "type", Value::str(t.type), true) && ctx.save(ns, "r_ip", Value::str(t.host), true) &&
         ctx.save(ns, "r_port", Value::u16(std::uint16_t(t.port)), true) &&
         ctx.save(ns, "l_port", Value::u16(std::uint16_t(t.local_port)), true) &&
         ctx.save(ns, "keep_alive", Value::u16(std::uint16_t(t.keep_alive)), true) &&
         ctx.save(ns, "ble_role", Value::u8(std::uint8_t(t.role)), true) &&
         ctx.save(ns, "tx_srv", Value::u8(std::uint8_t(t.tx_srv)), true) &&
         ctx.save(ns, "tx_char", Value::u8(std::uint8_t(t.tx_char)), true) &&
         ctx.save(ns, "rx_srv", Value::u8(std::uint8_t(t.rx_srv)), true) &&
         ctx.save(ns, "rx_char", Value::u8(std::uint8_t(t.rx_char)), true) &&
         ctx.save(ns, "remote_addr", Value::str(t.peer_addr), true);
}

TransLink load_translink(const flash::nvs::Storage& nvs) {
  constexpr std::string_view ns = "NVM_005";
  TransLink t;
  t.mode = int(get_int(nvs, ns, "mode").value_or(0));
  t.type = get_str(nvs, ns, "type");
  if (t.type.empty()) t.type = "TCP";
  t.host = get_str(nvs, ns, "r_ip");
  t.port = int(get_int(nvs, ns, "r_port").value_or(0));
  t.local_port = int(get_int(nvs, ns, "l_port").value_or(0));
  t.keep_alive = int(get_int(nvs, ns, "keep_alive").value_or(0));
  t.role = int(get_int(nvs, ns, "ble_role").value_or(0));
  t.tx_srv = int(get_int(nvs, ns, "tx_srv").value_or(0));
  t.tx_char = int(get_int(nvs, ns, "tx_char").value_or(0));
  t.rx_srv = int(get_int(nvs, ns, "rx_srv").value_or(0));
  t.rx_char = int(get_int(nvs, ns, "rx_char").value_or(0));
  t.peer_addr = get_str(nvs, ns, "remote_addr");
  return t;
}

bool save_sysmsg(Context& ctx, int value) { return ctx.save("NVM_012", "s_msg", Value::u8(std::uint8_t(value))); }

int load_sysmsg(const flash::nvs::Storage& nvs) { return int(get_int(nvs, "NVM_012", "s_msg").value_or(0)); }

bool valid_mac_text(std::string_view s) {
  if (s.size() != 17) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2 ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace espat::module
