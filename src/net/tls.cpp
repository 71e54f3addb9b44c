#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <string_view>
#include <system_error>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace espat::net {

namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

// OpenSSL's reason for the last failure, for a TlsError's text; clears its error queue.
std::string openssl_reason() {
  unsigned long e = ERR_peek_last_error();
  const char* r = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return r ? r : "unknown error";
}

BioPtr memory_bio(std::string_view blob) {
  return BioPtr(BIO_new_mem_buf(blob.data(), static_cast<int>(blob.size())), BIO_free);
}

// A blob from mfg_nvs holds PEM (several certificates for a CA bundle) or one DER certificate.
std::vector<X509Ptr> load_certs(std::string_view blob, const char* what) {
  std::vector<X509Ptr> certs;
  auto bio = memory_bio(blob);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(x, X509_free);
  if (certs.empty()) {
    auto* p = reinterpret_cast<const unsigned char*>(blob.data());
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(blob.size()))) certs.emplace_back(x, X509_free);
  }
  ERR_clear_error();  // the failed read that ended the PEM loop
  if (certs.empty()) throw TlsError(std::string("invalid ") + what);
  return certs;
}

// A key never asks for a passphrase: without this callback OpenSSL would prompt on the terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

KeyPtr load_key(std::string_view blob, const char* what) {
  auto bio = memory_bio(blob);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr), EVP_PKEY_free);
  if (!key) {
    auto* p = reinterpret_cast<const unsigned char*>(blob.data());
    key.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(blob.size())));  // PKCS#8 or traditional
  }
  ERR_clear_error();
  if (!key) throw TlsError(std::string("invalid ") + what);
  return key;
}

// Our certificate (first of the blob; the rest is its chain) and its key.
void use_cert_and_key(SSL_CTX* ctx, const std::string& cert, const std::string& key, const char* who) {
  std::string w(who);
  if (cert.empty()) throw TlsError("no " + w + " certificate");
  if (key.empty()) throw TlsError("no " + w + " key");
  auto certs = load_certs(cert, (w + " certificate").c_str());
  auto pkey = load_key(key, (w + " key").c_str());
  if (SSL_CTX_use_certificate(ctx, certs[0].get()) != 1)
    throw TlsError(w + " certificate refused: " + openssl_reason());
  for (std::size_t i = 1; i < certs.size(); ++i) SSL_CTX_add1_chain_cert(ctx, certs[i].get());
  if (SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    throw TlsError(w + " key does not match its certificate: " + openssl_reason());
}

// The CAs a peer's certificate must chain to. A server also names them in its request, so a
// client holding several certificates knows which one to send.
void trust(SSL_CTX* ctx, const std::string& ca, bool name_to_clients) {
  if (ca.empty()) throw TlsError("no CA certificate to verify the peer with");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (auto& c : load_certs(ca, "CA certificate")) {
    X509_STORE_add_cert(store, c.get());
    if (name_to_clients) SSL_CTX_add_client_CA(ctx, c.get());
  }
  ERR_clear_error();  // a CA listed twice is not an error
}

// 3.3.30/31: the PSK callback finds the link's identity and key through this ex_data slot (not
// SSL's app_data: Asio keeps its verify callback there).
struct Psk {
  std::string identity, key;
};
int psk_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
// The server's identity hint is ignored, as the module's mbedTLS does.
unsigned psk_client(SSL* ssl, const char* /*hint*/, char* identity, unsigned max_identity, unsigned char* psk,
                    unsigned max_psk) {
  auto* p = static_cast<const Psk*>(SSL_get_ex_data(ssl, psk_index()));
  if (!p || p->identity.size() >= max_identity || p->key.size() > max_psk) return 0;
  std::memcpy(identity, p->identity.c_str(), p->identity.size() + 1);
  std::memcpy(psk, p->key.data(), p->key.size());
  return static_cast<unsigned>(p->key.size());
}

asio::ssl::context client_context(const TlsClientOptions& o) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx.native_handle();
  // 3.3.26 auth_mode 1/3: a certificate for the server to check.
  if (!o.cert_pem.empty() || !o.key_pem.empty()) use_cert_and_key(c, o.cert_pem, o.key_pem, "client");
  // 3.3.26 auth_mode 2/3: the server's certificate must chain to ca_pem.
  if (o.verify_server) {
    trust(c, o.ca_pem, false);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  }
  // 3.3.30/31: the TLS 1.2 PSK suites, what a module's PSK peer (mbedTLS, s_server -psk) speaks.
  if (!o.psk_key.empty()) {
    SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(c, "PSK") != 1) throw TlsError("no PSK cipher suites: " + openssl_reason());
    SSL_CTX_set_psk_client_callback(c, psk_client);
  }
  return ctx;
}

asio::ssl::context server_context(const TlsServerOptions& o) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  SSL_CTX* c = ctx.native_handle();
  use_cert_and_key(c, o.cert_pem, o.key_pem, "server");
  if (o.verify_client) {
    trust(c, o.ca_pem, true);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

using SslSocket = asio::ssl::stream<asio::ip::tcp::socket>;

// The handshake's failure as a value, so that racing it against the timer ends at once.
asio::awaitable<std::error_code> handshake_once(SslSocket& s, asio::ssl::stream_base::handshake_type type) {
  std::error_code ec;
  co_await s.async_handshake(type, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

// Closing the socket ends the handshake whatever it waits for.
asio::awaitable<void> close_when_expired(asio::steady_timer& timer, asio::ip::tcp::socket& s) {
  co_await timer.async_wait(asio::use_awaitable);
  std::error_code ignored;
  s.close(ignored);
}

class TlsStream final : public Stream {
 public:
  TlsStream(asio::ip::tcp::socket s, asio::ssl::context ctx) : ctx_(std::move(ctx)), s_(std::move(s), ctx_) {}

  SSL* ssl() { return s_.native_handle(); }
  Psk psk;  // read by psk_client() during the handshake

  // `verify`: a certificate was to be checked (its failure is the reason to report);
  // `need_cert`: the peer must also have shown one.
  asio::awaitable<void> handshake(asio::ssl::stream_base::handshake_type type, std::chrono::milliseconds timeout,
                                  bool verify, bool need_cert) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(s_.get_executor(), timeout);
    auto r = co_await (handshake_once(s_, type) || close_when_expired(timer, s_.next_layer()));
    if (r.index() == 1) throw TlsError("handshake timeout");
    std::error_code ec = std::get<0>(r);
    long result = SSL_get_verify_result(ssl());
    if (verify && result != X509_V_OK)
      throw TlsError(std::string("certificate verify failed: ") + X509_verify_cert_error_string(result));
    if (ec) {
      if (ec.category() == asio::error::get_ssl_category() &&
          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        throw TlsError("no client certificate");
      throw TlsError("handshake failed: " + ec.message());
    }
    if (need_cert && !SSL_get0_peer_certificate(ssl()))
      throw TlsError(type == asio::ssl::stream_base::server ? "no client certificate" : "no server certificate");
  }

  std::string alpn() {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl(), &p, &n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }

  asio::awaitable<std::size_t> read_some(std::span<char> buf) override {
    std::error_code ec;
    std::size_t n = co_await s_.async_read_some(asio::buffer(buf.data(), buf.size()),
                                                asio::redirect_error(asio::use_awaitable, ec));
    // A peer that closes without close_notify (stream_truncated) has closed, as a TCP peer's
    // FIN would say: many servers do so and the module reports CLOSED for both.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return 0;
    if (ec) throw std::system_error(ec);
    co_return n;
  }
  asio::awaitable<void> write(std::string_view data) override {
    co_await asio::async_write(s_, asio::buffer(data.data(), data.size()), asio::use_awaitable);
  }
  void close() override {
    std::error_code ec;
    s_.lowest_layer().close(ec);
  }
  asio::ip::tcp::socket& socket() override { return s_.next_layer(); }

 private:
  asio::ssl::context ctx_;  // outlives s_, which was made from it
  SslSocket s_;
};

}  // namespace

asio::awaitable<std::unique_ptr<Stream>> tls_connect(asio::ip::tcp::socket socket, TlsClientOptions o,
                                                     std::chrono::milliseconds timeout) {
  auto t = std::make_unique<TlsStream>(std::move(socket), client_context(o));
  SSL* ssl = t->ssl();
  if (!o.sni.empty() && SSL_set_tlsext_host_name(ssl, o.sni.c_str()) != 1)  // 3.3.28
    throw TlsError("invalid SNI: " + openssl_reason());
  // 3.3.27: the name is checked against the certificate's DNS names, else its CN.
  if (o.verify_server && !o.common_name.empty() && SSL_set1_host(ssl, o.common_name.c_str()) != 1)
    throw TlsError("invalid common name: " + openssl_reason());
  if (!o.alpn.empty()) {  // 3.3.29, in the wire format: length-prefixed names
    std::string wire;
    for (const auto& p : o.alpn) {
      if (p.empty() || p.size() > 255) throw TlsError("invalid ALPN protocol");
      wire += static_cast<char>(p.size());
      wire += p;
    }
    if (SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size())) != 0)
      throw TlsError("invalid ALPN protocols: " + openssl_reason());
  }
  if (!o.psk_key.empty()) {
    t->psk = {o.psk_identity, o.psk_key};
    SSL_set_ex_data(ssl, psk_index(), &t->psk);
  }
  // A pure PSK suite carries no certificate: the shared key is what authenticates the server.
  co_await t->handshake(asio::ssl::stream_base::client, timeout, o.verify_server,
                        o.verify_server && o.psk_key.empty());
  co_return std::move(t);
}

asio::awaitable<std::unique_ptr<Stream>> tls_accept(asio::ip::tcp::socket socket, TlsServerOptions o,
                                                    std::chrono::milliseconds timeout) {
  auto t = std::make_unique<TlsStream>(std::move(socket), server_context(o));
  co_await t->handshake(asio::ssl::stream_base::server, timeout, o.verify_client, o.verify_client);
  co_return std::move(t);
}

std::string negotiated_alpn(Stream& s) {
  auto* t = dynamic_cast<TlsStream*>(&s);
  return t ? t->alpn() : std::string();
}

}  // namespace espat::net
