// The module's WebSocket links (spec 3.9): link ids 0-2, each with its AT+WSCFG settings (ping
// interval and timeout, buffer size), the request headers of AT+WSHEAD shared by all, and a
// connection made by AT+WSOPEN over the module's own client streams (module/client_stream.hpp)
// with net::WsConnection. What arrives is printed unasked: "+WS_DATA:<id>,<len>,<data>\r\n" per
// run of at most <buffer_size> payload bytes (esp_websocket_client reads its buffer's size at a
// time and the firmware prints each read), "+WS_DISCONNECTED:<id>" when the server closes or the
// connection breaks, "+WS_CLOSED:<id>" after AT+WSCLOSE (reference §9.3 "WebSocket").
// A link lost other than by a close handshake (the connection broken, the pong timed out, the
// station's address gone) is kept and connected again as esp_websocket_client does by default
// (auto-reconnect): state 3 for kReconnectInterval, state 1 while connecting, then
// "+WS_CONNECTED:<id>" again, or "+WS_DISCONNECTED:<id>" and another wait when that fails.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "async/activity.hpp"

namespace espat::net {
class WsConnection;
}

namespace espat::module {

class Context;
struct WsSession;  // one connection of a link (websocket.cpp)

// AT+WSCFG (3.9.2), per link; read when AT+WSOPEN opens the link.
struct WsLinkConfig {
  int ping_interval_s = 10;
  int ping_timeout_s = 120;
  int buffer_size = 1024;
};

// AT+WSOPEN?'s <state> (3.9.4).
enum class WsState { Closed = 0, Reconnecting = 1, Established = 2, PongTimeout = 3, Closing = 4 };

struct WsLinkInfo {
  int id = 0;
  WsState state = WsState::Closed;
  std::string uri;
};

enum class WsOpen { Ok, InUse, BadUri, Failed };

// What AT+WSOPEN connected to, kept for the reconnections: the settings of that moment.
struct WsTarget {
  std::string uri, subprotocol, auth;
  std::chrono::milliseconds timeout{};
  std::vector<std::string> headers;  // AT+WSHEAD's list when the link was opened
};

class WebSockets {
 public:
  static constexpr int kLinks = 3;  // 3.9.2: <link_id> in [0,2]
  // esp_websocket_client's reconnect_timeout_ms default (WEBSOCKET_RECONNECT_TIMEOUT_MS).
  static constexpr auto kReconnectInterval = std::chrono::seconds(10);

  WebSockets(asio::io_context& io, Context& ctx);
  ~WebSockets();
  WebSockets(const WebSockets&) = delete;
  WebSockets& operator=(const WebSockets&) = delete;

  // The module boots or sleeps: every link is dropped without a report, the settings and the
  // headers are back to their defaults (none of them is saved in flash).
  void reset();

  WsLinkConfig& config(int id) { return config_.at(std::size_t(id)); }
  std::vector<std::string>& headers() { return headers_; }  // AT+WSHEAD, "key: value"
  std::vector<WsLinkInfo> links() const;                     // the open ones, by id
  bool is_open(int id) const;         // in any state, waiting to reconnect included
  bool is_established(int id) const;  // state 2

  // AT+WSOPEN: connects, handshakes and prints "+WS_CONNECTED:<id>". start() then begins
  // reading and pinging; AT+WSOPEN calls it once its OK is out, so that what the server sends
  // at once is printed after that OK.
  asio::awaitable<WsOpen> open(int id, std::string uri, std::string subprotocol, std::string auth,
                               std::chrono::milliseconds timeout, async::StopToken stop);
  void start(int id);
  // AT+WSSEND: one frame; false when the link is not established or the write failed or timed out.
  asio::awaitable<bool> send(int id, std::uint8_t opcode, std::string payload, std::chrono::milliseconds timeout,
                             async::StopToken stop);
  // AT+WSCLOSE: a close frame, the server's answer awaited a while, then the connection closed
  // and "+WS_CLOSED:<id>" printed; a link waiting to reconnect (or connecting) stops at once,
  // with "+WS_CLOSED:<id>" too. False when the link was not open.
  asio::awaitable<bool> close(int id, async::StopToken stop);

  // The station lost its address: every established link breaks as on the firmware, with
  // "+WS_DISCONNECTED:<id>", and waits to reconnect (attempts fail until there is an address).
  void address_lost();
  // The reader's end of a session (websocket.cpp): after a close frame from the server the
  // link ends; otherwise it waits and reconnects.
  void lost(const std::shared_ptr<WsSession>& s);
  // One reconnection attempt of a waiting link (websocket.cpp): true when established again.
  asio::awaitable<bool> reconnect(std::shared_ptr<WsSession> s, async::StopToken stop);

 private:
  // Connects and handshakes; null (logged) when that fails.
  asio::awaitable<std::unique_ptr<net::WsConnection>> connect(const WsTarget& t, async::StopToken stop);
  // The handshake is done: the link is established and "+WS_CONNECTED:<id>" printed.
  void adopt(int id, const WsTarget& t, const WsLinkConfig& cfg, std::unique_ptr<net::WsConnection> conn);

  asio::io_context& io_;
  Context& ctx_;
  std::array<WsLinkConfig, kLinks> config_{};
  std::vector<std::string> headers_;
  std::array<std::shared_ptr<WsSession>, kLinks> sessions_{};
  // Every session whose reader or pinger may still be suspended: their connections (streams
  // that report to this module) are destroyed with the module, not with the io_context.
  std::vector<std::weak_ptr<WsSession>> started_;
};

}  // namespace espat::module
