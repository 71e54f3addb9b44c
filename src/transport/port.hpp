// The AT port: where the module's UART bytes go in and out. One implementation per kind of
// attachment (pty, serial device, TCP, stdio). All calls happen on the event loop's thread.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <asio/io_context.hpp>

namespace espat::transport {

// UART line settings (spec 3.1.11): stopbits 1 = 1 bit, 2 = 1.5 bits, 3 = 2 bits;
// parity 0 none, 1 odd, 2 even; flow 0 none, 1 RTS, 2 CTS, 3 both.
struct LineConfig {
  std::uint32_t baud = 115200;
  int databits = 8, stopbits = 1, parity = 0, flow = 0;
  // Bits on the wire per byte: start + data + parity + stop.
  double bits_per_byte() const {
    double stop = stopbits == 1 ? 1.0 : stopbits == 2 ? 1.5 : 2.0;
    return 1 + databits + (parity ? 1 : 0) + stop;
  }
  bool operator==(const LineConfig&) const = default;
};

class Port {
 public:
  using InputHandler = std::function<void(std::span<const std::uint8_t>)>;
  virtual ~Port() = default;
  // Starts reading; on_input gets each chunk as it arrives (paced when pacing is on).
  virtual void start(InputHandler on_input) = 0;
  // Queues bytes for output, in order. Never blocks; never splits or reorders writes.
  virtual void write(std::string bytes) = 0;
  // Applies new line settings once everything queued before this call has left the port, so
  // that AT+UART_CUR's OK goes out at the old rate (reference §9.5).
  virtual void set_line(const LineConfig& cfg) = 0;
  // Calls done once every queued byte has left the port (AT+RST, AT+GSLP wait for this).
  virtual void drain(std::function<void()> done) = 0;
  // Bytes written and not yet handed to the device: how far output lags behind.
  virtual std::size_t output_backlog() const { return 0; }
  // Flow control: while held, the port reads nothing more, so the host's writes wait in the
  // device's buffers (and RTS drops where the line has hardware flow control).
  virtual void hold_input(bool hold) = 0;
  virtual void close() = 0;
  // What a person should use to reach the port, e.g. "/dev/pts/5" or "127.0.0.1:4000".
  virtual std::string describe() const = 0;
};

struct PortOptions {
  bool baud_pacing = false;  // bytes enter and leave at the LineConfig rate
  LineConfig line;           // the rate at start (from AT+UART_DEF / factory parameters)
};

// Opens an existing tty or pty slave in raw mode (termios); applies real baud rates to it.
std::unique_ptr<Port> open_serial(asio::io_context&, const std::string& device, const PortOptions&);
// Creates a pty; its slave path is printed on stderr; link (optional) is a symlink kept to it.
std::unique_ptr<Port> open_pty(asio::io_context&, const std::optional<std::string>& link, const PortOptions&);
// Listens on host:port; one client at a time is the UART (others are refused while one is on).
std::unique_ptr<Port> open_tcp(asio::io_context&, const std::string& host, std::uint16_t port, const PortOptions&);
// The process's stdin/stdout. On a terminal: raw keys, Enter sends CR-LF, Ctrl-C/Ctrl-D exit.
// script: stdin (not a terminal) is a script of command lines, sent as a host driver would:
// after "ready", one line at a time, each once the previous one has its final result; at its
// end the process exits when the last answer is out (README "Attaching a terminal...").
std::unique_ptr<Port> open_stdio(asio::io_context&, const PortOptions&, bool script = false);

}  // namespace espat::transport
