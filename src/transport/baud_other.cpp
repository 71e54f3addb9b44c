// termios2 (BOTHER): the only way to set a baud rate that has no Bxxx constant on Linux.
#include <asm/termbits.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace espat::transport::tty {

bool set_other_baud(int fd, std::uint32_t baud) {
  struct termios2 t {};
  if (ioctl(fd, TCGETS2, &t) != 0) return false;
  t.c_cflag &= ~(CBAUD | (CBAUD << IBSHIFT));
  t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
  t.c_ispeed = baud;
  t.c_ospeed = baud;
  return ioctl(fd, TCSETS2, &t) == 0;
}

}  // namespace espat::transport::tty
