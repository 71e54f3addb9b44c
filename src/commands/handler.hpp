// What the command files share: handlers that receive their module, and the row helpers.
#pragma once
#include <string>

#include <asio/awaitable.hpp>
#include <fmt/format.h>

#include "at/command.hpp"
#include "module/context.hpp"

namespace espat::commands {

using at::Call;
using at::Result;
using Ctx = module::Context;

// The module a call runs on: every host the engine is given is a module::Context.
inline Ctx& module_of(Call& c) { return static_cast<Ctx&>(c.host); }

// A handler that finishes at once: Result f(Ctx&, Call&).
template <class F>
at::Handler plain(F f) {
  return [f](Call& c) -> asio::awaitable<Result> { co_return f(module_of(c), c); };
}

// A handler that runs as a coroutine: asio::awaitable<Result> f(Ctx&, Call&).
template <class F>
at::Handler coro(F f) {
  return [f](Call& c) { return f(module_of(c), c); };
}

// "+NAME:<value>\r\n", the usual query answer; the name is the one the host typed.
inline std::string line(const Call& c, std::string_view value) { return fmt::format("{}:{}\r\n", c.name, value); }

// The ESP8266-era spellings host drivers still send (BRIEF "both dialects"): "+CWJAP_CUR"
// sets without saving, "+CWJAP_DEF" sets and saves; the guide's name follows AT+SYSSTORE.
std::vector<at::Alias> cur_def(const std::string& name);

// The request-header lists of AT+HTTPCHEAD (3.7.8) and AT+WSHEAD (3.9.3): the query's
// "+<CMD>:<index>,\"<header>\"" lines; the set form's <len> 0 clears the list, another length
// reads a header after '>' and adds it (ERROR when it is not "key: value"; a header with the
// key of one already there replaces it).
Result header_list_query(const std::vector<std::string>& headers, Call& c);
asio::awaitable<Result> header_list_set(std::vector<std::string>& headers, Call& c);

// Runs save() as the spelling the host typed asks: never (_CUR), always (_DEF), or as
// AT+SYSSTORE says.
bool persist(Ctx& ctx, const Call& c, const std::function<bool()>& save);

}  // namespace espat::commands
