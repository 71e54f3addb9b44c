// The WebSocket client (net/websocket) against a hand-driven server on 127.0.0.1: the RFC 6455
// 4.2.2 accept value, the request's fields, a refused or wrong handshake, and websocket_stream
// (what MQTT over WebSocket reads and writes through): binary frames out, masked; data frames'
// payloads in across fragments; pings answered; a close frame answered and read as the end.
#include <chrono>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "net/tcp_stream.hpp"
#include "net/websocket.hpp"

namespace espat::net {
namespace {
using namespace std::chrono_literals;
using asio::ip::tcp;
using asio::use_awaitable;

TEST(WebSocket, AcceptValueOfRfc6455_4_2_2) {
  EXPECT_EQ(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// The server's side of one connection, written with the frame codec.
struct Peer {
  tcp::socket sock;
  std::string in;  // bytes read and not yet used
  ws::FrameDecoder frames{};

  asio::awaitable<std::string> head() {
    for (;;) {
      if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
        std::string h = in.substr(0, end + 4);
        in.erase(0, end + 4);
        co_return h;
      }
      char buf[1024];
      const auto n = co_await sock.async_read_some(asio::buffer(buf), use_awaitable);
      in.append(buf, n);
    }
  }
  asio::awaitable<ws::Frame> frame() {
    frames.feed(in);
    in.clear();
    for (;;) {
      if (auto f = frames.pop()) co_return *f;
      char buf[1024];
      const auto n = co_await sock.async_read_some(asio::buffer(buf), use_awaitable);
      frames.feed(std::string_view(buf, n));
    }
  }
  asio::awaitable<void> send(std::string bytes) { co_await asio::async_write(sock, asio::buffer(bytes), use_awaitable); }
};

std::string header_value(const std::string& head, const std::string& key) {
  const auto at = head.find("\r\n" + key + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + key.size() + 4;
  return head.substr(start, head.find("\r\n", start) - start);
}

void run(asio::io_context& io, asio::awaitable<void> a) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  io.run_for(10s);
  ASSERT_TRUE(done) << "did not finish";
  if (error) std::rethrow_exception(error);
}

asio::awaitable<std::unique_ptr<Stream>> connect(tcp::acceptor& acc, Peer& peer) {
  tcp::socket c(acc.get_executor());
  co_await c.async_connect(acc.local_endpoint(), use_awaitable);
  peer.sock = co_await acc.async_accept(use_awaitable);
  co_return tcp_stream(std::move(c));
}

std::string answer(const std::string& request, const std::string& extra = "") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         ws_accept_for(header_value(request, "Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n";
}

// The server's handshake: reads the request into `request`, answers it, then sends `after`.
asio::awaitable<void> serve_handshake(Peer& peer, std::string& request, std::string extra, std::string after) {
  request = co_await peer.head();
  co_await peer.send(answer(request, extra) + after);
}

asio::awaitable<void> stream_session(tcp::acceptor& acc) {
  Peer peer{tcp::socket(acc.get_executor())};
  auto raw = co_await connect(acc, peer);
  WsOptions o;
  o.host = "example.test:8080";
  o.path = "/mqtt?x=1";
  o.subprotocol = "mqtt";
  o.headers = {"X-Extra: yes"};
  std::string request;
  // The first frame comes in the same write as the answer.
  const std::string first = ws::encode_frame(ws::Binary, "ab", false, std::nullopt);
  using namespace asio::experimental::awaitable_operators;
  auto s = co_await (websocket_stream(std::move(raw), o) &&
                     serve_handshake(peer, request, "Sec-WebSocket-Protocol: mqtt\r\n", first));
  EXPECT_EQ(request.substr(0, request.find("\r\n")), "GET /mqtt?x=1 HTTP/1.1");
  EXPECT_EQ(header_value(request, "Host"), "example.test:8080");
  EXPECT_EQ(header_value(request, "Upgrade"), "websocket");
  EXPECT_EQ(header_value(request, "Connection"), "Upgrade");
  EXPECT_EQ(header_value(request, "Sec-WebSocket-Version"), "13");
  EXPECT_EQ(header_value(request, "Sec-WebSocket-Protocol"), "mqtt");
  EXPECT_EQ(header_value(request, "X-Extra"), "yes");
  EXPECT_EQ(header_value(request, "Sec-WebSocket-Key").size(), 24u);  // 16 bytes in base64

  // A ping between the fragments is answered; the payload reads on across the continuation.
  co_await peer.send(ws::encode_frame(ws::Ping, "p1", true, std::nullopt) +
                     ws::encode_frame(ws::Continuation, "cd", true, std::nullopt));
  std::string got;
  char buf[16];
  while (got.size() < 4) got.append(buf, co_await s->read_some(std::span<char>(buf, sizeof buf)));
  EXPECT_EQ(got, "abcd");
  auto pong = co_await peer.frame();
  EXPECT_EQ(pong.opcode, ws::Pong);
  EXPECT_EQ(pong.payload, "p1");

  // What the client writes is one masked binary frame per write.
  co_await s->write(std::string_view("\x10\x0c\x00\x04MQTT", 8));
  char hdr[2];
  co_await asio::async_read(peer.sock, asio::buffer(hdr), use_awaitable);
  EXPECT_EQ((unsigned char)hdr[0], 0x82);
  EXPECT_EQ((unsigned char)hdr[1], 0x80 | 8);  // masked, 8 bytes
  peer.in.assign(hdr, 2);
  peer.frames = ws::FrameDecoder();
  auto data = co_await peer.frame();
  EXPECT_EQ(data.payload, std::string("\x10\x0c\x00\x04MQTT", 8));

  // A close frame: answered with the same code, then the stream ends.
  co_await peer.send(ws::encode_frame(ws::Close, "\x03\xe8", true, std::nullopt));
  EXPECT_EQ(co_await s->read_some(std::span<char>(buf, sizeof buf)), 0u);
  auto close = co_await peer.frame();
  EXPECT_EQ(close.opcode, ws::Close);
  EXPECT_EQ(close.payload, "\x03\xe8");
}

TEST(WebSocket, StreamCarriesBinaryFramesAnswersPingsAndClose) {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  run(io, stream_session(acc));
}

// Answers the request with `reply` ("accept-wrong": a 101 whose accept value is off; "": none).
asio::awaitable<void> serve_refusal(Peer& peer, std::string reply) {
  const auto request = co_await peer.head();
  if (reply == "accept-wrong") {
    reply = answer(request);
    reply.replace(reply.find("Accept: ") + 8, 4, "AAAA");
  }
  if (!reply.empty()) co_await peer.send(reply);
}

asio::awaitable<void> try_handshake(std::unique_ptr<Stream> raw, std::string want_error) {
  WsOptions o;
  o.host = "h";
  o.timeout = 1s;
  try {
    co_await websocket_stream(std::move(raw), o);
    ADD_FAILURE() << "handshake accepted";
  } catch (const WsError& e) {
    EXPECT_EQ(std::string(e.what()), want_error);
  }
}

asio::awaitable<void> refused_session(tcp::acceptor& acc, std::string reply, std::string want_error) {
  Peer peer{tcp::socket(acc.get_executor())};
  auto raw = co_await connect(acc, peer);
  using namespace asio::experimental::awaitable_operators;
  co_await (try_handshake(std::move(raw), want_error) && serve_refusal(peer, reply));
}

TEST(WebSocket, HandshakeFailures) {
  for (auto [reply, error] : std::vector<std::pair<std::string, std::string>>{
           {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "answered 404 Not Found"},
           {"accept-wrong", "bad Sec-WebSocket-Accept"},
           {"", "handshake timeout"}}) {
    asio::io_context io;
    tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
    run(io, refused_session(acc, reply, error));
  }
}

}  // namespace
}  // namespace espat::net
