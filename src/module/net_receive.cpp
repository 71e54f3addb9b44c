// What a link receives (spec 3.3.33, reference §9.3): "+IPD" with the data in active mode,
// a length-only "+IPD" and a bounded buffer in passive mode, raw bytes in passthrough; and
// what a peer's close prints.
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "module/context.hpp"
#include "module/link.hpp"
#include "module/net.hpp"

namespace espat::module {

namespace {
constexpr std::size_t kOutputHighWater = 8 * 1024;  // bytes waiting for the UART before reads pause
}  // namespace

void Net::start_reader(const std::shared_ptr<Link>& l) {
  l->reader.start([this, l](async::StopToken stop) {
    return l->kind == LinkKind::Udp ? read_udp(l, stop) : read_stream(l, stop);
  });
}

asio::awaitable<void> Net::read_stream(std::shared_ptr<Link> l, async::StopToken stop) {
  std::string buf(kIpdMax, '\0');
  for (;;) {
    // Passive mode: a full buffer stops reading, so TCP's window closes on the peer.
    while (s_.recv_mode[std::size_t(l->id)] == 1 && l->rx_bytes >= kPassiveWindow) {
      l->space.expires_at(asio::steady_timer::time_point::max());
      std::error_code ec;
      co_await l->space.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      stop.throw_if_requested();
    }
    std::size_t n = 0;
    bool reset = false;
    try {
      std::size_t room = s_.recv_mode[std::size_t(l->id)] == 1 ? kPassiveWindow - l->rx_bytes : kIpdMax;
      n = co_await l->stream->read_some({buf.data(), std::min(room, buf.size())});
    } catch (const std::system_error&) {
      reset = true;
    }
    stop.throw_if_requested();
    if (n == 0 || reset) co_return closed_by_peer(l);
    l->last_traffic = std::chrono::steady_clock::now();
    co_await receive(l, buf.substr(0, n), l->remote_ip.to_string(), l->remote_port);
    stop.throw_if_requested();
  }
}

asio::awaitable<void> Net::read_udp(std::shared_ptr<Link> l, async::StopToken stop) {
  std::string buf(65536, '\0');
  for (;;) {
    asio::ip::udp::endpoint from;
    std::error_code ec;
    std::size_t n = co_await l->udp->async_receive_from(asio::buffer(buf), from, asio::redirect_error(asio::use_awaitable, ec));
    stop.throw_if_requested();
    if (ec) continue;
    // 3.3.6 <mode>: 1 takes the first other sender as the remote, 2 every sender.
    const bool other = from.address() != l->remote_ip || from.port() != l->remote_port;
    if (other && (l->udp_mode == 2 || (l->udp_mode == 1 && !l->udp_remote_changed))) {
      l->remote_ip = from.address();
      l->remote_port = from.port();
      l->udp_remote_changed = true;
    }
    co_await receive(l, buf.substr(0, n), from.address().to_string(), from.port());
    stop.throw_if_requested();
  }
}

asio::awaitable<void> Net::deliver(std::shared_ptr<Link> l, std::string data, std::string ip, int port) {
  auto& e = ctx_.engine();
  const int id = l->id;
  if (passthrough_link() == id) {  // passthrough receiving mode: raw bytes (3.3.18)
    e.write_unfiltered(std::move(data));
  } else if (s_.recv_mode[std::size_t(id)] == 1) {
    // UDP in passive mode: a datagram that does not fit is lost (3.3.33).
    if (l->kind == LinkKind::Udp && l->rx_bytes + data.size() > kPassiveWindow) co_return;
    l->rx_bytes += data.size();
    l->rx.push_back({std::move(data), std::move(ip), port});
    if (l->announced) co_return;  // one +IPD until the host reads (3.3.33 notes)
    l->announced = true;
    e.write(s_.mux ? fmt::format("\r\n+IPD,{},{}\r\n", id, l->rx_bytes) : fmt::format("\r\n+IPD,{}\r\n", l->rx_bytes));
    co_return;
  } else {
    std::string head = s_.mux ? fmt::format("\r\n+IPD,{},{}", id, data.size()) : fmt::format("\r\n+IPD,{}", data.size());
    if (s_.dinfo) head += fmt::format(",\"{}\",{}", ip, port);
    e.write(head + ":");
    e.write_unfiltered(std::move(data));  // no CR-LF after the data (reference §9.3)
  }
  // A UART slower than the network holds the link's reads, and TCP slows the peer down.
  if (ctx_.output_backlog() <= kOutputHighWater) co_return;
  auto drained = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  ctx_.on_output_drained([drained] { drained->cancel(); });
  std::error_code ec;
  co_await drained->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void Net::peer_closed(const std::shared_ptr<Link>& l) {
  if (links_[std::size_t(l->id)] != l) return;
  if (l->rx_bytes > 0) {  // 3.3.33: CLOSED waits until the buffered data is read
    l->peer_gone = true;
    l->close_sockets();
    return;
  }
  const bool reconnect = ctx_.engine().in_passthrough() && l->id == 0 && !l->server_side;
  drop(l->id, true);
  if (reconnect) pt_reconnect_.start([this](async::StopToken stop) { return passthrough_reconnect(stop, false); });
}

// ---- passive mode reads ---------------------------------------------------------------------

long long Net::buffered(int id) const {
  if (!in_use(id)) return -1;
  return (long long)links_[std::size_t(id)]->rx_bytes;
}

std::optional<Net::Taken> Net::take(int id, std::size_t n) {
  if (!in_use(id)) return std::nullopt;
  auto& l = *links_[std::size_t(id)];
  Taken t;
  while (!l.rx.empty() && t.data.size() < n) {
    auto& front = l.rx.front();
    if (t.data.empty()) t.ip = front.ip, t.port = front.port;
    else if (front.ip != t.ip || front.port != t.port) break;  // one sender per answer
    std::size_t k = std::min(n - t.data.size(), front.data.size());
    t.data += front.data.substr(0, k);
    l.rx_bytes -= k;
    if (l.kind == LinkKind::Udp || k == front.data.size()) {
      l.rx_bytes -= front.data.size() - k;  // the rest of a datagram read short is lost, as recvfrom loses it
      l.rx.pop_front();
    } else {
      front.data.erase(0, k);
    }
    if (l.kind == LinkKind::Udp) break;  // one datagram per read, as one recvfrom gives
  }
  l.announced = false;
  l.space.cancel();
  return t;
}

void Net::settle(int id) {
  if (!in_use(id)) return;
  auto& l = links_[std::size_t(id)];
  if (l->peer_gone && l->rx_bytes == 0) drop(id, true);
}

// ---- passthrough -----------------------------------------------------------------------------

// The link passthrough uses: link 0 with a single connection; with multiple connections, the
// one client of a server limited to one (4.2.10).
std::optional<int> Net::passthrough_link() const {
  if (s_.mode != 1) return std::nullopt;
  if (!s_.mux) return in_use(0) ? std::optional<int>(0) : std::nullopt;
  if (!server_ || s_.server_max_conn != 1) return std::nullopt;
  for (const auto& l : links_)
    if (l && l->server_side) return l->id;
  return std::nullopt;
}

bool Net::passthrough_allowed() const { return !s_.mux || (server_ && s_.server_max_conn == 1); }

bool Net::can_passthrough() const {
  auto id = passthrough_link();
  if (!id) return false;
  const auto& l = *links_[std::size_t(*id)];
  return l.kind != LinkKind::Udp || l.udp_mode == 0;  // 3.3.9: UDP only with a fixed remote
}

void Net::enter_passthrough() {
  at::Engine::Passthrough p;
  p.send = [this](std::string packet) -> asio::awaitable<void> {
    if (auto id = passthrough_link()) co_await send(*id, std::move(packet), std::nullopt, {});
  };
  p.exited = [this] {
    pt_reconnect_.stop();
    if (ctx_.state().sysmsg & 1) ctx_.engine().write("\r\n+QUITT\r\n");  // 3.1.15 bit 0
  };
  p.interval = std::chrono::milliseconds(ctx_.state().transintvl_ms);
  auto id = passthrough_link();
  p.stream = !(id && links_[std::size_t(*id)]->kind == LinkKind::Udp);
  ctx_.engine().enter_passthrough(std::move(p));
}

asio::awaitable<void> Net::passthrough_reconnect(async::StopToken stop, bool at_once) {
  // 3.3.32: a client link in passthrough is started again every AT+CIPRECONNINTV until "+++".
  bool first = at_once;
  while (last_start_ && ctx_.engine().in_passthrough() && !in_use(0)) {
    if (!first || !has_address()) co_await stop.sleep(io_, std::chrono::milliseconds(100) * s_.reconn_interval);
    first = false;
    auto r = *last_start_;
    r.keep_alive.reset();
    if (has_address()) co_await start(0, r, stop);
  }
}

}  // namespace espat::module
