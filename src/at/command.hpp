// One AT command, declared once (STYLE §1-2): name, guide section, the four forms, the
// parameter schema of the set form. A form without a handler does not exist: the engine
// answers ERROR (ERR CODE 0x010c0000) for it. AT+CMD? and the README table come from here.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "at/error.hpp"
#include "at/params.hpp"

namespace espat::at {

class Engine;
enum class Form { Test, Query, Set, Exec };

// What a handler answers; the engine writes the bytes (reference §1.4).
struct Result {
  enum class Kind { Ok, Error, SendOk, SendFail, Nothing } kind = Kind::Ok;
  ErrCode code = ErrCode::make(Sub::ExecFail);

  static Result ok() { return {}; }
  static Result error(ErrCode c = ErrCode::make(Sub::ExecFail)) { return {Kind::Error, c}; }
  static Result invalid(unsigned param) { return error(ErrCode::make(Sub::ParaInvalid, std::uint16_t(param))); }
  static Result send_ok() { return {Kind::SendOk, {}}; }
  static Result send_fail() { return {Kind::SendFail, {}}; }
  static Result nothing() { return {Kind::Nothing, {}}; }  // the handler printed its own result
};

// The running command, as a handler sees it.
struct Call {
  Engine& engine;
  std::string name;  // as typed, with '+': "+UART_CUR" (an alias keeps its own spelling)
  Form form;
  Args args;

  // A response line, e.g. reply("+SYSLOG:1\r\n"). Goes through the message filter.
  void reply(std::string_view bytes);
  // Prints "\r\nOK\r\n\r\n>" and waits for exactly n raw bytes (data-input mode).
  asio::awaitable<std::string> read_data(std::size_t n);
  // Runs after the final result has been queued (AT+UART_CUR: new rate after its OK).
  void after_result(std::function<void()> action) { after.push_back(std::move(action)); }
  std::vector<std::function<void()>> after;
};

using Handler = std::function<asio::awaitable<Result>(Call&)>;

struct Command {
  std::string name = {};     // "+GMR"; "" is AT itself; "E0"/"E1" for ATE
  std::string section = {};  // guide section, e.g. "3.1.4"
  Handler test = {}, query = {}, set = {}, exec = {};
  std::vector<ParamSpec> params = {};  // the set form's schema
  std::vector<std::string> aliases = {};  // other spellings, e.g. "+UART" for "+UART_DEF"
};

class Registry {
 public:
  void add(Command c);
  // Exact name (with '+'); aliases resolve to their row.
  const Command* find(std::string_view name) const;
  const std::vector<Command>& all() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

}  // namespace espat::at
