// ESP-AT error codes (spec 3.1.24, reference esp-at-formats.md §1.5):
// bits 31..24 category 0x01, bits 23..16 subcategory, bits 15..0 extension.
#pragma once
#include <cstdint>
#include <string>

namespace espat::at {

enum class Sub : std::uint8_t {
  Ok = 0x00,
  Common = 0x01,
  NoTerminator = 0x02,
  NoAt = 0x03,
  ParaLength = 0x04,   // ext: parameter index
  ParaType = 0x05,     // ext: parameter index
  ParaNum = 0x06,      // ext: (needed << 8) | given
  ParaInvalid = 0x07,  // ext: parameter index
  ParaParse = 0x08,    // ext: parameter index
  Unsupported = 0x09,
  ExecFail = 0x0A,     // ext: command specific
  Processing = 0x0B,
  OpError = 0x0C,      // the form (test/query/set/execute) does not exist
};

struct ErrCode {
  std::uint32_t value = 0;

  static constexpr ErrCode make(Sub sub, std::uint16_t ext = 0) {
    return {0x01000000u | (std::uint32_t(sub) << 16) | ext};
  }
  static constexpr ErrCode para_num(unsigned needed, unsigned given) {
    return make(Sub::ParaNum, std::uint16_t(((needed & 0xFF) << 8) | (given & 0xFF)));
  }
  constexpr Sub sub() const { return Sub((value >> 16) & 0xFF); }
  // "ERR CODE:0x%08x\r\n", printed before ERROR when AT+SYSLOG=1.
  std::string line() const;
  bool operator==(const ErrCode&) const = default;
};

}  // namespace espat::at
