// The AT engine (spec 3.15, 3.17; protocol-rules §1-§2, §5): frames input into command lines,
// validates them against the registry, runs one command at a time as a coroutine on the event
// loop (input meanwhile gets "busy p..."), writes results byte-exact, and offers the data modes
// that commands reuse: data input after '>' and passthrough with "+++" detection.
// It knows nothing of Wi-Fi, sockets or flash.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "at/command.hpp"
#include "at/framer.hpp"
#include "at/msgfilter.hpp"

namespace espat::at {

class Engine {
 public:
  using Output = std::function<void(std::string)>;
  Engine(asio::io_context& io, const Registry& registry, Host& host, Output out);
  ~Engine();

  // Bytes from the AT port.
  void on_input(std::span<const std::uint8_t> bytes);

  // ---- output: every byte the host sees goes through here ------------------------------
  void write(std::string msg);             // a response or report: filtered (spec 3.1.16)
  void write_unfiltered(std::string msg);  // echo, raw payload
  void report(std::string msg) { write(std::move(msg)); }
  void write_result(const Result& r);
  void write_error(ErrCode code);

  // ---- state the basic commands change ---------------------------------------------------
  bool echo() const { return echo_; }
  void set_echo(bool on) { echo_ = on; }
  bool syslog() const { return syslog_; }
  void set_syslog(bool on) { syslog_ = on; }
  MessageFilter& filter() { return filter_; }
  const Registry& registry() const { return registry_; }
  bool busy() const { return busy_; }
  asio::io_context& io() { return io_; }

  // Deaf: input is dropped (reset, deep sleep). Resetting also clears run-time state.
  void set_deaf(bool deaf) { deaf_ = deaf; }
  void reset();

  // ---- data input (used through Call::read_data) ----------------------------------------
  // `ends`, when given, sees each byte as it arrives and may end the data early (AT+CIPSENDEX's
  // "\0"); the bytes after it in the same chunk get "busy p...", as bytes past n do.
  asio::awaitable<std::string> read_data(std::size_t n, std::function<bool(char)> ends = {},
                                         std::string prompt = std::string(kDataPrompt));

  // ---- passthrough (spec 3.3.8-3.3.9, protocol-rules §5) ----------------------------------
  struct Passthrough {
    // A packet for the link; completes when the link has taken it. A slow link slows the UART:
    // past `buffer` bytes waiting, the port stops reading (set_hold_input) until half drained.
    std::function<asio::awaitable<void>(std::string)> send;
    std::function<void()> exited;           // after "+++": the engine is in command mode again
    std::chrono::milliseconds interval{20}; // AT+TRANSINTVL
    std::size_t packet = 2920;              // a full packet is sent at once
    bool stream = true;                     // TCP: packets waiting together go in one write; UDP: one datagram each
    std::size_t buffer = 8192;              // bytes waiting before the port is held
    // AT+CIPSENDL (3.3.10): data mode ends by itself after `limit` bytes (0: never), and
    // `complete` is called; bytes past it get "busy p...". "+++" still ends it early (exited).
    std::size_t limit = 0;
    std::function<void()> complete;
  };
  void enter_passthrough(Passthrough p);
  bool in_passthrough() const { return mode_ == Mode::Passthrough; }
  std::size_t passthrough_taken() const { return pt_taken_; }  // data bytes the port took
  void exit_passthrough();  // e.g. the link closed for good
  // How the engine holds and releases the port's input (transport::Port::hold_input).
  void set_hold_input(std::function<void(bool)> hold) { hold_input_ = std::move(hold); }

 private:
  enum class Mode { Command, Data, Passthrough };
  void frame(std::span<const std::uint8_t> bytes);
  void handle_line(const std::string& line);
  void dispatch(const Registry::Entry& entry, std::string name, Form form, std::string_view params);
  void finish(Result r, std::vector<std::function<void()>> after);
  void write_busy();
  void passthrough_input(std::span<const std::uint8_t> bytes);
  void passthrough_flush(bool partial);
  void passthrough_queue(std::string packet);
  void passthrough_hold(bool hold);
  void arm_plus_timer();

  asio::io_context& io_;
  const Registry& registry_;
  Host& host_;
  Output out_;
  LineFramer framer_;
  MessageFilter filter_;
  Mode mode_ = Mode::Command;
  bool echo_ = true, syslog_ = false, busy_ = false, deaf_ = false;
  std::string pending_;  // input received with a command line, run after that command

  // data input
  struct DataWait;
  std::shared_ptr<DataWait> data_wait_;

  // passthrough
  Passthrough pt_;
  std::string pt_buf_;                 // input not yet a packet
  std::deque<std::string> pt_out_;     // packets waiting for the link
  std::size_t pt_out_bytes_ = 0;
  bool pt_held_ = false;
  std::function<void(bool)> hold_input_;
  std::size_t pt_taken_ = 0;  // data bytes taken since passthrough began (for `limit`)
  int pt_pluses_ = 0;  // '+' bytes held back as a possible "+++"
  std::chrono::steady_clock::time_point pt_last_input_{};

  // Last, so that they are stopped first when the engine goes.
  async::Activity command_;   // the running command; reset() stops it
  async::Activity pt_send_;   // hands pt_out_ to the link, one packet at a time
  async::Activity pt_flush_;  // a partial packet leaves after AT+TRANSINTVL
  async::Activity pt_plus_;   // "+++" needs the guard silence after it
};

}  // namespace espat::at
