// BluFi (sim/blufi*.hpp): the CRC against the catalogue, frames byte for byte, fragmentation
// and reassembly, the receiver's refusals (sequence, checksum, length, fragments), AES-CFB with
// the sequence IV, the DH negotiation between a phone and a device, and a provisioning
// exchange over encrypted, checksummed frames.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "sim/blufi.hpp"
#include "sim/blufi_dh.hpp"
#include "sim/blufi_payload.hpp"

namespace espat::sim::blufi {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(char(x));
  return s;
}

// Feeds frames to a channel; the message they make, or nothing.
std::optional<Message> deliver(Channel& to, const std::vector<std::string>& frames) {
  std::optional<Message> out;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto r = to.receive(frames[i]);
    EXPECT_FALSE(r.error) << "frame " << i;
    if (i + 1 < frames.size()) {
      EXPECT_FALSE(r.message) << "frame " << i;
    }
    if (r.message) out = std::move(r.message);
  }
  return out;
}

const std::string kKey = bytes({0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c});

TEST(BlufiCrc, GenibusCheckValue) {
  // CRC-16/GENIBUS (poly 0x1021, init 0xFFFF, no reflection, xorout 0xFFFF): check 0xD64E.
  EXPECT_EQ(crc16("123456789"), 0xD64E);
  EXPECT_EQ(crc16(""), 0x0000);
  // A previous result continues a calculation, as esp_crc16_be's first argument does.
  EXPECT_EQ(crc16("6789", crc16("12345")), 0xD64E);
}

TEST(BlufiFrame, ChecksummedDataFrameByteExact) {
  Channel phone(false);
  phone.set_security(kSecDataChecksum);
  const auto frames = phone.encode(data_message(data::StaSsid, "ab"), 20);
  ASSERT_EQ(frames.size(), 1u);
  // type 1 | 2 << 2, frame control "checksum", sequence 0, length 2, "ab", CRC 0x61A0 LE.
  EXPECT_EQ(frames[0], bytes({0x09, 0x02, 0x00, 0x02, 'a', 'b', 0xa0, 0x61}));
  EXPECT_EQ(phone.send_seq(), 1);
}

TEST(BlufiFrame, DeviceFramesCarryTheDirectionBit) {
  Channel device(true);
  const auto frames = device.encode(ack_message(5), 20);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], bytes({0x00, 0x04, 0x00, 0x01, 0x05}));
}

TEST(BlufiFrame, MaxFrameFollowsTheMtu) {
  EXPECT_EQ(max_frame_for_mtu(23), 20u);
  EXPECT_EQ(max_frame_for_mtu(100), 97u);
  EXPECT_EQ(max_frame_for_mtu(517), 252u);
}

TEST(BlufiFrame, FragmentsA600ByteMessageAndReassemblesIt) {
  std::string payload;
  for (int i = 0; i < 600; ++i) payload += char(i * 7);
  Channel phone(false), device(true);
  const auto frames = phone.encode(data_message(data::Custom, payload), 20);
  // 12 content bytes per fragment at 20 bytes (4 header, 2 total length, 2 checksum room).
  ASSERT_EQ(frames.size(), 50u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_LE(frames[i].size(), 20u);
    EXPECT_EQ(std::size_t(std::uint8_t(frames[i][2])), i);
    const bool last = i + 1 == frames.size();
    EXPECT_EQ(bool(frames[i][1] & kFcMoreFrags), !last);
    if (!last) {  // what remains from this fragment on, little-endian
      const int remains = std::uint8_t(frames[i][4]) | std::uint8_t(frames[i][5]) << 8;
      EXPECT_EQ(remains, 600 - 12 * int(i));
    }
  }
  auto m = deliver(device, frames);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->data);
  EXPECT_EQ(m->subtype, data::Custom);
  EXPECT_EQ(m->payload, payload);
}

TEST(BlufiFrame, EncryptedChecksummedFragmentsFillTheFrame) {
  Channel phone(false), device(true);
  phone.set_key(kKey);
  device.set_key(kKey);
  phone.set_security(kSecDataChecksum | kSecDataEncrypted);
  const std::string payload(100, 'x');
  const auto frames = phone.encode(data_message(data::Custom, payload), 20);
  ASSERT_EQ(frames.size(), 9u);
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) EXPECT_EQ(frames[i].size(), 20u);
  auto m = deliver(device, frames);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, payload);
}

TEST(BlufiReceive, RefusesAFrameOutOfSequenceWithoutMovingTheCounter) {
  Channel phone(false), device(true);
  auto first = phone.encode(data_message(data::StaSsid, "lab"), 20);
  auto second = phone.encode(data_message(data::StaPassword, "secret"), 20);
  auto r = device.receive(second[0]);
  EXPECT_EQ(r.error, Error::Sequence);
  EXPECT_EQ(device.recv_seq(), 0);
  EXPECT_EQ(device.receive(first[0]).message->payload, "lab");
  EXPECT_EQ(device.receive(second[0]).message->payload, "secret");
  EXPECT_EQ(device.receive(second[0]).error, Error::Sequence);  // a replay
}

TEST(BlufiReceive, SequenceNumbersWrapAt256) {
  Channel phone(false), device(true);
  for (int i = 0; i < 300; ++i) {
    auto frames = phone.encode(ctrl_message(ctrl::GetWifiStatus), 20);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(std::uint8_t(frames[0][2]), i % 256);
    auto r = device.receive(frames[0]);
    ASSERT_TRUE(r.message) << i;
    EXPECT_EQ(r.message->subtype, ctrl::GetWifiStatus);
  }
}

TEST(BlufiReceive, RefusesABadChecksum) {
  Channel phone(false), device(true);
  phone.set_security(kSecDataChecksum);
  auto frames = phone.encode(data_message(data::StaSsid, "lab"), 20);
  std::string bad = frames[0];
  bad[5] ^= 0x01;  // a data byte
  EXPECT_EQ(device.receive(bad).error, Error::Checksum);
  // ESP-IDF counts the frame before its checksum is checked.
  EXPECT_EQ(device.recv_seq(), 1);
  std::string bad_sum = phone.encode(data_message(data::StaSsid, "lab"), 20)[0];
  bad_sum.back() ^= 0x80;
  EXPECT_EQ(device.receive(bad_sum).error, Error::Checksum);
}

TEST(BlufiReceive, RefusesWrongLengths) {
  Channel device(true);
  EXPECT_EQ(device.receive(bytes({0x09, 0x00, 0x00})).error, Error::DataFormat);
  EXPECT_EQ(device.receive(bytes({0x09, 0x00, 0x00, 0x03, 'a', 'b'})).error, Error::DataFormat);
  EXPECT_EQ(device.receive(bytes({0x09, 0x02, 0x00, 0x01, 'a', 0x00})).error, Error::DataFormat);  // checksum cut
  EXPECT_EQ(device.recv_seq(), 0);
  EXPECT_TRUE(device.receive(bytes({0x09, 0x00, 0x00, 0x01, 'a'})).message);
}

TEST(BlufiReceive, RefusesFragmentsThatDisagreeWithTheirTotal) {
  {  // more content than the first fragment announced
    Channel device(true);
    EXPECT_FALSE(device.receive(bytes({0x4d, 0x10, 0, 4, 3, 0, 'a', 'b'})).error);
    EXPECT_EQ(device.receive(bytes({0x4d, 0x10, 1, 4, 1, 0, 'c', 'd'})).error, Error::DataFormat);
  }
  {  // a last frame short of the total
    Channel device(true);
    EXPECT_FALSE(device.receive(bytes({0x4d, 0x10, 0, 4, 5, 0, 'a', 'b'})).error);
    EXPECT_EQ(device.receive(bytes({0x4d, 0x00, 1, 1, 'c'})).error, Error::DataFormat);
    // the failed message is dropped: the next one stands alone
    auto r = device.receive(bytes({0x4d, 0x00, 2, 1, 'z'}));
    ASSERT_TRUE(r.message);
    EXPECT_EQ(r.message->payload, "z");
  }
  {  // a fragment without its total length, and a zero total
    Channel device(true);
    EXPECT_EQ(device.receive(bytes({0x4d, 0x10, 0, 1, 'a'})).error, Error::DataFormat);
    EXPECT_EQ(device.receive(bytes({0x4d, 0x10, 1, 2, 0, 0})).error, Error::DataFormat);
  }
}

TEST(BlufiReceive, AnswersAckRequests) {
  Channel phone(false), device(true);
  Message m = ctrl_message(ctrl::ConnectAp);
  m.want_ack = true;
  auto frames = phone.encode(m, 20);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], bytes({0x0c, 0x08, 0x00, 0x00}));
  auto r = device.receive(frames[0]);
  ASSERT_TRUE(r.message);
  ASSERT_TRUE(r.ack);
  EXPECT_EQ(*r.ack, 0);
  auto ack = phone.receive(device.encode(ack_message(*r.ack), 20)[0]);
  ASSERT_TRUE(ack.message);
  EXPECT_EQ(ack.message->subtype, ctrl::Ack);
  EXPECT_EQ(ack.message->payload, bytes({0x00}));
  EXPECT_FALSE(ack.ack);
}

TEST(BlufiSecurity, AesCfbUsesTheSequenceNumberAsIv) {
  // One block of CFB128 is the plain text XOR AES-ECB(key, IV): check the IV is seq, 0 * 15.
  const std::string plain = "sixteen byte msg";
  unsigned char iv[16] = {7}, stream[16];
  int n = 0;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ecb(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  ASSERT_EQ(EVP_EncryptInit_ex(ecb.get(), EVP_aes_128_ecb(), nullptr,
                               reinterpret_cast<const unsigned char*>(kKey.data()), nullptr), 1);
  EVP_CIPHER_CTX_set_padding(ecb.get(), 0);
  ASSERT_EQ(EVP_EncryptUpdate(ecb.get(), stream, &n, iv, 16), 1);
  std::string expected = plain;
  for (int i = 0; i < 16; ++i) expected[i] = char(expected[i] ^ stream[i]);
  EXPECT_EQ(aes_cfb(kKey, 7, plain, true), expected);
  EXPECT_NE(aes_cfb(kKey, 8, plain, true), expected);
  EXPECT_EQ(aes_cfb(kKey, 7, expected, false), plain);
}

TEST(BlufiSecurity, EncryptedFrameMatchesAnIndependentEncoder) {
  // Made by Python's "cryptography" (AES-128, CFB with a 16-byte IV of seq then zeros) and a
  // bitwise CRC: StaPassword "secret", sequence 1, key "0123456789abcdef", checksum over the
  // plain text, little-endian after the cipher text.
  Channel phone(false);
  phone.set_key("0123456789abcdef");
  phone.set_security(kSecDataChecksum | kSecDataEncrypted);
  phone.encode(ctrl_message(ctrl::SetSecMode, bytes({0x03})), 20);  // sequence 0
  const auto frames = phone.encode(data_message(data::StaPassword, "secret"), 20);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], bytes({0x0d, 0x03, 0x01, 0x06, 0x64, 0x9a, 0x25, 0x6c, 0x69, 0x1b, 0x6a, 0x27}));
}

TEST(BlufiSecurity, EncryptedRoundTripBothWays) {
  Channel phone(false), device(true);
  phone.set_key(kKey);
  device.set_key(kKey);
  auto set = phone.encode(ctrl_message(ctrl::SetSecMode, std::string(1, char(0x13))), 20);
  ASSERT_TRUE(deliver(device, set));
  EXPECT_EQ(device.security(), 0x13);  // the device applies what it was asked for
  phone.set_security(0x13);

  auto up = phone.encode(data_message(data::StaPassword, "hunter22"), 20);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0][1], char(kFcEncrypted | kFcChecksum));
  EXPECT_EQ(up[0].find("hunter22"), std::string::npos);
  auto m = deliver(device, up);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "hunter22");

  auto down = device.encode(data_message(data::Custom, "hello phone"), 20);
  EXPECT_EQ(down[0][1], char(kFcToPhone | kFcEncrypted | kFcChecksum));
  auto back = deliver(phone, down);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->payload, "hello phone");

  // Control frames: checksummed by the high nibble, never encrypted (blufi_prf.c).
  auto ctrl_frames = device.encode(ack_message(3), 20);
  EXPECT_EQ(ctrl_frames[0][1], char(kFcToPhone | kFcChecksum));
  // Negotiation and error reports stay in the clear.
  EXPECT_EQ(device.encode(data_message(data::Neg, "k"), 20)[0][1], char(kFcToPhone));
  EXPECT_EQ(device.encode(data_message(data::Error, encode_error(Error::Sequence)), 20)[0][1], char(kFcToPhone));
}

TEST(BlufiSecurity, WrongKeyFailsTheChecksumAndNoKeyFailsDecryption) {
  Channel phone(false), device(true), keyless(true);
  phone.set_key(kKey);
  phone.set_security(kSecDataChecksum | kSecDataEncrypted);
  std::string other = kKey;
  other[0] ^= 1;
  device.set_key(other);
  auto frames = phone.encode(data_message(data::StaSsid, "lab"), 20);
  EXPECT_EQ(device.receive(frames[0]).error, Error::Checksum);
  EXPECT_EQ(keyless.receive(frames[0]).error, Error::Decrypt);
  Channel unkeyed(false);
  unkeyed.set_security(kSecDataEncrypted);
  EXPECT_TRUE(unkeyed.encode(data_message(data::StaSsid, "lab"), 20).empty());
}

TEST(BlufiDh, PhoneAndDeviceAgreeOnTheKey) {
  DhPhone phone;
  DhDevice device;
  const std::string len = phone.param_len_message();
  // 1024-bit p (128 bytes), g in one byte, a 128-byte public value, six length bytes.
  EXPECT_EQ(len, bytes({0x00, 0x01, 0x07}));
  EXPECT_EQ(phone.param_data_message().size(), 1u + 263u);
  EXPECT_EQ(phone.param_data_message()[0], char(DhParamData));
  auto s1 = device.receive(len);
  EXPECT_FALSE(s1.reply);
  EXPECT_FALSE(s1.error);
  auto s2 = device.receive(phone.param_data_message());
  ASSERT_FALSE(s2.error);
  ASSERT_TRUE(s2.reply);
  EXPECT_EQ(s2.reply->size(), 128u);
  ASSERT_TRUE(phone.receive(*s2.reply));
  ASSERT_TRUE(phone.key() && device.key());
  EXPECT_EQ(phone.key()->size(), 16u);
  EXPECT_EQ(*phone.key(), *device.key());

  DhPhone other;  // a fresh key pair gives another key
  DhDevice device2;
  device2.receive(other.param_len_message());
  auto s3 = device2.receive(other.param_data_message());
  ASSERT_TRUE(s3.reply && other.receive(*s3.reply));
  EXPECT_NE(*other.key(), *phone.key());
}

TEST(BlufiDh, DeviceRefusesBadParameters) {
  DhPhone phone;
  {
    DhDevice device;  // PARAM_DATA before PARAM_LEN
    EXPECT_EQ(device.receive(phone.param_data_message()).error, Error::DhParam);
  }
  {
    DhDevice device;  // a public value of 1
    std::string data = phone.param_data_message();
    data.replace(data.size() - 128, 128, std::string(127, '\0') + '\x01');
    device.receive(phone.param_len_message());
    EXPECT_EQ(device.receive(data).error, Error::ReadParam);
    EXPECT_FALSE(device.key());
  }
  {
    DhDevice device;  // fewer bytes than announced
    device.receive(bytes({0x00, 0x01, 0x07}));
    EXPECT_EQ(device.receive(bytes({0x01, 0x00, 0x80, 0x12})).error, Error::ReadParam);
  }
  DhDevice device;
  EXPECT_EQ(device.receive("").error, Error::DataFormat);
  EXPECT_FALSE(device.receive(bytes({DhP, 1, 2})).error);  // accepted, ignored
  EXPECT_FALSE(phone.receive(std::string(128, '\0')));
}

TEST(BlufiPayload, WifiReportByteExactAndRoundTrip) {
  WifiReport r;
  r.opmode = 1;
  r.sta_state = StaConnected;
  r.sta_bssid = std::array<std::uint8_t, 6>{0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01};
  r.sta_ssid = "lab";
  EXPECT_EQ(encode_wifi_report(r),
            bytes({1, 0, 0, 1, 6, 0x24, 0x0a, 0xc4, 0, 0, 1, 2, 3, 'l', 'a', 'b'}));
  r.sta_password = "secret";
  r.softap_ssid = "esp";
  r.softap_password = "12345678";
  r.softap_auth_mode = 3;
  r.softap_max_conn = 4;
  r.softap_channel = 6;
  r.sta_max_conn_retry = 5;
  r.sta_end_reason = 201;
  r.sta_rssi = -61;
  EXPECT_EQ(parse_wifi_report(encode_wifi_report(r)), r);
  WifiReport cut;
  cut.sta_ssid = std::string(40, 's');  // an SSID is at most 32 bytes
  EXPECT_EQ(parse_wifi_report(encode_wifi_report(cut))->sta_ssid->size(), 32u);
  EXPECT_FALSE(parse_wifi_report(bytes({1, 0})));
  EXPECT_FALSE(parse_wifi_report(bytes({1, 0, 0, 2, 5, 'l'})));
  EXPECT_FALSE(parse_wifi_report(bytes({1, 0, 0, 22, 0})));
  EXPECT_TRUE(parse_wifi_report(bytes({1, 0, 0, 60, 1, 9})));  // unknown fields are skipped
}

TEST(BlufiPayload, WifiListVersionError) {
  const std::vector<ApRecord> aps{{"lab", -40}, {"", -90}, {"cafe", 0}};
  EXPECT_EQ(encode_wifi_list(aps), bytes({4, 0xd8, 'l', 'a', 'b', 1, 0xa6, 5, 0, 'c', 'a', 'f', 'e'}));
  EXPECT_EQ(parse_wifi_list(encode_wifi_list(aps)), aps);
  EXPECT_FALSE(parse_wifi_list(bytes({0, 0})));
  EXPECT_FALSE(parse_wifi_list(bytes({5, 0, 'a'})));
  EXPECT_EQ(encode_version(), bytes({1, 3}));
  EXPECT_EQ(parse_version(bytes({1, 2})), (std::array<int, 2>{1, 2}));
  EXPECT_FALSE(parse_version(bytes({1})));
  EXPECT_EQ(encode_error(Error::Checksum), bytes({1}));
  EXPECT_EQ(parse_error(bytes({9})), 9);
}

// The provisioning of ESP-IDF docs api-guides/blufi "The BluFi Flow": negotiate, set the
// security mode, send SSID and password, ask to connect, get the report back.
TEST(BlufiExchange, NegotiateThenProvisionAStationOverEncryptedFrames) {
  Channel phone(false), device(true);
  DhPhone phone_dh;
  DhDevice device_dh;
  const std::size_t mtu_frame = max_frame_for_mtu(23);
  auto phone_sends = [&](const Message& m) {
    std::optional<Message> got;
    for (const auto& f : phone.encode(m, mtu_frame)) {
      auto r = device.receive(f);
      EXPECT_FALSE(r.error);
      if (r.ack) deliver(phone, device.encode(ack_message(*r.ack), mtu_frame));
      if (r.message) got = std::move(r.message);
    }
    return got;
  };
  // Negotiation: two data frames of subtype 0, the second fragmented; the device answers.
  std::optional<std::string> reply;
  for (const auto& payload : {phone_dh.param_len_message(), phone_dh.param_data_message()}) {
    auto m = phone_sends(data_message(data::Neg, payload));
    ASSERT_TRUE(m);
    auto step = device_dh.receive(m->payload);
    ASSERT_FALSE(step.error);
    if (step.reply) reply = step.reply;
  }
  ASSERT_TRUE(reply);
  auto neg = deliver(phone, device.encode(data_message(data::Neg, *reply), mtu_frame));
  ASSERT_TRUE(neg);
  ASSERT_TRUE(phone_dh.receive(neg->payload));
  phone.set_key(*phone_dh.key());
  device.set_key(*device_dh.key());

  ASSERT_TRUE(phone_sends(ctrl_message(ctrl::SetSecMode, std::string(1, char(kSecDataChecksum | kSecDataEncrypted)))));
  phone.set_security(kSecDataChecksum | kSecDataEncrypted);
  EXPECT_EQ(device.security(), kSecDataChecksum | kSecDataEncrypted);

  EXPECT_EQ(phone_sends(ctrl_message(ctrl::SetOpmode, bytes({1})))->payload, bytes({1}));
  EXPECT_EQ(phone_sends(data_message(data::StaSsid, "espat-lab"))->payload, "espat-lab");
  EXPECT_EQ(phone_sends(data_message(data::StaPassword, "correct horse battery"))->payload, "correct horse battery");
  Message connect = ctrl_message(ctrl::ConnectAp);
  connect.want_ack = true;
  auto c = phone_sends(connect);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->data);
  EXPECT_EQ(c->subtype, ctrl::ConnectAp);

  WifiReport report;
  report.opmode = 1;
  report.sta_state = StaConnected;
  report.sta_bssid = std::array<std::uint8_t, 6>{0x10, 0x20, 0x30, 0x40, 0x50, 0x60};
  report.sta_ssid = "espat-lab";
  const auto down = device.encode(data_message(data::WifiReport, encode_wifi_report(report)), mtu_frame);
  for (const auto& f : down) EXPECT_EQ(f[1] & (kFcEncrypted | kFcChecksum), kFcEncrypted | kFcChecksum);
  auto got = deliver(phone, down);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->subtype, data::WifiReport);
  EXPECT_EQ(parse_wifi_report(got->payload), report);
}

}  // namespace
}  // namespace espat::sim::blufi
