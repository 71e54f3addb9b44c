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
  Engine(asio::io_context& io, const Registry& registry, Output out);
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

  // Deaf: input is dropped (reset, deep sleep). Resetting also clears run-time state, and
  // abandons a command still running (a reset from outside, the EN pin): it prints nothing more,
  // its data input never completes, its final result and after_result actions are dropped.
  void set_deaf(bool deaf) { deaf_ = deaf; }
  void reset();
  // The command whose handler this is still runs (it was not abandoned by a reset).
  bool running(const Call& c) const { return current_ == &c; }

  // ---- data input (used through Call::read_data) ----------------------------------------
  asio::awaitable<std::string> read_data(std::size_t n);

  // ---- passthrough (spec 3.3.8-3.3.9, protocol-rules §5) ----------------------------------
  struct Passthrough {
    std::function<void(std::string)> send;  // a packet for the link
    std::function<void()> exited;           // after "+++": the engine is in command mode again
    std::chrono::milliseconds interval{20}; // AT+TRANSINTVL
    std::size_t packet = 2920;              // a full packet is sent at once
    std::size_t buffer = 8192;              // bytes held before further input is dropped
  };
  void enter_passthrough(Passthrough p);
  bool in_passthrough() const { return mode_ == Mode::Passthrough; }
  void exit_passthrough();  // e.g. the link closed for good

 private:
  enum class Mode { Command, Data, Passthrough };
  void frame(std::span<const std::uint8_t> bytes);
  void handle_line(const std::string& line, const std::string& raw);
  void dispatch(const Command& cmd, std::string name, Form form, std::string_view params);
  void finish(Result r, std::vector<std::function<void()>> after);
  void write_busy();
  void passthrough_input(std::span<const std::uint8_t> bytes);
  void passthrough_flush(bool partial);
  void arm_plus_timer();

  asio::io_context& io_;
  const Registry& registry_;
  Output out_;
  LineFramer framer_;
  MessageFilter filter_;
  Mode mode_ = Mode::Command;
  bool echo_ = true, syslog_ = false, busy_ = false, deaf_ = false;
  std::string pending_;  // input received with a command line, run after that command
  const Call* current_ = nullptr;  // the command running, while busy_

  // data input
  struct DataWait;
  std::shared_ptr<DataWait> data_wait_;

  // passthrough
  Passthrough pt_;
  std::string pt_buf_;
  int pt_plus_ = 0;  // '+' bytes held back as a possible "+++"
  std::chrono::steady_clock::time_point pt_last_input_{};
  asio::steady_timer pt_flush_timer_, pt_plus_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace espat::at
