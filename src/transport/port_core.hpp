// What every Port shares: the ordered output queue with its single writer, baud pacing in both
// directions, set_line and drain at their place in the queue. A kind of port supplies only how
// bytes reach its device (put), how it reads (begin_input -> received) and what a line change
// does to the device (apply_line).
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <variant>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "transport/pacing.hpp"
#include "transport/port.hpp"

namespace espat::transport {

// A wake-up for a coroutine that waits for "something changed"; the waiter re-checks its
// condition after each wake, so a notify with nobody waiting is never lost (one thread).
class Signal {
 public:
  explicit Signal(asio::io_context& io);
  asio::awaitable<void> wait();
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

// The shared state of a port. Coroutines hold a shared_ptr to it, so it outlives close() and
// the Port handle until every pending operation has finished.
class PortCore : public std::enable_shared_from_this<PortCore> {
 public:
  using clock = std::chrono::steady_clock;

  PortCore(asio::io_context& io, const PortOptions& opts);
  virtual ~PortCore() = default;

  // Starts the writer (and the paced input pump); called once, right after make_shared.
  void launch();

  void start(Port::InputHandler on_input);
  void write(std::string bytes);
  void set_line(const LineConfig& cfg);
  void drain(std::function<void()> done);
  void close();
  // Stops reading from the device until released: the device's buffer fills and the sender
  // waits (TCP's window, a pty writer blocks, a tty with RTS/CTS drops RTS).
  void hold_input(bool hold);
  virtual std::string describe() const = 0;

  bool closed() const { return closed_; }
  std::size_t output_backlog() const { return queued_; }  // bytes queued, not yet handed to the device
  const LineConfig& line() const { return line_; }

 protected:
  // Starts reading from the device; read bytes go to received().
  virtual void begin_input() = 0;
  // Writes bytes to the device; completes once they have been handed to it (or discarded).
  virtual asio::awaitable<void> put(std::span<const std::uint8_t> bytes) = 0;
  // Applies line settings to the device; everything queued before has been put().
  virtual asio::awaitable<void> apply_line(const LineConfig& cfg);
  // Releases the device: cancels pending reads and writes.
  virtual void close_io() = 0;

  // Input from the device: delivered to on_input at once, or at the line rate when pacing.
  void received(std::span<const std::uint8_t> bytes);
  // Waits while too much paced input waits for delivery (the device then buffers or blocks).
  asio::awaitable<void> input_room();
  std::size_t input_backlog() const { return in_backlog_; }
  // True when nothing is queued or being written.
  bool output_idle() const { return queue_.empty() && !writing_; }
  clock::time_point last_output() const { return last_output_; }

  asio::io_context& io_;
  const PortOptions opts_;

 private:
  // Bytes remember when they were queued or received: pacing starts them no earlier.
  struct Bytes {
    std::string data;
    clock::time_point at;
  };
  using Item = std::variant<Bytes, LineConfig, std::function<void()>>;

  asio::awaitable<void> writer();
  asio::awaitable<void> send(const Bytes& bytes);
  asio::awaitable<void> input_pump();
  Bytes take_bytes();
  void deliver(std::span<const std::uint8_t> bytes);

  Port::InputHandler on_input_;
  LineConfig line_;
  bool closed_ = false, started_ = false, writing_ = false, held_ = false;

  std::deque<Item> queue_;
  std::size_t queued_ = 0;  // bytes in queue_
  Signal out_wake_;
  asio::steady_timer out_timer_;
  Pacer out_pacer_;
  clock::time_point last_output_ = clock::now();

  std::deque<Bytes> in_queue_;  // paced input not yet delivered; the front is partly gone
  std::size_t in_pos_ = 0, in_backlog_ = 0;
  Signal in_wake_, in_room_;
  asio::steady_timer in_timer_;
  Pacer in_pacer_;
};

// The Port handed out by the factories: a thin owner of the core; destroying it closes the port.
class CorePort final : public Port {
 public:
  explicit CorePort(std::shared_ptr<PortCore> core) : core_(std::move(core)) { core_->launch(); }
  ~CorePort() override { core_->close(); }
  void start(InputHandler on_input) override { core_->start(std::move(on_input)); }
  void write(std::string bytes) override { core_->write(std::move(bytes)); }
  void set_line(const LineConfig& cfg) override { core_->set_line(cfg); }
  void drain(std::function<void()> done) override { core_->drain(std::move(done)); }
  std::size_t output_backlog() const override { return core_->output_backlog(); }
  void hold_input(bool hold) override { core_->hold_input(hold); }
  void close() override { core_->close(); }
  std::string describe() const override { return core_->describe(); }

 private:
  std::shared_ptr<PortCore> core_;
};

// Spawns a coroutine on io; an exception escaping it propagates out of io.run().
void spawn(asio::io_context& io, std::function<asio::awaitable<void>()> fn);

}  // namespace espat::transport
