#include "sim/host_net.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>
#include <string>

namespace espat::sim {

namespace {
struct DefaultRoute {
  std::string iface;
  Ipv4 gateway;
};

// /proc/net/route: destination 0 is the default route; addresses are little-endian hex.
std::optional<DefaultRoute> default_route() {
  std::ifstream f("/proc/net/route");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string iface, dest, gw;
    if (!(in >> iface >> dest >> gw) || dest != "00000000") continue;
    std::uint32_t g = std::uint32_t(std::stoul(gw, nullptr, 16));
    return DefaultRoute{iface, Ipv4{ntohl(g)}};
  }
  return std::nullopt;
}

std::vector<Ipv4> resolvers() {
  std::vector<Ipv4> v;
  std::ifstream f("/etc/resolv.conf");
  std::string word, addr;
  while (f >> word)
    if (word == "nameserver" && f >> addr)
      if (auto a = Ipv4::parse(addr)) v.push_back(*a);
  return v;
}
}  // namespace

std::optional<Lease> host_lease() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  const auto route = default_route();
  std::optional<Lease> best;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
      continue;
    Lease l;
    l.ip = Ipv4{ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr)};
    if (i->ifa_netmask) l.netmask = Ipv4{ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr)};
    const bool on_route = route && route->iface == i->ifa_name;
    if (on_route) l.gateway = route->gateway;
    if (!best || on_route) best = l;
    if (on_route) break;
  }
  ::freeifaddrs(list);
  if (best) best->dns = resolvers();
  return best;
}

}  // namespace espat::sim
