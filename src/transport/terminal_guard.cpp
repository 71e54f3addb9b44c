#include "transport/terminal_guard.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <system_error>

namespace espat::transport::terminal {
namespace {

// Plain globals: restore() runs from signal handlers.
volatile std::sig_atomic_t g_saved = 0;
termios g_tio{};
bool g_tty = false;
int g_in_flags = -1, g_out_flags = -1;
std::terminate_handler g_prev_terminate = nullptr;

void on_fatal_signal(int sig) {
  restore();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void on_terminate() {
  restore();
  if (g_prev_terminate) g_prev_terminate();
  std::abort();
}

void install_handlers_once() {
  static bool done = false;
  if (done) return;
  done = true;
  std::atexit([] { restore(); });
  g_prev_terminate = std::set_terminate(on_terminate);
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT}) sigaction(sig, &sa, nullptr);
}

}  // namespace

void enter_raw(bool stdin_is_tty) {
  install_handlers_once();
  g_in_flags = ::fcntl(0, F_GETFL);
  g_out_flags = ::fcntl(1, F_GETFL);
  g_tty = false;
  if (stdin_is_tty) {
    if (::tcgetattr(0, &g_tio) != 0)
      throw std::system_error(errno, std::generic_category(), "stdin: tcgetattr");
    termios raw = g_tio;
    cfmakeraw(&raw);
    raw.c_oflag = g_tio.c_oflag;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (::tcsetattr(0, TCSANOW, &raw) != 0)
      throw std::system_error(errno, std::generic_category(), "stdin: tcsetattr");
    g_tty = true;
  }
  g_saved = 1;
}

void restore() noexcept {
  if (!g_saved) return;
  g_saved = 0;
  if (g_in_flags >= 0) ::fcntl(0, F_SETFL, g_in_flags);
  if (g_out_flags >= 0) ::fcntl(1, F_SETFL, g_out_flags);
  if (g_tty) ::tcsetattr(0, TCSANOW, &g_tio);
}

}  // namespace espat::transport::terminal
