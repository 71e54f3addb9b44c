#include "peers.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <regex>
#include <thread>

#include "process.hpp"

namespace espat::e2e {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr Millis kSendStall{10000};   // peer_send: the module reads nothing for this long
constexpr Millis kMoreContext{150};   // after a mismatch, collect a little more for the message
constexpr std::size_t kChunk = 65536;
constexpr std::size_t kEndDrain = 1 << 20;  // at the end, read at most this much per peer

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

// Escaped, and shortened for the conversation log.
std::string shown(std::string_view bytes) {
  constexpr std::size_t kMax = 200;
  if (bytes.size() <= kMax) return escape(bytes);
  return escape(bytes.substr(0, kMax)) + "... (" + std::to_string(bytes.size()) + " bytes)";
}

std::string address(const sockaddr_in& a) {
  char host[INET_ADDRSTRLEN] = "?";
  ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
}

sockaddr_in loopback_any_port() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

sockaddr_in local_address(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a;
}

int parse_port(const std::string& what, const std::string& text) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1 || v > 65535)
    throw PeerError(what + ": the port " + escape(text) + " is not 1..65535");
  return v;
}

sockaddr_in resolve(const std::string& what, const std::string& host, int port, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = socktype;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res) throw PeerError(what + ": cannot resolve " + escape(host) + ": " + ::gai_strerror(rc));
  sockaddr_in a{};
  std::memcpy(&a, res->ai_addr, sizeof a);
  ::freeaddrinfo(res);
  a.sin_port = htons(std::uint16_t(port));
  return a;
}

int open_socket(const std::string& what, int type) {
  int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw PeerError(sys_error(what + ": socket"));
  return fd;
}

// A socket bound to 127.0.0.1 with an ephemeral port; a listener for TCP.
int bound_socket(const std::string& what, int type) {
  int fd = open_socket(what, type);
  sockaddr_in a = loopback_any_port();
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 16) != 0)) {
    std::string e = sys_error(what + ": bind/listen on 127.0.0.1");
    ::close(fd);
    throw PeerError(e);
  }
  return fd;
}

std::string ms(Millis d) { return std::to_string(d.count()) + " ms"; }

std::size_t first_difference(std::string_view a, std::string_view b) {
  std::size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
  return k;
}

}  // namespace

Peers::Peers(std::function<void()> tick, std::function<void(const std::string&)> note)
    : tick_(std::move(tick)), note_(std::move(note)) {}

Peers::~Peers() { close_all(); }

void Peers::note(const std::string& line) const {
  if (note_) note_(line);
}

// ---- placeholders ---------------------------------------------------------------------------

std::string Peers::expand(const std::string& text, const std::vector<Ref>& refs) const {
  std::string out = text;
  for (auto it = refs.rbegin(); it != refs.rend(); ++it) {  // from the end: positions stay valid
    const Ref& r = *it;
    const std::string placeholder = "${" + r.name + (r.peer_port ? ".peer_port" : "") + "}";
    auto p = peers_.find(r.name);
    if (p == peers_.end())
      throw PeerError(placeholder + ": there is no peer " + r.name +
                      " (yet): tcp_listen, tcp_connect or udp_bind opens one");
    int port = r.peer_port ? p->second.remote_port : p->second.local_port;
    if (port == 0)
      throw PeerError(placeholder + ": " + r.name +
                      (p->second.udp ? " has received no datagram yet" : " has had no connection yet"));
    out.replace(r.pos, r.len, std::to_string(port));
  }
  return out;
}

Step Peers::expand(const Step& s) const {
  Step x = s;
  x.bytes = expand(s.bytes, s.refs);
  x.path = expand(s.path, s.path_refs);
  x.port = expand(s.port, s.port_refs);
  x.refs.clear();
  x.path_refs.clear();
  x.port_refs.clear();
  return x;
}

std::string Peers::substitute_known(std::string word) const {
  for (const auto& [name, p] : peers_) {
    const std::string k = "${" + name + "}";
    if (!p.local_port) continue;
    for (std::size_t at; (at = word.find(k)) != std::string::npos;) word.replace(at, k.size(), std::to_string(p.local_port));
  }
  return word;
}

// ---- steps ----------------------------------------------------------------------------------

void Peers::run(const Step& s) {
  using K = Step::Kind;
  switch (s.kind) {
    case K::TcpListen: return listen(s);
    case K::UdpBind: return bind_udp(s);
    case K::TcpAccept: return accept(s);
    case K::TcpConnect: return connect(s);
    case K::PeerSend: return send(s);
    case K::UdpSend: return udp_send(s);
    case K::PeerExpect: return expect(s);
    case K::PeerMatch: return match(s);
    case K::PeerSilence: return silence(s);
    case K::PeerClose: return close(s, false);
    case K::PeerReset: return close(s, true);
    case K::PeerClosed: return closed(s);
    default: throw PeerError("not a peer step");
  }
}

Peers::Peer& Peers::get(const std::string& name) {
  auto it = peers_.find(name);
  if (it == peers_.end()) throw PeerError("there is no peer " + name + " (yet)");
  return it->second;
}

void Peers::listen(const Step& s) {
  if (peers_.count(s.peer)) throw PeerError("tcp_listen: " + s.peer + " is already a peer");
  Peer p;
  p.listener = bound_socket("tcp_listen " + s.peer, SOCK_STREAM);
  p.local_port = ntohs(local_address(p.listener).sin_port);
  note("tcp_listen " + s.peer + ": listening on " + address(local_address(p.listener)));
  peers_.emplace(s.peer, std::move(p));
}

void Peers::bind_udp(const Step& s) {
  if (peers_.count(s.peer)) throw PeerError("udp_bind: " + s.peer + " is already a peer");
  Peer p;
  p.udp = true;
  p.fd = bound_socket("udp_bind " + s.peer, SOCK_DGRAM);
  p.local_port = ntohs(local_address(p.fd).sin_port);
  note("udp_bind " + s.peer + ": bound to " + address(local_address(p.fd)));
  peers_.emplace(s.peer, std::move(p));
}

void Peers::drop_connection(Peer& p) {
  if (p.fd >= 0) ::close(p.fd);
  p.fd = -1;
  p.buf.clear();
  p.eof = p.shut = false;
}

void Peers::accept(const Step& s) {
  const std::string what = "tcp_accept " + s.peer;
  Peer& p = get(s.peer);
  if (p.listener < 0) throw PeerError(what + ": " + s.peer + " is not a listener");
  const auto deadline = Clock::now() + scaled(s.duration);
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    int fd = ::accept4(p.listener, reinterpret_cast<sockaddr*>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (p.fd >= 0) note(s.peer + ": the previous connection is closed");
      drop_connection(p);
      p.fd = fd;
      p.remote_port = ntohs(from.sin_port);
      note(what + ": a connection from " + address(from));
      return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
      throw PeerError(sys_error(what + ": accept"));
    if (!wait_for(p.listener, POLLIN, deadline))
      throw PeerError(what + ": no connection came within " + ms(scaled(s.duration)) + " (listening on port " +
                      std::to_string(p.local_port) + ")");
  }
}

void Peers::connect(const Step& s) {
  const std::string what = "tcp_connect " + s.peer;
  auto it = peers_.find(s.peer);
  if (it != peers_.end() && (it->second.udp || it->second.listener >= 0))
    throw PeerError(what + ": " + s.peer + " is already a listener or a UDP socket");
  const int port = parse_port(what, s.port);
  const sockaddr_in to = resolve(what, s.host, port, SOCK_STREAM);
  const std::string target = s.host + ":" + std::to_string(port);
  const auto deadline = Clock::now() + scaled(s.duration);
  int fd = open_socket(what, SOCK_STREAM);
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (r != 0 && errno != EINPROGRESS) {
    std::string e = sys_error(what + ": " + target);
    ::close(fd);
    throw PeerError(e);
  }
  if (r != 0) {
    if (!wait_for(fd, POLLOUT, deadline)) {
      ::close(fd);
      throw PeerError(what + ": " + target + ": not connected within " + ms(scaled(s.duration)));
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      throw PeerError(what + ": " + target + ": " + std::strerror(err));
    }
  }
  Peer& p = peers_[s.peer];
  if (p.fd >= 0) note(s.peer + ": the previous connection is closed");
  drop_connection(p);
  p.fd = fd;
  p.local_port = ntohs(local_address(fd).sin_port);
  p.remote_port = port;
  note(what + ": connected from " + address(local_address(fd)) + " to " + target);
}

void Peers::send(const Step& s) {
  const std::string what = "peer_send " + s.peer;
  Peer& p = get(s.peer);
  if (p.udp) {
    if (!p.has_from)
      throw PeerError(what + ": " + s.peer + " has received no datagram yet, so there is no address to answer "
                      "(udp_send names one)");
    note(s.peer + " >> " + shown(s.bytes) + " to " + address(p.from));
    ssize_t n = ::sendto(p.fd, s.bytes.data(), s.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&p.from),
                         sizeof p.from);
    if (n != ssize_t(s.bytes.size())) throw PeerError(sys_error(what + ": sendto " + address(p.from)));
    return;
  }
  if (p.fd < 0) throw PeerError(what + ": " + s.peer + " has no open connection");
  if (p.shut) throw PeerError(what + ": " + s.peer + " has sent its FIN already (peer_close)");
  note(s.peer + " >> " + shown(s.bytes));
  std::string_view rest = s.bytes;
  auto deadline = Clock::now() + scaled(kSendStall);
  while (!rest.empty()) {
    ssize_t n = ::send(p.fd, rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      rest.remove_prefix(std::size_t(n));
      deadline = Clock::now() + scaled(kSendStall);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      throw PeerError(sys_error(what + ": the connection is gone (" + std::to_string(rest.size()) + " of " +
                                std::to_string(s.bytes.size()) + " bytes unsent)"));
    if (!wait_for(p.fd, POLLOUT, deadline))
      throw PeerError(what + ": the module read nothing for " + ms(scaled(kSendStall)) + " (" +
                      std::to_string(rest.size()) + " of " + std::to_string(s.bytes.size()) + " bytes unsent)");
  }
}

void Peers::udp_send(const Step& s) {
  const std::string what = "udp_send " + s.peer;
  Peer& p = get(s.peer);
  if (!p.udp) throw PeerError(what + ": " + s.peer + " is not a UDP socket");
  const sockaddr_in to = resolve(what, s.host, parse_port(what, s.port), SOCK_DGRAM);
  note(s.peer + " >> " + shown(s.bytes) + " to " + address(to));
  ssize_t n = ::sendto(p.fd, s.bytes.data(), s.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (n != ssize_t(s.bytes.size())) throw PeerError(sys_error(what + ": sendto " + address(to)));
}

// ---- receiving ------------------------------------------------------------------------------

bool Peers::wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    left = std::clamp(left, Millis(0), Millis(10));
    struct pollfd pf {fd, events, 0};
    int r = ::poll(&pf, 1, int(left.count()));
    if (r < 0 && errno != EINTR) throw PeerError(sys_error("poll"));
    if (tick_) tick_();
    if (r > 0) return true;
    if (Clock::now() >= deadline) return false;
  }
}

void Peers::pause(Millis d) {
  std::this_thread::sleep_for(d);
  if (tick_) tick_();
}

std::size_t Peers::read_tcp(const std::string& name, Peer& p, std::size_t max) {
  if (max == 0 || p.fd < 0 || p.eof) return 0;
  std::string chunk(std::min(max, kChunk), '\0');
  for (;;) {
    ssize_t n = ::recv(p.fd, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n > 0) {
      p.buf.append(chunk.data(), std::size_t(n));
      note(name + " << " + shown(std::string_view(chunk.data(), std::size_t(n))));
      return std::size_t(n);
    }
    if (n == 0 || errno == ECONNRESET) {
      p.eof = true;
      note(name + ": the module closed the connection (" + (n == 0 ? "FIN" : "RST") + ")");
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    throw PeerError(sys_error(name + ": recv"));
  }
}

bool Peers::read_udp(const std::string& name, Peer& p) {
  std::string d(kChunk, '\0');
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ssize_t n;
  do {
    n = ::recvfrom(p.fd, d.data(), d.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    // ECONNREFUSED: the ICMP answer to an earlier datagram to a closed port; nothing to read.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) return false;
    throw PeerError(sys_error(name + ": recvfrom"));
  }
  d.resize(std::size_t(n));
  p.from = from;
  p.has_from = true;
  p.remote_port = ntohs(from.sin_port);
  note(name + " << " + shown(d) + " from " + address(from));
  p.datagrams.push_back(std::move(d));
  return true;
}

bool Peers::next_datagram(const std::string& name, Peer& p, Clock::time_point deadline) {
  while (p.datagrams.empty()) {
    bool ready = wait_for(p.fd, POLLIN, deadline);
    if (!read_udp(name, p) && !ready) return false;
  }
  return true;
}

void Peers::more_context(const std::string& name, Peer& p) {
  if (p.udp || p.fd < 0) return;
  const auto deadline = Clock::now() + kMoreContext;
  while (!p.eof && wait_for(p.fd, POLLIN, deadline)) read_tcp(name, p, kChunk);
}

void Peers::expect(const Step& s) {
  const std::string what = "peer_expect " + s.peer;
  Peer& p = get(s.peer);
  const std::string& want = s.bytes;
  const auto deadline = Clock::now() + scaled(s.duration);
  const std::string timed_out = what + ": timed out after " + ms(scaled(s.duration));
  if (p.udp) {
    if (!next_datagram(s.peer, p, deadline))
      throw PeerError(timed_out + ": no datagram arrived\n  expected: " + escape(want));
    std::string got = std::move(p.datagrams.front());
    p.datagrams.pop_front();
    if (got != want)
      throw PeerError(what + ": the datagram differs (first difference at byte " +
                      std::to_string(first_difference(want, got)) + ")\n  expected: " + escape(want) +
                      "\n  received: " + escape(got));
    return;
  }
  if (p.fd < 0) throw PeerError(what + ": " + s.peer + " has no open connection");
  auto differs = [&] {
    std::size_t n = std::min(p.buf.size(), want.size());
    return p.buf.compare(0, n, want, 0, n) != 0;
  };
  for (;;) {
    if (differs()) {
      more_context(s.peer, p);
      throw PeerError(what + ": the received bytes differ (first difference at byte " +
                      std::to_string(first_difference(want, p.buf)) + ")\n  expected: " + escape(want) +
                      "\n  received: " + escape(p.buf));
    }
    if (p.buf.size() >= want.size()) {
      p.buf.erase(0, want.size());
      return;
    }
    if (p.eof)
      throw PeerError(what + ": the module closed the connection after " + std::to_string(p.buf.size()) +
                      " of the bytes\n  expected: " + escape(want) + "\n  received: " + escape(p.buf));
    // Read no more than the expectation needs: the rest stays in the kernel's buffers.
    if (wait_for(p.fd, POLLIN, deadline)) read_tcp(s.peer, p, want.size() - p.buf.size());
    else
      throw PeerError(timed_out + (p.buf.empty() ? "" : " (only part of it arrived)") +
                      "\n  expected: " + escape(want) + "\n  received: " + escape(p.buf));
  }
}

void Peers::match(const Step& s) {
  const std::string what = "peer_match " + s.peer;
  Peer& p = get(s.peer);
  std::regex re;
  try {
    re = std::regex(s.bytes, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw PeerError(what + ": bad regex " + escape(s.bytes) + ": " + e.what());
  }
  const auto deadline = Clock::now() + scaled(s.duration);
  const std::string timed_out = what + ": nothing matching the regex arrived within " + ms(scaled(s.duration));
  if (p.udp) {
    if (!next_datagram(s.peer, p, deadline))
      throw PeerError(timed_out + ": no datagram arrived\n  regex:    " + escape(s.bytes));
    std::string got = std::move(p.datagrams.front());
    p.datagrams.pop_front();
    if (!std::regex_match(got, re))
      throw PeerError(what + ": the datagram does not match the regex\n  regex:    " + escape(s.bytes) +
                      "\n  received: " + escape(got));
    return;
  }
  if (p.fd < 0) throw PeerError(what + ": " + s.peer + " has no open connection");
  // Peek, so that the bytes after the match stay in the kernel's buffers.
  std::string peeked(kChunk, '\0');
  std::smatch m;
  for (;;) {
    ssize_t n = p.eof ? 0 : ::recv(p.fd, peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
    std::string text = p.buf;
    if (n > 0) text.append(peeked.data(), std::size_t(n));
    if (std::regex_search(text, m, re, std::regex_constants::match_continuous) && m.length(0) > 0) {
      const std::size_t len = std::size_t(m.length(0));
      while (p.buf.size() < len && read_tcp(s.peer, p, len - p.buf.size()) > 0) {
      }
      p.buf.erase(0, std::min(len, p.buf.size()));
      return;
    }
    const bool closed = n == 0 || (n < 0 && errno == ECONNRESET);
    if (closed || Clock::now() >= deadline) {
      if (n > 0) read_tcp(s.peer, p, std::size_t(n));  // for the log and the message
      if (closed) read_tcp(s.peer, p, 1);
      throw PeerError((closed ? what + ": the module closed the connection before a match" : timed_out) +
                      "\n  regex:    " + escape(s.bytes) + "\n  received: " + escape(p.buf));
    }
    if (n > 0)
      pause(std::min(Millis(5), std::chrono::duration_cast<Millis>(deadline - Clock::now()) + 1ms));
    else
      wait_for(p.fd, POLLIN, deadline);
  }
}

void Peers::silence(const Step& s) {
  const std::string what = "peer_silence " + s.peer;
  Peer& p = get(s.peer);
  const std::string within = " within " + ms(s.duration);
  if (p.udp) {
    if (!p.datagrams.empty()) throw PeerError(what + ": a datagram was already waiting: " + escape(p.datagrams.front()));
    const auto deadline = Clock::now() + s.duration;
    while (wait_for(p.fd, POLLIN, deadline))
      if (read_udp(s.peer, p)) throw PeerError(what + ": received the datagram " + escape(p.datagrams.front()) + within);
    return;
  }
  if (p.fd < 0) throw PeerError(what + ": " + s.peer + " has no open connection");
  if (!p.buf.empty()) throw PeerError(what + ": bytes were already waiting: " + escape(p.buf));
  if (p.eof) throw PeerError(what + ": the module had closed the connection already");
  const auto deadline = Clock::now() + s.duration;
  while (wait_for(p.fd, POLLIN, deadline)) {
    read_tcp(s.peer, p, kChunk);
    if (!p.buf.empty()) {
      more_context(s.peer, p);
      throw PeerError(what + ": received " + escape(p.buf) + within);
    }
    if (p.eof) throw PeerError(what + ": the module closed the connection" + within);
  }
}

void Peers::close(const Step& s, bool reset) {
  const std::string what = (reset ? "peer_reset " : "peer_close ") + s.peer;
  Peer& p = get(s.peer);
  if (p.udp) throw PeerError(what + ": " + s.peer + " is a UDP socket");
  if (p.fd < 0) throw PeerError(what + ": " + s.peer + " has no open connection");
  if (reset) {
    struct linger l {1, 0};
    ::setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    drop_connection(p);
    note(s.peer + ": RST sent (peer_reset)");
    return;
  }
  if (p.shut) throw PeerError(what + ": " + s.peer + " has sent its FIN already");
  if (::shutdown(p.fd, SHUT_WR) != 0) throw PeerError(sys_error(what + ": shutdown"));
  p.shut = true;
  note(s.peer + ": FIN sent (peer_close)");
}

void Peers::closed(const Step& s) {
  const std::string what = "peer_closed " + s.peer;
  Peer& p = get(s.peer);
  if (p.udp) throw PeerError(what + ": " + s.peer + " is a UDP socket");
  if (p.fd < 0) throw PeerError(what + ": " + s.peer + " has no open connection");
  if (!p.buf.empty()) throw PeerError(what + ": bytes no step consumed came before the close: " + escape(p.buf));
  const auto deadline = Clock::now() + scaled(s.duration);
  while (!p.eof) {
    if (!wait_for(p.fd, POLLIN, deadline))
      throw PeerError(what + ": the connection is still open after " + ms(scaled(s.duration)));
    read_tcp(s.peer, p, kChunk);
    if (!p.buf.empty()) {
      more_context(s.peer, p);
      throw PeerError(what + ": bytes came before the close" + (p.eof ? "" : " (and no close yet)") + ": " +
                      escape(p.buf));
    }
  }
  ::close(p.fd);
  p.fd = -1;
}

// ---- the end --------------------------------------------------------------------------------

void Peers::check_consumed() {
  for (auto& [name, p] : peers_) {
    if (p.fd < 0) continue;
    if (p.udp) {
      for (std::size_t n = 0; n < 1000 && read_udp(name, p); ++n) {
      }
    } else {
      for (std::size_t total = 0; total < kEndDrain;) {
        std::size_t n = read_tcp(name, p, kChunk);
        if (n == 0) break;
        total += n;
      }
    }
  }
  std::string u = unconsumed();
  if (!u.empty())
    throw PeerError("peers received bytes that no step accounts for:\n" + u +
                    "(end the transcript with ignore_rest to allow them)");
}

std::string Peers::unconsumed() const {
  constexpr std::size_t kMax = 4000;
  auto cut = [&](const std::string& b) {
    return b.size() <= kMax ? escape(b) : escape(b.substr(0, kMax)) + "... (" + std::to_string(b.size()) + " bytes)";
  };
  std::string out;
  for (const auto& [name, p] : peers_) {
    if (!p.buf.empty()) out += "  " + name + ": " + cut(p.buf) + "\n";
    for (const auto& d : p.datagrams) out += "  " + name + ": the datagram " + cut(d) + "\n";
  }
  return out;
}

void Peers::close_all() {
  for (auto& [name, p] : peers_) {
    if (p.listener >= 0) ::close(p.listener);
    p.listener = -1;
    drop_connection(p);
    p.datagrams.clear();
  }
}

}  // namespace espat::e2e
