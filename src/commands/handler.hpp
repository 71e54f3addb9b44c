// Small helpers shared by the command files.
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

// A handler that finishes at once.
template <class F>
at::Handler now(F f) {
  return [f](Call& c) -> asio::awaitable<Result> { co_return f(c); };
}

// "+NAME:<value>\r\n", the usual query answer; the name is the one the host typed.
inline std::string line(const Call& c, std::string_view value) { return fmt::format("{}:{}\r\n", c.name, value); }

}  // namespace espat::commands
