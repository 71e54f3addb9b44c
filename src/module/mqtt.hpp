// The module's MQTT client (spec 3.6): link 0, over TCP, TLS, WebSocket or WebSocket over TLS
// (schemes 1-10 of AT+MQTTUSERCFG), speaking MQTT 3.1.1 (net/mqtt_packet.hpp) on the module's
// own connections (module/client_stream.hpp: its address, names, faults, trace). It behaves as
// the firmware's esp-mqtt client does: a publish is done when its packet is written (QoS 1/2
// acknowledgements are handled in the background), a subscription when the broker's SUBACK
// came; a lost connection prints +MQTTDISCONNECTED and, with <reconnect> 1, is tried again
// every 10 s (esp-mqtt's reconnect_timeout_ms), the subscriptions renewed.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "async/activity.hpp"
#include "net/mqtt_packet.hpp"

namespace espat::module {

class Context;

// AT+MQTTUSERCFG, AT+MQTTLONG*, AT+MQTTCONNCFG, AT+MQTTALPN, AT+MQTTSNI (3.6.2-3.6.8).
struct MqttConfig {
  int scheme = 1;
  std::string client_id, username, password, path;
  int cert_key_id = 0, ca_id = 0;
  int keepalive_s = 0;  // 0 means 120 (3.6.6)
  bool disable_clean_session = false;
  std::string lwt_topic, lwt_msg;
  int lwt_qos = 0;
  bool lwt_retain = false;
  std::vector<std::string> alpn;
  std::string sni;
};

class Mqtt {
 public:
  static constexpr auto kReconnectInterval = std::chrono::seconds(10);  // esp-mqtt's default
  static constexpr auto kPacketTimeout = std::chrono::seconds(10);      // 3.6.16

  Mqtt(asio::io_context& io, Context& ctx);
  ~Mqtt();
  // Boot, AT+RST: the client is gone and its configuration forgotten (the firmware keeps it in RAM).
  void reset();
  // The station lost its address: the connection breaks as a real one would (and, with
  // <reconnect> 1, comes back once the module has an address again).
  void address_lost();

  // ---- configuration -------------------------------------------------------------------------
  MqttConfig& config() { return cfg_; }
  void user_configured() { user_set_ = true; }
  void conn_configured() { conn_set_ = true; }
  bool has_user_config() const { return user_set_; }

  // ---- the connection ------------------------------------------------------------------------
  // 3.6.9 <state>: 0 nothing set, 1 AT+MQTTUSERCFG, 2 AT+MQTTCONNCFG, 3 disconnected,
  // 4 connected, 5 connected with no topic after unsubscribing, 6 connected with topics.
  int state() const;
  bool has_client() const { return bool(target_); }  // AT+MQTTCONN succeeded, no AT+MQTTCLEAN since
  bool connected() const;
  struct Target {
    std::string host;
    int port = 0;
    bool reconnect = false;
  };
  const std::optional<Target>& target() const { return target_; }
  // "<scheme>,"<host>","<port>","<path>",<reconnect>": what +MQTTCONNECTED and AT+MQTTCONN? print.
  std::string describe() const;

  // AT+MQTTCONN: connects, CONNECT and CONNACK included. True: +MQTTCONNECTED is printed and
  // the client runs in the background. False: +MQTTDISCONNECTED printed, nothing kept.
  asio::awaitable<bool> connect(Target t, async::StopToken stop);
  enum class Outcome { Ok, Failed, Already, NotSubscribed };
  asio::awaitable<Outcome> publish(std::string topic, std::string payload, int qos, bool retain, async::StopToken stop);
  asio::awaitable<Outcome> subscribe(std::string topic, int qos, async::StopToken stop);
  asio::awaitable<Outcome> unsubscribe(std::string topic, async::StopToken stop);
  // AT+MQTTCLEAN: DISCONNECT sent if connected, the client and its subscriptions dropped.
  void clean();
  const std::vector<std::pair<std::string, int>>& subscriptions() const { return subs_; }

 private:
  struct Session;
  asio::awaitable<std::shared_ptr<Session>> establish(async::StopToken stop);
  asio::awaitable<void> run(std::shared_ptr<Session> s, async::StopToken stop);
  asio::awaitable<void> read_loop(std::shared_ptr<Session> s);
  asio::awaitable<void> ping_loop(std::shared_ptr<Session> s);
  asio::awaitable<bool> write(std::shared_ptr<Session> s, std::string bytes);
  asio::awaitable<std::optional<net::mqtt::Packet>> request(std::shared_ptr<Session> s, std::uint16_t id, std::string bytes,
                                                          async::StopToken stop);
  void handle(const std::shared_ptr<Session>& s, net::mqtt::Packet& p);
  void lost(const std::shared_ptr<Session>& s);
  std::uint16_t next_id();

  asio::io_context& io_;
  Context& ctx_;
  MqttConfig cfg_;
  bool user_set_ = false, conn_set_ = false, unsubscribed_all_ = false;
  std::optional<Target> target_;
  std::shared_ptr<Session> session_;  // the open connection, when there is one
  std::vector<std::pair<std::string, int>> subs_;  // topic, QoS: AT+MQTTSUB? and renewal
  std::uint16_t last_id_ = 0;
  async::Activity runner_;
};

}  // namespace espat::module
