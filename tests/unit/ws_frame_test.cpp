// RFC 6455 framing (net/ws_frame): the examples of section 5.7 byte for byte, the three length
// forms, masking, incremental feeding, and the protocol errors the reader refuses.
#include <string>

#include <gtest/gtest.h>

#include "net/ws_frame.hpp"

namespace espat::net::ws {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(char(x));
  return s;
}
const MaskKey kRfcMask{0x37, 0xfa, 0x21, 0x3d};

TEST(WsFrame, Rfc6455_5_7_UnmaskedText) {
  const auto wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  EXPECT_EQ(encode_frame(Text, "Hello", true, std::nullopt), wire);
  FrameDecoder d;
  d.feed(wire);
  auto f = d.pop();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->fin);
  EXPECT_EQ(f->opcode, Text);
  EXPECT_EQ(f->payload, "Hello");
  EXPECT_FALSE(d.pop());
}

TEST(WsFrame, Rfc6455_5_7_MaskedText) {
  const auto wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  EXPECT_EQ(encode_frame(Text, "Hello", true, kRfcMask), wire);
  FrameDecoder d;
  d.feed(wire);
  auto f = d.pop();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "Hello");
}

TEST(WsFrame, Rfc6455_5_7_Fragmented) {
  const auto first = bytes({0x01, 0x03, 0x48, 0x65, 0x6c});
  const auto second = bytes({0x80, 0x02, 0x6c, 0x6f});
  EXPECT_EQ(encode_frame(Text, "Hel", false, std::nullopt), first);
  EXPECT_EQ(encode_frame(Continuation, "lo", true, std::nullopt), second);
  FrameDecoder d;
  d.feed(first + second);
  auto a = d.pop(), b = d.pop();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->fin);
  EXPECT_EQ(a->opcode, Text);
  EXPECT_EQ(a->payload, "Hel");
  EXPECT_TRUE(b->fin);
  EXPECT_EQ(b->opcode, Continuation);
  EXPECT_EQ(b->payload, "lo");
}

TEST(WsFrame, Rfc6455_5_7_PingAndMaskedPong) {
  EXPECT_EQ(encode_frame(Ping, "Hello", true, std::nullopt), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encode_frame(Pong, "Hello", true, kRfcMask),
            bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(WsFrame, Rfc6455_5_7_LengthForms) {
  const std::string p256(256, 'x'), p64k(65536, 'y');
  const auto a = encode_frame(Binary, p256, true, std::nullopt);
  EXPECT_EQ(a.substr(0, 4), bytes({0x82, 0x7e, 0x01, 0x00}));
  EXPECT_EQ(a.size(), 4u + 256u);
  const auto b = encode_frame(Binary, p64k, true, std::nullopt);
  EXPECT_EQ(b.substr(0, 10), bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(b.size(), 10u + 65536u);
  // 125 is the largest 7-bit length, 65535 the largest 16-bit one.
  EXPECT_EQ(encode_frame(Binary, std::string(125, 'z'), true, std::nullopt)[1], char(125));
  EXPECT_EQ(encode_frame(Binary, std::string(65535, 'z'), true, std::nullopt).substr(1, 3), bytes({0x7e, 0xff, 0xff}));
}

TEST(WsFrame, RoundTripEveryOpcodeAndSizeByteByByte) {
  for (std::uint8_t op = 0; op <= 0xF; ++op)
    for (std::size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u, 70000u}) {
      if (is_control(op) && n > 125) continue;
      std::string payload(n, '\0');
      for (std::size_t i = 0; i < n; ++i) payload[i] = char(i * 7 + op);
      for (bool masked : {false, true}) {
        const auto wire = encode_frame(op, payload, true, masked ? std::optional(kRfcMask) : std::nullopt);
        FrameDecoder d;
        // Fed in pieces: a frame is whole only once its last byte is in.
        const std::size_t step = n < 200 ? 1 : 4093;
        std::optional<Frame> f;
        for (std::size_t off = 0; off < wire.size(); off += step) {
          EXPECT_FALSE(f) << "frame complete before its last byte";
          d.feed(std::string_view(wire).substr(off, step));
          if (!f) f = d.pop();
        }
        ASSERT_TRUE(f) << int(op) << " " << n;
        EXPECT_EQ(f->opcode, op);
        EXPECT_EQ(f->payload, payload);
        EXPECT_EQ(d.buffered(), 0u);
      }
    }
}

TEST(WsFrame, RefusesProtocolErrors) {
  auto refused = [](const std::string& wire, std::size_t limit = 1 << 20) {
    FrameDecoder d(limit);
    d.feed(wire);
    const bool got = d.pop().has_value();
    return !got && d.failed();
  };
  EXPECT_TRUE(refused(bytes({0xc1, 0x00})));                         // RSV1
  EXPECT_TRUE(refused(bytes({0x91, 0x00})));                         // RSV3
  EXPECT_TRUE(refused(bytes({0x09, 0x00})));                         // fragmented ping
  EXPECT_TRUE(refused(bytes({0x88, 0x7e, 0x00, 0x7e})));             // close of 126 bytes
  EXPECT_TRUE(refused(bytes({0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})));  // 64-bit top bit
  EXPECT_TRUE(refused(encode_frame(Binary, std::string(11, 'a'), true, std::nullopt), 10));
  EXPECT_FALSE(refused(encode_frame(Binary, std::string(10, 'a'), true, std::nullopt), 10));
  // Once failed, nothing more comes out.
  FrameDecoder d;
  d.feed(bytes({0xc1, 0x00}));
  d.feed(encode_frame(Text, "ok", true, std::nullopt));
  EXPECT_FALSE(d.pop());
  EXPECT_FALSE(d.pop());
  EXPECT_TRUE(d.failed());
}

TEST(WsFrame, SeveralFramesInOneFeed) {
  FrameDecoder d;
  d.feed(encode_frame(Text, "one", true, kRfcMask) + encode_frame(Binary, "two", true, std::nullopt) +
         encode_frame(Close, std::string("\x03\xe8", 2), true, kRfcMask).substr(0, 3));
  EXPECT_EQ(d.pop()->payload, "one");
  EXPECT_EQ(d.pop()->payload, "two");
  EXPECT_FALSE(d.pop());  // the close frame is not whole yet
  EXPECT_FALSE(d.failed());
  d.feed(encode_frame(Close, std::string("\x03\xe8", 2), true, kRfcMask).substr(3));
  auto c = d.pop();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->opcode, Close);
  EXPECT_EQ(c->payload, std::string("\x03\xe8", 2));
}

}  // namespace
}  // namespace espat::net::ws
