#include "net/dns.hpp"

#include <random>
#include <variant>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "net/dns_message.hpp"

namespace espat::net {

namespace {
asio::awaitable<std::optional<asio::ip::address>> await_answer(asio::ip::udp::socket& s, asio::ip::udp::endpoint server,
                                                               std::uint16_t id, bool v6) {
  std::vector<std::uint8_t> buf(1500);
  for (;;) {
    asio::ip::udp::endpoint from;
    std::error_code ec;
    std::size_t n = co_await s.async_receive_from(asio::buffer(buf), from, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    if (from != server) continue;
    auto a = dns_answer({buf.data(), n}, id, v6);
    if (!a) continue;
    auto* addr = std::get_if<DnsAddress>(&*a);
    if (!addr) co_return std::nullopt;
    if (v6) {
      asio::ip::address_v6::bytes_type b;
      std::copy(addr->bytes.begin(), addr->bytes.end(), b.begin());
      co_return asio::ip::address(asio::ip::address_v6(b));
    }
    asio::ip::address_v4::bytes_type b;
    std::copy(addr->bytes.begin(), addr->bytes.end(), b.begin());
    co_return asio::ip::address(asio::ip::address_v4(b));
  }
}

asio::awaitable<void> expire(asio::io_context& io, std::chrono::milliseconds d) {
  asio::steady_timer t(io, d);
  std::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}
}  // namespace

asio::awaitable<std::optional<asio::ip::address>> dns_lookup(asio::io_context& io, asio::ip::udp::endpoint server,
                                                             std::optional<asio::ip::address> local, std::string name,
                                                             bool v6, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  static thread_local std::mt19937 rng{std::random_device{}()};
  const auto id = std::uint16_t(rng());
  const auto query = dns_query(id, name, v6);
  if (query.empty()) co_return std::nullopt;
  asio::ip::udp::socket s(io, server.address().is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4());
  if (local && local->is_v6() == server.address().is_v6()) s.bind({*local, 0});
  std::error_code ec;
  s.send_to(asio::buffer(query), server, 0, ec);
  if (ec) co_return std::nullopt;
  auto r = co_await (await_answer(s, server, id, v6) || expire(io, timeout));
  if (r.index() == 0) co_return std::get<0>(r);
  co_return std::nullopt;
}

}  // namespace espat::net
