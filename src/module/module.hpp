// One virtual ESP32 module: its flash, its AT engine and its state, attached to one AT port.
#pragma once
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "at/command.hpp"
#include "flash/region.hpp"
#include "sim/world.hpp"
#include "transport/port.hpp"
#include "transport/trace.hpp"

namespace espat::module {

class Wifi;
class Net;

struct Options {
  const at::Registry* commands = nullptr;  // the process-wide command table (required)
  std::string flash_path = "espat-flash.bin";
  bool baud_pacing = false;
  int boot_ms = 300;  // time from reset to "ready", as a real module takes about that long
  int links = 5;      // link ids (AT_SOCKET_MAX_CONN_NUM of the firmware's build), at most 16
  sim::World* world = nullptr;  // shared by the modules of a process; null: a world of its own
  int index = 0;                // the module's number in the process (its softAP network)
  transport::Trace* trace = nullptr;  // --trace: every byte of the AT port
  // A fleet: flash_path is an overlay over this shared base image (flash/overlay.hpp).
  std::shared_ptr<const flash::Region> flash_base = nullptr;
  std::string flash_base_path = {};
};

class Module {
 public:
  // Opens (or creates) the flash image. Throws std::runtime_error with a clear message when the
  // image is corrupt or foreign; the file is never modified in that case.
  Module(asio::io_context& io, Options opts);
  ~Module();
  // The UART line configuration to open the port with (AT+UART_DEF, else factory parameters).
  transport::LineConfig boot_line() const;
  // Attaches the port and boots: prints "\r\nready\r\n" after boot_ms.
  void start(transport::Port& port);
  // Flushes flash and stops timers; the io_context can then return.
  void shutdown();
  // The EN pin: restarts as AT+RST does, at once (no OK first); "ready" after boot_ms, and the
  // run-time state read again from flash.
  void reset();
  // Power off and on: a reset that also loses what RAM held across resets (the RTC of
  // AT+SYSTIMESTAMP starts from 0 again); flash keeps everything saved.
  void power_cycle();
  // The module's Wi-Fi (station and softAP), for the control API's module list.
  Wifi& wifi();
  // Its TCP/IP links, for the control API's link list and link faults.
  Net& net();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace espat::module
