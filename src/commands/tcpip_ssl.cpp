// Spec 3.3.26-3.3.31: the SSL client settings of each link (auth mode and PKI/CA indexes,
// common name, SNI, ALPN, PSK), used by the next AT+CIPSTART="SSL" on that link id.
#include "commands/handler.hpp"
#include "commands/tcpip.hpp"
#include "module/net.hpp"
#include "module/net_settings.hpp"

namespace espat::commands {

namespace {
using module::SslClientConfig;

// The link ids a query lists: every one with multiple connections, else link 0.
int listed(Ctx& ctx) { return ctx.net().settings().mux ? ctx.net().links() : 1; }

// Applies f to the link id typed (the "all" id: every link), or link 0 without AT+CIPMUX=1.
template <class F>
void each(Ctx& ctx, const Call& c, F f) {
  auto& ssl = ctx.net().settings().ssl;
  const int id = c.args.link().value_or(0), n = ctx.net().links();
  for (int i = 0; i < n; ++i)
    if (id == n || id == i) f(ssl[std::size_t(i)]);
}

template <class F>
Result query(Ctx& ctx, Call& c, F value) {
  std::string out;
  for (int i = 0; i < listed(ctx); ++i) out += line(c, fmt::format("{},{}", i, value(ctx.net().settings().ssl[std::size_t(i)])));
  c.reply(out);
  return Result::ok();
}

std::string hex(std::string_view bytes) {
  std::string s;
  for (unsigned char b : bytes) s += fmt::format("{:02x}", b);
  return s;
}
std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int v = 0;
    for (char ch : text.substr(i, 2)) {
      int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out += char(v);
  }
  return out;
}

// ---- AT+CIPSSLCCONF (3.3.26): saved in NVS ----------------------------------------------------
Result cipsslcconf_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  each(ctx, c, [&](SslClientConfig& s) {
    s.auth = int(a.integer(0));
    s.pki = int(a.integer(1));
    s.ca = int(a.integer(2));
  });
  persist(ctx, c, [&] { return module::save_ssl_conf(ctx, ctx.net().settings()); });
  return Result::ok();
}

Result cipsslccn_set(Ctx& ctx, Call& c) {
  each(ctx, c, [&](SslClientConfig& s) { s.common_name = c.args.text(0); });
  return Result::ok();
}
Result cipsslcsni_set(Ctx& ctx, Call& c) {
  each(ctx, c, [&](SslClientConfig& s) { s.sni = c.args.text(0); });
  return Result::ok();
}

// AT+CIPSSLCALPN=[<link ID>,]<counts>[,"<alpn>"]...: exactly <counts> names; 0 clears.
Result cipsslcalpn_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const auto counts = std::size_t(a.integer(0));
  std::vector<std::string> alpn;
  for (std::size_t i = 1; i <= 5; ++i)
    if (a.has(i)) alpn.push_back(a.text(i));
  if (alpn.size() != counts) return Result::invalid(0);
  each(ctx, c, [&](SslClientConfig& s) { s.alpn = alpn; });
  return Result::ok();
}

Result cipsslcpsk_set(Ctx& ctx, Call& c, bool in_hex) {
  std::string psk = c.args.text(0);
  if (in_hex) {
    auto raw = unhex(psk);
    if (!raw || raw->size() > 32) return Result::invalid(0);
    psk = *raw;
  }
  each(ctx, c, [&](SslClientConfig& s) {
    s.psk = psk;
    s.hint = c.args.text(1);
  });
  return Result::ok();
}

at::Schema with_link(at::Schema s) { return s.with_link_id(at::LinkId::PrefixOrAll); }
}  // namespace

std::vector<at::Command> tcpip_ssl_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPSSLCCONF",
               .query = plain([](Ctx& ctx, Call& c) {
                 return query(ctx, c, [](const SslClientConfig& s) { return fmt::format("{},{},{}", s.auth, s.pki, s.ca); });
               }),
               .set = plain(cipsslcconf_set),
               .params = with_link({at::Int{"auth_mode", 0, 3}, at::Int{"pki_number", 0, 255, true, 0},
                                    at::Int{"ca_number", 0, 255, true, 0}})});
  r.push_back({.name = "+CIPSSLCCN",
               .query = plain([](Ctx& ctx, Call& c) {
                 return query(ctx, c, [](const SslClientConfig& s) { return at::quoted(s.common_name); });
               }),
               .set = plain(cipsslccn_set), .params = with_link({at::Str{"common name", 64, 0}})});
  r.push_back({.name = "+CIPSSLCSNI",
               .query = plain([](Ctx& ctx, Call& c) {
                 return query(ctx, c, [](const SslClientConfig& s) { return at::quoted(s.sni); });
               }),
               .set = plain(cipsslcsni_set), .params = with_link({at::Str{"sni", 64, 0}})});
  r.push_back({.name = "+CIPSSLCALPN",
               .query = plain([](Ctx& ctx, Call& c) {
                 std::string out;
                 for (int i = 0; i < listed(ctx); ++i) {
                   std::string v = std::to_string(i);
                   for (const auto& p : ctx.net().settings().ssl[std::size_t(i)].alpn) v += "," + at::quoted(p);
                   out += line(c, v);
                 }
                 c.reply(out);
                 return Result::ok();
               }),
               .set = plain(cipsslcalpn_set),
               .params = with_link({at::Int{"counts", 0, 5}, at::Str{"alpn", 128, 1, true}, at::Str{"alpn", 128, 1, true},
                                    at::Str{"alpn", 128, 1, true}, at::Str{"alpn", 128, 1, true}, at::Str{"alpn", 128, 1, true}})});
  r.push_back({.name = "+CIPSSLCPSK",
               .query = plain([](Ctx& ctx, Call& c) {
                 return query(ctx, c, [](const SslClientConfig& s) { return at::quoted(s.psk) + "," + at::quoted(s.hint); });
               }),
               .set = plain([](Ctx& ctx, Call& c) { return cipsslcpsk_set(ctx, c, false); }),
               .params = with_link({at::Str{"psk", 32, 0}, at::Str{"hint", 32, 0}})});
  r.push_back({.name = "+CIPSSLCPSKHEX",
               .query = plain([](Ctx& ctx, Call& c) {
                 return query(ctx, c, [](const SslClientConfig& s) { return at::quoted(hex(s.psk)) + "," + at::quoted(s.hint); });
               }),
               .set = plain([](Ctx& ctx, Call& c) { return cipsslcpsk_set(ctx, c, true); }),
               .params = with_link({at::Str{"psk", 64, 0}, at::Str{"hint", 32, 0}})});
  return r;
}

}  // namespace espat::commands
