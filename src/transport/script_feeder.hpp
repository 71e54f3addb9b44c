// `espat run --script`: a script of AT command lines fed to the module the way a host driver
// sends them. A UART drops what comes before "ready" and answers "busy p..." to a line sent while
// a command runs; a driver therefore waits, and so does this: nothing before "ready", then one
// line at a time, the next once the previous one has its final result (host-drivers.md: OK,
// ERROR, FAIL, SEND OK, SEND FAIL, matched as whole lines). Commands that restart the module
// (AT+RST, AT+RESTORE, AT+GSLP, AT+SYSROLLBACK, a blocking AT+CIUPDATE of the application) are
// done at their "ready". After the "\r\n>" prompt of data input, the next line is the data,
// sent without its line end.
//
// No I/O here: the port hands in the script and what the module wrote, and asks, whenever its
// output has all been written, what to send next.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace espat::transport {

class ScriptFeeder {
 public:
  void add_input(std::string_view bytes);  // more of the script
  void end_input();                         // the script has no more bytes
  void output(std::string_view bytes);      // bytes the module wrote, in order

  // Called once everything the module wrote so far has left the port: the bytes to hand to
  // the module now (a command line with CR-LF, or data), if it is time for some.
  std::optional<std::string> next();
  // The script has ended and the module has answered all of it.
  bool finished() const { return ended_ && waiting_ == Waiting::Nothing && !has_line(); }

 private:
  enum class Waiting { Ready, Result, Nothing };
  bool has_line() const;               // a complete line (or the unterminated end) to send
  std::optional<std::string> take_line();
  void on_line(std::string_view line);  // a complete output line, CR-LF removed

  std::string script_;      // not yet sent
  bool ended_ = false;
  Waiting waiting_ = Waiting::Ready;
  std::string out_line_;    // output since the last LF
  std::string sent_;        // the command line last sent, to tell its echo from its answer
  bool first_line_ = false; // the next output line may be that echo
  bool restarts_ = false;   // the line sent restarts the module on OK
  std::string result_;      // its final result, once seen
  bool ready_ = false;      // "ready" seen since the last line was sent
};

}  // namespace espat::transport
