// libFuzzer: the device end of BluFi (sim/blufi.cpp, sim/blufi_dh.cpp), which reads whatever a
// phone writes to characteristic 0xFF01. Input: one byte of set-up (bit 0 a key, bits 1-2 the
// security mode, bit 3 negotiation messages go to a DhDevice, bits 4-7 the frame size used to
// send back), then frames, each after a length byte. Any bytes are read without a crash or a
// hang; what comes out obeys the protocol's limits, and a message sent again by a phone with
// the same set-up reads back the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/blufi.hpp"
#include "sim/blufi_dh.hpp"

using namespace espat::sim::blufi;

namespace {
const std::string kKey = "0123456789abcdef";
constexpr int kModes[] = {0, kSecDataChecksum, kSecDataChecksum | kSecDataEncrypted,
                          kSecCtrlChecksum | kSecDataChecksum | kSecDataEncrypted};

void check_round_trip(const Message& m, bool keyed, int mode, std::size_t max_frame) {
  Channel phone(false), device(true);
  if (keyed) {
    phone.set_key(kKey);
    device.set_key(kKey);
  }
  phone.set_security(mode);
  device.set_security(mode);
  const auto frames = phone.encode(m, max_frame);
  if (frames.empty()) {
    // Only encryption without a key may refuse a message that was received whole.
    if (keyed || !m.data || !(mode & kSecDataEncrypted)) std::abort();
    return;
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].size() > max_frame) std::abort();
    auto r = device.receive(frames[i]);
    if (r.error || bool(r.message) != (i + 1 == frames.size())) std::abort();
    if (r.message && (r.message->data != m.data || r.message->subtype != m.subtype || r.message->payload != m.payload))
      std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t setup = data[0];
  const bool keyed = setup & 1, negotiate = setup & 8;
  const int mode = kModes[(setup >> 1) & 3];
  const std::size_t max_frame = 20 + std::size_t(setup >> 4) * 15;
  Channel device(true);
  if (keyed) device.set_key(kKey);
  device.set_security(mode);
  DhDevice dh;

  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!in.empty()) {
    const std::size_t n = std::min<std::size_t>(std::uint8_t(in[0]), in.size() - 1);
    const std::string_view frame = in.substr(1, n);
    in.remove_prefix(1 + n);
    const std::uint8_t before = device.recv_seq();
    auto r = device.receive(frame);
    if (r.message && r.error) std::abort();
    if (r.ack && (frame.size() < 3 || *r.ack != std::uint8_t(frame[2]))) std::abort();
    // A frame is counted only when its length and sequence were right.
    if (device.recv_seq() != before && std::uint8_t(device.recv_seq() - before) != 1) std::abort();
    if (!r.message) continue;
    const Message& m = *r.message;
    if (m.payload.size() > kMaxMessage || m.subtype > 63) std::abort();
    check_round_trip(m, keyed, device.security(), max_frame);
    if (negotiate && m.data && m.subtype == data::Neg) {
      auto step = dh.receive(m.payload);
      if (step.reply && (step.error || step.reply->size() > kMaxPrimeBits / 8 || !dh.key() || dh.key()->size() != 16))
        std::abort();
    }
  }
  return 0;
}
