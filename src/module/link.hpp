// One entry of the module's link table (module/net.hpp): a TCP, UDP or SSL connection on a
// real host socket, with what the receive modes of spec 3.3.33 keep for it. Private to Net.
#pragma once
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include "async/activity.hpp"
#include "module/link_faults.hpp"
#include "module/net.hpp"
#include "net/stream.hpp"

namespace espat::module {

// Bytes received and not yet read (passive mode); a UDP datagram stays one piece.
struct Received {
  std::string data;
  std::string ip;
  int port = 0;
};

struct Link {
  explicit Link(asio::io_context& io) : space(io, asio::steady_timer::time_point::max()), reader(io), idle(io), fx(io) {}
  ~Link() { close_sockets(); }

  int id = 0;
  LinkKind kind = LinkKind::Tcp;
  bool v6 = false;
  bool server_side = false;  // accepted by the module's server: <tetype> 1
  asio::ip::address remote_ip, local_ip;
  int remote_port = 0, local_port = 0;

  std::unique_ptr<net::Stream> stream;        // TCP and SSL
  std::unique_ptr<asio::ip::udp::socket> udp; // UDP
  int udp_mode = 0;
  bool udp_remote_changed = false;  // mode 1 changes the remote once

  std::deque<Received> rx;  // passive mode's buffer
  std::size_t rx_bytes = 0;
  bool announced = false;   // a passive +IPD is out and not read yet
  bool peer_gone = false;   // the peer closed; CLOSED waits until the buffer is read
  asio::steady_timer space; // a reader waiting for room in rx; cancelled by a read
  std::chrono::steady_clock::time_point last_traffic = std::chrono::steady_clock::now();

  async::Activity reader;  // reads the socket, delivers
  async::Activity idle;    // AT+CIPSTO on a server link
  LinkFaults fx;           // network faults: delay line, pacing, stall, byte counts

  std::string type_name() const {
    std::string t = kind == LinkKind::Tcp ? "TCP" : kind == LinkKind::Udp ? "UDP" : "SSL";
    return v6 ? t + "v6" : t;
  }
  void close_sockets() {
    std::error_code ec;
    if (stream) stream->close();
    if (udp) udp->close(ec);
    space.cancel();
    fx.stop();
  }
};

}  // namespace espat::module
