#include "module/pki.hpp"

#include <asio/ip/address.hpp>
#include <fmt/format.h>

#include "module/context.hpp"

namespace espat::module {

std::optional<std::string> pki_item(Context& ctx, std::string_view ns, int index) {
  auto* mfg = ctx.mfg_nvs();
  if (!mfg) return std::nullopt;
  auto v = mfg->get(ns, fmt::format("{}.{}", ns, index));
  if (!v && index == 0) v = mfg->get(ns, ns);
  if (!v) return std::nullopt;
  return v->as_string();
}

std::optional<net::TlsClientOptions> ssl_client_options(Context& ctx, const SslClientConfig& cfg, const std::string& host) {
  net::TlsClientOptions o;
  auto& e = ctx.engine();
  if (cfg.auth == 1 || cfg.auth == 3) {  // 3.3.26: the client presents its certificate
    auto cert = pki_item(ctx, "client_cert", cfg.pki);
    if (!cert) return e.report("NO CERT FOUND\r\n"), std::nullopt;
    auto key = pki_item(ctx, "client_key", cfg.pki);
    if (!key) return e.report("NO PRVT_KEY FOUND\r\n"), std::nullopt;
    o.cert_pem = *cert;
    o.key_pem = *key;
  }
  if (cfg.auth == 2 || cfg.auth == 3) {  // 3.3.26: the server's certificate is checked
    auto ca = pki_item(ctx, "client_ca", cfg.ca);
    if (!ca) return e.report("NO CA FOUND\r\n"), std::nullopt;
    o.ca_pem = *ca;
    o.verify_server = true;
    o.common_name = cfg.common_name;  // 3.3.27: checked only when set
  }
  // 3.3.28: the configured SNI, else the host name typed in AT+CIPSTART (not an address).
  std::error_code ec;
  asio::ip::make_address(host, ec);
  o.sni = !cfg.sni.empty() ? cfg.sni : ec ? host : std::string();
  o.alpn = cfg.alpn;
  o.psk_key = cfg.psk;
  o.psk_identity = cfg.hint;
  return o;
}

std::optional<net::TlsServerOptions> ssl_server_options(Context& ctx, bool check_clients) {
  net::TlsServerOptions o;
  auto& e = ctx.engine();
  auto cert = pki_item(ctx, "server_cert", 0);
  if (!cert) return e.report("NO CERT FOUND\r\n"), std::nullopt;
  auto key = pki_item(ctx, "server_key", 0);
  if (!key) return e.report("NO PRVT_KEY FOUND\r\n"), std::nullopt;
  o.cert_pem = *cert;
  o.key_pem = *key;
  if (check_clients) {
    auto ca = pki_item(ctx, "server_ca", 0);
    if (!ca) return e.report("NO CA FOUND\r\n"), std::nullopt;
    o.ca_pem = *ca;
    o.verify_client = true;
  }
  return o;
}

}  // namespace espat::module
