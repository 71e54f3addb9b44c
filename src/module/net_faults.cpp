// Network faults on the module's links (BRIEF "Faults on demand"; README "Network faults"). The
// faults of a link are its module's own (World::module_faults) combined with those of the AP its
// station is joined to, when the link leaves from the station's address (sim::combine). They are
// read at each operation, so a change through the control API counts from the next one:
// - latency_ms: a send waits that long before its bytes leave (SEND OK after it), and every
//   chunk received (and the peer's close) reaches the host that long after it arrived, in order;
// - bandwidth: bytes each way pass at most that many per second (a send is written in slices,
//   received chunks are held back), and this counts against the link's send timeout;
// - udp_loss: each datagram sent or received is lost with that probability (World::lose);
// - dns_fail: every lookup of a name (not an IP literal) fails at once, as on an NXDOMAIN;
// - refuse: TCP and SSL connects fail at once, and the module's server stops listening, so that
//   its clients' connects are refused (one accepted meanwhile is reset);
// - from outside: a link reset (an RST both ways), a stall (the peer's window stays shut).
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "module/context.hpp"
#include "module/link.hpp"
#include "module/net.hpp"
#include "module/wifi.hpp"

namespace espat::module {

namespace {
using Clock = std::chrono::steady_clock;
// Received bytes the delay line holds before the reader stops reading (TCP then slows the peer).
constexpr std::size_t kHeldMax = 16 * 1024;

// How long n bytes take at `bps` bytes per second.
Clock::duration wire_time(std::size_t n, std::int64_t bps) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(n) / double(bps)));
}

// A paced send is written in slices of about 50 ms of the bandwidth, so the peer sees a trickle.
std::size_t slice_of(std::int64_t bps) { return std::size_t(std::max<std::int64_t>(64, bps / 20)); }

// Waits until `t` on a timer of its own; false when cancelled first (a send timed out).
asio::awaitable<bool> wait_until(Clock::time_point t) {
  if (t <= Clock::now()) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  std::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}
}  // namespace

// ---- which faults -----------------------------------------------------------------------------

sim::NetFaults Net::faults_for(const std::optional<asio::ip::address>& local) const {
  auto& world = ctx_.world();
  sim::NetFaults f = world.module_faults(ctx_.index());
  auto& w = ctx_.wifi();
  if (local && w.station_on() && w.link() && *local == asio::ip::address_v4(w.station_ip().ip.v))
    if (const sim::Ap* ap = world.find_ap(w.link()->ap.id)) f = sim::combine(f, ap->faults);
  return f;
}

bool Net::names_fail(const std::string& host) const {
  // The lookup goes to the DNS server of the station's network when it has one.
  auto& w = ctx_.wifi();
  std::optional<asio::ip::address> via;
  if (w.station_on() && w.link()) via = asio::ip::address_v4(w.station_ip().ip.v);
  if (!faults_for(via).dns_fail) return false;
  if (ctx_.world().observed()) ctx_.world().note(fmt::format("module m{} lookup of {} fails (dns_fail)", ctx_.index(), host));
  return true;
}

bool Net::connect_refused(const asio::ip::address& local, const std::string& to) const {
  if (!faults_for(local).refuse) return false;
  if (ctx_.world().observed()) ctx_.world().note(fmt::format("module m{} connect to {} refused (refuse)", ctx_.index(), to));
  return true;
}

bool Net::refuse_client(asio::ip::tcp::socket& s) {
  std::error_code ec;
  const auto local = s.local_endpoint(ec);
  if (ec || !faults_for(local.address()).refuse) return false;
  const auto remote = s.remote_endpoint(ec);
  s.set_option(asio::socket_base::linger(true, 0), ec);  // an RST, as a refused SYN gets
  s.close(ec);
  if (ctx_.world().observed())
    ctx_.world().note(fmt::format("module m{} server refuses {}:{} (refuse)", ctx_.index(), remote.address().to_string(),
                                  remote.port()));
  return true;
}

void Net::faults_changed() {
  if (srv_) address_gained();
}

// ---- trace ----------------------------------------------------------------------------------

void Net::link_event(const Link& l, std::string_view what) const {
  auto& world = ctx_.world();
  if (!world.observed()) return;
  if (what == "connect")
    return world.note(fmt::format("link m{} {} connect {} {}:{} local {}:{}{}", ctx_.index(), l.id, l.type_name(),
                                  l.remote_ip.to_string(), l.remote_port, l.local_ip.to_string(), l.local_port,
                                  l.server_side ? " (server)" : ""));
  world.note(fmt::format("link m{} {} {}", ctx_.index(), l.id, what));
}

// ---- sending --------------------------------------------------------------------------------

asio::awaitable<bool> Net::outgoing(std::shared_ptr<Link> l, std::size_t n, async::StopToken stop) {
  const auto f = faults_for(l->local_ip);
  if (f.latency_ms > 0) co_await stop.sleep(io_, std::chrono::milliseconds(f.latency_ms));
  if (l->kind != LinkKind::Udp) co_return true;  // a stream is paced and counted as it is written
  if (f.bandwidth > 0) {
    auto& fx = l->fx;
    fx.tx_free = std::max(Clock::now(), fx.tx_free) + wire_time(n, f.bandwidth);
    co_await stop.sleep(io_, fx.tx_free - Clock::now());
  }
  if (ctx_.world().lose(f.udp_loss)) {
    link_event(*l, fmt::format("lost {} sent (udp_loss)", n));
    co_return false;
  }
  l->fx.sent += n;
  link_event(*l, fmt::format("sent {}", n));
  co_return true;
}

// A stream's write with the stall and the bandwidth; false when the link broke, or when the
// send's timeout cancelled a wait.
asio::awaitable<bool> Net::shaped_write(std::shared_ptr<Link> l, std::string data) {
  auto& fx = l->fx;
  std::size_t off = 0;
  do {
    while (fx.stalled) {  // the peer's window is shut: nothing leaves until it reads again
      fx.resumed.expires_at(Clock::time_point::max());
      std::error_code ec;
      co_await fx.resumed.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (fx.stalled || links_[std::size_t(l->id)] != l) co_return false;  // timed out, or closed
    }
    const auto f = faults_for(l->local_ip);
    std::size_t n = data.size() - off;
    if (f.bandwidth > 0) {
      n = std::min(n, slice_of(f.bandwidth));
      fx.tx_free = std::max(Clock::now(), fx.tx_free) + wire_time(n, f.bandwidth);
      if (!co_await wait_until(fx.tx_free)) co_return false;
    }
    if (!co_await write_all(l, data.substr(off, n))) co_return false;
    off += n;
    fx.sent += n;
  } while (off < data.size());
  link_event(*l, fmt::format("sent {}", data.size()));
  co_return true;
}

// ---- receiving ------------------------------------------------------------------------------

asio::awaitable<void> Net::receive(std::shared_ptr<Link> l, std::string data, std::string ip, int port) {
  auto& fx = l->fx;
  const auto f = faults_for(l->local_ip);
  if (l->kind == LinkKind::Udp && ctx_.world().lose(f.udp_loss)) {
    link_event(*l, fmt::format("lost {} received (udp_loss)", data.size()));
    co_return;
  }
  fx.received += data.size();
  link_event(*l, fmt::format("received {}", data.size()));
  if (!f.shapes() && fx.held.empty() && !fx.delivering) co_return co_await deliver(l, std::move(data), std::move(ip), port);
  // The chunk is on the wire from when the one before has passed, then travels the latency.
  auto due = Clock::now();
  if (f.bandwidth > 0) due = fx.rx_free = std::max(due, fx.rx_free) + wire_time(data.size(), f.bandwidth);
  due += std::chrono::milliseconds(f.latency_ms);
  fx.held_bytes += data.size();
  fx.held.push_back({due, std::move(data), std::move(ip), port, false});
  if (!fx.delivering) {
    fx.delivering = true;
    fx.line.start([this, l](async::StopToken stop) { return deliver_held(l, stop); });
  }
  while (fx.held_bytes > kHeldMax && links_[std::size_t(l->id)] == l) {
    fx.room.expires_at(Clock::time_point::max());
    std::error_code ec;
    co_await fx.room.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void Net::closed_by_peer(const std::shared_ptr<Link>& l) {
  auto& fx = l->fx;
  const auto f = faults_for(l->local_ip);
  if (!f.shapes() && fx.held.empty() && !fx.delivering) return peer_closed(l);
  // The FIN travels behind the data: CLOSED comes after the last +IPD.
  fx.held.push_back({Clock::now() + std::chrono::milliseconds(f.latency_ms), {}, {}, 0, true});
  if (!fx.delivering) {
    fx.delivering = true;
    fx.line.start([this, l](async::StopToken stop) { return deliver_held(l, stop); });
  }
}

asio::awaitable<void> Net::deliver_held(std::shared_ptr<Link> l, async::StopToken stop) {
  auto& fx = l->fx;
  while (!fx.held.empty()) {
    const auto due = fx.held.front().due;
    if (due > Clock::now()) co_await stop.sleep(io_, due - Clock::now());
    auto item = std::move(fx.held.front());
    fx.held.pop_front();
    fx.held_bytes -= item.data.size();
    fx.room.cancel();
    if (item.close) {
      fx.delivering = false;
      peer_closed(l);
      co_return;
    }
    co_await deliver(l, std::move(item.data), std::move(item.ip), item.port);
    stop.throw_if_requested();
  }
  fx.delivering = false;
}

// ---- from outside ---------------------------------------------------------------------------

std::vector<Net::LinkReport> Net::link_reports() const {
  std::vector<LinkReport> v;
  for (const auto& l : links_)
    if (l)
      v.push_back({{l->id, l->type_name(), l->remote_ip.to_string(), l->remote_port, l->local_port, l->server_side},
                   l->local_ip.to_string(),
                   l->fx.sent,
                   l->fx.received,
                   l->fx.stalled});
  return v;
}

std::pair<int, std::string> Net::link_action(int id, std::string_view action) {
  if (!in_use(id)) return {404, fmt::format("no link {}", id)};
  auto l = links_[std::size_t(id)];
  if (l->kind == LinkKind::Udp) return {409, fmt::format("link {} is UDP: there is no connection to {}", id, action)};
  if (l->peer_gone) return {409, fmt::format("link {} is closed already (its data waits to be read)", id)};
  if (action == "reset") {
    link_event(*l, "reset from outside");
    std::error_code ec;
    l->stream->socket().set_option(asio::socket_base::linger(true, 0), ec);  // close sends an RST
    l->close_sockets();
    peer_closed(l);  // what a reset from the peer prints
  } else if (action == "stall") {
    l->fx.stalled = true;
    link_event(*l, "stalled (the peer stops reading)");
  } else if (action == "resume") {
    l->fx.stalled = false;
    l->fx.resumed.cancel();
    link_event(*l, "resumed");
  } else {
    return {404, fmt::format("no action \"{}\"", action)};
  }
  return {200, {}};
}

}  // namespace espat::module
