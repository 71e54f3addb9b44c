#include "transport/tty.hpp"

#include <termios.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace espat::transport::tty {
namespace {

constexpr std::pair<std::uint32_t, speed_t> kSpeeds[] = {
    {50, B50},         {75, B75},           {110, B110},         {134, B134},
    {150, B150},       {200, B200},         {300, B300},         {600, B600},
    {1200, B1200},     {1800, B1800},       {2400, B2400},       {4800, B4800},
    {9600, B9600},     {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200}, {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000}, {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

const std::pair<std::uint32_t, speed_t>& nearest_speed(std::uint32_t baud) {
  const auto* best = &kSpeeds[0];
  for (const auto& s : kSpeeds) {
    auto d = [baud](std::uint32_t r) { return r > baud ? r - baud : baud - r; };
    if (d(s.first) < d(best->first)) best = &s;
  }
  return *best;
}

void set_frame(termios& t, const LineConfig& line) {
  t.c_cflag &= ~(CSIZE | CSTOPB | PARENB | PARODD | CRTSCTS);
  t.c_cflag |= CLOCAL | CREAD;
  switch (line.databits) {
    case 5: t.c_cflag |= CS5; break;
    case 6: t.c_cflag |= CS6; break;
    case 7: t.c_cflag |= CS7; break;
    default: t.c_cflag |= CS8; break;
  }
  if (line.stopbits != 1) t.c_cflag |= CSTOPB;  // termios has no 1.5: 2 is the closest
  if (line.parity != 0) t.c_cflag |= PARENB | (line.parity == 1 ? PARODD : 0);
  // Linux ties RTS and CTS together; one-way flow control would stall output on an unwired CTS.
  if (line.flow == 3) t.c_cflag |= CRTSCTS;
  else if (line.flow != 0) spdlog::debug("tty: one-way flow control {} is not applied", line.flow);
}

}  // namespace

void make_raw(int fd, const LineConfig& line) {
  termios t{};
  if (tcgetattr(fd, &t) != 0) throw std::system_error(errno, std::generic_category(), "tcgetattr");
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  t.c_cflag |= CLOCAL | CREAD;
  if (tcsetattr(fd, TCSANOW, &t) != 0)
    throw std::system_error(errno, std::generic_category(), "tcsetattr");
  // The frame (data bits, parity, stop bits) is best effort: a pty refuses some (EINVAL)
  // and does not need them; a saved AT+UART_DEF must never stop the module from booting.
  if (!apply_line(fd, line)) spdlog::info("tty: line settings not applied; the port stays raw 8N1");
}

bool apply_line(int fd, const LineConfig& line) {
  termios t{};
  if (tcgetattr(fd, &t) != 0) {
    spdlog::debug("tty: tcgetattr: {}", std::generic_category().message(errno));
    return false;
  }
  set_frame(t, line);
  const auto& near = nearest_speed(line.baud);
  bool exact = near.first == line.baud;
  cfsetspeed(&t, near.second);
  if (tcsetattr(fd, TCSANOW, &t) != 0) {
    spdlog::debug("tty: tcsetattr: {}", std::generic_category().message(errno));
    return false;
  }
  if (!exact && !set_other_baud(fd, line.baud))
    spdlog::debug("tty: {} baud not accepted, kept {}", line.baud, near.first);
  return true;
}

}  // namespace espat::transport::tty
