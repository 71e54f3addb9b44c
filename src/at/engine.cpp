#include "at/engine.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

namespace espat::at {

namespace {
constexpr auto kPlusGuard = std::chrono::milliseconds(20);  // reference §9.4

// Thrown into a handler whose command a reset abandoned while it waited for data.
struct Abandoned {};

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

void Call::reply(std::string_view bytes) {
  if (engine.running(*this)) engine.write(std::string(bytes));
}

asio::awaitable<std::string> Call::read_data(std::size_t n) {
  std::string data = co_await engine.read_data(n);
  // Ended by a reset: the handler must not go on with part of its data (a flash write).
  if (!engine.running(*this)) throw Abandoned{};
  co_return data;
}

struct Engine::DataWait {
  explicit DataWait(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
  std::size_t want = 0;
  std::string data;
  asio::steady_timer timer;  // cancelled when the data is complete
};

Engine::Engine(asio::io_context& io, const Registry& registry, Output out)
    : io_(io), registry_(registry), out_(std::move(out)), pt_flush_timer_(io), pt_plus_timer_(io) {}

Engine::~Engine() { *alive_ = false; }

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
  current_ = nullptr;  // a command still running is abandoned
  busy_ = false;
  framer_.reset();
  filter_ = MessageFilter();
  mode_ = Mode::Command;
  echo_ = true;
  syslog_ = false;
  pending_.clear();
  pt_buf_.clear();
  pt_plus_ = 0;
  pt_flush_timer_.cancel();
  pt_plus_timer_.cancel();
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
      w.data.append(reinterpret_cast<const char*>(bytes.data()), take);
      if (w.data.size() == w.want) {
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
    std::size_t used = framer_.feed(bytes, [this](LineFramer::Event ev, const std::string& line, const std::string& raw) {
      switch (ev) {
        case LineFramer::Event::Line:
          if (echo_) write_unfiltered(raw);
          handle_line(line, raw);
          break;
        case LineFramer::Event::NoTerminator:
          if (echo_) write_unfiltered(raw);
          write_error(ErrCode::make(Sub::NoTerminator));
          break;
        case LineFramer::Event::TooLong:
          write_error(ErrCode::make(Sub::NoTerminator));
          break;
      }
    }, true);
    bytes = bytes.subspan(used);
    if (busy_ || mode_ != Mode::Command) {
      // The rest arrived together with a command that is still running: it is taken as
      // the next input once that command is done.
      pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return;
    }
  }
}

void Engine::handle_line(const std::string& line, const std::string&) {
  if (line.size() < 2 || line[0] != 'A' || line[1] != 'T')
    return write_error(ErrCode::make(Sub::NoAt));  // "at", "At", "aT" or no prefix (3.1.24)
  std::string_view rest = std::string_view(line).substr(2);
  std::size_t end = rest.find_first_of("=?");
  std::string name(rest.substr(0, end));
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);

  const Command* cmd = registry_.find(name);
  if (!cmd) return write_error(ErrCode::make(Sub::Unsupported));
  Form form;
  std::string_view params;
  if (tail.empty()) form = Form::Exec;
  else if (tail == "?") form = Form::Query;
  else if (tail == "=?") form = Form::Test;
  else if (tail[0] == '=') form = Form::Set, params = tail.substr(1);
  else return write_error(ErrCode::make(Sub::Unsupported));  // e.g. "AT+GMR?x"
  dispatch(*cmd, std::move(name), form, params);
}

void Engine::dispatch(const Command& cmd, std::string name, Form form, std::string_view params) {
  const Handler* h = form == Form::Test ? &cmd.test : form == Form::Query ? &cmd.query
                   : form == Form::Set ? &cmd.set : &cmd.exec;
  if (!*h) return write_error(ErrCode::make(Sub::OpError));
  Args args;
  if (form == Form::Set) {
    auto checked = parse_and_check(params, cmd.params);
    if (auto* e = std::get_if<ErrCode>(&checked)) return write_error(*e);
    args = std::move(std::get<Args>(checked));
  }
  busy_ = true;
  auto call = std::make_shared<Call>(Call{*this, std::move(name), form, std::move(args), {}});
  current_ = call.get();
  auto alive = alive_;
  asio::co_spawn(io_, [h, call]() -> asio::awaitable<Result> { co_return co_await (*h)(*call); },
                 [this, call, alive](std::exception_ptr ep, Result r) {
                   if (!*alive || current_ != call.get()) return;  // abandoned by a reset
                   current_ = nullptr;
                   if (ep) r = Result::error();  // a handler bug must not kill the module
                   finish(r, std::move(call->after));
                 });
}

void Engine::finish(Result r, std::vector<std::function<void()>> after) {
  write_result(r);
  busy_ = false;
  for (auto& a : after) a();
  if (!pending_.empty() && mode_ == Mode::Command && !busy_) {
    // Input that came with the finished command's line: frame it now, after the result.
    auto alive = alive_;
    asio::post(io_, [this, alive] {
      if (!*alive || busy_ || pending_.empty()) return;
      std::string p = std::move(pending_);
      pending_.clear();
      on_input({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
    });
  }
}

asio::awaitable<std::string> Engine::read_data(std::size_t n) {
  auto w = std::make_shared<DataWait>(io_);
  w->want = n;
  data_wait_ = w;
  write("\r\nOK\r\n\r\n>");
  if (n == 0) co_return std::string{};
  mode_ = Mode::Data;
  // Bytes that arrived with the command line are the first data bytes.
  if (!pending_.empty()) {
    std::string p = std::move(pending_);
    pending_.clear();
    on_input({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
  }
  if (w->data.size() < n) {
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
  pt_plus_ = 0;
  pt_last_input_ = std::chrono::steady_clock::now();
  mode_ = Mode::Passthrough;
}

void Engine::exit_passthrough() {
  if (mode_ != Mode::Passthrough) return;
  passthrough_flush(true);
  pt_flush_timer_.cancel();
  pt_plus_timer_.cancel();
  pt_plus_ = 0;
  mode_ = Mode::Command;
}

void Engine::passthrough_input(std::span<const std::uint8_t> bytes) {
  const auto now = std::chrono::steady_clock::now();
  const bool silent_before = now - pt_last_input_ >= kPlusGuard;
  pt_last_input_ = now;
  pt_plus_timer_.cancel();
  auto take_as_data = [this](char c) {
    if (pt_buf_.size() < pt_.buffer) pt_buf_.push_back(c);  // a full buffer drops input
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = char(bytes[i]);
    // A '+' may start "+++" only after the guard silence, and the three must come close.
    bool continues = pt_plus_ > 0 && pt_plus_ < 3 && (i > 0 || !silent_before);
    bool starts = pt_plus_ == 0 && i == 0 && silent_before;
    if (c == '+' && (continues || starts)) {
      ++pt_plus_;
      continue;
    }
    for (; pt_plus_ > 0; --pt_plus_) take_as_data('+');
    if (c == '+' && i == 0 && silent_before) {
      ++pt_plus_;
      continue;
    }
    take_as_data(c);
  }
  if (pt_plus_ > 0) arm_plus_timer();
  passthrough_flush(false);
}

void Engine::arm_plus_timer() {
  pt_plus_timer_.expires_after(kPlusGuard);
  auto alive = alive_;
  pt_plus_timer_.async_wait([this, alive](std::error_code ec) {
    if (ec || !*alive || mode_ != Mode::Passthrough || pt_plus_ == 0) return;
    if (pt_plus_ < 3) {  // one or two '+' then silence: they were data
      pt_buf_.append(std::size_t(pt_plus_), '+');
      pt_plus_ = 0;
      return passthrough_flush(false);
    }
    pt_plus_ = 0;
    auto exited = pt_.exited;
    exit_passthrough();
    if (exited) exited();
  });
}

void Engine::passthrough_flush(bool partial) {
  while (pt_buf_.size() >= pt_.packet) {
    pt_.send(pt_buf_.substr(0, pt_.packet));
    pt_buf_.erase(0, pt_.packet);
  }
  if (pt_buf_.empty()) return;
  if (partial || pt_.interval.count() == 0) {
    std::string chunk = std::move(pt_buf_);
    pt_buf_.clear();
    pt_.send(std::move(chunk));
    return;
  }
  // A partial packet leaves after AT+TRANSINTVL ms (spec 3.1.10); the timer runs from the
  // first byte held, so a steady stream still goes out at least every interval.
  if (pt_flush_timer_.expiry() > std::chrono::steady_clock::now()) return;
  pt_flush_timer_.expires_after(pt_.interval);
  auto alive = alive_;
  pt_flush_timer_.async_wait([this, alive](std::error_code ec) {
    if (ec || !*alive || mode_ != Mode::Passthrough) return;
    passthrough_flush(true);
  });
}

}  // namespace espat::at
