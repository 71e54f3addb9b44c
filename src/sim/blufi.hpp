// BluFi (Wi-Fi provisioning over BLE; ESP-IDF docs api-guides/blufi): the frame layer of one
// end, device (ESP32) or phone. Pure: frames in, messages out, no I/O and no timers. The
// negotiation of the AES key is sim/blufi_dh.hpp; the payloads of the data frames are
// sim/blufi_payload.hpp. Facts cite ESP-IDF components/bt/common/btc/profile/esp/blufi/
// (blufi_prf.c, blufi_protocol.c, include/blufi_int.h) and examples/bluetooth/blufi/main/
// blufi_security.c; where ESP-IDF and EspBlufiForAndroid differ, the device side wins.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace espat::sim::blufi {

// GATT service and characteristics (blufi_int.h BLUFI_UUID_*): the phone writes 0xFF01, the
// device notifies 0xFF02.
inline constexpr int kServiceUuid = 0xFFFF, kPhoneToDeviceUuid = 0xFF01, kDeviceToPhoneUuid = 0xFF02;

// Type byte: low 2 bits the type, high 6 bits the subtype (blufi_int.h BLUFI_BUILD_TYPE).
inline constexpr int kCtrl = 0, kData = 1;
namespace ctrl {  // blufi_int.h BLUFI_TYPE_CTRL_SUBTYPE_*
enum : int { Ack = 0, SetSecMode = 1, SetOpmode = 2, ConnectAp = 3, DisconnectAp = 4, GetWifiStatus = 5,
             DeauthSta = 6, GetVersion = 7, DisconnectBle = 8, GetWifiList = 9 };
}
namespace data {  // blufi_int.h BLUFI_TYPE_DATA_SUBTYPE_*
enum : int { Neg = 0, StaBssid = 1, StaSsid = 2, StaPassword = 3, SoftapSsid = 4, SoftapPassword = 5,
             SoftapMaxConn = 6, SoftapAuthMode = 7, SoftapChannel = 8, Username = 9, CaCert = 10,
             ClientCert = 11, ServerCert = 12, ClientKey = 13, ServerKey = 14, WifiReport = 15, Version = 16,
             WifiList = 17, Error = 18, Custom = 19, StaMaxConnRetry = 20, StaConnEndReason = 21,
             StaConnRssi = 22 };
}

// Frame control bits (blufi_int.h BLUFI_FC_*). Direction: 0 phone to device, 1 device to phone.
inline constexpr std::uint8_t kFcEncrypted = 0x01, kFcChecksum = 0x02, kFcToPhone = 0x04, kFcAckRequired = 0x08,
                              kFcMoreFrags = 0x10;

// The "set security mode" byte (blufi_int.h BLUFI_*_SEC_MODE_*_MASK): low nibble data frames,
// high nibble control frames; bit 0 checksum, bit 1 encryption.
inline constexpr int kSecDataChecksum = 0x01, kSecDataEncrypted = 0x02, kSecCtrlChecksum = 0x10,
                     kSecCtrlEncrypted = 0x20;

// esp_blufi_error_state_t (esp_blufi_api.h): the byte of an error report (data subtype 18).
enum class Error : std::uint8_t { Sequence = 0, Checksum = 1, Decrypt = 2, Encrypt = 3, InitSecurity = 4,
                                  DhMalloc = 5, DhParam = 6, ReadParam = 7, MakePublic = 8, DataFormat = 9,
                                  CalcMd5 = 10, WifiScanFail = 11, MsgState = 12 };

inline constexpr std::size_t kHeaderLen = 4;  // type, frame control, sequence, data length
// A message is at most what the 16-bit "total content length" of its first fragment can say
// (blufi_prf.c: total_len is a uint16_t; btc_blufi_send_encap refuses more than UINT16_MAX).
inline constexpr std::size_t kMaxMessage = 0xFFFF;

// The largest frame for an ATT MTU: ESP-IDF cuts fragments of min(MTU, 255) - 11 content bytes
// (esp_blufi.c MTU event, blufi_int.h BLUFI_MTU_RESERVED_SIZE), i.e. frames of
// min(MTU, 255) - 3 bytes with a checksum; 20 at the default MTU of 23.
std::size_t max_frame_for_mtu(int att_mtu);

// The checksum: esp_crc16_be(0, ...) (blufi_security.c blufi_crc_checksum), i.e. CRC-16 with
// polynomial 0x1021, MSB first, register and result inverted (ESP-IDF esp_crc.h; the table of
// EspBlufiForAndroid BlufiCRC.java agrees): the catalogue's CRC-16/GENIBUS, check 0xD64E.
std::uint16_t crc16(std::string_view bytes, std::uint16_t crc = 0);

// AES-128-CFB128 of one frame's data field, IV = the sequence number then 15 zero bytes
// (blufi_security.c blufi_aes_encrypt/decrypt); the same length in and out. key: 16 bytes.
std::string aes_cfb(std::string_view key, std::uint8_t seq, std::string_view in, bool encrypt);

// One whole message: a control or data frame's type, and its data reassembled.
struct Message {
  bool data = false;
  int subtype = 0;
  std::string payload;
  bool want_ack = false;  // sets "ack required" on each frame; the peer answers ack_message(seq)
};
Message ctrl_message(int subtype, std::string payload = {});
Message data_message(int subtype, std::string payload);
Message ack_message(std::uint8_t seq);  // an ACK's data is the acknowledged sequence number

// What one received frame gave: a whole message, an error, or neither (a fragment, or a type
// this protocol does not define). ack is set when the frame asked for an ACK and passed its
// checks: the caller sends ack_message(*ack) (blufi_prf.c btc_blufi_send_ack).
struct Received {
  std::optional<Message> message;
  std::optional<Error> error;
  std::optional<std::uint8_t> ack;
};

// One end's framing state: a sequence counter per direction (0..255, wrapping, both start at 0
// and restart on each connection: api-guides/blufi "Sequence Control"), the security mode, the
// AES key, and the message being reassembled.
class Channel {
 public:
  explicit Channel(bool device_end) : device_(device_end) {}

  void set_key(std::string_view key16);  // the negotiated AES-128 key (16 bytes)
  bool has_key() const { return !key_.empty(); }
  // What the phone asked for with "set security mode". A device applies a received one itself
  // (blufi_protocol.c); a phone calls this when it sends one. It decides what this end sends;
  // what it receives is read by each frame's own control bits, as ESP-IDF does.
  void set_security(int mode_byte) { security_ = mode_byte & 0xFF; }
  int security() const { return security_; }
  // A new BLE connection: sequences, security and the message being reassembled start afresh.
  void reset();

  // The frames of one message, each at most max_frame bytes, with the next sequence numbers.
  // Empty when the message cannot be sent: longer than kMaxMessage, a max_frame below 9, or
  // encryption asked for without a key (ESP-IDF reports ESP_BLUFI_ENCRYPT_ERROR).
  std::vector<std::string> encode(const Message& m, std::size_t max_frame);
  // One received frame. Never throws; any bytes are either read or refused with an Error.
  Received receive(std::string_view frame);

  std::uint8_t send_seq() const { return send_seq_; }
  std::uint8_t recv_seq() const { return recv_seq_; }

 private:
  std::string frame(std::uint8_t type, std::uint8_t fc, std::string_view data);
  Received fail(Error e, std::optional<std::uint8_t> ack = std::nullopt);

  bool device_;
  int security_ = 0;
  std::string key_;
  std::uint8_t send_seq_ = 0, recv_seq_ = 0;
  bool reassembling_ = false;
  std::size_t total_ = 0;
  std::string partial_;
};

}  // namespace espat::sim::blufi
