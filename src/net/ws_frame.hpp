// RFC 6455 framing (section 5), with no I/O: a frame's bytes for a given header, and an
// incremental reader that takes bytes as they arrive and hands back whole frames. The module's
// WebSocket links (spec 3.9) and the WebSocket transport of MQTT read and write through it.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace espat::net::ws {

// RFC 6455 5.2 opcodes (AT+WSSEND's <opcode>, spec 3.9.5, takes any of 0x0-0xF).
enum Opcode : std::uint8_t { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };
// 0x8-0xF are control frames (5.5): at most 125 payload bytes, never fragmented.
constexpr bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }

using MaskKey = std::array<std::uint8_t, 4>;

struct Frame {
  bool fin = true;
  std::uint8_t opcode = Text;
  std::string payload;  // unmasked
};

// One frame: FIN, the opcode (low 4 bits), the shortest of the 7/16/64-bit lengths, and the
// payload masked with `mask` when given (a client's frames, 5.3) or as it is (a server's).
std::string encode_frame(std::uint8_t opcode, std::string_view payload, bool fin, std::optional<MaskKey> mask);

// Reads frames from a byte stream. After a protocol error (a reserved bit set, a control frame
// longer than 125 bytes or not final, a 64-bit length with its top bit set, a payload above the
// limit) it stays failed: pop() returns nothing more and error() says why.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload = std::size_t(1) << 24) : max_payload_(max_payload) {}
  void feed(std::string_view bytes);
  // The next complete frame, or nullopt when more bytes are needed (or after an error).
  std::optional<Frame> pop();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buf_.size() - off_; }

 private:
  std::string buf_;
  std::size_t off_ = 0;  // bytes of buf_ already handed out
  std::size_t max_payload_;
  std::string error_;
};

}  // namespace espat::net::ws
