// The module's MQTT client (spec 3.6); see mqtt.hpp. Written here rather than taken from a
// library (README "MQTT client" says which option ruled out libmosquitto and Paho): it runs on
// the module's loop over the module's own streams.
#include "module/mqtt.hpp"

#include <algorithm>
#include <set>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "at/engine.hpp"
#include "module/client_stream.hpp"
#include "module/context.hpp"
#include "module/pki.hpp"
#include "module/wifi.hpp"
#include "net/websocket.hpp"

namespace espat::module {

namespace mq = net::mqtt;
using Clock = std::chrono::steady_clock;

struct Mqtt::Session {
  explicit Session(asio::io_context& io) : write_idle(io, Clock::time_point::max()), ping_due(io) {}
  struct Pending {
    explicit Pending(asio::io_context& io) : wake(io, Clock::time_point::max()) {}
    asio::steady_timer wake;  // cancelled when the answer came or the connection ended
    std::optional<mq::Packet> answer;
  };
  std::unique_ptr<net::Stream> stream;
  mq::Reader reader;
  bool open = true;
  bool writing = false;
  asio::steady_timer write_idle;  // writers waiting for the one writing
  asio::steady_timer ping_due;
  bool ping_out = false;           // a PINGREQ waits for its PINGRESP
  int keepalive_s = 120;
  std::map<std::uint16_t, std::shared_ptr<Pending>> pending;  // SUBACK, UNSUBACK by packet id
  std::set<std::uint16_t> qos2_in;                            // received QoS 2, PUBREL not yet
};

Mqtt::Mqtt(asio::io_context& io, Context& ctx) : io_(io), ctx_(ctx), runner_(io) {}
Mqtt::~Mqtt() { runner_.stop(); }

void Mqtt::reset() {
  runner_.stop();
  if (session_ && session_->stream) session_->stream->close();
  session_.reset();
  cfg_ = {};
  user_set_ = conn_set_ = unsubscribed_all_ = false;
  target_.reset();
  subs_.clear();
}

void Mqtt::address_lost() {
  if (session_ && session_->stream) session_->stream->close();
}

bool Mqtt::connected() const { return session_ && session_->open; }

int Mqtt::state() const {
  if (connected()) return !subs_.empty() ? 6 : unsubscribed_all_ ? 5 : 4;
  if (target_) return 3;
  return conn_set_ ? 2 : user_set_ ? 1 : 0;
}

std::string Mqtt::describe() const {
  const Target t = target_.value_or(Target{});
  return fmt::format("{},\"{}\",\"{}\",\"{}\",{}", cfg_.scheme, t.host, t.port ? std::to_string(t.port) : "",
                     cfg_.path, t.reconnect ? 1 : 0);
}

std::uint16_t Mqtt::next_id() {
  if (++last_id_ == 0) last_id_ = 1;  // 0 is not a packet id
  return last_id_;
}

// ---- connecting ---------------------------------------------------------------------------------

namespace {
bool is_tls(int scheme) { return scheme != 1 && scheme != 6; }
bool verifies_server(int scheme) { return scheme == 3 || scheme == 5 || scheme == 8 || scheme == 10; }
bool sends_cert(int scheme) { return scheme == 4 || scheme == 5 || scheme == 9 || scheme == 10; }

// esp-mqtt's client id when none is configured: "ESP32_" and the station MAC's last three bytes.
std::string default_client_id(Context& ctx) {
  const auto& m = ctx.wifi().station_mac().b;
  return fmt::format("ESP32_{:02x}{:02X}{:02X}", m[3], m[4], m[5]);
}

asio::awaitable<std::size_t> read_some(net::Stream& s, std::span<char> buf) { co_return co_await s.read_some(buf); }

// Schemes 6-10: the WebSocket opening handshake on the connection, "mqtt" as the subprotocol
// (MQTT 3.1.1 §6), <path> as the request target.
asio::awaitable<std::unique_ptr<net::Stream>> websocket_upgrade(std::unique_ptr<net::Stream> s, const Mqtt::Target& t,
                                                                const std::string& path, std::string& why) {
  net::WsOptions o;
  const bool v6 = t.host.find(':') != std::string::npos;
  o.host = fmt::format("{}{}{}:{}", v6 ? "[" : "", t.host, v6 ? "]" : "", t.port);  // as esp_transport_ws
  o.path = path.empty() || path.front() != '/' ? "/" + path : path;
  o.subprotocol = "mqtt";
  o.timeout = Mqtt::kPacketTimeout;
  std::unique_ptr<net::Stream> ws;
  try {
    ws = co_await net::websocket_stream(std::move(s), std::move(o));
  } catch (const std::exception& e) {
    why = e.what();
  }
  co_return ws;
}
}  // namespace

// One connection: the stream (TLS and WebSocket as the scheme says), CONNECT, and CONNACK.
// Null when any step failed; `why` says which for the log.
asio::awaitable<std::shared_ptr<Mqtt::Session>> Mqtt::establish(async::StopToken stop) {
  const Target t = *target_;
  ClientTarget ct{"mqtt", t.host, t.port, std::nullopt};
  if (is_tls(cfg_.scheme)) {
    net::TlsClientOptions o;
    // AT+MQTTSNI names the server both in ClientHello and for the certificate check, as
    // esp-tls's common_name does; without it the host name does (never an IP literal in SNI).
    std::error_code ec;
    const std::string name = !cfg_.sni.empty() ? cfg_.sni : t.host;
    asio::ip::make_address(name, ec);
    if (ec) o.sni = name;
    o.alpn = cfg_.alpn;
    if (verifies_server(cfg_.scheme)) {
      auto ca = pki_item(ctx_, "mqtt_ca", cfg_.ca_id);
      if (!ca) {
        spdlog::info("m{}: MQTT: no mqtt_ca.{} in mfg_nvs", ctx_.index(), cfg_.ca_id);
        co_return nullptr;
      }
      o.ca_pem = *ca;
      o.verify_server = true;
      o.common_name = name;
    }
    if (sends_cert(cfg_.scheme)) {
      auto cert = pki_item(ctx_, "mqtt_cert", cfg_.cert_key_id);
      auto key = pki_item(ctx_, "mqtt_key", cfg_.cert_key_id);
      if (!cert || !key) {
        spdlog::info("m{}: MQTT: no mqtt_cert/mqtt_key {} in mfg_nvs", ctx_.index(), cfg_.cert_key_id);
        co_return nullptr;
      }
      o.cert_pem = *cert;
      o.key_pem = *key;
    }
    ct.tls = o;
  }
  auto c = co_await open_client_stream(ctx_, ct, kPacketTimeout, stop);
  if (!c.stream) {
    spdlog::info("m{}: MQTT connect to {}:{}: {}", ctx_.index(), t.host, t.port, c.why);
    co_return nullptr;
  }
  auto s = std::make_shared<Session>(io_);
  s->stream = std::move(c.stream);
  if (cfg_.scheme >= 6) {
    std::string why;
    s->stream = co_await websocket_upgrade(std::move(s->stream), t, cfg_.path, why);
    if (!s->stream) {
      spdlog::info("m{}: MQTT WebSocket handshake with {}:{}: {}", ctx_.index(), t.host, t.port, why);
      co_return nullptr;
    }
  }
  s->keepalive_s = cfg_.keepalive_s == 0 ? 120 : cfg_.keepalive_s;
  mq::ConnectFields f;
  f.client_id = cfg_.client_id.empty() ? default_client_id(ctx_) : cfg_.client_id;
  if (!cfg_.username.empty()) f.username = cfg_.username;
  if (!cfg_.password.empty()) f.password = cfg_.password;
  f.keepalive_s = s->keepalive_s;
  f.clean_session = !cfg_.disable_clean_session;
  if (!cfg_.lwt_topic.empty()) f.will = mq::Will{cfg_.lwt_topic, cfg_.lwt_msg, cfg_.lwt_qos, cfg_.lwt_retain};
  try {
    const auto sent = co_await stop.race(io_, write(s, mq::connect(f)), kPacketTimeout);
    if (!sent.value_or(false)) {
      s->stream->close();
      co_return nullptr;
    }
    // CONNACK, within the packet timeout.
    const auto deadline = Clock::now() + kPacketTimeout;
    std::string buf(4096, '\0');
    while (true) {
      if (auto p = s->reader.next()) {
        if (p->type != mq::Type::Connack || p->return_code != 0) {
          spdlog::info("m{}: MQTT broker refused: CONNACK {}", ctx_.index(), p->return_code);
          s->stream->close();
          co_return nullptr;
        }
        break;
      }
      if (s->reader.failed()) co_return nullptr;
      auto n = co_await stop.race(io_, read_some(*s->stream, {buf.data(), buf.size()}), deadline - Clock::now());
      if (!n || *n == 0) {
        s->stream->close();
        co_return nullptr;
      }
      s->reader.feed({buf.data(), *n});
    }
  } catch (const std::system_error& e) {
    spdlog::info("m{}: MQTT connect: {}", ctx_.index(), e.what());
    co_return nullptr;
  }
  co_return s;
}

asio::awaitable<bool> Mqtt::connect(Target t, async::StopToken stop) {
  target_ = t;
  auto s = co_await establish(stop);
  if (!s) {
    target_.reset();
    ctx_.engine().report("+MQTTDISCONNECTED:0\r\n");
    co_return false;
  }
  session_ = s;
  unsubscribed_all_ = false;
  ctx_.engine().report(fmt::format("+MQTTCONNECTED:0,{}\r\n", describe()));
  runner_.start([this, s](async::StopToken st) { return run(s, st); });
  co_return true;
}

// The background of a connection: packets read and answered, pings sent; when it ends, the
// report, then (with <reconnect> 1) a new connection every 10 s, subscriptions renewed.
asio::awaitable<void> Mqtt::run(std::shared_ptr<Session> s, async::StopToken stop) {
  using namespace asio::experimental::awaitable_operators;
  while (true) {
    co_await (read_loop(s) || ping_loop(s));
    stop.throw_if_requested();
    lost(s);
    if (!target_ || !target_->reconnect) co_return;
    while (true) {
      co_await stop.sleep(io_, kReconnectInterval);
      s = co_await establish(stop);
      if (s) break;
      ctx_.engine().report("+MQTTDISCONNECTED:0\r\n");
    }
    session_ = s;
    ctx_.engine().report(fmt::format("+MQTTCONNECTED:0,{}\r\n", describe()));
    // Renewed as esp-at's client does on MQTT_EVENT_CONNECTED, without waiting for SUBACKs.
    for (const auto& [topic, qos] : subs_) co_await write(s, mq::subscribe(next_id(), topic, qos));
  }
}

void Mqtt::lost(const std::shared_ptr<Session>& s) {
  s->open = false;
  if (s->stream) s->stream->close();
  for (auto& [id, p] : s->pending) p->wake.cancel();
  s->pending.clear();
  s->write_idle.cancel();
  s->ping_due.cancel();
  if (session_ == s) session_.reset();
  ctx_.engine().report("+MQTTDISCONNECTED:0\r\n");
}

asio::awaitable<void> Mqtt::read_loop(std::shared_ptr<Session> s) {
  std::string buf(4096, '\0');
  try {
    while (s->open) {
      while (auto p = s->reader.next()) handle(s, *p);
      if (s->reader.failed()) {
        spdlog::info("m{}: MQTT: broker broke the protocol: {}", ctx_.index(), s->reader.why());
        co_return;
      }
      const std::size_t n = co_await s->stream->read_some({buf.data(), buf.size()});
      if (n == 0) co_return;
      s->reader.feed({buf.data(), n});
    }
  } catch (const std::system_error& e) {
    spdlog::debug("m{}: MQTT read: {}", ctx_.index(), e.what());
  }
}

// PINGREQ every keep-alive; no PINGRESP by the next one means the broker is gone.
asio::awaitable<void> Mqtt::ping_loop(std::shared_ptr<Session> s) {
  while (s->open) {
    s->ping_due.expires_after(std::chrono::seconds(s->keepalive_s));
    std::error_code ec;
    co_await s->ping_due.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !s->open) co_return;
    if (s->ping_out) {
      spdlog::info("m{}: MQTT: no PINGRESP within the keep-alive", ctx_.index());
      co_return;
    }
    s->ping_out = true;
    if (!co_await write(s, mq::pingreq())) co_return;
  }
}

void Mqtt::handle(const std::shared_ptr<Session>& s, mq::Packet& p) {
  auto send = [this, s](std::string bytes) {
    asio::co_spawn(io_, write(s, std::move(bytes)), asio::detached);
  };
  switch (p.type) {
    case mq::Type::Publish: {
      const bool again = p.qos == 2 && s->qos2_in.count(p.id);
      if (p.qos == 1) send(mq::ack(mq::Type::Puback, p.id));
      if (p.qos == 2) {
        s->qos2_in.insert(p.id);
        send(mq::ack(mq::Type::Pubrec, p.id));
      }
      if (!again)
        ctx_.engine().report(fmt::format("+MQTTSUBRECV:0,\"{}\",{},{}\r\n", p.topic, p.payload.size(), p.payload));
      break;
    }
    case mq::Type::Pubrel:
      s->qos2_in.erase(p.id);
      send(mq::ack(mq::Type::Pubcomp, p.id));
      break;
    case mq::Type::Pubrec:
      send(mq::ack(mq::Type::Pubrel, p.id));
      break;
    case mq::Type::Suback:
    case mq::Type::Unsuback:
      if (auto it = s->pending.find(p.id); it != s->pending.end()) {
        it->second->answer = std::move(p);
        it->second->wake.cancel();
        s->pending.erase(it);
      }
      break;
    case mq::Type::Pingresp:
      s->ping_out = false;
      break;
    default:  // PUBACK, PUBCOMP: the publish was done when written (esp-mqtt's outbox forgets it)
      break;
  }
}

// ---- writing --------------------------------------------------------------------------------

// One packet at a time on the stream; false when the connection broke (or is gone).
asio::awaitable<bool> Mqtt::write(std::shared_ptr<Session> s, std::string bytes) {
  while (s->writing && s->open) {
    std::error_code ec;
    s->write_idle.expires_at(Clock::time_point::max());
    co_await s->write_idle.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!s->open) co_return false;
  s->writing = true;
  bool ok = true;
  try {
    co_await s->stream->write(bytes);
  } catch (const std::system_error& e) {
    spdlog::debug("m{}: MQTT write: {}", ctx_.index(), e.what());
    ok = false;
  }
  s->writing = false;
  s->write_idle.cancel();
  if (!ok && s->stream) s->stream->close();  // the reader sees it and reports the loss
  co_return ok;
}

// Writes a packet and waits (10 s at most) for the answer carrying the same packet id.
asio::awaitable<std::optional<mq::Packet>> Mqtt::request(std::shared_ptr<Session> s, std::uint16_t id, std::string bytes,
                                                         async::StopToken stop) {
  auto p = std::make_shared<Session::Pending>(io_);
  s->pending[id] = p;
  const auto written = co_await stop.race(io_, write(s, std::move(bytes)), kPacketTimeout);
  if (!written.value_or(false)) {
    s->pending.erase(id);
    co_return std::nullopt;
  }
  // The answer may have come while the write was finishing: then no wait.
  if (!p->answer && s->open) {
    p->wake.expires_after(kPacketTimeout);
    std::error_code ec;
    co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  stop.throw_if_requested();
  s->pending.erase(id);
  co_return p->answer;
}

// ---- commands -------------------------------------------------------------------------------

asio::awaitable<Mqtt::Outcome> Mqtt::publish(std::string topic, std::string payload, int qos, bool retain,
                                             async::StopToken stop) {
  auto s = session_;
  if (!s || !s->open) co_return Outcome::Failed;
  const std::uint16_t id = qos > 0 ? next_id() : 0;
  auto ok = co_await stop.race(io_, write(s, mq::publish(topic, payload, qos, retain, id)), kPacketTimeout);
  co_return ok.value_or(false) ? Outcome::Ok : Outcome::Failed;
}

asio::awaitable<Mqtt::Outcome> Mqtt::subscribe(std::string topic, int qos, async::StopToken stop) {
  for (const auto& sub : subs_)
    if (sub.first == topic) co_return Outcome::Already;
  auto s = session_;
  if (!s || !s->open) co_return Outcome::Failed;
  const std::uint16_t id = next_id();
  auto answer = co_await request(s, id, mq::subscribe(id, topic, qos), stop);
  if (!answer || answer->granted.empty() || answer->granted[0] == 0x80) co_return Outcome::Failed;
  subs_.emplace_back(std::move(topic), qos);
  co_return Outcome::Ok;
}

asio::awaitable<Mqtt::Outcome> Mqtt::unsubscribe(std::string topic, async::StopToken stop) {
  auto it = std::find_if(subs_.begin(), subs_.end(), [&](const auto& sub) { return sub.first == topic; });
  if (it == subs_.end()) co_return Outcome::NotSubscribed;
  auto s = session_;
  if (!s || !s->open) co_return Outcome::Failed;
  const std::uint16_t id = next_id();
  auto answer = co_await request(s, id, mq::unsubscribe(id, topic), stop);
  if (!answer) co_return Outcome::Failed;
  std::erase_if(subs_, [&](const auto& sub) { return sub.first == topic; });
  if (subs_.empty()) unsubscribed_all_ = true;
  co_return Outcome::Ok;
}

void Mqtt::clean() {
  runner_.stop();
  if (auto s = session_; s && s->open) {
    s->open = false;
    // DISCONNECT, then the connection closes once it is written (3.1.1 §3.14).
    auto bye = [](std::shared_ptr<Session> s) -> asio::awaitable<void> {
      try {
        co_await s->stream->write(mq::disconnect());
      } catch (const std::system_error&) {
      }
      s->stream->close();
    };
    asio::co_spawn(io_, bye(s), asio::detached);
  }
  session_.reset();
  target_.reset();
  subs_.clear();
  unsubscribed_all_ = false;
}

}  // namespace espat::module
