// MQTT 3.1.1 packets (net/mqtt_packet.hpp): the bytes the module's client sends, checked against
// the standard's layouts (section numbers of OASIS MQTT 3.1.1), and the reader of a broker's bytes.
#include <gtest/gtest.h>

#include "net/mqtt_packet.hpp"

namespace {
using namespace espat::net::mqtt;
using namespace std::string_literals;

TEST(MqttPacket, ConnectWithEveryField) {
  ConnectFields c;
  c.client_id = "id";
  c.username = "u";
  c.password = "p";
  c.keepalive_s = 120;
  c.clean_session = true;
  c.will = Will{"lwtt", "lwtm", 1, true};
  // §3.1: fixed header, "MQTT" level 4, flags user|pass|will retain|will QoS 1|will|clean.
  const std::string want = "\x10\x20\x00\x04MQTT\x04\xEE\x00\x78\x00\x02id\x00\x04lwtt\x00\x04lwtm\x00\x01u\x00\x01p"s;
  EXPECT_EQ(connect(c), want);
}

TEST(MqttPacket, ConnectBare) {
  ConnectFields c;
  c.client_id = "x";
  c.clean_session = false;
  c.keepalive_s = 60;
  EXPECT_EQ(connect(c), "\x10\x0D\x00\x04MQTT\x04\x00\x00\x3C\x00\x01x"s);
}

TEST(MqttPacket, PublishSubscribeAndAcks) {
  EXPECT_EQ(publish("a/b", "hi", 0, false, 0), "\x30\x07\x00\x03" "a/bhi"s);
  EXPECT_EQ(publish("t", "x", 1, true, 10), "\x33\x06\x00\x01t\x00\x0Ax"s);
  EXPECT_EQ(publish("t", "x", 2, false, 1, true), "\x3C\x06\x00\x01t\x00\x01x"s);
  EXPECT_EQ(subscribe(5, "t/#", 2), "\x82\x08\x00\x05\x00\x03t/#\x02"s);
  EXPECT_EQ(unsubscribe(6, "t"), "\xA2\x05\x00\x06\x00\x01t"s);
  EXPECT_EQ(ack(Type::Puback, 0x1234), "\x40\x02\x12\x34"s);
  EXPECT_EQ(ack(Type::Pubrel, 1), "\x62\x02\x00\x01"s);  // §3.6.1: flags 0010
  EXPECT_EQ(pingreq(), "\xC0\x00"s);
  EXPECT_EQ(disconnect(), "\xE0\x00"s);
}

TEST(MqttPacket, RemainingLengthOfSeveralBytes) {
  // §2.2.3: 321 = 0xC1 0x02.
  const std::string p = publish("t", std::string(321 - 3, 'z'), 0, false, 0);
  EXPECT_EQ(p.substr(0, 3), "\x30\xC1\x02"s);
  Reader r;
  r.feed(p);
  auto got = r.next();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload.size(), 318u);
}

TEST(MqttPacket, ReaderTakesBytesAsTheyCome) {
  const std::string in = "\x20\x02\x00\x00"s + "\x90\x03\x00\x07\x01"s + "\x32\x08\x00\x02tp\x00\x09hi"s + "\xD0\x00"s;
  Reader r;
  std::vector<Packet> got;
  for (char c : in) {  // one byte at a time
    r.feed(std::string(1, c));
    while (auto p = r.next()) got.push_back(*p);
  }
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].type, Type::Connack);
  EXPECT_EQ(got[0].return_code, 0);
  EXPECT_EQ(got[1].type, Type::Suback);
  EXPECT_EQ(got[1].id, 7);
  EXPECT_EQ(got[1].granted, std::vector<std::uint8_t>{1});
  EXPECT_EQ(got[2].type, Type::Publish);
  EXPECT_EQ(got[2].topic, "tp");
  EXPECT_EQ(got[2].qos, 1);
  EXPECT_EQ(got[2].id, 9);
  EXPECT_EQ(got[2].payload, "hi");
  EXPECT_EQ(got[3].type, Type::Pingresp);
  EXPECT_FALSE(r.failed());
}

TEST(MqttPacket, ReaderRefusesBrokenPackets) {
  for (const std::string bad : {"\x00\x00"s, "\xF0\x00"s, "\x30\xFF\xFF\xFF\xFF\x01"s, "\x36\x03\x00\x01t"s,
                                "\x20\x03\x00\x00\x00"s, "\x10\x00"s, "\x30\x01\x00"s}) {
    Reader r;
    r.feed(bad);
    EXPECT_FALSE(r.next());
    EXPECT_TRUE(r.failed()) << testing::PrintToString(bad);
  }
  Reader small(16);
  small.feed("\x30\x20"s);
  EXPECT_FALSE(small.next());
  EXPECT_TRUE(small.failed());
}

TEST(MqttPacket, TopicFilters) {
  EXPECT_TRUE(topic_matches("a/b", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/c"));
  EXPECT_TRUE(topic_matches("a/+", "a/c"));
  EXPECT_FALSE(topic_matches("a/+", "a/c/d"));
  EXPECT_TRUE(topic_matches("a/#", "a/c/d"));
  EXPECT_TRUE(topic_matches("a/#", "a"));
  EXPECT_TRUE(topic_matches("#", "x/y"));
  EXPECT_FALSE(topic_matches("#", "$SYS/x"));
  EXPECT_TRUE(topic_matches("+/+", "/x"));
}

}  // namespace
