// The module's SNTP client (spec 3.3.20-3.3.22): asks the configured servers (or the
// firmware's defaults) from the module's own address, sets the clock AT+CIPSNTPTIME? and
// AT+SYSTIMESTAMP read, and prints +TIME_UPDATED each time it does.
#include <asio/ip/udp.hpp>
#include <spdlog/spdlog.h>

#include "module/context.hpp"
#include "module/net.hpp"
#include "net/sntp.hpp"

namespace espat::module {

namespace {
using namespace std::chrono_literals;
const std::vector<std::string> kDefaultServers = {"cn.ntp.org.cn", "ntp.sjtu.edu.cn", "us.pool.ntp.org"};
constexpr auto kQueryTimeout = 2s;
constexpr auto kRetry = 15s;  // after every server failed
}  // namespace

void Net::restart_sntp() {
  sntp_synced_ = false;
  if (!s_.sntp_enable) return sntp_.stop();
  sntp_.start([this](async::StopToken stop) { return sntp_loop(stop); });
}

asio::awaitable<void> Net::sntp_loop(async::StopToken stop) {
  for (;;) {
    bool updated = false;
    const auto& servers = s_.sntp_servers.empty() ? kDefaultServers : s_.sntp_servers;
    for (const auto& name : std::vector<std::string>(servers)) {
      if (!has_address()) break;
      auto ip = co_await resolve(name, false, stop);
      if (!ip) continue;
      auto local = local_address_for(*ip);
      asio::ip::udp::endpoint server{*ip, std::uint16_t(ctx_.world().sntp_port)};
      std::optional<net::SntpReply> reply;
      try {
        reply = co_await net::sntp_query(io_, server, local, kQueryTimeout);
      } catch (const std::system_error& e) {
        spdlog::info("SNTP {}: {}", name, e.what());
      }
      stop.throw_if_requested();
      if (!reply) continue;
      ctx_.set_now(reply->unix_seconds);
      ctx_.engine().report("+TIME_UPDATED\r\n");
      updated = sntp_synced_ = true;
      break;
    }
    co_await stop.sleep(io_, updated ? std::chrono::seconds(s_.sntp_interval) : std::chrono::seconds(kRetry));
  }
}

}  // namespace espat::module
