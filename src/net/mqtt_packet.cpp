// MQTT 3.1.1 packets; see mqtt_packet.hpp. Section numbers are the OASIS standard's.
#include "net/mqtt_packet.hpp"

namespace espat::net::mqtt {

namespace {
void put16(std::string& s, std::uint16_t v) {
  s += char(v >> 8);
  s += char(v & 0xFF);
}
void put_str(std::string& s, std::string_view v) {  // §1.5.3: a two-byte length, then the bytes
  put16(s, std::uint16_t(v.size()));
  s.append(v);
}
// §2.2.3: the remaining length, 7 bits a byte, low first, the top bit saying more follow.
std::string packet(std::uint8_t first, const std::string& body) {
  std::string out(1, char(first));
  std::size_t n = body.size();
  do {
    std::uint8_t b = n % 128;
    n /= 128;
    if (n) b |= 0x80;
    out += char(b);
  } while (n);
  return out + body;
}
std::uint8_t first_byte(Type t, std::uint8_t flags = 0) { return std::uint8_t(std::uint8_t(t) << 4 | flags); }
}  // namespace

std::string connect(const ConnectFields& c) {
  std::string b;
  put_str(b, "MQTT");
  b += char(4);  // protocol level 3.1.1
  std::uint8_t flags = 0;
  if (c.username) flags |= 0x80;
  if (c.password) flags |= 0x40;
  if (c.will) flags |= std::uint8_t((c.will->retain ? 0x20 : 0) | (c.will->qos & 3) << 3 | 0x04);
  if (c.clean_session) flags |= 0x02;
  b += char(flags);
  put16(b, std::uint16_t(c.keepalive_s));
  put_str(b, c.client_id);
  if (c.will) {
    put_str(b, c.will->topic);
    put_str(b, c.will->message);
  }
  if (c.username) put_str(b, *c.username);
  if (c.password) put_str(b, *c.password);
  return packet(first_byte(Type::Connect), b);
}

std::string publish(std::string_view topic, std::string_view payload, int qos, bool retain, std::uint16_t id, bool dup) {
  std::string b;
  put_str(b, topic);
  if (qos > 0) put16(b, id);
  b.append(payload);
  return packet(first_byte(Type::Publish, std::uint8_t((dup ? 8 : 0) | (qos & 3) << 1 | (retain ? 1 : 0))), b);
}

std::string ack(Type t, std::uint16_t id) {
  std::string b;
  put16(b, id);
  return packet(first_byte(t, t == Type::Pubrel ? 2 : 0), b);  // §3.6.1: PUBREL's flags are 0010
}

std::string subscribe(std::uint16_t id, std::string_view topic, int qos) {
  std::string b;
  put16(b, id);
  put_str(b, topic);
  b += char(qos & 3);
  return packet(first_byte(Type::Subscribe, 2), b);
}

std::string unsubscribe(std::uint16_t id, std::string_view topic) {
  std::string b;
  put16(b, id);
  put_str(b, topic);
  return packet(first_byte(Type::Unsubscribe, 2), b);
}

std::string pingreq() { return packet(first_byte(Type::Pingreq), {}); }
std::string disconnect() { return packet(first_byte(Type::Disconnect), {}); }

std::optional<Packet> Reader::fail(std::string why) {
  failed_ = true;
  why_ = std::move(why);
  buf_.clear();
  pos_ = 0;
  return std::nullopt;
}

std::optional<Packet> Reader::next() {
  if (failed_) return std::nullopt;
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {  // drop what was read, now and then
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const std::string_view in = std::string_view(buf_).substr(pos_);
  if (in.size() < 2) return std::nullopt;
  std::size_t len = 0, i = 1;
  for (int shift = 0;; shift += 7, ++i) {
    if (i > 4) return fail("remaining length longer than 4 bytes");
    if (i >= in.size()) return std::nullopt;
    const auto b = std::uint8_t(in[i]);
    len |= std::size_t(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  ++i;
  if (len > max_) return fail("packet larger than " + std::to_string(max_));
  if (in.size() - i < len) return std::nullopt;
  Packet p;
  const auto first = std::uint8_t(in[0]);
  p.flags = first & 0x0F;
  const int type = first >> 4;
  if (type < 1 || type > 14) return fail("reserved packet type");
  p.type = Type(type);
  std::string_view body = in.substr(i, len);
  pos_ += i + len;
  auto get16 = [&body](std::uint16_t& v) {
    if (body.size() < 2) return false;
    v = std::uint16_t(std::uint8_t(body[0]) << 8 | std::uint8_t(body[1]));
    body.remove_prefix(2);
    return true;
  };
  switch (p.type) {
    case Type::Connack:
      if (body.size() != 2) return fail("CONNACK of the wrong size");
      p.session_present = body[0] & 1;
      p.return_code = std::uint8_t(body[1]);
      break;
    case Type::Publish: {
      p.qos = (p.flags >> 1) & 3;
      p.retain = p.flags & 1;
      p.dup = p.flags & 8;
      if (p.qos == 3) return fail("PUBLISH with QoS 3");
      std::uint16_t tlen = 0;
      if (!get16(tlen) || body.size() < tlen) return fail("PUBLISH without its topic");
      p.topic = std::string(body.substr(0, tlen));
      body.remove_prefix(tlen);
      if (p.qos > 0 && !get16(p.id)) return fail("PUBLISH without its packet id");
      p.payload = std::string(body);
      break;
    }
    case Type::Puback:
    case Type::Pubrec:
    case Type::Pubrel:
    case Type::Pubcomp:
    case Type::Unsuback:
      if (!get16(p.id) || !body.empty()) return fail("ack of the wrong size");
      break;
    case Type::Suback:
      if (!get16(p.id) || body.empty()) return fail("SUBACK without return codes");
      p.granted.assign(body.begin(), body.end());
      break;
    case Type::Pingresp:
      if (!body.empty()) return fail("PINGRESP with a body");
      break;
    default:
      return fail("a packet only clients send");  // CONNECT, SUBSCRIBE... from a broker
  }
  return p;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  // §4.7.2: a filter starting with a wildcard does not match topics starting with '$'.
  if (!topic.empty() && topic.front() == '$' && !filter.empty() && (filter.front() == '+' || filter.front() == '#'))
    return false;
  while (true) {
    const auto fs = filter.find('/'), ts = topic.find('/');
    const std::string_view f = filter.substr(0, fs), t = topic.substr(0, ts);
    if (f == "#") return true;
    if (f != "+" && f != t) return false;
    if (fs == std::string_view::npos || ts == std::string_view::npos) {
      // "a/#" matches "a" as well (§4.7.1.2).
      if (fs != std::string_view::npos && ts == std::string_view::npos) return filter.substr(fs + 1) == "#";
      return fs == std::string_view::npos && ts == std::string_view::npos;
    }
    filter.remove_prefix(fs + 1);
    topic.remove_prefix(ts + 1);
  }
}

}  // namespace espat::net::mqtt
