// MQTT 3.1.1 packets (OASIS standard, the protocol the firmware's esp-mqtt speaks by default):
// what the module's client sends, and an incremental reader for what a broker sends. No I/O
// here, so the reader is fuzzed (fuzz/mqtt_fuzz.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace espat::net::mqtt {

enum class Type : std::uint8_t {
  Connect = 1, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp,
  Subscribe, Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect
};

struct Will {
  std::string topic, message;
  int qos = 0;
  bool retain = false;
};

struct ConnectFields {
  std::string client_id;
  std::optional<std::string> username, password;  // absent: the flag is not set
  int keepalive_s = 120;
  bool clean_session = true;
  std::optional<Will> will;
};

std::string connect(const ConnectFields& c);
// qos 0 has no packet id; `dup` marks a resend.
std::string publish(std::string_view topic, std::string_view payload, int qos, bool retain, std::uint16_t id,
                    bool dup = false);
std::string ack(Type t, std::uint16_t id);  // PUBACK, PUBREC, PUBREL (flags 0b0010), PUBCOMP
std::string subscribe(std::uint16_t id, std::string_view topic, int qos);
std::string unsubscribe(std::uint16_t id, std::string_view topic);
std::string pingreq();
std::string disconnect();

// One packet from the broker, its fields read according to its type.
struct Packet {
  Type type{};
  std::uint8_t flags = 0;
  std::uint16_t id = 0;          // PUBLISH with QoS > 0, the acks, SUBACK, UNSUBACK
  // CONNACK: session present and return code (0 accepted, 1-5 refused).
  bool session_present = false;
  int return_code = 0;
  // PUBLISH
  std::string topic, payload;
  int qos = 0;
  bool retain = false, dup = false;
  // SUBACK: the granted QoS of each topic, 0x80 for a refusal.
  std::vector<std::uint8_t> granted;
};

// Feeds bytes as they arrive; next() returns each whole packet in order. A packet that breaks
// the protocol (a reserved type, a remaining length of more than 4 bytes, a body that does not
// hold what its type needs, a PUBLISH with QoS 3) or one larger than `max_packet` puts the
// reader in the failed state for good: a client then closes the connection.
class Reader {
 public:
  explicit Reader(std::size_t max_packet = 1 << 20) : max_(max_packet) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  std::optional<Packet> next();
  bool failed() const { return failed_; }
  const std::string& why() const { return why_; }

 private:
  std::optional<Packet> fail(std::string why);
  std::size_t max_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  std::string why_;
};

// Whether a topic filter (with + and #) matches a topic name (3.1.1 §4.7).
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace espat::net::mqtt
