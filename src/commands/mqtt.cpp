// Spec 3.6: AT+MQTTUSERCFG, AT+MQTTLONGCLIENTID/USERNAME/PASSWORD, AT+MQTTCONNCFG, AT+MQTTALPN,
// AT+MQTTSNI, AT+MQTTCONN, AT+MQTTPUB, AT+MQTTPUBRAW, AT+MQTTSUB, AT+MQTTUNSUB, AT+MQTTCLEAN, on
// the module's MQTT client (module/mqtt.hpp). The schemas take parameters loosely (any integer,
// long strings) so that a bad value gets the MQTT error code of 3.6.15, as the firmware's
// handlers give it, rather than the generic parameter codes.
#include "commands/mqtt.hpp"

#include "commands/handler.hpp"
#include "module/mqtt.hpp"

namespace espat::commands {

namespace {
using module::Mqtt;

// 3.6.15, as "ERR CODE:0x010a60xx" (reference §1.5: sub-category 0x0A, handler-specific).
enum Code : std::uint16_t {
  NoConfigured = 0x6001, NotInConfiguredState = 0x6002, UninitiatedOrAlreadyClean = 0x6003,
  AlreadyConnected = 0x6004, NullLink = 0x6006, ParameterCountsIsWrong = 0x6008,
  PublishFailed = 0x600C, SubscribeFailed = 0x600D, UnsubscribeFailed = 0x600E,
  LinkIdWrong = 0x6011, SchemeWrong = 0x6013, ClientIdOverlength = 0x6016, UsernameOverlength = 0x6019,
  PasswordOverlength = 0x601C, CertKeyIdWrong = 0x601E, CaIdWrong = 0x6020, PathOverlength = 0x6029,
  KeepaliveWrong = 0x602D, CleanSessionWrong = 0x602F, LwtTopicOverlength = 0x6032, LwtMsgOverlength = 0x6035,
  LwtQosWrong = 0x6037, LwtRetainWrong = 0x6039, HostIsNull = 0x603B, HostOverlength = 0x603C, PortWrong = 0x603E,
  ReconnectWrong = 0x6040, TopicIsNull = 0x6042, TopicOverlength = 0x6043, DataIsNull = 0x6045, QosWrong = 0x6048,
  RetainWrong = 0x604A, PublishLengthWrong = 0x604C, InDisconnectedState = 0x6051,
};
Result fail(Code c) { return Result::error(at::ErrCode::make(at::Sub::ExecFail, c)); }

// The first failed check's code, or nothing.
struct Checks {
  std::optional<Code> failed;
  Checks& check(bool ok, Code c) {
    if (!ok && !failed) failed = c;
    return *this;
  }
};
bool in(std::int64_t v, std::int64_t lo, std::int64_t hi) { return v >= lo && v <= hi; }
// AT+MQTTPUBRAW's <length>: "limited by available memory" (3.6.11); the heap AT+SYSRAM shows.
constexpr std::int64_t kPubRawMax = 1 << 20;

// Every command's <LinkID> (only 0), and a configuration made first.
std::optional<Result> link_and_config(Ctx& ctx, const Call& c) {
  if (c.args.integer(0) != 0) return fail(LinkIdWrong);
  if (!ctx.mqtt().has_user_config()) return fail(NoConfigured);
  return std::nullopt;
}
// A client that can take a publish or subscription now.
std::optional<Result> usable(Ctx& ctx) {
  if (!ctx.mqtt().has_client()) return fail(NullLink);
  if (!ctx.mqtt().connected()) return fail(InDisconnectedState);
  return std::nullopt;
}

// ---- configuration (3.6.2-3.6.8) -----------------------------------------------------------------
Result usercfg(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  auto& m = ctx.mqtt();
  Checks k;
  k.check(a.integer(0) == 0, LinkIdWrong)
      .check(in(a.integer(1), 1, 10), SchemeWrong)
      .check(a.text(2).size() <= 256, ClientIdOverlength)
      .check(a.text(3).size() <= 64, UsernameOverlength)
      .check(a.text(4).size() <= 64, PasswordOverlength)
      .check(a.integer(5) == 0, CertKeyIdWrong)
      .check(a.integer(6) == 0, CaIdWrong)
      .check(a.text(7).size() <= 32, PathOverlength);
  if (k.failed) return fail(*k.failed);
  if (m.has_client()) return fail(NotInConfiguredState);
  auto& cfg = m.config();
  cfg.scheme = int(a.integer(1));
  cfg.client_id = a.text(2);
  cfg.username = a.text(3);
  cfg.password = a.text(4);
  cfg.cert_key_id = int(a.integer(5));
  cfg.ca_id = int(a.integer(6));
  cfg.path = a.text(7);
  m.user_configured();
  return Result::ok();
}

// AT+MQTTLONGCLIENTID, LONGUSERNAME, LONGPASSWORD: the value after '>' (3.6.3-3.6.5).
asio::awaitable<Result> long_field(Ctx& ctx, Call& c, std::string module::MqttConfig::*field) {
  if (auto r = link_and_config(ctx, c)) co_return *r;
  if (ctx.mqtt().has_client()) co_return fail(NotInConfiguredState);
  std::string value = co_await c.read_data(std::size_t(c.args.integer(1)));
  ctx.mqtt().config().*field = std::move(value);
  co_return Result::ok();
}
asio::awaitable<Result> longclientid(Ctx& ctx, Call& c) { co_return co_await long_field(ctx, c, &module::MqttConfig::client_id); }
asio::awaitable<Result> longusername(Ctx& ctx, Call& c) { co_return co_await long_field(ctx, c, &module::MqttConfig::username); }
asio::awaitable<Result> longpassword(Ctx& ctx, Call& c) { co_return co_await long_field(ctx, c, &module::MqttConfig::password); }

Result conncfg(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (auto r = link_and_config(ctx, c)) return *r;
  Checks k;
  k.check(in(a.integer(1), 0, 7200), KeepaliveWrong)
      .check(in(a.integer(2), 0, 1), CleanSessionWrong)
      .check(a.text(3).size() <= 128, LwtTopicOverlength)
      .check(a.text(4).size() <= 128, LwtMsgOverlength)
      .check(in(a.integer(5, 0), 0, 2), LwtQosWrong)
      .check(in(a.integer(6, 0), 0, 1), LwtRetainWrong);
  if (k.failed) return fail(*k.failed);
  if (ctx.mqtt().has_client()) return fail(NotInConfiguredState);
  auto& cfg = ctx.mqtt().config();
  cfg.keepalive_s = int(a.integer(1));
  cfg.disable_clean_session = a.integer(2) == 1;
  cfg.lwt_topic = a.text(3);
  cfg.lwt_msg = a.text(4);
  cfg.lwt_qos = int(a.integer(5, 0));
  cfg.lwt_retain = a.integer(6, 0) == 1;
  ctx.mqtt().conn_configured();
  return Result::ok();
}

Result alpn(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (auto r = link_and_config(ctx, c)) return *r;
  const auto count = a.integer(1);
  std::vector<std::string> names;
  for (std::size_t i = 2; i < 7; ++i)
    if (a.has(i)) names.push_back(a.text(i));
  if (!in(count, 0, 5) || std::size_t(count) != names.size()) return fail(ParameterCountsIsWrong);
  ctx.mqtt().config().alpn = std::move(names);  // 0: cleared
  return Result::ok();
}

Result sni(Ctx& ctx, Call& c) {
  if (auto r = link_and_config(ctx, c)) return *r;
  ctx.mqtt().config().sni = c.args.text(1);
  return Result::ok();
}

// ---- AT+MQTTCONN (3.6.9) -------------------------------------------------------------------------
Result conn_query(Ctx& ctx, Call& c) {
  c.reply(line(c, fmt::format("0,{},{}", ctx.mqtt().state(), ctx.mqtt().describe())));
  return Result::ok();
}

asio::awaitable<Result> conn_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (a.integer(0) != 0) co_return fail(LinkIdWrong);
  // The port bare, or quoted as the guide's 4.5.2 example types it ("8883").
  const auto port = a.is_string(2) ? at::parse_integer(a.text(2)).value_or(0) : a.integer(2);
  Checks k;
  k.check(!a.text(1).empty(), HostIsNull)
      .check(a.text(1).size() <= 128, HostOverlength)
      .check(in(port, 1, 65535), PortWrong)
      .check(in(a.integer(3), 0, 1), ReconnectWrong);
  if (k.failed) co_return fail(*k.failed);
  auto& m = ctx.mqtt();
  if (!m.has_user_config()) co_return fail(NoConfigured);
  if (m.has_client()) co_return fail(AlreadyConnected);
  Mqtt::Target t{a.text(1), int(port), a.integer(3) == 1};
  if (!co_await m.connect(t, c.stop)) co_return fail(InDisconnectedState);
  co_return Result::ok();
}

// ---- publishing (3.6.10-3.6.11) --------------------------------------------------------------------
std::optional<Result> topic_qos_retain(const Call& c, std::size_t topic, std::size_t qos, std::size_t retain) {
  const auto& a = c.args;
  Checks k;
  k.check(a.integer(0) == 0, LinkIdWrong)
      .check(!a.text(topic).empty(), TopicIsNull)
      .check(a.text(topic).size() <= 128, TopicOverlength)
      .check(in(a.integer(qos), 0, 2), QosWrong)
      .check(in(a.integer(retain), 0, 1), RetainWrong);
  if (k.failed) return fail(*k.failed);
  return std::nullopt;
}

asio::awaitable<Result> pub(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (auto r = topic_qos_retain(c, 1, 3, 4)) co_return *r;
  if (a.text(2).empty()) co_return fail(DataIsNull);
  if (auto r = usable(ctx)) co_return *r;
  auto o = co_await ctx.mqtt().publish(a.text(1), a.text(2), int(a.integer(3)), a.integer(4) == 1, c.stop);
  co_return o == Mqtt::Outcome::Ok ? Result::ok() : fail(PublishFailed);
}

// OK and '>', <length> bytes, then "+MQTTPUB:OK" or "+MQTTPUB:FAIL" (3.6.11; reference §9.3).
asio::awaitable<Result> pubraw(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (auto r = topic_qos_retain(c, 1, 3, 4)) co_return *r;
  if (!in(a.integer(2), 1, kPubRawMax)) co_return fail(PublishLengthWrong);
  if (auto r = usable(ctx)) co_return *r;
  std::string data = co_await c.read_data(std::size_t(a.integer(2)));
  auto o = co_await ctx.mqtt().publish(a.text(1), std::move(data), int(a.integer(3)), a.integer(4) == 1, c.stop);
  c.reply(o == Mqtt::Outcome::Ok ? "+MQTTPUB:OK\r\n" : "+MQTTPUB:FAIL\r\n");
  co_return Result::nothing();
}

// ---- subscriptions (3.6.12-3.6.13) -------------------------------------------------------------
Result sub_query(Ctx& ctx, Call& c) {
  std::string out;
  for (const auto& [topic, qos] : ctx.mqtt().subscriptions())
    out += line(c, fmt::format("0,{},\"{}\",{}", ctx.mqtt().state(), topic, qos));
  if (!out.empty()) c.reply(out);
  return Result::ok();
}

asio::awaitable<Result> sub_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (auto r = topic_qos_retain(c, 1, 2, 2)) co_return *r;
  if (auto r = usable(ctx)) co_return *r;
  auto o = co_await ctx.mqtt().subscribe(a.text(1), int(a.integer(2)), c.stop);
  if (o == Mqtt::Outcome::Already) c.reply("ALREADY SUBSCRIBE\r\n");
  co_return o == Mqtt::Outcome::Failed ? fail(SubscribeFailed) : Result::ok();
}

asio::awaitable<Result> unsub(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (a.integer(0) != 0) co_return fail(LinkIdWrong);
  if (a.text(1).empty()) co_return fail(TopicIsNull);
  if (a.text(1).size() > 128) co_return fail(TopicOverlength);
  if (auto r = usable(ctx)) co_return *r;
  auto o = co_await ctx.mqtt().unsubscribe(a.text(1), c.stop);
  if (o == Mqtt::Outcome::NotSubscribed) c.reply("NO UNSUBSCRIBE\r\n");
  co_return o == Mqtt::Outcome::Failed ? fail(UnsubscribeFailed) : Result::ok();
}

// ---- AT+MQTTCLEAN (3.6.14) ----------------------------------------------------------------------
// The connection closed and the resource released: the configuration too, as the guide's note
// to AT+MQTTCONN says ("clean ..., reconfigure the connection parameters").
Result clean(Ctx& ctx, Call& c) {
  if (c.args.integer(0) != 0) return fail(LinkIdWrong);
  auto& m = ctx.mqtt();
  if (m.state() == 0) return fail(UninitiatedOrAlreadyClean);
  m.clean();
  m.reset();
  return Result::ok();
}

constexpr std::size_t kLong = 1024;  // strings the handlers measure themselves
at::Int link() { return at::Int{"LinkID"}; }
}  // namespace

at::Family mqtt_family() {
  at::Family f{.name = "mqtt"};
  auto& r = f.rows;
  r.push_back({.name = "+MQTTUSERCFG", .set = plain(usercfg),
               .params = {link(), at::Int{"scheme"}, at::Str{"client_id", kLong}, at::Str{"username", kLong},
                          at::Str{"password", kLong}, at::Int{"cert_key_ID"}, at::Int{"CA_ID"}, at::Str{"path", kLong}}});
  const at::Schema long_value{link(), at::Int{"length", 1, 1024}};
  r.push_back({.name = "+MQTTLONGCLIENTID", .set = coro(longclientid), .params = long_value});
  r.push_back({.name = "+MQTTLONGUSERNAME", .set = coro(longusername), .params = long_value});
  r.push_back({.name = "+MQTTLONGPASSWORD", .set = coro(longpassword), .params = long_value});
  r.push_back({.name = "+MQTTCONNCFG", .set = plain(conncfg),
               .params = {link(), at::Int{"keepalive"}, at::Int{"disable_clean_session"}, at::Str{"lwt_topic", kLong},
                          at::Str{"lwt_msg", kLong}, at::Int{"lwt_qos", INT32_MIN, INT32_MAX, true, 0},
                          at::Int{"lwt_retain", INT32_MIN, INT32_MAX, true, 0}}});
  r.push_back({.name = "+MQTTALPN", .set = plain(alpn),
               .params = {link(), at::Int{"alpn_counts"}, at::Str{"alpn", kLong, 0, true}, at::Str{"alpn", kLong, 0, true},
                          at::Str{"alpn", kLong, 0, true}, at::Str{"alpn", kLong, 0, true}, at::Str{"alpn", kLong, 0, true}}});
  r.push_back({.name = "+MQTTSNI", .set = plain(sni), .params = {link(), at::Str{"sni", kLong}}});
  r.push_back({.name = "+MQTTCONN", .query = plain(conn_query), .set = coro(conn_set),
               .params = {link(), at::Str{"host", kLong}, at::Any{"port"}, at::Int{"reconnect"}}});
  r.push_back({.name = "+MQTTPUB", .set = coro(pub),
               .params = {link(), at::Str{"topic", kLong}, at::Str{"data", 8192}, at::Int{"qos"}, at::Int{"retain"}}});
  r.push_back({.name = "+MQTTPUBRAW", .set = coro(pubraw),
               .params = {link(), at::Str{"topic", kLong}, at::Int{"length"}, at::Int{"qos"}, at::Int{"retain"}}});
  r.push_back({.name = "+MQTTSUB", .query = plain(sub_query), .set = coro(sub_set),
               .params = {link(), at::Str{"topic", kLong}, at::Int{"qos"}}});
  r.push_back({.name = "+MQTTUNSUB", .set = coro(unsub), .params = {link(), at::Str{"topic", kLong}}});
  r.push_back({.name = "+MQTTCLEAN", .set = plain(clean), .params = {link()}});
  return f;
}

}  // namespace espat::commands
