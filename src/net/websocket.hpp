// A WebSocket client (RFC 6455) over an already connected Stream, TCP or TLS: the opening
// handshake (4.1) and frames read and written through net/ws_frame. The module's WebSocket
// links (spec 3.9, module/websocket.hpp) use the connection; MQTT over WebSocket (schemes 6-10 of
// AT+MQTTUSERCFG) uses websocket_stream(), which makes the connection a byte Stream again.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "net/stream.hpp"
#include "net/ws_frame.hpp"

namespace espat::net {

struct WsOptions {
  std::string host;            // the Host header value (with ":port" when not the default)
  std::string path = "/";      // request target
  std::string subprotocol;     // Sec-WebSocket-Protocol when non-empty (MQTT uses "mqtt")
  std::vector<std::string> headers;  // extra "Key: value" lines
  std::chrono::milliseconds timeout{10000};  // the handshake
};

// A failed handshake ("answered 404", "bad Sec-WebSocket-Accept", "handshake timeout") or a
// protocol error of the peer's frames.
struct WsError : std::runtime_error {
  using runtime_error::runtime_error;
};

// base64(SHA-1(key + the RFC 6455 GUID)): the Sec-WebSocket-Accept a server answers `key` with.
std::string ws_accept_for(std::string_view key);

// One client connection after its handshake.
class WsConnection {
 public:
  // Handshakes over `s`; throws WsError (or std::system_error from the stream).
  static asio::awaitable<std::unique_ptr<WsConnection>> open(std::unique_ptr<Stream> s, WsOptions o);
  WsConnection(std::unique_ptr<Stream> s, std::string already_read, std::size_t max_frame);

  // One frame, masked with a fresh key (5.3). Writes of several coroutines (a pong while the
  // host sends) go out one whole frame after another.
  asio::awaitable<void> send(std::uint8_t opcode, std::string_view payload, bool fin = true);
  // The next frame as it came (control frames too; nothing is answered here); nullopt when the
  // peer closed the TCP connection. Throws WsError on a protocol error, std::system_error on
  // a broken connection.
  asio::awaitable<std::optional<ws::Frame>> read_frame();
  void close() { s_->close(); }
  Stream& stream() { return *s_; }

 private:
  std::unique_ptr<Stream> s_;
  ws::FrameDecoder decoder_;
  bool writing_ = false;
  std::unique_ptr<asio::steady_timer> write_done_;  // wakes writers waiting their turn
};

// Handshakes over `s`; returns a Stream whose write() sends each call as one binary frame
// (masked), and whose read_some() yields the payload bytes of received data frames (text,
// binary, continuation), answers pings with pongs, and returns 0 after a close frame (which
// it answers). Throws WsError on a failed handshake.
asio::awaitable<std::unique_ptr<Stream>> websocket_stream(std::unique_ptr<Stream> s, WsOptions o);

}  // namespace espat::net
