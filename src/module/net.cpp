#include "module/net.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "module/context.hpp"
#include "module/link.hpp"
#include "module/wifi.hpp"
#include "module/pki.hpp"
#include "net/dns.hpp"
#include "net/tcp_stream.hpp"
#include "net/tls.hpp"

namespace espat::module {

namespace {
using namespace std::chrono_literals;
constexpr auto kConnectTimeout = 10s;  // spec 3.3.6 note: SSL gets 10 s per handshake packet
constexpr auto kResolveTimeout = 5s;
constexpr auto kDnsTimeout = 2s;  // per server of AT+CIPDNS

asio::ip::address_v4 to_asio(sim::Ipv4 a) { return asio::ip::address_v4(a.v); }
}  // namespace

Net::Net(asio::io_context& io, Context& ctx, int links)
    : io_(io), ctx_(ctx), links_count_(std::clamp(links, 1, kMaxLinks)), pt_reconnect_(io), sntp_(io) {
  s_ = defaults();
  links_.resize(std::size_t(links_count_));
}

Net::~Net() { stop(); }

NetSettings Net::defaults() const {
  NetSettings s;
  s.recv_mode.assign(std::size_t(links_count_), 0);
  s.tcp.assign(std::size_t(links_count_), TcpOptions{});
  s.ssl.assign(std::size_t(links_count_), SslClientConfig{});
  s.server_max_conn = links_count_;
  return s;
}

void Net::stop() {
  had_links_ = false;
  pt_reconnect_.stop();
  sntp_.stop();
  stop_server(false);
  for (auto& l : links_)
    if (l) {
      l->reader.stop();
      l->idle.stop();
      l->close_sockets();
      l.reset();
    }
  last_start_.reset();
}

// ---- the link table ------------------------------------------------------------------------

bool Net::in_use(int id) const { return id >= 0 && id < links_count_ && links_[std::size_t(id)]; }

std::optional<int> Net::free_id() const {
  for (int i = 0; i < links_count_; ++i)
    if (!links_[std::size_t(i)]) return i;
  return std::nullopt;
}

bool Net::any_link() const {
  for (auto& l : links_)
    if (l) return true;
  return false;
}

bool Net::is_udp(int id) const { return in_use(id) && links_[std::size_t(id)]->kind == LinkKind::Udp; }

std::vector<LinkInfo> Net::link_infos() const {
  std::vector<LinkInfo> v;
  for (auto& l : links_)
    if (l && !l->peer_gone)
      v.push_back({l->id, l->type_name(), l->remote_ip.to_string(), l->remote_port, l->local_port, l->server_side});
  return v;
}

std::shared_ptr<Link> Net::make_link(int id, LinkKind kind, bool v6, bool server_side) {
  auto l = std::make_shared<Link>(io_);
  l->id = id;
  l->kind = kind;
  l->v6 = v6;
  l->server_side = server_side;
  return l;
}

void Net::attach(const std::shared_ptr<Link>& l) {
  links_[std::size_t(l->id)] = l;
  had_links_ = true;
  apply_tcp_options(l->id);
  report_connect(*l);
  link_event(*l, "connect");
  start_reader(l);
  if (l->server_side) arm_idle_timer(l);
}

void Net::drop(int id, bool report) {
  auto l = std::move(links_[std::size_t(id)]);
  if (!l) return;
  l->reader.stop();
  l->idle.stop();
  l->close_sockets();
  link_event(*l, "closed");
  if (report) status(s_.mux ? fmt::format("{},CLOSED\r\n", id) : std::string("CLOSED\r\n"));
}

bool Net::close(int id) {
  if (!in_use(id)) return false;
  drop(id, true);
  return true;
}

void Net::status(std::string line) {
  auto& e = ctx_.engine();
  // 3.1.15: connection reports reach the host during passthrough only with AT+SYSMSG bit 2.
  if (e.in_passthrough() && !(ctx_.state().sysmsg & 4)) return;
  e.report(std::move(line));
}

void Net::report_connect(const Link& l) {
  if (ctx_.state().sysmsg & 2)  // 3.1.15 bit 1: the detailed form instead
    return status(fmt::format("+LINK_CONN:0,{},\"{}\",{},\"{}\",{},{}\r\n", l.id, l.type_name(), l.server_side ? 1 : 0,
                              l.remote_ip.to_string(), l.remote_port, l.local_port));
  status(s_.mux ? fmt::format("{},CONNECT\r\n", l.id) : std::string("CONNECT\r\n"));
}

// ---- addresses -----------------------------------------------------------------------------

std::vector<asio::ip::address> Net::own_addresses() const {
  std::vector<asio::ip::address> v;
  auto& w = ctx_.wifi();
  if (w.station_on() && w.link()) v.push_back(to_asio(w.station_ip().ip));
  if (w.softap_on()) v.push_back(to_asio(w.settings().ap_ip.ip));
  return v;
}

std::optional<asio::ip::address> Net::local_address_for(const asio::ip::address& remote) const {
  auto& w = ctx_.wifi();
  const bool sta = w.station_on() && w.link();
  if (w.softap_on() && remote.is_v4()) {
    const auto& ap = w.settings().ap_ip;
    if (sim::Subnet{ap.ip, ap.netmask}.contains(sim::Ipv4{remote.to_v4().to_uint()}) || !sta) return to_asio(ap.ip);
  }
  if (sta) return to_asio(w.station_ip().ip);
  return std::nullopt;
}

asio::awaitable<std::optional<asio::ip::address>> Net::resolve(const std::string& host, bool v6, async::StopToken stop) {
  std::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) co_return literal;
  if (names_fail(host)) co_return std::nullopt;  // network fault dns_fail
  // BRIEF "Network model": the world's names (and its mDNS hosts) first, then the host's.
  if (!v6)
    if (auto a = ctx_.world().resolve(host)) co_return to_asio(*a);
  // AT+CIPDNS=1 (3.3.37): the servers set there answer, in order, and nothing else does.
  if (s_.dns_manual && !s_.dns.empty()) {
    for (const auto& server : s_.dns) {
      auto ip = asio::ip::make_address(server, ec);
      if (ec) continue;
      std::optional<asio::ip::address> a;
      try {
        a = co_await net::dns_lookup(io_, {ip, std::uint16_t(ctx_.world().dns_port)}, local_address_for(ip), host, v6,
                                     kDnsTimeout);
      } catch (const std::system_error&) {
      }
      stop.throw_if_requested();
      if (a) co_return a;
    }
    co_return std::nullopt;
  }
  asio::ip::tcp::resolver r(io_);
  auto lookup = [&]() -> asio::awaitable<asio::ip::tcp::resolver::results_type> {
    co_return co_await r.async_resolve(host, "", asio::redirect_error(asio::use_awaitable, ec));
  };
  auto results = co_await stop.race(io_, lookup(), kResolveTimeout);
  if (!results || ec) co_return std::nullopt;
  for (const auto& e : *results)
    if (e.endpoint().address().is_v6() == v6) co_return e.endpoint().address();
  co_return std::nullopt;
}

std::vector<std::string> Net::dns_servers() const {
  if (s_.dns_manual && !s_.dns.empty()) return s_.dns;
  auto& w = ctx_.wifi();
  std::vector<std::string> v;
  if (!s_.dns_manual && w.link())
    for (const auto& d : w.link()->lease.dns) v.push_back(d.str());
  if (v.empty()) v = {"208.67.222.222", "8.8.8.8"};  // 3.3.37: the firmware's defaults
  return v;
}

// ---- AT+CIPSTART ---------------------------------------------------------------------------

asio::awaitable<Net::StartOutcome> Net::start(int id, StartRequest r, async::StopToken stop) {
  if (r.keep_alive) s_.tcp[std::size_t(id)].keep_alive = *r.keep_alive;
  auto remote = co_await resolve(r.host, r.v6, stop);
  if (!remote) co_return StartOutcome{false, "cannot resolve " + r.host};
  std::optional<asio::ip::address> local;
  if (!r.local_ip.empty()) {
    std::error_code ec;
    local = asio::ip::make_address(r.local_ip, ec);
    if (ec) co_return StartOutcome{false, "bad local IP " + r.local_ip};
  } else if (!r.v6) {
    local = local_address_for(*remote);
  }
  // IPv6: the module's only own addresses are link-local ones loopback cannot bind, so a v6
  // link leaves from the host's choice (::1 toward a loopback peer) once the module is on a
  // network.
  if (!local && !(r.v6 && has_address())) co_return StartOutcome{false, "the module has no IP address"};
  if (in_use(id)) co_return StartOutcome{false, "link in use"};
  if (r.kind != LinkKind::Udp &&
      connect_refused(local.value_or(asio::ip::address()), fmt::format("{}:{}", remote->to_string(), r.port)))
    co_return StartOutcome{false, "connection refused (network fault)"};
  auto l = make_link(id, r.kind, r.v6, false);
  l->remote_ip = *remote;
  l->remote_port = r.port;
  if (local) l->local_ip = *local;
  try {
    if (r.kind == LinkKind::Udp) {
      l->udp = std::make_unique<asio::ip::udp::socket>(io_);
      l->udp->open(remote->is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4());
      l->udp->set_option(asio::ip::udp::socket::reuse_address(true));
      if (remote->is_v4() && remote->to_v4() == asio::ip::address_v4::broadcast())
        l->udp->set_option(asio::socket_base::broadcast(true));
      l->udp->bind({local ? *local : asio::ip::address(asio::ip::address_v6::any()), std::uint16_t(r.local_port)});
      l->local_port = l->udp->local_endpoint().port();
      l->udp_mode = r.udp_mode;
    } else {
      asio::ip::tcp::socket sock(io_);
      sock.open(remote->is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4());
      if (local) sock.bind({*local, 0});
      std::error_code ec;
      auto connect = [&]() -> asio::awaitable<bool> {
        co_await sock.async_connect({*remote, std::uint16_t(r.port)}, asio::redirect_error(asio::use_awaitable, ec));
        co_return true;
      };
      if (!co_await stop.race(io_, connect(), kConnectTimeout)) co_return StartOutcome{false, "connect timeout"};
      if (ec) co_return StartOutcome{false, ec.message()};
      l->local_port = sock.local_endpoint().port();
      if (r.kind == LinkKind::Ssl) {
        // A verification failure is an error, never a silent insecure link (3.3.26).
        auto opts = ssl_client_options(ctx_, s_.ssl[std::size_t(id)], r.host);
        if (!opts) co_return StartOutcome{false, "a certificate, key or CA is missing from mfg_nvs"};
        l->stream = co_await net::tls_connect(std::move(sock), *opts, kConnectTimeout);
        stop.throw_if_requested();
      } else {
        l->stream = net::tcp_stream(std::move(sock));
      }
    }
  } catch (const std::system_error& e) {
    co_return StartOutcome{false, e.what()};
  } catch (const net::TlsError& e) {
    co_return StartOutcome{false, e.what()};
  }
  if (in_use(id)) co_return StartOutcome{false, "link in use"};  // taken while connecting
  last_start_ = r;
  attach(l);
  co_return StartOutcome{true, {}};
}

// ---- sending -------------------------------------------------------------------------------

asio::awaitable<SendResult> Net::send(int id, std::string data, std::optional<std::pair<std::string, int>> to,
                                      async::StopToken stop) {
  if (!in_use(id)) co_return SendResult::LinkGone;
  auto l = links_[std::size_t(id)];
  const auto& opt = s_.tcp[std::size_t(id)];
  const auto timeout = opt.sndtimeo_ms > 0 ? std::chrono::milliseconds(opt.sndtimeo_ms)
                                           : std::chrono::milliseconds(kDefaultSendTimeout);
  l->last_traffic = std::chrono::steady_clock::now();
  if (l->kind == LinkKind::Udp) {
    asio::ip::udp::endpoint dest{l->remote_ip, std::uint16_t(l->remote_port)};
    if (to) {
      auto ip = co_await resolve(to->first, l->v6, stop);
      if (!ip) co_return SendResult::Fail;
      dest = {*ip, std::uint16_t(to->second)};
    }
    if (!co_await outgoing(l, data.size(), stop)) co_return SendResult::Ok;  // lost on the way (udp_loss)
    std::error_code ec;
    l->udp->send_to(asio::buffer(data), dest, 0, ec);  // a datagram never waits
    co_return ec ? SendResult::Fail : SendResult::Ok;
  }
  co_await outgoing(l, data.size(), stop);  // the latency, outside SO_SNDTIMEO
  auto done = co_await stop.race(io_, shaped_write(l, std::move(data)), timeout);
  if (!done) co_return SendResult::Fail;  // the peer stopped reading: SO_SNDTIMEO ran out
  co_return *done ? SendResult::Ok : SendResult::LinkGone;
}

asio::awaitable<bool> Net::write_all(std::shared_ptr<Link> l, std::string data) {
  try {
    co_await l->stream->write(data);
  } catch (const std::system_error&) {
    co_return false;
  }
  co_return true;
}

// ---- socket options (AT+CIPTCPOPT, keep-alive) -----------------------------------------------

void Net::apply_tcp_options(int id) {
  if (!in_use(id)) return;
  auto& l = links_[std::size_t(id)];
  if (!l->stream) return;
  const auto& o = s_.tcp[std::size_t(id)];
  auto& s = l->stream->socket();
  std::error_code ec;
  s.set_option(asio::socket_base::linger(o.linger >= 0, o.linger >= 0 ? o.linger : 0), ec);
  s.set_option(asio::ip::tcp::no_delay(o.nodelay != 0), ec);
  s.set_option(asio::socket_base::keep_alive(o.keep_alive > 0), ec);
  if (o.keep_alive > 0) {  // 3.3.6: TCP_KEEPIDLE <keep_alive>, TCP_KEEPINTVL 1, TCP_KEEPCNT 3
    int idle = o.keep_alive, intvl = 1, cnt = 3;
    ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  }
}

// ---- addresses come and go -----------------------------------------------------------------

void Net::address_lost(const asio::ip::address& addr) {
  had_links_ = false;  // a new address starts AT+CIPSTATUS from 2 again
  for (int i = 0; i < links_count_; ++i)
    if (auto& l = links_[std::size_t(i)]; l && (l->local_ip == addr || (l->v6 && !has_address()))) drop(i, true);
  address_gained();  // the server listens where the module still has an address
}

}  // namespace espat::module
