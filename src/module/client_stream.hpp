// A connection of one of the module's own clients that are not AT+CIPSTART links — HTTP
// (3.7), MQTT (3.6), WebSocket (3.9): a TCP socket bound to the module's address, the name
// resolved as the module resolves names (world, AT+CIPDNS, host), TLS when asked. It meets the
// network faults of the module and its AP like a link does (refusal, DNS failure, latency,
// bandwidth) and appears in the trace as "client m<k> <label> ...".
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "async/activity.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"

namespace espat::module {

class Context;

struct ClientTarget {
  std::string label;  // "http", "mqtt", "ws": the trace's word
  std::string host;   // a name or an IP literal (no brackets)
  int port = 0;
  std::optional<net::TlsClientOptions> tls;  // TLS over the TCP connection when set
};

// Why open_client_stream failed.
enum class ClientFailure { None, NoAddress, Resolve, Refused, Connect, Timeout, Tls };

struct ClientStream {
  std::unique_ptr<net::Stream> stream;  // null on failure
  ClientFailure failure = ClientFailure::None;
  std::string why;  // for the log
};

// Connects within `timeout` (the TCP connect, then the TLS handshake each get it).
asio::awaitable<ClientStream> open_client_stream(Context& ctx, ClientTarget t, std::chrono::milliseconds timeout,
                                                 async::StopToken stop);

}  // namespace espat::module
