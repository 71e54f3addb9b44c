#include "module/net_settings.hpp"

#include <fmt/format.h>

#include "module/context.hpp"

namespace espat::module {

using flash::nvs::Storage;
using flash::nvs::Type;
using flash::nvs::Value;

namespace {
std::optional<std::int64_t> get_int(const Storage& nvs, std::string_view ns, const std::string& key) {
  auto v = nvs.get(ns, key);
  if (!v || v->type == Type::Str || v->type == Type::Blob) return std::nullopt;
  return v->integer;
}
std::optional<std::string> get_str(const Storage& nvs, std::string_view ns, const std::string& key) {
  auto v = nvs.get(ns, key);
  if (!v || v->type != Type::Str) return std::nullopt;
  return v->as_string();
}
constexpr int kDnsServers = 3;
}  // namespace

void load_net(const Storage& nvs, NetSettings& s) {
  if (auto v = get_int(nvs, "NVM_021", "ip6e")) s.ipv6 = *v != 0;
  if (auto v = get_int(nvs, "NVM_018", "interval"); v && *v >= 1 && *v <= 36000) s.reconn_interval = int(*v);
  for (std::size_t i = 0; i < s.tcp.size(); ++i) {
    auto& o = s.tcp[i];
    if (auto v = get_int(nvs, "NVM_020", fmt::format("lin{}", i))) o.linger = int(*v);
    if (auto v = get_int(nvs, "NVM_020", fmt::format("nod{}", i))) o.nodelay = int(*v);
    if (auto v = get_int(nvs, "NVM_020", fmt::format("sto{}", i))) o.sndtimeo_ms = int(*v);
    if (auto v = get_int(nvs, "NVM_020", fmt::format("kpa{}", i))) o.keep_alive = int(*v);
  }
  for (std::size_t i = 0; i < s.ssl.size(); ++i) {
    auto& c = s.ssl[i];
    if (auto v = get_int(nvs, "NVM_009", fmt::format("auth{}", i))) c.auth = int(*v);
    if (auto v = get_int(nvs, "NVM_009", fmt::format("pkiid{}", i))) c.pki = int(*v);
    if (auto v = get_int(nvs, "NVM_009", fmt::format("caid{}", i))) c.ca = int(*v);
  }
  if (auto v = get_int(nvs, "NVM_008", "enable")) {
    s.dns_manual = *v != 0;
    s.dns.clear();
    for (int i = 0; i < kDnsServers; ++i)
      if (auto d = get_str(nvs, "NVM_008", fmt::format("dns_svr{}", i)); d && !d->empty()) s.dns.push_back(*d);
  }
}

bool save_dns(Context& ctx, const NetSettings& s) {
  bool ok = ctx.save("NVM_008", "enable", Value::u8(s.dns_manual ? 1 : 0));
  for (int i = 0; i < kDnsServers; ++i)
    ok = ok && ctx.save("NVM_008", fmt::format("dns_svr{}", i), Value::str(std::size_t(i) < s.dns.size() ? s.dns[std::size_t(i)] : ""));
  return ok;
}

bool save_ssl_conf(Context& ctx, const NetSettings& s) {
  bool ok = ctx.save("NVM_009", "maxlink", Value::u8(std::uint8_t(s.ssl.size())));
  for (std::size_t i = 0; i < s.ssl.size() && ok; ++i)
    ok = ctx.save("NVM_009", fmt::format("auth{}", i), Value::u8(std::uint8_t(s.ssl[i].auth))) &&
         ctx.save("NVM_009", fmt::format("pkiid{}", i), Value::i32(s.ssl[i].pki)) &&
         ctx.save("NVM_009", fmt::format("caid{}", i), Value::i32(s.ssl[i].ca));
  return ok;
}

bool save_reconn_interval(Context& ctx, const NetSettings& s) {
  return ctx.save("NVM_018", "interval", Value::u16(std::uint16_t(s.reconn_interval)));
}

bool save_tcp_options(Context& ctx, const NetSettings& s) {
  bool ok = true;
  for (std::size_t i = 0; i < s.tcp.size() && ok; ++i)
    ok = ctx.save("NVM_020", fmt::format("lin{}", i), Value::i32(s.tcp[i].linger)) &&
         ctx.save("NVM_020", fmt::format("nod{}", i), Value::i32(s.tcp[i].nodelay)) &&
         ctx.save("NVM_020", fmt::format("sto{}", i), Value::i32(s.tcp[i].sndtimeo_ms)) &&
         ctx.save("NVM_020", fmt::format("kpa{}", i), Value::i32(s.tcp[i].keep_alive));
  return ok;
}

bool save_ipv6(Context& ctx, const NetSettings& s) { return ctx.save("NVM_021", "ip6e", Value::u8(s.ipv6 ? 1 : 0)); }

}  // namespace espat::module
