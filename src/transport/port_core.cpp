#include "transport/port_core.hpp"

#include <algorithm>
#include <exception>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace espat::transport {
namespace {
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Consecutive writes are handed to the device together, up to this size (order is kept).
constexpr std::size_t kCoalesce = 64 * 1024;
// Paced input beyond this stops reading the device, so memory stays bounded at low rates.
constexpr std::size_t kInputHighWater = 64 * 1024;
}  // namespace

void spawn(asio::io_context& io, std::function<asio::awaitable<void>()> fn) {
  asio::co_spawn(io, std::move(fn), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

Signal::Signal(asio::io_context& io) : timer_(io, asio::steady_timer::time_point::max()) {}

asio::awaitable<void> Signal::wait() { co_await timer_.async_wait(as_tuple); }

PortCore::PortCore(asio::io_context& io, const PortOptions& opts)
    : io_(io), opts_(opts), line_(opts.line), out_wake_(io), out_timer_(io),
      out_pacer_(opts.line), in_wake_(io), in_room_(io), in_timer_(io), in_pacer_(opts.line) {}

void PortCore::launch() {
  auto self = shared_from_this();
  spawn(io_, [self] { return self->writer(); });
  if (opts_.baud_pacing) spawn(io_, [self] { return self->input_pump(); });
}

void PortCore::start(Port::InputHandler on_input) {
  if (started_ || closed_) return;
  started_ = true;
  on_input_ = std::move(on_input);
  begin_input();
}

void PortCore::write(std::string bytes) {
  if (closed_ || bytes.empty()) return;
  queued_ += bytes.size();
  queue_.emplace_back(Bytes{std::move(bytes), clock::now()});
  out_wake_.notify();
}

void PortCore::set_line(const LineConfig& cfg) {
  if (closed_) return;
  queue_.emplace_back(cfg);
  out_wake_.notify();
}

void PortCore::drain(std::function<void()> done) {
  if (closed_) return;
  queue_.emplace_back(std::move(done));
  out_wake_.notify();
}

void PortCore::close() {
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  queued_ = 0;
  in_queue_.clear();
  in_pos_ = in_backlog_ = 0;
  out_wake_.notify();
  in_wake_.notify();
  in_room_.notify();
  out_timer_.cancel();
  in_timer_.cancel();
  close_io();
}

asio::awaitable<void> PortCore::apply_line(const LineConfig&) { co_return; }

// The one writer: items leave strictly in queue order; a line change or a drain mark takes
// effect only once every byte queued before it has left.
asio::awaitable<void> PortCore::writer() {
  while (!closed_) {
    if (queue_.empty()) {
      co_await out_wake_.wait();
      continue;
    }
    writing_ = true;
    if (std::holds_alternative<Bytes>(queue_.front())) {
      Bytes bytes = take_bytes();
      co_await send(bytes);
      last_output_ = clock::now();
    } else if (auto* cfg = std::get_if<LineConfig>(&queue_.front())) {
      LineConfig next = *cfg;
      queue_.pop_front();
      co_await apply_line(next);
      line_ = next;
      out_pacer_.set_line(next);
      in_pacer_.set_line(next);
    } else {
      auto done = std::move(std::get<std::function<void()>>(queue_.front()));
      queue_.pop_front();
      writing_ = false;
      if (done && !closed_) done();
    }
    writing_ = false;
  }
}

// Without pacing, consecutive writes go to the device in one call; with pacing, each keeps its
// own queueing time.
PortCore::Bytes PortCore::take_bytes() {
  Bytes out = std::move(std::get<Bytes>(queue_.front()));
  queue_.pop_front();
  while (!opts_.baud_pacing && !queue_.empty() && std::holds_alternative<Bytes>(queue_.front())) {
    auto& next = std::get<Bytes>(queue_.front()).data;
    if (out.data.size() + next.size() > kCoalesce) break;
    out.data += next;
    queue_.pop_front();
  }
  queued_ -= out.data.size();
  return out;
}

// With pacing, each burst is handed to the device when its last byte would be complete on the
// wire, so the peer never sees a byte earlier than a real UART would deliver it.
asio::awaitable<void> PortCore::send(const Bytes& bytes) {
  auto data = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data.data()), bytes.data.size());
  if (!opts_.baud_pacing) {
    co_await put(data);
    co_return;
  }
  while (!data.empty() && !closed_) {
    std::size_t n = std::min(out_pacer_.burst(), data.size());
    out_timer_.expires_at(out_pacer_.book(n, bytes.at));
    co_await out_timer_.async_wait(as_tuple);
    if (closed_) break;
    co_await put(data.first(n));
    data = data.subspan(n);
  }
}

void PortCore::received(std::span<const std::uint8_t> bytes) {
  if (closed_ || bytes.empty()) return;
  if (!opts_.baud_pacing) {
    deliver(bytes);
    return;
  }
  in_queue_.push_back({std::string(bytes.begin(), bytes.end()), clock::now()});
  in_backlog_ += bytes.size();
  in_wake_.notify();
}

asio::awaitable<void> PortCore::input_room() {
  while (!closed_ && (held_ || input_backlog() > kInputHighWater)) co_await in_room_.wait();
}

void PortCore::hold_input(bool hold) {
  held_ = hold;
  if (!hold) in_room_.notify();
}

// The UART receive side when pacing: bytes reach the module no faster than the line rate.
asio::awaitable<void> PortCore::input_pump() {
  while (!closed_) {
    if (in_queue_.empty()) {
      in_room_.notify();
      co_await in_wake_.wait();
      continue;
    }
    const auto& front = in_queue_.front();
    std::size_t n = std::min(in_pacer_.burst(), front.data.size() - in_pos_);
    in_timer_.expires_at(in_pacer_.book(n, front.at));
    co_await in_timer_.async_wait(as_tuple);
    if (closed_) break;
    // close() may have cleared the queue while waiting; closed_ covers that.
    std::string chunk = in_queue_.front().data.substr(in_pos_, n);
    in_pos_ += n;
    in_backlog_ -= n;
    if (in_pos_ == in_queue_.front().data.size()) {
      in_queue_.pop_front();
      in_pos_ = 0;
    }
    if (input_backlog() <= kInputHighWater) in_room_.notify();
    deliver(std::span(reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()));
  }
}

void PortCore::deliver(std::span<const std::uint8_t> bytes) {
  if (!closed_ && on_input_) on_input_(bytes);
}

}  // namespace espat::transport
