// Spec 3.4.18-3.4.30 (issue 11, GATT step): the GATT server a module builds from its ble_data
// (AT+BLEGATTSSRVCRE ... AT+BLEGATTSSETATTR) and the GATT client on a link (AT+BLEGATTCPRIMSRV
// ... AT+BLEGATTCWR), over the world's medium (sim/ble.hpp, sim/gatt.hpp). README "Bluetooth
// LE" says what the guide leaves open and what was chosen.
#include "commands/ble.hpp"
#include "commands/handler.hpp"
#include "commands/needs.hpp"
#include "module/ble.hpp"

namespace espat::commands {

namespace {

sim::GattDb* db_of(Ctx& ctx) { return ctx.ble()->gatt_db(); }

// The data commands print '>' alone, OK only once the data went out (3.4.23-3.4.25, 3.4.30
// responses; the log in esp-at issue #63: "AT+BLEGATTCWR=0,3,1,,3", ">", "OK").
constexpr std::string_view kPrompt = ">";

// ---- AT+BLEGATTSSRVCRE (3.4.18) -------------------------------------------------------------
Result srvcre(Ctx& ctx, Call&) {
  auto& b = *ctx.ble();
  if (b.gatt_db()) return Result::ok();  // created already: nothing to do
  // "If a Bluetooth LE connection is established first, the service creation will fail."
  if (!b.links().empty()) return Result::error();
  std::string why;
  return b.create_services(why) ? Result::ok() : Result::error();
}

// ---- AT+BLEGATTSSRVSTART (3.4.19), AT+BLEGATTSSRVSTOP (3.4.20) ------------------------------
Result set_started(Ctx& ctx, Call& c, bool started) {
  auto* db = db_of(ctx);
  if (!db) return Result::error();
  if (!c.args.has(0)) {
    for (auto& s : db->services) s.started = started;
    return Result::ok();
  }
  const auto i = std::size_t(c.args.integer(0));
  if (i > db->services.size()) return Result::error();
  db->services[i - 1].started = started;
  return Result::ok();
}
Result srvstart(Ctx& ctx, Call& c) { return set_started(ctx, c, true); }
Result srvstop(Ctx& ctx, Call& c) { return set_started(ctx, c, false); }

// ---- AT+BLEGATTSSRV? (3.4.21), AT+BLEGATTSCHAR? (3.4.22) ------------------------------------
Result srv_query(Ctx& ctx, Call& c) {
  auto* db = db_of(ctx);
  if (!db) return Result::error();
  for (std::size_t i = 0; i < db->services.size(); ++i) {
    const auto& s = db->services[i];
    c.reply(line(c, fmt::format("{},{},{},{}", i + 1, int(s.started), sim::uuid_text(s.uuid), int(s.primary))));
  }
  return Result::ok();
}

// The "char" and "desc" lines of AT+BLEGATTSCHAR? and AT+BLEGATTCCHAR= (guide example 4.3:
// +BLEGATTSCHAR:"char",1,1,0xC300,0x02 and +BLEGATTSCHAR:"desc",1,1,1,0x2901); `prefix` is what
// comes before <srv_index> ("" or "<conn_index>,").
void char_lines(Call& c, std::string_view prefix, int srv, const sim::GattService& s) {
  for (std::size_t k = 0; k < s.chars.size(); ++k) {
    const auto& ch = s.chars[k];
    c.reply(line(c, fmt::format("\"char\",{}{},{},{},{}", prefix, srv, k + 1, sim::uuid_text(ch.uuid), sim::props_text(ch.props))));
    for (std::size_t d = 0; d < ch.descs.size(); ++d)
      c.reply(line(c, fmt::format("\"desc\",{}{},{},{},{}", prefix, srv, k + 1, d + 1, sim::uuid_text(ch.descs[d].uuid))));
  }
}
Result schar_query(Ctx& ctx, Call& c) {
  auto* db = db_of(ctx);
  if (!db) return Result::error();
  for (std::size_t i = 0; i < db->services.size(); ++i) char_lines(c, "", int(i) + 1, db->services[i]);
  return Result::ok();
}

// ---- AT+BLEGATTSNTFY (3.4.23), AT+BLEGATTSIND (3.4.24) --------------------------------------
asio::awaitable<Result> send_to_client(Ctx& ctx, Call& c, bool indication) {
  auto& b = *ctx.ble();
  const auto& a = c.args;
  const int index = int(a.integer(0)), srv = int(a.integer(1)), chr = int(a.integer(2));
  const auto len = std::size_t(a.integer(3));
  const sim::BleLink* l = b.link(index);
  auto* db = db_of(ctx);
  // Checked before '>': the link, the started service and its characteristic, <length> <= MTU-3.
  if (!l || !db || std::size_t(srv) > db->services.size()) co_return Result::error();
  const auto& s = db->services[std::size_t(srv) - 1];
  if (!s.started || std::size_t(chr) > s.chars.size()) co_return Result::error();
  if (len > std::size_t(l->mtu - 3)) co_return Result::invalid(3);
  std::string data = co_await c.read_data(len, {}, kPrompt);
  // A notification takes a connection event; an indication waits for the confirmation too.
  co_await b.air_time(index, c.stop);
  if (indication) co_await b.air_time(index, c.stop);
  co_return ctx.world().ble.notify(b.id(), index, srv, chr, data, indication) ? Result::ok() : Result::error();
}
asio::awaitable<Result> ntfy(Ctx& ctx, Call& c) { co_return co_await send_to_client(ctx, c, false); }
asio::awaitable<Result> ind(Ctx& ctx, Call& c) { co_return co_await send_to_client(ctx, c, true); }

// ---- AT+BLEGATTSSETATTR (3.4.25) ------------------------------------------------------------
asio::awaitable<Result> setattr(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  auto* db = db_of(ctx);
  const auto srv = std::size_t(a.integer(0)), chr = std::size_t(a.integer(1));
  const auto len = std::size_t(a.integer(3));
  if (!db || srv > db->services.size() || chr > db->services[srv - 1].chars.size()) co_return Result::error();
  auto& ch = db->services[srv - 1].chars[chr - 1];
  const std::size_t desc = a.has(2) ? std::size_t(a.integer(2)) : 0;
  if (desc > ch.descs.size()) co_return Result::error();
  // 3.4.25 note: a <length> over the attribute's val_max_len fails.
  const int max_len = desc ? ch.descs[desc - 1].max_len : ch.max_len;
  if (len > std::size_t(max_len)) co_return Result::error();
  std::string data = co_await c.read_data(len, {}, kPrompt);
  db = db_of(ctx);  // AT+BLEINIT=0 cannot run while we read, but the services may be gone after a reset
  if (!db) co_return Result::error();
  auto& target = db->services[srv - 1].chars[chr - 1];
  (desc ? target.descs[desc - 1].value : target.value) = std::move(data);
  co_return Result::ok();
}

// ---- AT+BLEGATTCPRIMSRV (3.4.26), AT+BLEGATTCINCLSRV (3.4.27), AT+BLEGATTCCHAR (3.4.28) -----
// The services the client finds on link `index` after the discovery's air time; nullopt without
// the link.
asio::awaitable<std::optional<std::vector<sim::GattService>>> discover(Ctx& ctx, Call& c, int index) {
  auto& b = *ctx.ble();
  if (!b.link(index)) co_return std::nullopt;
  co_await b.air_time(index, c.stop);
  co_return ctx.world().ble.discover(b.id(), index);
}
asio::awaitable<Result> primsrv(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0));
  auto services = co_await discover(ctx, c, index);
  if (!services) co_return Result::error();
  // Guide example 4.3.2 step 4: +BLEGATTCPRIMSRV:0,3,0xA002,1
  for (std::size_t i = 0; i < services->size(); ++i)
    c.reply(line(c, fmt::format("{},{},{},1", index, i + 1, sim::uuid_text((*services)[i].uuid))));
  co_return Result::ok();
}
asio::awaitable<Result> inclsrv(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0));
  const auto srv = std::size_t(c.args.integer(1));
  auto services = co_await discover(ctx, c, index);
  if (!services || srv > services->size()) co_return Result::error();
  const auto& s = (*services)[srv - 1];
  for (const auto& inc : s.includes)
    c.reply(line(c, fmt::format("{},{},{},{},{},{}", index, srv, sim::uuid_text(s.uuid), int(s.primary),
                                sim::uuid_text(inc.uuid), int(inc.primary))));
  co_return Result::ok();
}
asio::awaitable<Result> cchar(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0));
  const auto srv = std::size_t(c.args.integer(1));
  auto services = co_await discover(ctx, c, index);
  if (!services || srv > services->size()) co_return Result::error();
  char_lines(c, fmt::format("{},", index), int(srv), (*services)[srv - 1]);
  co_return Result::ok();
}

// ---- AT+BLEGATTCRD (3.4.29), AT+BLEGATTCWR (3.4.30) -----------------------------------------
asio::awaitable<Result> crd(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  const auto& a = c.args;
  const int index = int(a.integer(0));
  if (!b.link(index)) co_return Result::error();
  co_await b.air_time(index, c.stop);
  auto value = ctx.world().ble.read(b.id(), index, int(a.integer(1)), int(a.integer(2)), int(a.integer(3, 0)));
  // 3.4.29 note: "If the target characteristic cannot be read, it will return ERROR".
  if (!value) co_return Result::error();
  // What the first response cannot hold (MTU - 1 bytes) comes by Read Blob, a piece an exchange.
  if (const sim::BleLink* l = b.link(index)) {
    const std::size_t piece = std::size_t(l->mtu - 1);
    for (std::size_t got = piece; got < value->size(); got += piece) co_await b.air_time(index, c.stop);
  }
  c.reply(line(c, fmt::format("{},{},{}", index, value->size(), *value)));  // +BLEGATTCRD:0,1,0
  co_return Result::ok();
}

// What the AT client writes to a CCCD (0x2902): not the bytes typed but 01 00 for a
// characteristic that notifies, 02 00 for one that indicates (esp-at issues #161 and #608).
std::string cccd_write(const sim::GattChar& ch, std::string typed) {
  if (ch.props & sim::gatt_prop::notify) return std::string("\x01\x00", 2);
  if (ch.props & sim::gatt_prop::indicate) return std::string("\x02\x00", 2);
  return typed;
}
asio::awaitable<Result> cwr(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  const auto& a = c.args;
  const int index = int(a.integer(0)), srv = int(a.integer(1)), chr = int(a.integer(2));
  const int desc = int(a.integer(3, 0));
  const auto len = std::size_t(a.integer(4));
  // The client knows what it discovered: no such attribute, or a characteristic without a write
  // property, is refused before '>' (3.4.30 note).
  auto services = ctx.world().ble.discover(b.id(), index);
  if (!services || std::size_t(srv) > services->size()) co_return Result::error();
  const auto& s = (*services)[std::size_t(srv) - 1];
  if (std::size_t(chr) > s.chars.size()) co_return Result::error();
  const sim::GattChar ch = s.chars[std::size_t(chr) - 1];
  if (std::size_t(desc) > ch.descs.size()) co_return Result::error();
  if (!desc && !(ch.props & (sim::gatt_prop::write | sim::gatt_prop::write_nr))) co_return Result::error();
  std::string data = co_await c.read_data(len, {}, kPrompt);
  if (desc && ch.descs[std::size_t(desc) - 1].uuid == "2902") data = cccd_write(ch, std::move(data));
  co_await b.air_time(index, c.stop);
  co_return ctx.world().ble.write(b.id(), index, srv, chr, desc, data) ? Result::ok() : Result::error();
}

}  // namespace

std::vector<at::Command> ble_gatt_commands() {
  using need::ble;
  const at::Int conn_index{"conn_index", 0, 2};
  const at::Int srv_index{"srv_index", 1, 255}, char_index{"char_index", 1, 255};
  const at::Int length{"length", 1, 512};  // 0 is refused (esp-at issue #680)
  std::vector<at::Command> r;
  r.push_back({.name = "+BLEGATTSSRVCRE", .exec = plain(srvcre), .needs = ble});
  r.push_back({.name = "+BLEGATTSSRVSTART", .set = plain(srvstart), .exec = plain(srvstart), .params = {srv_index}, .needs = ble});
  r.push_back({.name = "+BLEGATTSSRVSTOP", .set = plain(srvstop), .exec = plain(srvstop), .params = {srv_index}, .needs = ble});
  r.push_back({.name = "+BLEGATTSSRV", .query = plain(srv_query), .needs = ble});
  r.push_back({.name = "+BLEGATTSCHAR", .query = plain(schar_query), .needs = ble});
  r.push_back({.name = "+BLEGATTSNTFY", .set = coro(ntfy), .params = {conn_index, srv_index, char_index, length},
               .needs = ble, .aliases = {{"+BLEGATTSENTFY"}}});
  r.push_back({.name = "+BLEGATTSIND", .set = coro(ind), .params = {conn_index, srv_index, char_index, length}, .needs = ble});
  r.push_back({.name = "+BLEGATTSSETATTR", .set = coro(setattr),
               .params = {srv_index, char_index, at::Int{"desc_index", 1, 255, true}, length}, .needs = ble});
  r.push_back({.name = "+BLEGATTCPRIMSRV", .set = coro(primsrv), .params = {conn_index}, .needs = ble});
  r.push_back({.name = "+BLEGATTCINCLSRV", .set = coro(inclsrv), .params = {conn_index, srv_index}, .needs = ble});
  r.push_back({.name = "+BLEGATTCCHAR", .set = coro(cchar), .params = {conn_index, srv_index}, .needs = ble});
  r.push_back({.name = "+BLEGATTCRD", .set = coro(crd),
               .params = {conn_index, srv_index, char_index, at::Int{"desc_index", 1, 255, true}}, .needs = ble});
  r.push_back({.name = "+BLEGATTCWR", .set = coro(cwr),
               .params = {conn_index, srv_index, char_index, at::Int{"desc_index", 1, 255, true}, length}, .needs = ble});
  return r;
}

}  // namespace espat::commands
