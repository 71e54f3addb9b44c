#include "net/ws_frame.hpp"

namespace espat::net::ws {

std::string encode_frame(std::uint8_t opcode, std::string_view payload, bool fin, std::optional<MaskKey> mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(char((fin ? 0x80 : 0x00) | (opcode & 0x0F)));
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(char(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(char(mask_bit | 126));
    out.push_back(char(n >> 8));
    out.push_back(char(n & 0xFF));
  } else {
    out.push_back(char(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((n >> shift) & 0xFF));
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  for (auto b : *mask) out.push_back(char(b));
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i) out[start + i] = char(std::uint8_t(out[start + i]) ^ (*mask)[i % 4]);
  return out;
}

void FrameDecoder::feed(std::string_view bytes) {
  if (failed()) return;
  // Drop what was handed out before growing the buffer.
  if (off_ > 0 && off_ >= buf_.size() / 2) {
    buf_.erase(0, off_);
    off_ = 0;
  }
  buf_.append(bytes);
}

std::optional<Frame> FrameDecoder::pop() {
  if (failed()) return std::nullopt;
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf_.data()) + off_;
  const std::size_t have = buf_.size() - off_;
  if (have < 2) return std::nullopt;
  const bool fin = (p[0] & 0x80) != 0;
  const std::uint8_t opcode = p[0] & 0x0F;
  if ((p[0] & 0x70) != 0) {
    error_ = "reserved bits set";  // 5.2: no extension was negotiated
    return std::nullopt;
  }
  const bool masked = (p[1] & 0x80) != 0;
  std::uint64_t len = p[1] & 0x7F;
  std::size_t header = 2;
  if (len == 126) {
    if (have < 4) return std::nullopt;
    len = std::uint64_t(p[2]) << 8 | p[3];
    header = 4;
  } else if (len == 127) {
    if (have < 10) return std::nullopt;
    len = 0;
    for (int i = 0; i < 8; ++i) len = len << 8 | p[2 + i];
    header = 10;
    if (len >> 63) {
      error_ = "64-bit length with its most significant bit set";
      return std::nullopt;
    }
  }
  if (is_control(opcode) && (len > 125 || !fin)) {
    error_ = len > 125 ? "control frame longer than 125 bytes" : "fragmented control frame";
    return std::nullopt;
  }
  if (len > max_payload_) {
    error_ = "frame of " + std::to_string(len) + " bytes, above the limit of " + std::to_string(max_payload_);
    return std::nullopt;
  }
  MaskKey key{};
  if (masked) {
    if (have < header + 4) return std::nullopt;
    for (int i = 0; i < 4; ++i) key[i] = p[header + i];
    header += 4;
  }
  if (have - header < len) return std::nullopt;
  Frame f{fin, opcode, std::string(reinterpret_cast<const char*>(p) + header, std::size_t(len))};
  if (masked)
    for (std::size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = char(std::uint8_t(f.payload[i]) ^ key[i % 4]);
  off_ += header + std::size_t(len);
  if (off_ == buf_.size()) {
    buf_.clear();
    off_ = 0;
  }
  return f;
}

}  // namespace espat::net::ws
