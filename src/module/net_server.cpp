// The module's TCP server (spec 3.3.16-3.3.19): listens on each address the module has, gives
// each client a link id, refuses clients past AT+CIPSERVERMAXCONN, closes idle ones after
// AT+CIPSTO.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "module/context.hpp"
#include "module/link.hpp"
#include "module/net.hpp"
#include "module/pki.hpp"
#include "net/tcp_stream.hpp"
#include "net/tls.hpp"

namespace espat::module {

struct Net::Server {
  struct Listener {
    asio::ip::address addr;
    std::shared_ptr<asio::ip::tcp::acceptor> acceptor;
    std::unique_ptr<async::Activity> loop;
  };
  std::vector<Listener> listeners;
};

namespace {
std::shared_ptr<asio::ip::tcp::acceptor> listen_on(asio::io_context& io, const asio::ip::address& a, int port,
                                                   std::error_code& ec) {
  auto acc = std::make_shared<asio::ip::tcp::acceptor>(io);
  acc->open(a.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && a.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
  if (!ec) acc->bind({a, std::uint16_t(port)}, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  return acc;
}
}  // namespace

bool Net::start_server(ServerSpec spec) {
  if (spec.kind == LinkKind::Ssl && !ssl_server_options(ctx_, spec.ca)) return false;  // certificates first
  server_ = spec;
  srv_ = std::make_shared<Server>();
  address_gained();
  const auto addrs = own_addresses();
  const bool reachable = std::any_of(addrs.begin(), addrs.end(), [&](const auto& a) { return !refused(a); });
  if (srv_->listeners.empty() && reachable) {  // every bind failed: port in use
    stop_server(false);
    return false;
  }
  return true;
}

void Net::stop_server(bool close_clients) {
  if (srv_)
    for (auto& l : srv_->listeners) {
      l.loop->stop();
      std::error_code ec;
      l.acceptor->close(ec);
    }
  srv_.reset();
  server_.reset();
  if (close_clients)
    for (int i = 0; i < links_count_; ++i)
      if (links_[std::size_t(i)] && links_[std::size_t(i)]->server_side) drop(i, true);
}

void Net::address_gained() {
  if (s_.sntp_enable && !sntp_synced_) restart_sntp();  // the first query needs an address
  if (!srv_) return;
  auto addrs = own_addresses();
  // An IPv6 server listens on the host's IPv6 addresses (see Net::start on v6 links).
  if (server_->v6 && !addrs.empty()) addrs = {asio::ip::address_v6::any()};
  // Listeners on addresses the module no longer has go; new addresses get one.
  std::erase_if(srv_->listeners, [&](Server::Listener& l) {
    if (std::find(addrs.begin(), addrs.end(), l.addr) != addrs.end() && !refused(l.addr)) return false;
    l.loop->stop();
    std::error_code ec;
    l.acceptor->close(ec);
    return true;
  });
  for (const auto& a : addrs) {
    if (a.is_v6() != server_->v6 || refused(a)) continue;  // network fault refuse: nobody listens
    if (std::any_of(srv_->listeners.begin(), srv_->listeners.end(), [&](auto& l) { return l.addr == a; })) continue;
    std::error_code ec;
    auto acc = listen_on(io_, a, server_->port, ec);
    if (ec) {
      spdlog::warn("AT+CIPSERVER: cannot listen on {}:{}: {}", a.to_string(), server_->port, ec.message());
      continue;
    }
    srv_->listeners.push_back({a, acc, std::make_unique<async::Activity>(io_)});
    srv_->listeners.back().loop->start([this, acc](async::StopToken stop) { return accept_loop(acc, stop); });
  }
}

asio::awaitable<void> Net::accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acc, async::StopToken stop) {
  for (;;) {
    std::error_code ec;
    asio::ip::tcp::socket s = co_await acc->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    stop.throw_if_requested();
    if (ec) co_return;
    accepted(std::move(s));
  }
}

void Net::accepted(asio::ip::tcp::socket s) {
  if (refuse_client(s)) return;  // network fault refuse
  if (server_->kind == LinkKind::Ssl) {
    auto opts = ssl_server_options(ctx_, server_->ca);
    if (!opts) return;
    // The handshake runs on its own; the client gets its link id once it is done.
    auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(s));
    asio::co_spawn(io_, [this, sock, o = *opts, srv = srv_]() -> asio::awaitable<void> {
      try {
        auto remote = sock->remote_endpoint(), local = sock->local_endpoint();
        auto stream = co_await net::tls_accept(std::move(*sock), o, std::chrono::seconds(10));
        if (srv_ != srv) co_return;  // the server was deleted meanwhile
        admit(std::move(stream), remote, local);
      } catch (const std::exception& e) {
        spdlog::info("AT+CIPSERVER: SSL client refused: {}", e.what());
      }
    }, asio::detached);
    return;
  }
  std::error_code ec;
  auto remote = s.remote_endpoint(ec);
  auto local = s.local_endpoint(ec);
  if (ec) return;
  admit(net::tcp_stream(std::move(s)), remote, local);
}

void Net::admit(std::unique_ptr<net::Stream> stream, asio::ip::tcp::endpoint remote, asio::ip::tcp::endpoint local) {
  int clients = 0;
  for (auto& l : links_)
    if (l && l->server_side) ++clients;
  auto id = free_id();
  if (!id || clients >= s_.server_max_conn) {  // 3.3.17: past the limit the client is refused
    stream->close();
    return;
  }
  auto l = make_link(*id, server_->kind, server_->v6, true);
  l->remote_ip = remote.address();
  l->remote_port = remote.port();
  l->local_ip = local.address();
  l->local_port = local.port();
  l->stream = std::move(stream);
  attach(l);
}

void Net::arm_idle_timer(const std::shared_ptr<Link>& l) {
  l->idle.start([this, l](async::StopToken stop) -> asio::awaitable<void> {
    for (;;) {
      if (s_.server_timeout == 0) {  // 3.3.19: 0 never times out; look again later
        co_await stop.sleep(io_, std::chrono::seconds(1));
        continue;
      }
      const auto deadline = l->last_traffic + std::chrono::seconds(s_.server_timeout);
      if (std::chrono::steady_clock::now() >= deadline) {
        if (links_[std::size_t(l->id)] == l) drop(l->id, true);
        co_return;
      }
      co_await stop.sleep(io_, deadline - std::chrono::steady_clock::now());
    }
  });
}

}  // namespace espat::module
