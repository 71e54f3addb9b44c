// AT+PING (spec 3.3.36): one real ICMP or ICMPv6 echo request and its reply.
#pragma once
#include <chrono>
#include <optional>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

namespace espat::net {

// Sends one echo request to `target` (ICMP for IPv4, ICMPv6 for IPv6) from (`local`, 0) when
// given, and returns the round trip once the matching echo reply arrives. nullopt when none came
// within `timeout`, or at once when the kernel reports the target unreachable (no route, a
// host- or network-unreachable error): AT+PING prints +PING:TIMEOUT for both.
//
// The socket is an unprivileged ICMP datagram socket when net.ipv4.ping_group_range includes the
// process's group (the kernel then sets the identifier, so the reply is matched by sequence and
// payload), else a raw socket (root or CAP_NET_RAW; matched by identifier, sequence and
// payload). Throws std::system_error when neither can be opened, or `local` cannot be bound.
//
// Printing: the spec gives <time> in milliseconds, and the firmware prints whole ones. Its AT
// core is closed, but ESP-IDF's ping component (ping_sock.c), which it most likely uses, measures
// gettimeofday() differences truncated to whole ms, so a sub-millisecond loopback round trip
// would print +PING:0. The caller should print duration_cast<milliseconds>(rtt).count()
// (truncation), not round up.
asio::awaitable<std::optional<std::chrono::microseconds>> ping(asio::io_context& io, asio::ip::address target,
                                                               std::optional<asio::ip::address> local,
                                                               std::chrono::milliseconds timeout);

}  // namespace espat::net
