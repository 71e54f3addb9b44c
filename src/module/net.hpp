// The module's TCP/IP (spec 3.3): its links (TCP, UDP, SSL clients and the clients its server
// accepted) on real host sockets bound to the module's own address, the server, the receive
// modes, and the settings of the TCP/IP commands. Commands in commands/tcpip_*.cpp drive it;
// what it prints unasked (CONNECT, CLOSED, +IPD, +LINK_CONN) goes through the engine.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include "async/activity.hpp"
#include "net/stream.hpp"
#include "sim/faults.hpp"

namespace espat::module {

class Context;
struct Link;
struct TransLink;

enum class LinkKind { Tcp, Udp, Ssl };

// AT+CIPTCPOPT (3.3.38), per link id; keep_alive is shared with AT+CIPSTART (3.3.6).
struct TcpOptions {
  int linger = -1;        // -1 off; >= 0 SO_LINGER on with that many seconds
  int nodelay = 0;
  int sndtimeo_ms = 0;    // 0: no send timeout of its own (see Net::send)
  int keep_alive = 0;     // seconds; 0 off
};

// AT+CIPSSLCCONF / CCN / CSNI / CALPN / CPSK (3.3.26-3.3.31), per link id.
struct SslClientConfig {
  int auth = 0, pki = 0, ca = 0;  // 0 none, 1 client cert, 2 verify server, 3 both
  std::string common_name, sni;
  std::vector<std::string> alpn;
  std::string psk, hint;  // key bytes and identity
};

struct NetSettings {
  bool mux = false;          // AT+CIPMUX
  bool dinfo = false;        // AT+CIPDINFO
  int mode = 0;              // AT+CIPMODE: 1 passthrough (never saved)
  int server_timeout = 180;  // AT+CIPSTO, seconds
  int server_max_conn = 5;   // AT+CIPSERVERMAXCONN
  int reconn_interval = 1;   // AT+CIPRECONNINTV, 100 ms units
  int sendl_report = 1024, sendl_block = 2920;  // AT+CIPSENDLCFG
  bool ipv6 = false;         // AT+CIPV6
  std::vector<int> recv_mode;               // AT+CIPRECVTYPE per link id: 0 active, 1 passive
  std::vector<TcpOptions> tcp;              // per link id
  std::vector<SslClientConfig> ssl;         // per link id
  bool sntp_enable = false;                 // AT+CIPSNTPCFG (never saved)
  long long sntp_timezone = 0;              // as typed; net::parse_timezone gives the offset
  std::vector<std::string> sntp_servers;    // empty: the firmware's three defaults
  int sntp_interval = 3600;                 // AT+CIPSNTPINTV, seconds (ESP-IDF's default hour)
  bool dns_manual = false;                  // AT+CIPDNS
  std::vector<std::string> dns;             // the manual servers
};

// What AT+CIPSTART asks for.
struct StartRequest {
  LinkKind kind = LinkKind::Tcp;
  bool v6 = false;
  std::string host;
  int port = 0;
  std::optional<int> keep_alive;  // omitted: the last value set
  std::string local_ip;           // "" : the interface's own address
  int local_port = 0;             // UDP
  int udp_mode = 0;               // UDP: 0 fixed remote, 1 changes once, 2 follows each sender
};

// What AT+CIPSTATE prints of a link.
struct LinkInfo {
  int id = 0;
  std::string type;  // "TCP", "UDP", "SSL", with "v6" for IPv6
  std::string remote_ip;
  int remote_port = 0, local_port = 0;
  bool server_side = false;  // <tetype> 1
};

enum class SendResult { Ok, Fail, LinkGone };

class Net {
 public:
  static constexpr int kMaxLinks = 16;  // lwIP's socket count bounds the firmware's link ids
  Net(asio::io_context& io, Context& ctx, int links = 5);
  ~Net();

  NetSettings& settings() { return s_; }
  NetSettings defaults() const;
  int links() const { return links_count_; }
  // Reset, deep sleep, shutdown: links and server go without a word.
  void stop();

  // ---- links --------------------------------------------------------------------------------
  bool in_use(int id) const;
  std::optional<int> free_id() const;  // AT+CIPSTARTEX: the lowest free id
  std::vector<LinkInfo> link_infos() const;
  bool any_link() const;
  // AT+CIPSTATUS's 4: links were open since the station got its address, and all are closed.
  bool all_links_closed() const { return had_links_ && !any_link(); }
  // AT+CIPSTART: prints CONNECT (or +LINK_CONN) and returns OK; on failure prints ERROR and
  // CLOSED itself and returns Result::nothing() — as the firmware does.
  struct StartOutcome {
    bool ok = false;
    std::string error;  // for the log: why it failed
  };
  asio::awaitable<StartOutcome> start(int id, StartRequest r, async::StopToken stop);
  // AT+CIPCLOSE: closes and prints "[<id>,]CLOSED". False when no such link.
  bool close(int id);
  // Sends a whole buffer on a link (AT+CIPSEND after its data arrived). `to` overrides a UDP
  // link's remote for this datagram. Fails after the link's SO_SNDTIMEO, else after
  // kDefaultSendTimeout, so that a peer that stops reading never hangs the module.
  asio::awaitable<SendResult> send(int id, std::string data, std::optional<std::pair<std::string, int>> to,
                                   async::StopToken stop);
  bool is_udp(int id) const;

  // ---- names (3.3.5, 3.3.37) ------------------------------------------------------------------
  bool has_address() const { return !own_addresses().empty(); }
  // The module's address a packet to `remote` leaves from (the softAP's for its own network).
  std::optional<asio::ip::address> source_for(const asio::ip::address& remote) const { return local_address_for(remote); }
  // The world's names and mDNS hosts first, then the host's resolver (BRIEF "Network model").
  asio::awaitable<std::optional<asio::ip::address>> lookup(const std::string& host, bool v6, async::StopToken stop) {
    return resolve(host, v6, stop);
  }
  // The faults a connection from `local` meets (the module's and its AP's), and whether a
  // connect from it to "<ip>:<port>" is refused: for the clients that are not links (HTTP,
  // MQTT, WebSocket; module/client_stream.cpp).
  sim::NetFaults faults_from(const asio::ip::address& local) const { return faults_for(local); }
  bool refuses_connect(const asio::ip::address& local, const std::string& to) const { return connect_refused(local, to); }
  // The DNS servers AT+CIPDNS? shows: the manual ones, else those DHCP gave, else the defaults.
  std::vector<std::string> dns_servers() const;

  // ---- time (3.3.20-3.3.22) -------------------------------------------------------------------
  // Starts (or stops, when disabled) the SNTP client: it asks the servers in turn, sets the
  // module's clock and prints +TIME_UPDATED, then again every AT+CIPSNTPINTV seconds.
  void restart_sntp();

  // ---- passive receive (3.3.33-3.3.35) ------------------------------------------------------
  // Bytes buffered on a link, -1 for a link that is not open.
  long long buffered(int id) const;
  // Takes up to n bytes (whole UDP datagrams where they fit) and their sender.
  struct Taken {
    std::string data;
    std::string ip;
    int port = 0;
  };
  std::optional<Taken> take(int id, std::size_t n);
  // After a read emptied a closed link's buffer: its held-back CLOSED, and the link goes.
  void settle(int id);

  // ---- passthrough (3.3.9, 3.3.18) -----------------------------------------------------------
  // AT+CIPSEND with AT+CIPMODE=1 on link 0: false when it cannot (no link, wrong kind).
  bool can_passthrough() const;
  // At power-up with AT+SAVETRANSLINK mode 1 saved: passthrough on the saved link.
  void start_translink(const TransLink& t);
  std::optional<int> passthrough_link() const;
  // AT+CIPMODE=1 is allowed: a single connection, or a server limited to one client (4.2.10).
  bool passthrough_allowed() const;
  void enter_passthrough();

  // ---- server (3.3.16-3.3.19) ----------------------------------------------------------------
  struct ServerSpec {
    int port = 333;
    LinkKind kind = LinkKind::Tcp;
    bool v6 = false;
    bool ca = false;  // SSL: clients must present a certificate the server_ca verifies
  };
  // False (with a log line) when the port cannot be bound.
  bool start_server(ServerSpec spec);
  void stop_server(bool close_clients);
  const std::optional<ServerSpec>& server() const { return server_; }

  // ---- what the Wi-Fi side tells --------------------------------------------------------------
  // The station lost its address (AT+CWQAP, AP lost): links bound to it die, as lwIP's do.
  void address_lost(const asio::ip::address& addr);
  // An interface got an address: a running server listens there too.
  void address_gained();

  // The TCP options of a link id applied to its open socket (AT+CIPTCPOPT, keep-alive).
  void apply_tcp_options(int id);

  // ---- network faults (net_faults.cpp; README "Network faults") ------------------------------
  struct LinkReport {
    LinkInfo info;
    std::string local_ip;
    std::uint64_t sent = 0, received = 0;
    bool stalled = false;
  };
  std::vector<LinkReport> link_reports() const;
  // From outside: "reset" (an RST, CLOSED as when the peer resets), "stall" (the peer stops
  // reading), "resume". {200, ""}, or {404 or 409, why}.
  std::pair<int, std::string> link_action(int id, std::string_view action);
  // Some faults changed: the server stops or starts listening where `refuse` changed.
  void faults_changed();

  static constexpr std::chrono::seconds kDefaultSendTimeout{10};
  static constexpr std::size_t kPassiveWindow = 5760;  // 3.3.33: the socket receive window
  static constexpr std::size_t kIpdMax = 2920;         // 3.3.33: the most one +IPD carries

 private:
  friend struct Link;
  struct Server;
  std::shared_ptr<Link> make_link(int id, LinkKind kind, bool v6, bool server_side);
  void attach(const std::shared_ptr<Link>& l);
  void start_reader(const std::shared_ptr<Link>& l);
  asio::awaitable<void> read_stream(std::shared_ptr<Link> l, async::StopToken stop);
  asio::awaitable<void> read_udp(std::shared_ptr<Link> l, async::StopToken stop);
  // A payload arrived: +IPD now (active), or buffered and announced (passive), or raw
  // (passthrough).
  asio::awaitable<void> deliver(std::shared_ptr<Link> l, std::string data, std::string ip, int port);
  void peer_closed(const std::shared_ptr<Link>& l);
  asio::awaitable<bool> write_all(std::shared_ptr<Link> l, std::string data);  // false: the link broke
  void drop(int id, bool report);  // forgets a link, printing CLOSED when report
  void status(std::string line);   // CONNECT/CLOSED: during passthrough only with AT+SYSMSG bit 2
  void report_connect(const Link& l);
  std::optional<asio::ip::address> local_address_for(const asio::ip::address& remote) const;
  std::vector<asio::ip::address> own_addresses() const;
  asio::awaitable<std::optional<asio::ip::address>> resolve(const std::string& host, bool v6, async::StopToken stop);
  asio::awaitable<void> accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acc, async::StopToken stop);
  void accepted(asio::ip::tcp::socket s);
  void admit(std::unique_ptr<net::Stream> stream, asio::ip::tcp::endpoint remote, asio::ip::tcp::endpoint local);
  void arm_idle_timer(const std::shared_ptr<Link>& l);
  asio::awaitable<void> passthrough_reconnect(async::StopToken stop, bool at_once);
  // Network fault hooks (net_faults.cpp).
  sim::NetFaults faults_for(const std::optional<asio::ip::address>& local) const;
  bool names_fail(const std::string& host) const;
  bool connect_refused(const asio::ip::address& local, const std::string& to) const;
  bool refuse_client(asio::ip::tcp::socket& s);
  bool refused(const asio::ip::address& local) const { return faults_for(local).refuse; }
  asio::awaitable<bool> outgoing(std::shared_ptr<Link> l, std::size_t n, async::StopToken stop);  // false: lost
  asio::awaitable<bool> shaped_write(std::shared_ptr<Link> l, std::string data);
  asio::awaitable<void> receive(std::shared_ptr<Link> l, std::string data, std::string ip, int port);
  asio::awaitable<void> deliver_held(std::shared_ptr<Link> l, async::StopToken stop);
  void closed_by_peer(const std::shared_ptr<Link>& l);
  void link_event(const Link& l, std::string_view what) const;

  asio::io_context& io_;
  Context& ctx_;
  NetSettings s_;
  int links_count_;
  std::vector<std::shared_ptr<Link>> links_;
  std::optional<ServerSpec> server_;
  std::shared_ptr<Server> srv_;
  std::optional<StartRequest> last_start_;  // passthrough reconnects with it
  async::Activity pt_reconnect_;
  async::Activity sntp_;
  bool sntp_synced_ = false;
  bool had_links_ = false;
  asio::awaitable<void> sntp_loop(async::StopToken stop);
};

}  // namespace espat::module
