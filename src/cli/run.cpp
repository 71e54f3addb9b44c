#include "cli/run.hpp"

#include <unistd.h>

#include <csignal>
#include <exception>
#include <memory>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "cli/host_port.hpp"
#include "module/module.hpp"
#include "sim/world_file.hpp"
#include "transport/port.hpp"

namespace espat::cli {
namespace {

std::unique_ptr<transport::Port> open_port(asio::io_context& io, const RunOptions& o,
                                           const transport::PortOptions& po) {
  if (o.serial) return transport::open_serial(io, *o.serial, po);
  if (o.pty) {
    std::optional<std::string> link;
    if (!o.pty_link.empty()) link = o.pty_link;
    return transport::open_pty(io, link, po);
  }
  if (o.tcp) {
    auto hp = parse_host_port(*o.tcp);  // validated by the option's check
    return transport::open_tcp(io, hp->host, hp->port, po);
  }
  return transport::open_stdio(io, po);
}

}  // namespace

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
  auto* run = app.add_subcommand("run", "Run one module, its AT port on a serial device, a pty, "
                                        "TCP or this terminal.");
  run->add_option("--flash", o.flash,
                  "Flash image file; created from the default image if missing "
                  "(default: espat-flash.bin)")
      ->type_name("FILE")
      ->envname("ESPAT_FLASH");
  auto* serial = run->add_option("--serial", o.serial,
                                 "AT port on an existing serial device or tty, e.g. /dev/ttyUSB0")
                     ->type_name("DEVICE");
  auto* pty = run->add_option("--pty", o.pty_link,
                              "AT port on a new pty, its path printed on stderr; "
                              "LINK: a symlink kept to it")
                  ->type_name("[LINK]")
                  ->expected(0, 1);
  auto* tcp = run->add_option("--tcp", o.tcp,
                              "AT port as a TCP server, one client at a time; "
                              "HOST defaults to 127.0.0.1, PORT 0 picks a free port")
                  ->type_name("HOST:PORT")
                  ->check([](const std::string& s) {
                    return parse_host_port(s) ? std::string{}
                                              : "expected HOST:PORT, [IPV6]:PORT or PORT";
                  });
  auto* stdio = run->add_flag("--stdio", o.stdio,
                              "AT port on stdin/stdout; Enter sends CR-LF, Ctrl-C or Ctrl-D exits "
                              "(default when stdin is a terminal)");
  serial->excludes(pty, tcp, stdio);
  pty->excludes(tcp, stdio);
  tcp->excludes(stdio);
  run->add_flag("--baud-pacing", o.baud_pacing,
                "Bytes enter and leave at the UART baud rate (default: as fast as possible)");
  run->add_option("--boot-ms", o.boot_ms, "Time from reset to \"ready\" (default: 300)")
      ->type_name("MS")
      ->check(CLI::Range(0, 60000));
  run->add_option("--world", o.world,
                  "The radio world: a TOML file of APs, SmartConfig phones and DNS names "
                  "(default: the embedded world, see README)")
      ->type_name("FILE");
  run->callback([run, pty, &o] { o.pty = pty->count() > 0; });
  return run;
}

int run(const RunOptions& o) {
  std::signal(SIGPIPE, SIG_IGN);
  if (!o.serial && !o.pty && !o.tcp && !o.stdio && !::isatty(0)) {
    fmt::print(stderr,
               "espat: choose the AT port: --serial DEVICE, --pty [LINK], --tcp HOST:PORT or "
               "--stdio\n(--stdio is the default only when stdin is a terminal)\n");
    return 2;
  }
  asio::io_context io;
  // First, so that a Ctrl-C seen by the stdio port (it raises SIGINT) always lands here.
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  // Declared before the module so that the module, which writes to the port, goes first.
  std::unique_ptr<transport::Port> port;
  sim::World world;  // outlives the module, which is part of it
  std::unique_ptr<module::Module> module;
  try {
    if (o.world.empty()) sim::load_world(world, sim::default_world_toml(), "(embedded world)");
    else sim::load_world_file(world, o.world);
    module = std::make_unique<module::Module>(
        io, module::Options{.flash_path = o.flash, .baud_pacing = o.baud_pacing, .boot_ms = o.boot_ms,
                            .world = &world});
    port = open_port(io, o, transport::PortOptions{o.baud_pacing, module->boot_line()});
  } catch (const std::exception& e) {
    fmt::print(stderr, "espat: {}\n", e.what());
    return 2;
  }
  signals.async_wait([&](std::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    module->shutdown();
    port->close();
    io.stop();
  });
  spdlog::info("AT port: {}", port->describe());
  module->start(*port);
  io.run();
  return 0;
}

}  // namespace espat::cli
