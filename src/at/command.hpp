// One AT command, declared once (STYLE §1-2) as a row of data in its family's table: name,
// the four forms, the parameter schema, preconditions, other spellings. A form without a
// handler does not exist: the engine answers ERROR (ERR CODE 0x010c0000) for it. The table is
// built once per process and shared by every module; a handler gets its module through the
// Call. AT+CMD? and the README table come from the same rows.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "async/activity.hpp"
#include "at/error.hpp"
#include "at/params.hpp"

namespace espat::at {

class Engine;
enum class Form { Test, Query, Set, Exec };

// What commands run against: the module. The engine only hands it to handlers and
// preconditions, and asks it the one protocol setting the schema depends on.
class Host {
 public:
  virtual ~Host() = default;
  // AT+CIPMUX (spec 3.3.x): with multiple connections, rows declared with a link id take it
  // as their first parameter, 0 .. links()-1 (links() itself where a row accepts "all").
  virtual bool multiple_links() const { return false; }
  virtual int links() const { return 5; }
};

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

// Where a setting goes, by the spelling the host typed: the guide's name follows AT+SYSSTORE
// (spec 3.1.26); the ESP8266-era "_CUR" spelling never saves, "_DEF" always does.
enum class Store { FollowSysstore, Ram, Flash };

// The running command, as a handler sees it.
// What most data-input commands print before the data (reference §9.4).
inline constexpr std::string_view kDataPrompt = "\r\nOK\r\n\r\n>";

struct Call {
  Engine& engine;
  Host& host;
  std::string name;  // as typed, with '+': "+CWJAP_CUR" (an alias keeps its own spelling)
  Form form;
  Args args;
  Store store = Store::FollowSysstore;
  // Stopped when the module resets (AT+RST from the control API, power cycle): a long
  // command's waits end there and its result is never printed.
  async::StopToken stop = {};

  // A response line, e.g. reply("+SYSLOG:1\r\n"). Goes through the message filter.
  void reply(std::string_view bytes);
  // Prints `prompt` ("\r\nOK\r\n\r\n>" unless told) and waits for exactly n raw bytes
  // (data-input mode).
  asio::awaitable<std::string> read_data(std::size_t n, std::function<bool(char)> ends = {},
                                         std::string_view prompt = kDataPrompt);
  // Runs after the final result has been queued (AT+UART_CUR: new rate after its OK).
  void after_result(std::function<void()> action) { after.push_back(std::move(action)); }
  std::vector<std::function<void()>> after;
};

// A handler may finish at once or run as a coroutine; both are awaitables to the engine.
using Handler = std::function<asio::awaitable<Result>(Call&)>;

// Preconditions are bits whose meaning a family defines (Wi-Fi initialised, station on, BLE
// server...); the family's one predicate checks them before any handler of the family runs.
using Needs = std::uint32_t;
using Precondition = std::function<std::optional<ErrCode>(Host&, Needs)>;

struct Alias {
  std::string name;  // "+CWJAP_CUR"
  Store store = Store::FollowSysstore;
};

struct Command {
  std::string name = {};  // "+GMR"; "" is AT itself; "E0"/"E1" for ATE
  Handler test = {}, query = {}, set = {}, exec = {};
  Schema params = {};  // the set form's parameters
  // Preconditions of every form, then the extra ones of one form.
  Needs needs = 0, query_needs = 0, set_needs = 0, exec_needs = 0;
  std::vector<Alias> aliases = {};
  // Joined from the guide's catalog by name when the table is built, never typed in a row.
  std::string section = {};
  bool saved_in_flash = false;

  const Handler& handler(Form f) const;
  Needs needs_of(Form f) const;
};

// A family's rows (a chapter of the guide: basic, wifi, tcpip, ble...) and their predicate.
struct Family {
  std::string name;
  Precondition check = {};
  std::vector<Command> rows;
};

// The process-wide command table. Lookup by name or alias is a map, not a scan.
class Registry {
 public:
  struct Entry {
    const Command* command;
    const Family* family;
    Store store;
  };
  void add(Family f);
  // Exact name (with '+'); aliases resolve to their row, with their store policy.
  std::optional<Entry> find(std::string_view name) const;
  // Every row, in the order the families and their rows were added.
  std::vector<const Command*> all() const;

 private:
  std::vector<std::unique_ptr<Family>> families_;  // stable addresses for the index
  std::map<std::string, Entry, std::less<>> index_;
};

}  // namespace espat::at
