// Spec 3.1.15-3.1.17: AT+SYSMSG, AT+SYSMSGFILTER, AT+SYSMSGFILTERCFG (example 4.1).
#include "commands/basic.hpp"
#include "commands/handler.hpp"
#include "module/settings.hpp"

namespace espat::commands {

namespace {
// =1/2,<head_len>,<tail_len>: '>' then head and tail regex bytes; =0 clears all.
asio::awaitable<Result> filtercfg(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const auto op = a.integer(0);
  auto& filter = ctx.engine().filter();
  if (op == 0) {
    if (a.given() != 1) co_return Result::error(at::ErrCode::para_num(1, unsigned(a.given())));
    filter.clear();
    co_return Result::ok();
  }
  if (!a.has(1) || !a.has(2)) co_return Result::error(at::ErrCode::para_num(3, unsigned(a.given())));
  const auto head_len = std::size_t(a.integer(1)), tail_len = std::size_t(a.integer(2));
  if (head_len == 0 && tail_len == 0) co_return Result::invalid(2);
  std::string bytes = co_await c.read_data(head_len + tail_len);
  std::string head = bytes.substr(0, head_len), tail = bytes.substr(head_len);
  bool done = op == 1 ? filter.add(head, tail) : filter.remove(head, tail);
  co_return done ? Result::ok() : Result::error();
}
}  // namespace

std::vector<at::Command> messages_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+SYSMSG",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(line(c, std::to_string(ctx.state().sysmsg)));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) {
           int v = int(c.args.integer(0));
           if (!module::save_sysmsg(ctx, v)) return Result::error();
           ctx.state().sysmsg = v;
           return Result::ok();
         }),
         .params = {at::Int{"state", 0, 7}}});

  r.push_back({.name = "+SYSMSGFILTER",
         .query = plain([](Ctx& ctx, Call& c) {
           c.reply(line(c, ctx.engine().filter().enabled() ? "1" : "0"));
           return Result::ok();
         }),
         .set = plain([](Ctx& ctx, Call& c) {
           ctx.engine().filter().set_enabled(c.args.integer(0) == 1);
           return Result::ok();
         }),
         .params = {at::Int{"enable", 0, 1}}});

  r.push_back({.name = "+SYSMSGFILTERCFG",
         .query = plain([](Ctx& ctx, Call& c) {
           int index = 0;
           for (const auto& f : ctx.engine().filter().list())
             c.reply(line(c, fmt::format("{},\"{}\",\"{}\"", index++, f.head, f.tail)));
           return Result::ok();
         }),
         .set = coro(filtercfg),
         .params = {at::Int{"operator", 0, 2}, at::Int{"head_regexp_len", 0, 64, true},
                    at::Int{"tail_regexp_len", 0, 64, true}}});
  return r;
}

}  // namespace espat::commands
