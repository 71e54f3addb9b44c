// The network peers of a transcript (README "Network peers"): TCP listeners, TCP connections and
// UDP sockets on loopback that the steps drive byte for byte, between the AT port steps.
//
// A peer's socket is read only inside the steps that check it (peer_expect, peer_match,
// peer_silence, peer_closed), and peer_expect reads no more than it needs: a peer no step reads
// lets the kernel buffers fill up, as a peer that stops reading would.
#pragma once
#include <netinet/in.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "transcript.hpp"

namespace espat::e2e {

// A peer step that did not hold, or a placeholder that names no peer.
struct PeerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Peers {
 public:
  // `tick` is called at least every 10 ms while a step waits on a socket (the harness reads the
  // AT port there, as `wait` does). `note` gets one line per event for the conversation log.
  explicit Peers(std::function<void()> tick = {}, std::function<void(const std::string&)> note = {});
  ~Peers();
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  // The step with its ${NAME} and ${NAME.peer_port} placeholders (in bytes, path and port)
  // filled in. Throws PeerError for a name that is no open peer.
  Step expand(const Step& s) const;
  std::string expand(const std::string& text, const std::vector<Ref>& refs) const;
  // An `args` or `build` word: the ${NAME} of the open peers filled in, anything else left as is.
  std::string substitute_known(std::string word) const;

  // Runs one expanded peer step (is_peer_step). Throws PeerError.
  void run(const Step& s);

  // The end of the transcript: reads what is waiting on every peer, without blocking, and throws
  // PeerError when a peer holds bytes no step consumed.
  void check_consumed();
  // The bytes each peer received and no step consumed yet, for failure messages ("" if none).
  std::string unconsumed() const;
  // Closes every socket (at the end of the transcript).
  void close_all();

 private:
  struct Peer {
    bool udp = false;
    int listener = -1;              // tcp_listen
    int fd = -1;                    // the TCP connection, or the UDP socket
    int local_port = 0;             // ${NAME}
    int remote_port = 0;            // ${NAME.peer_port}: 0 until there is one
    sockaddr_in from{};             // UDP: the last sender
    bool has_from = false;
    std::string buf;                // TCP: received, not consumed
    std::deque<std::string> datagrams;  // UDP: received, not consumed
    bool eof = false;               // TCP: the module's FIN (or RST) arrived
    bool shut = false;              // TCP: peer_close sent our FIN
  };

  Peer& get(const std::string& name);
  void listen(const Step& s);
  void bind_udp(const Step& s);
  void accept(const Step& s);
  void connect(const Step& s);
  void send(const Step& s);
  void udp_send(const Step& s);
  void expect(const Step& s);
  void match(const Step& s);
  void silence(const Step& s);
  void close(const Step& s, bool reset);
  void closed(const Step& s);

  // Waits until fd is ready for `events` or the deadline passes, ticking. False on timeout.
  bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline);
  void pause(Millis d);
  // Reads at most `max` bytes of a TCP connection that are there now (EOF and RST set eof).
  // The number of bytes read.
  std::size_t read_tcp(const std::string& name, Peer& p, std::size_t max);
  // Reads one datagram that is there now into p.datagrams. False when there was none.
  bool read_udp(const std::string& name, Peer& p);
  // UDP: the next datagram is in p.datagrams (queued, or read now) before the deadline.
  bool next_datagram(const std::string& name, Peer& p, std::chrono::steady_clock::time_point deadline);
  // After a failure: whatever else arrives within a moment, for the message.
  void more_context(const std::string& name, Peer& p);
  void drop_connection(Peer& p);
  void note(const std::string& line) const;

  std::function<void()> tick_;
  std::function<void(const std::string&)> note_;
  std::map<std::string, Peer> peers_;
};

}  // namespace espat::e2e
