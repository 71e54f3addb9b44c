// TLS over an already connected TCP socket: the module's SSL links as a client (AT+CIPSTART
// "SSL", configured by spec 3.3.26-3.3.31) and as a server (AT+CIPSERVER with SSL). The result
// is a Stream, so a link reads and writes the same way whether it is TLS or plain TCP.
#pragma once
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/stream.hpp"

namespace espat::net {

// A failed or timed-out handshake, or an unusable certificate or key. what() says why:
// "certificate verify failed: <OpenSSL's reason>", "handshake timeout", "no client certificate".
struct TlsError : std::runtime_error {
  using runtime_error::runtime_error;
};

// Certificates, keys and CAs are blobs from the mfg_nvs partition: PEM or DER (PEM is tried
// first). A CA blob may hold several PEM certificates.
struct TlsClientOptions {
  std::string cert_pem, key_pem;  // 3.3.26 auth_mode 1/3: sent when non-empty
  std::string ca_pem;             // 3.3.26 auth_mode 2/3: what verify_server checks against
  bool verify_server = false;
  std::string common_name;        // 3.3.27: the server certificate's name must match it
  std::string sni;                // 3.3.28: host name sent in ClientHello
  std::vector<std::string> alpn;  // 3.3.29: protocols offered, in order of preference
  std::string psk_key;            // 3.3.30/31 <"psk">: raw key bytes; non-empty means PSK
  std::string psk_identity;       // 3.3.30/31 <"hint">: the identity sent with it
};

struct TlsServerOptions {
  std::string cert_pem, key_pem;  // required
  std::string ca_pem;             // what verify_client checks against
  bool verify_client = false;     // a client without a valid certificate is refused
};

// Handshakes on `socket`; the returned Stream owns it. Throws TlsError on failure or when
// `timeout` passes first; a link that was to be verified and was not is never returned.
// Pass the options as a named object: GCC 12 bitwise-copies an aggregate temporary made inside
// a co_await expression (`co_await tls_connect(s, {...}, t)`), leaving its strings dangling.
asio::awaitable<std::unique_ptr<Stream>> tls_connect(asio::ip::tcp::socket socket, TlsClientOptions o,
                                                     std::chrono::milliseconds timeout);
asio::awaitable<std::unique_ptr<Stream>> tls_accept(asio::ip::tcp::socket socket, TlsServerOptions o,
                                                    std::chrono::milliseconds timeout);

// The ALPN protocol the server chose; "" when none was, or when `s` is not a TLS stream.
std::string negotiated_alpn(Stream& s);

}  // namespace espat::net
