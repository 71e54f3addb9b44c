// termios for the ttys the ports sit on: raw mode and the UART line settings.
#pragma once
#include <cstdint>

#include "transport/port.hpp"

namespace espat::transport::tty {

// Raw mode (cfmakeraw), CLOCAL|CREAD, then apply_line. Throws std::system_error on failure.
void make_raw(int fd, const LineConfig& line);
// Data bits, stop bits, parity, flow control and baud rate. A rate without a Bxxx constant is
// set exactly with termios2 (BOTHER) when the driver accepts it, else the nearest standard rate.
// Returns false (and logs at debug level) when the tty refused the settings.
bool apply_line(int fd, const LineConfig& line);

// Sets an arbitrary baud rate with termios2; defined apart because <asm/termbits.h> and
// <termios.h> cannot be included together.
bool set_other_baud(int fd, std::uint32_t baud);

}  // namespace espat::transport::tty
