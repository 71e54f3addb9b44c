// Puts the controlling terminal on stdin into raw mode and guarantees it comes back: on close,
// at exit, on std::terminate and on fatal signals (SIGINT/SIGTERM go through the CLI's clean
// shutdown, which closes the port).
#pragma once

namespace espat::transport::terminal {

// Saves the termios of fd 0 and the file status flags of fds 0 and 1 (asio makes the shared
// open file descriptions non-blocking, which a shell would inherit), then sets raw input.
// Output processing (OPOST) is kept so that log lines on the same terminal still start at
// column 0. Throws std::system_error when the terminal refuses.
void enter_raw(bool stdin_is_tty);
// Restores what enter_raw saved; async-signal-safe, idempotent.
void restore() noexcept;

}  // namespace espat::transport::terminal
