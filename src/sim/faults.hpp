// Network faults (BRIEF "Faults on demand"; README "Network faults"): what an AP does to the
// traffic of the stations joined to it, and what a module's own link to the world does. The
// module's TCP/IP applies them to its links (module/net_faults.cpp).
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace espat::sim {

struct NetFaults {
  int latency_ms = 0;             // added to every send and every delivery, each way
  std::int64_t bandwidth = 0;     // bytes per second each way; 0: unlimited
  double udp_loss = 0;            // 0..1: the share of datagrams lost, each way
  bool dns_fail = false;          // name lookups fail (IP literals still work)
  bool refuse = false;            // TCP/SSL connects are refused, and so are the server's clients

  bool any() const { return latency_ms > 0 || bandwidth > 0 || udp_loss > 0 || dns_fail || refuse; }
  bool shapes() const { return latency_ms > 0 || bandwidth > 0; }  // delays or paces bytes
  bool operator==(const NetFaults&) const = default;

  // "latency_ms=50 bandwidth=2000 udp_loss=0.5 dns_fail refuse", "none": the trace's words.
  std::string describe() const {
    std::string s;
    auto add = [&s](const std::string& w) { s += (s.empty() ? "" : " ") + w; };
    if (latency_ms) add(fmt::format("latency_ms={}", latency_ms));
    if (bandwidth) add(fmt::format("bandwidth={}", bandwidth));
    if (udp_loss > 0) add(fmt::format("udp_loss={}", udp_loss));
    if (dns_fail) add("dns_fail");
    if (refuse) add("refuse");
    return s.empty() ? "none" : s;
  }
};

// The faults a link meets when its module's own faults and its AP's are both in its path: the
// two hops are in series, so delays add, the slower one sets the pace, a datagram must survive
// both, and either one failing names or refusing connections is enough.
inline NetFaults combine(const NetFaults& a, const NetFaults& b) {
  NetFaults r;
  r.latency_ms = a.latency_ms + b.latency_ms;
  r.bandwidth = a.bandwidth == 0 ? b.bandwidth : b.bandwidth == 0 ? a.bandwidth : std::min(a.bandwidth, b.bandwidth);
  r.udp_loss = 1 - (1 - a.udp_loss) * (1 - b.udp_loss);
  r.dns_fail = a.dns_fail || b.dns_fail;
  r.refuse = a.refuse || b.refuse;
  return r;
}

}  // namespace espat::sim
