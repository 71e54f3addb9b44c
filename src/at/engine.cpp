#include "at/engine.hpp"

#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

namespace espat::at {

namespace {
constexpr auto kPlusGuard = std::chrono::milliseconds(20);  // reference §9.4

const char* result_bytes(Result::Kind k) {
  switch (k) {
    case Result::Kind::Ok: return "\r\nOK\r\n";
    case Result::Kind::Error: return "\r\nERROR\r\n";
    case Result::Kind::SendOk: return "\r\nSEND OK\r\n";
    case Result::Kind::SendFail: return "\r\nSEND FAIL\r\n";
    case Result::Kind::Nothing: return "";
  }
  return "";
}
}  // namespace

void Call::reply(std::string_view bytes) { engine.write(std::string(bytes)); }
asio::awaitable<std::string> Call::read_data(std::size_t n, std::function<bool(char)> ends, std::string_view prompt) {
  std::string data = co_await engine.read_data(n, std::move(ends), std::string(prompt));
  stop.throw_if_requested();  // a reset cut the data short: nothing is sent
  co_return data;
}

struct Engine::DataWait {
  explicit DataWait(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
  std::size_t want = 0;
  std::string data;
  std::function<bool(char)> ends;
  asio::steady_timer timer;  // cancelled when the data is complete
};

Engine::Engine(asio::io_context& io, const Registry& registry, Host& host, Output out)
    : io_(io), registry_(registry), host_(host), out_(std::move(out)), command_(io), pt_send_(io), pt_flush_(io), pt_plus_(io) {}

Engine::~Engine() = default;

void Engine::write(std::string msg) {
  msg = filter_.apply(std::move(msg));
  if (!msg.empty()) out_(std::move(msg));
}

void Engine::write_unfiltered(std::string msg) {
  if (!msg.empty()) out_(std::move(msg));
}

void Engine::write_error(ErrCode code) {
  std::string msg;
  if (syslog_) msg = code.line();  // spec 3.1.24: printed just before ERROR
  write(msg + "\r\nERROR\r\n");
}

void Engine::write_result(const Result& r) {
  if (r.kind == Result::Kind::Error) return write_error(r.code);
  write(result_bytes(r.kind));
}

void Engine::write_busy() {
  std::string msg;
  if (syslog_) msg = ErrCode::make(Sub::Processing).line();
  write(msg + "\r\nbusy p...\r\n");
}

void Engine::reset() {
  command_.stop();  // a reset ends the running command: its result is never printed
  busy_ = false;
  framer_.reset();
  filter_ = MessageFilter();
  mode_ = Mode::Command;
  echo_ = true;
  syslog_ = false;
  pending_.clear();
  pt_buf_.clear();
  pt_out_.clear();
  pt_out_bytes_ = 0;
  pt_send_.stop();
  passthrough_hold(false);
  pt_pluses_ = 0;
  pt_flush_.stop();
  pt_plus_.stop();
  if (data_wait_) data_wait_->timer.cancel();
  data_wait_.reset();
}

void Engine::on_input(std::span<const std::uint8_t> bytes) {
  if (deaf_ || bytes.empty()) return;
  switch (mode_) {
    case Mode::Passthrough:
      return passthrough_input(bytes);
    case Mode::Data: {
      auto& w = *data_wait_;
      std::size_t take = std::min(bytes.size(), w.want - w.data.size());
      bool ended = false;
      if (w.ends) {
        for (std::size_t i = 0; i < take && !ended; ++i)
          if (w.ends(char(bytes[i]))) take = i + 1, ended = true;
      }
      w.data.append(reinterpret_cast<const char*>(bytes.data()), take);
      if (ended || w.data.size() == w.want) {
        mode_ = Mode::Command;
        w.timer.cancel();
      }
      // Bytes past <length> (spec 4.2.1 note): busy p..., only the first n are used.
      if (take < bytes.size()) write_busy();
      return;
    }
    case Mode::Command:
      if (busy_) return write_busy();
      return frame(bytes);
  }
}

void Engine::frame(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    std::size_t used = framer_.feed(bytes, [this](LineFramer::Event ev, const std::string& line, const std::string& echo) {
      // Echo as received, so a person typing sees each byte; a line that came in one chunk
      // still goes out in one write, before its answer.
      if (echo_) write_unfiltered(echo);
      switch (ev) {
        case LineFramer::Event::Echo:
          break;
        case LineFramer::Event::Line:
          handle_line(line);
          break;
        case LineFramer::Event::NoTerminator:
        case LineFramer::Event::TooLong:
          write_error(ErrCode::make(Sub::NoTerminator));
          break;
      }
    }, true);
    bytes = bytes.subspan(used);
    if (mode_ != Mode::Command) {
      // The command began data input or passthrough at once: the rest is its data.
      if (!bytes.empty()) on_input(bytes);
      return;
    }
    if (busy_) {
      // The rest arrived together with a command that is still running: it is taken as
      // the next input once that command is done.
      pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return;
    }
  }
}

void Engine::handle_line(const std::string& line) {
  if (line.size() < 2 || line[0] != 'A' || line[1] != 'T')
    return write_error(ErrCode::make(Sub::NoAt));  // "at", "At", "aT" or no prefix (3.1.24)
  std::string_view rest = std::string_view(line).substr(2);
  std::size_t end = rest.find_first_of("=?");
  std::string name(rest.substr(0, end));
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);

  auto entry = registry_.find(name);
  if (!entry) return write_error(ErrCode::make(Sub::Unsupported));
  Form form;
  std::string_view params;
  if (tail.empty()) form = Form::Exec;
  else if (tail == "?") form = Form::Query;
  else if (tail == "=?") form = Form::Test;
  else if (tail[0] == '=') form = Form::Set, params = tail.substr(1);
  else return write_error(ErrCode::make(Sub::Unsupported));  // e.g. "AT+GMR?x"
  dispatch(*entry, std::move(name), form, params);
}

void Engine::dispatch(const Registry::Entry& entry, std::string name, Form form, std::string_view params) {
  const Command& cmd = *entry.command;
  const Handler* h = &cmd.handler(form);
  if (!*h) return write_error(ErrCode::make(Sub::OpError));
  Args args;
  if (form == Form::Set) {
    auto checked = parse_and_check(params, cmd.params, {host_.multiple_links(), host_.links()});
    if (auto* e = std::get_if<ErrCode>(&checked)) return write_error(*e);
    args = std::move(std::get<Args>(checked));
  }
  // The family's preconditions, after the parameters as the firmware's handlers check them.
  if (const Needs needs = cmd.needs_of(form); needs && entry.family->check)
    if (auto e = entry.family->check(host_, needs)) return write_error(*e);
  busy_ = true;
  auto call = std::make_shared<Call>(Call{*this, host_, std::move(name), form, std::move(args), entry.store, {}, {}});
  command_.start(
      [this, h, call](async::StopToken stop) -> asio::awaitable<void> {
        call->stop = stop;
        Result r;
        try {
          r = co_await (*h)(*call);
        } catch (const async::Stopped&) {
          throw;
        } catch (const std::exception&) {
          r = Result::error();  // a handler bug must not kill the module
        }
        stop.throw_if_requested();
        finish(r, std::move(call->after));
        if (pending_.empty() || mode_ != Mode::Command || busy_) co_return;
        // Input that came with the finished command's line: framed now, after the result.
        co_await asio::post(io_, asio::use_awaitable);
        stop.throw_if_requested();
        if (busy_ || pending_.empty()) co_return;
        std::string p = std::move(pending_);
        pending_.clear();
        on_input({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
      });
}

void Engine::finish(Result r, std::vector<std::function<void()>> after) {
  write_result(r);
  busy_ = false;
  for (auto& a : after) a();
}

asio::awaitable<std::string> Engine::read_data(std::size_t n, std::function<bool(char)> ends, std::string prompt) {
  auto w = std::make_shared<DataWait>(io_);
  w->want = n;
  w->ends = std::move(ends);
  data_wait_ = w;
  write(std::move(prompt));
  if (n == 0) co_return std::string{};
  mode_ = Mode::Data;
  // Bytes that arrived with the command line are the first data bytes.
  if (!pending_.empty()) {
    std::string p = std::move(pending_);
    pending_.clear();
    on_input({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
  }
  if (mode_ == Mode::Data) {
    std::error_code ec;  // cancelled on purpose when the data is complete
    co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (data_wait_ == w) data_wait_.reset();
  co_return std::move(w->data);
}

// ---- passthrough -------------------------------------------------------------------------

void Engine::enter_passthrough(Passthrough p) {
  pt_ = std::move(p);
  pt_buf_.clear();
  pt_taken_ = 0;
  pt_pluses_ = 0;
  pt_last_input_ = std::chrono::steady_clock::now();
  mode_ = Mode::Passthrough;
  // Bytes that came in the same chunk as the command line are the first data, not lost.
  if (!pending_.empty()) {
    std::string p = std::move(pending_);
    pending_.clear();
    passthrough_input({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
  }
}

void Engine::exit_passthrough() {
  if (mode_ != Mode::Passthrough) return;
  passthrough_flush(true);
  pt_flush_.stop();
  pt_plus_.stop();
  pt_pluses_ = 0;
  mode_ = Mode::Command;
}

void Engine::passthrough_input(std::span<const std::uint8_t> bytes) {
  const auto now = std::chrono::steady_clock::now();
  const bool silent_before = now - pt_last_input_ >= kPlusGuard;
  pt_last_input_ = now;
  pt_plus_.stop();
  bool overflow = false;
  auto take_as_data = [this, &overflow](char c) {
    if (pt_.limit && pt_taken_ >= pt_.limit) {
      overflow = true;
      return;
    }
    pt_buf_.push_back(c);
    ++pt_taken_;
  };
  // A "+++" can only start at the first byte of a chunk that came after the guard silence:
  // any other chunk is data as a whole (the fast path of a stream).
  if (pt_pluses_ == 0 && !(silent_before && bytes[0] == '+')) {
    std::size_t take = bytes.size();
    if (pt_.limit) take = std::min(take, pt_.limit > pt_taken_ ? pt_.limit - pt_taken_ : 0);
    overflow = take < bytes.size();
    pt_buf_.append(reinterpret_cast<const char*>(bytes.data()), take);
    pt_taken_ += take;
    bytes = {};
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = char(bytes[i]);
    // A '+' may start "+++" only after the guard silence, and the three must come close.
    bool continues = pt_pluses_ > 0 && pt_pluses_ < 3 && (i > 0 || !silent_before);
    bool starts = pt_pluses_ == 0 && i == 0 && silent_before;
    if (c == '+' && (continues || starts)) {
      ++pt_pluses_;
      continue;
    }
    for (; pt_pluses_ > 0; --pt_pluses_) take_as_data('+');
    if (c == '+' && i == 0 && silent_before) {
      ++pt_pluses_;
      continue;
    }
    take_as_data(c);
  }
  if (pt_.limit && pt_taken_ + std::size_t(pt_pluses_) >= pt_.limit) {
    for (; pt_pluses_ > 0; --pt_pluses_) take_as_data('+');  // at the end of the data: not "+++"
    auto complete = pt_.complete;
    exit_passthrough();
    if (overflow) write_busy();
    if (complete) complete();
    return;
  }
  if (pt_pluses_ > 0) arm_plus_timer();
  passthrough_flush(false);
}

void Engine::arm_plus_timer() {
  pt_plus_.start([this](async::StopToken stop) -> asio::awaitable<void> {
    co_await stop.sleep(io_, kPlusGuard);
    if (mode_ != Mode::Passthrough || pt_pluses_ == 0) co_return;
    if (pt_pluses_ < 3) {  // one or two '+' then silence: they were data
      pt_buf_.append(std::size_t(pt_pluses_), '+');
      pt_pluses_ = 0;
      co_return passthrough_flush(false);
    }
    pt_pluses_ = 0;
    auto exited = pt_.exited;
    exit_passthrough();
    if (exited) exited();
  });
}

void Engine::passthrough_hold(bool hold) {
  if (hold == pt_held_) return;
  pt_held_ = hold;
  if (hold_input_) hold_input_(hold);
}

void Engine::passthrough_queue(std::string packet) {
  pt_out_bytes_ += packet.size();
  pt_out_.push_back(std::move(packet));
  if (pt_out_bytes_ + pt_buf_.size() > pt_.buffer) passthrough_hold(true);
  if (pt_send_.running()) return;
  pt_send_.start([this](async::StopToken stop) -> asio::awaitable<void> {
    while (!pt_out_.empty()) {
      std::string p = std::move(pt_out_.front());
      pt_out_.pop_front();
      while (pt_.stream && !pt_out_.empty() && p.size() < 8 * pt_.packet) {
        p += pt_out_.front();
        pt_out_.pop_front();
      }
      pt_out_bytes_ -= p.size();
      auto send = pt_.send;  // the frame keeps its own copy: the engine may go meanwhile
      if (send) co_await send(std::move(p));
      stop.throw_if_requested();
      if (pt_out_bytes_ + pt_buf_.size() <= pt_.buffer / 2) passthrough_hold(false);
    }
    passthrough_hold(false);
  });
}

void Engine::passthrough_flush(bool partial) {
  while (pt_buf_.size() >= pt_.packet) {
    passthrough_queue(pt_buf_.substr(0, pt_.packet));
    pt_buf_.erase(0, pt_.packet);
  }
  if (pt_buf_.empty()) return;
  if (partial || pt_.interval.count() == 0) {
    std::string chunk = std::move(pt_buf_);
    pt_buf_.clear();
    passthrough_queue(std::move(chunk));
    return;
  }
  // A partial packet leaves after AT+TRANSINTVL ms (spec 3.1.10); the timer runs from the
  // first byte held, so a steady stream still goes out at least every interval.
  if (pt_flush_.running()) return;
  pt_flush_.start([this](async::StopToken stop) -> asio::awaitable<void> {
    co_await stop.sleep(io_, pt_.interval);
    if (mode_ == Mode::Passthrough) passthrough_flush(true);
  });
}

}  // namespace espat::at
