// The certificates, keys and CAs the SSL links use, read from the mfg_nvs partition as the
// firmware reads them (reference esp-at-formats.md §4.2; spec 6.8): namespace <ns>, key
// "<ns>.<i>" when the namespace holds several, "<ns>" when it holds one.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "module/net.hpp"
#include "net/tls.hpp"

namespace espat::module {

class Context;

std::optional<std::string> pki_item(Context& ctx, std::string_view ns, int index);

// The client side of link `id` (AT+CIPSSLCCONF/CCN/CSNI/CALPN/CPSK). nullopt after printing
// the firmware's "NO CERT FOUND", "NO PRVT_KEY FOUND" or "NO CA FOUND" for what is missing.
std::optional<net::TlsClientOptions> ssl_client_options(Context& ctx, const SslClientConfig& cfg, const std::string& host);
// The module's SSL server (AT+CIPSERVER=1,<port>,"SSL",<CA enable>): server_cert, server_key,
// and server_ca to check clients with when CA is enabled.
std::optional<net::TlsServerOptions> ssl_server_options(Context& ctx, bool check_clients);

}  // namespace espat::module
