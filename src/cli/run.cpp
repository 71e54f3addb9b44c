#include "cli/run.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "cli/fleet.hpp"
#include "cli/host_port.hpp"
#include "cli/module_view.hpp"
#include "commands/table.hpp"
#include "module/module.hpp"
#include "sim/control_api.hpp"
#include "sim/world_file.hpp"
#include "transport/port.hpp"

namespace espat::cli {
namespace {

// Module k's AT port: the single-module option, moved on by k (README "Several modules").
std::unique_ptr<transport::Port> open_port(asio::io_context& io, const RunOptions& o, int k,
                                           const transport::PortOptions& po) {
  if (o.serial) return transport::open_serial(io, *o.serial, po);
  if (o.pty) {
    std::optional<std::string> link;
    if (!o.pty_link.empty()) link = module_link(o.pty_link, k);
    return transport::open_pty(io, link, po);
  }
  if (o.tcp) {
    auto hp = parse_host_port(*o.tcp);  // validated by the option's check
    const int port = hp->port == 0 ? 0 : hp->port + k;
    if (port > 65535) throw std::runtime_error(fmt::format("module {}: TCP port {} is beyond 65535", k, port));
    return transport::open_tcp(io, hp->host, std::uint16_t(port), po);
  }
  return transport::open_stdio(io, po, o.script);
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
  auto* script = run->add_flag("--script", o.script,
                               "Implies --stdio; stdin (a pipe or a file) is a script of command "
                               "lines, sent as a host driver would: after \"ready\", each once the "
                               "previous one has its final result; exits when the last one has answered");
  serial->excludes(pty, tcp, stdio, script);
  pty->excludes(tcp, stdio, script);
  tcp->excludes(stdio, script);
  run->add_flag("--baud-pacing", o.baud_pacing,
                "Bytes enter and leave at the UART baud rate (default: as fast as possible)");
  run->add_option("--links", o.links, "Link ids of AT+CIPSTART and the server (default: 5, as the firmware's build)")
      ->check(CLI::Range(1, 16));
  run->add_option("--boot-ms", o.boot_ms, "Time from reset to \"ready\" (default: 300)")
      ->type_name("MS")
      ->check(CLI::Range(0, 60000));
  run->add_option("--modules", o.modules,
                  "Run N modules sharing one world, module k on the AT port and flash file "
                  "derived from --pty/--tcp and --flash (see README \"Several modules\")")
      ->type_name("N")
      ->check(CLI::Range(1, 49152));  // softAP networks 127.64.0.0 to 127.255.255.0
  run->add_flag("--flash-overlays", o.flash_overlays,
                "The --flash image is a base shared by every module and never written; module k "
                "keeps only the sectors it writes in <flash stem>-<k>.overlay (see README \"Fleets\")");
  run->add_option("--control", o.control,
                  "Serve the control API (HTTP + JSON) on 127.0.0.1:PORT; 0 picks a free port, "
                  "printed on stderr (default: off)")
      ->type_name("PORT")
      ->check(CLI::Range(0, 65535));
  run->add_option("--world", o.world,
                  "The radio world: a TOML file of APs, SmartConfig phones and DNS names "
                  "(default: the embedded world, see README)")
      ->type_name("FILE");
  run->add_option("--trace", o.trace,
                  "Write every byte in and out of each AT port, with time, direction and module "
                  "number, and the world's events, to FILE (- for stderr); see README \"Tracing\"")
      ->type_name("FILE");
  run->callback([run, pty, &o] { o.pty = pty->count() > 0; });
  return run;
}

std::string module_flash(const std::string& flash, int k) {
  if (k == 0) return flash;
  std::filesystem::path p(flash);
  auto name = p.stem().string() + "-" + std::to_string(k) + p.extension().string();
  return (p.parent_path() / name).string();
}

std::string module_link(const std::string& link, int k) { return k == 0 ? link : link + "-" + std::to_string(k); }

int run(const RunOptions& o) {
  std::signal(SIGPIPE, SIG_IGN);
  if (!o.serial && !o.pty && !o.tcp && !o.stdio && !o.script && (o.modules > 1 || !::isatty(0))) {
    if (o.modules > 1)
      fmt::print(stderr, "espat: choose the AT ports of the {} modules: --pty [LINK] or --tcp HOST:PORT\n", o.modules);
    else
      fmt::print(stderr,
                 "espat: choose the AT port: --serial DEVICE, --pty [LINK], --tcp HOST:PORT or "
                 "--stdio\n(--stdio is the default only when stdin is a terminal; --script feeds it "
                 "a script of command lines)\n");
    return 2;
  }
  if (o.modules > 1 && (o.serial || o.stdio || o.script)) {
    fmt::print(stderr, "espat: --{} is one AT port; {} modules need --pty [LINK] or --tcp HOST:PORT\n",
               o.serial ? "serial" : o.stdio ? "stdio" : "script", o.modules);
    return 2;
  }
  // Above this, plain flash files cost 4 MiB each: a fleet that large wants overlays.
  constexpr int kMaxPlainModules = 256;
  if (o.modules > kMaxPlainModules && !o.flash_overlays) {
    fmt::print(stderr, "espat: {} modules with a 4 MiB flash file each: add --flash-overlays (README \"Fleets\")\n",
               o.modules);
    return 2;
  }
  asio::io_context io;
  // First, so that a Ctrl-C seen by the stdio port (it raises SIGINT) always lands here.
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::unique_ptr<transport::Trace> trace;  // last to go: modules and the world write to it
  // Declared before the modules so that the modules, which write to the ports, go first.
  std::vector<std::unique_ptr<transport::Port>> ports;
  sim::World world;  // outlives the modules, which are part of it
  std::vector<std::unique_ptr<module::Module>> modules;
  std::unique_ptr<sim::ControlApi> control;  // first to go: its threads reach the modules
  std::unique_ptr<FleetBase> base;
  try {
    // Per module: its port (a pty is two descriptors, a TCP port one, and one more while a client
    // is connected: counted in the slack) and, without overlays, its flash file; and a few for
    // the process (loop, control API, trace).
    const std::size_t per_module = (o.pty ? 2 : 1) + (o.flash_overlays ? 0 : 1);
    reserve_descriptors(std::size_t(o.modules) * per_module + 64);
    if (o.flash_overlays) base = open_fleet_base(o.flash);
    if (!o.trace.empty()) {
      trace = std::make_unique<transport::Trace>(o.trace);
      world.on_change = [t = trace.get()](std::string_view what) { t->event(what); };
    }
    // The world's BLE peers act later (a notification every second, a reply to a pairing) on
    // this loop.
    world.ble.set_scheduler([&io](std::chrono::milliseconds delay, std::function<void()> f) {
      auto t = std::make_shared<asio::steady_timer>(io, delay);
      t->async_wait([t, f = std::move(f)](std::error_code ec) {
        if (!ec) f();
      });
    });
    if (o.world.empty()) sim::load_world(world, sim::default_world_toml(), "(embedded world)");
    else sim::load_world_file(world, o.world);
    std::vector<sim::ModuleView> views;
    for (int k = 0; k < o.modules; ++k) {
      const std::string flash = o.flash_overlays ? module_overlay(o.flash, k) : module_flash(o.flash, k);
      modules.push_back(std::make_unique<module::Module>(
          io, module::Options{.commands = &commands::command_table(), .flash_path = flash, .baud_pacing = o.baud_pacing, .boot_ms = o.boot_ms, .links = o.links,
                              .world = &world, .index = k, .trace = trace.get(),
                              .flash_base = base ? base->region : nullptr, .flash_base_path = base ? base->path : ""}));
      ports.push_back(open_port(io, o, k, transport::PortOptions{o.baud_pacing, modules.back()->boot_line()}));
      if (o.modules > 1)
        fmt::print(stderr, "espat: module {}: AT port on {}, flash {}\n", k, ports.back()->describe(), flash);
      views.push_back(module_view(*modules.back(), k, ports.back()->describe(), flash));
    }
    if (o.control) {
      control = std::make_unique<sim::ControlApi>(io, world, std::move(views));
      const auto port = control->start(std::uint16_t(*o.control));
      fmt::print(stderr, "espat: control API: http://127.0.0.1:{}\n", port);
    }
    std::fflush(stderr);
  } catch (const std::exception& e) {
    fmt::print(stderr, "espat: {}\n", e.what());
    return 2;
  }
  signals.async_wait([&](std::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    if (control) control->stop();
    for (auto& m : modules) m->shutdown();
    for (auto& p : ports) p->close();
    io.stop();
  });
  for (std::size_t k = 0; k < modules.size(); ++k) {
    spdlog::info("AT port: {}", ports[k]->describe());
    modules[k]->start(*ports[k]);
  }
  io.run();
  if (control) control->stop();
  return 0;
}

}  // namespace espat::cli
