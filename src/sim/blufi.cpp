#include "sim/blufi.hpp"

#include <algorithm>
#include <memory>

#include <openssl/evp.h>

namespace espat::sim::blufi {

namespace {
std::uint8_t u8(char c) { return std::uint8_t(c); }

// blufi_prf.c btc_blufi_send_encap: negotiation and error-report frames go out in the clear
// whatever the mode, so that a key can be negotiated and a failure reported.
bool exempt_from_security(bool data, int subtype) { return data && (subtype == data::Neg || subtype == data::Error); }
}  // namespace

std::size_t max_frame_for_mtu(int att_mtu) { return std::size_t(std::clamp(att_mtu, 23, 255)) - 3; }

std::uint16_t crc16(std::string_view bytes, std::uint16_t crc) {
  crc = std::uint16_t(~crc);
  for (char c : bytes) {
    crc ^= std::uint16_t(u8(c) << 8);
    for (int bit = 0; bit < 8; ++bit) crc = std::uint16_t(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return std::uint16_t(~crc);
}

std::string aes_cfb(std::string_view key, std::uint8_t seq, std::string_view in, bool encrypt) {
  if (key.size() != 16) return {};
  unsigned char iv[16] = {seq};
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(in.size(), '\0');
  int n = 0, tail = 0;
  if (!ctx ||
      EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cfb128(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                        iv, encrypt ? 1 : 0) != 1 ||
      EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(in.data()), int(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &tail) != 1 ||
      std::size_t(n + tail) != in.size())
    return {};
  return out;
}

Message ctrl_message(int subtype, std::string payload) { return {false, subtype, std::move(payload)}; }
Message data_message(int subtype, std::string payload) { return {true, subtype, std::move(payload)}; }
Message ack_message(std::uint8_t seq) { return ctrl_message(ctrl::Ack, std::string(1, char(seq))); }

void Channel::set_key(std::string_view key16) { key_ = key16.size() == 16 ? std::string(key16) : std::string(); }

void Channel::reset() {
  security_ = 0;
  key_.clear();
  send_seq_ = recv_seq_ = 0;
  reassembling_ = false;
  total_ = 0;
  partial_.clear();
}

// One frame (blufi_prf.c btc_blufi_send_encap): the checksum covers sequence, data length and
// the plain data and is written little-endian after the data; then the data alone is encrypted.
std::string Channel::frame(std::uint8_t type, std::uint8_t fc, std::string_view data) {
  const std::uint8_t seq = send_seq_++;
  std::string f{char(type), char(fc), char(seq), char(data.size())};
  if (fc & kFcEncrypted) f += aes_cfb(key_, seq, data, true);
  else f += data;
  if (fc & kFcChecksum) {
    const std::uint16_t sum = crc16(data, crc16(f.substr(2, 2)));
    f += char(sum & 0xFF);
    f += char(sum >> 8);
  }
  return f;
}

std::vector<std::string> Channel::encode(const Message& m, std::size_t max_frame) {
  // Every fragment carries 2 bytes of total length and room for a checksum, as ESP-IDF's
  // BLUFI_MTU_RESERVED_SIZE does; the data length byte caps a fragment's content at 253.
  if (max_frame < kHeaderLen + 2 + 2 + 1 || m.payload.size() > kMaxMessage) return {};
  const std::size_t frag = std::min<std::size_t>(max_frame - kHeaderLen - 2 - 2, 253);
  const std::uint8_t type = std::uint8_t((m.data ? kData : kCtrl) | (m.subtype << 2));
  std::uint8_t fc = device_ ? kFcToPhone : 0;
  if (m.want_ack) fc |= kFcAckRequired;
  // blufi_prf.c: control frames may carry a checksum but are never encrypted; data frames
  // follow the low nibble.
  if (!exempt_from_security(m.data, m.subtype)) {
    const int mode = m.data ? security_ : security_ >> 4;
    if (mode & kSecDataChecksum) fc |= kFcChecksum;
    if (m.data && (mode & kSecDataEncrypted)) {
      if (!has_key()) return {};
      fc |= kFcEncrypted;
    }
  }
  std::vector<std::string> frames;
  std::string_view rest = m.payload;
  // blufi_prf.c: a fragment's first 2 data bytes are what remains of the message from it on.
  while (rest.size() > frag) {
    std::string d{char(rest.size() & 0xFF), char(rest.size() >> 8)};
    d.append(rest.substr(0, frag));
    frames.push_back(frame(type, fc | kFcMoreFrags, d));
    rest.remove_prefix(frag);
  }
  frames.push_back(frame(type, fc, rest));
  return frames;
}

Received Channel::fail(Error e, std::optional<std::uint8_t> ack) {
  reassembling_ = false;
  total_ = 0;
  partial_.clear();
  return {std::nullopt, e, ack};
}

// blufi_prf.c btc_blufi_recv_handler, in its order: length, sequence (a frame out of order is
// refused and does not move the counter), decryption, checksum, ACK, then reassembly.
Received Channel::receive(std::string_view f) {
  if (f.size() < kHeaderLen) return {std::nullopt, Error::DataFormat, std::nullopt};
  const std::uint8_t type = u8(f[0]), fc = u8(f[1]), seq = u8(f[2]), len = u8(f[3]);
  if (f.size() != kHeaderLen + len + (fc & kFcChecksum ? 2 : 0)) return {std::nullopt, Error::DataFormat, std::nullopt};
  // The direction bit is not checked: ESP-IDF's receiver ignores it.
  if (seq != recv_seq_) return {std::nullopt, Error::Sequence, std::nullopt};
  ++recv_seq_;
  std::string d(f.substr(kHeaderLen, len));
  if (fc & kFcEncrypted) {
    // Without a key ESP-IDF's example would decrypt with an empty AES context; refuse instead.
    if (!has_key()) return fail(Error::Decrypt);
    d = aes_cfb(key_, seq, d, false);
  }
  if (fc & kFcChecksum) {
    const std::uint16_t sum = crc16(d, crc16(f.substr(2, 2)));
    if (sum != (u8(f[kHeaderLen + len]) | u8(f[kHeaderLen + len + 1]) << 8)) return fail(Error::Checksum);
  }
  std::optional<std::uint8_t> ack;
  if (fc & kFcAckRequired) ack = seq;

  if (fc & kFcMoreFrags) {
    if (len < 2) return fail(Error::DataFormat, ack);
    if (!reassembling_) {  // the first fragment's total sizes the message
      total_ = u8(d[0]) | u8(d[1]) << 8;
      if (total_ == 0) return fail(Error::DataFormat, ack);
      reassembling_ = true;
    }
    if (partial_.size() + (len - 2) > total_) return fail(Error::DataFormat, ack);
    partial_.append(d, 2);
    return {std::nullopt, std::nullopt, ack};
  }
  if (reassembling_) {
    if (partial_.size() + len != total_) return fail(Error::DataFormat, ack);
    d = std::move(partial_) + d;
    reassembling_ = false;
    total_ = 0;
    partial_.clear();
  }
  // blufi_protocol.c: the last frame's type names the message; types 2 and 3 are ignored.
  if ((type & 3) > kData) return {std::nullopt, std::nullopt, ack};
  Message m{(type & 3) == kData, type >> 2, std::move(d), bool(fc & kFcAckRequired)};
  if (device_ && !m.data && m.subtype == ctrl::SetSecMode && !m.payload.empty()) security_ = u8(m.payload[0]);
  return {std::move(m), std::nullopt, ack};
}

}  // namespace espat::sim::blufi
