#include "commands/handler.hpp"

#include <algorithm>
#include <cctype>

namespace espat::commands {

std::vector<at::Alias> cur_def(const std::string& name) {
  return {{name + "_CUR", at::Store::Ram}, {name + "_DEF", at::Store::Flash}};
}

Result header_list_query(const std::vector<std::string>& headers, Call& c) {
  std::string out;
  for (std::size_t i = 0; i < headers.size(); ++i) out += line(c, fmt::format("{},\"{}\"", i, headers[i]));
  if (!out.empty()) c.reply(out);
  return Result::ok();
}

asio::awaitable<Result> header_list_set(std::vector<std::string>& headers, Call& c) {
  const auto n = std::size_t(c.args.integer(0));
  if (n == 0) {
    headers.clear();
    co_return Result::ok();
  }
  std::string h = co_await c.read_data(n);
  const auto colon = h.find(':');
  if (colon == 0 || colon == std::string::npos) co_return Result::error();
  const auto key = [](std::string_view s) {
    std::string k(s.substr(0, s.find(':')));
    for (auto& ch : k) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return k;
  };
  std::erase_if(headers, [&](const std::string& old) { return key(old) == key(h); });
  headers.push_back(std::move(h));
  co_return Result::ok();
}

bool persist(Ctx& ctx, const Call& c, const std::function<bool()>& save) {
  switch (c.store) {
    case at::Store::Ram: return true;
    case at::Store::FollowSysstore: return save();
    case at::Store::Flash: break;
  }
  auto& store = ctx.state().sysstore;
  const int was = store;
  store = 1;
  const bool ok = save();
  store = was;
  return ok;
}

}  // namespace espat::commands
