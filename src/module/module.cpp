#include "module/module.hpp"

#include <malloc.h>
#include <filesystem>
#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>

#include "at/engine.hpp"
#include "flash/factory_params.hpp"
#include "flash/image.hpp"
#include "flash/nvs.hpp"
#include "module/context.hpp"
#include "module/net.hpp"
#include "module/mqtt.hpp"
#include "module/ota.hpp"
#include "module/rf_power.hpp"
#include "module/net_settings.hpp"
#include "module/settings.hpp"
#include "module/wifi.hpp"
#include "module/websocket.hpp"
#include "module/ble.hpp"
#include "module/wifi_settings.hpp"

namespace espat::module {

namespace {
using Clock = std::chrono::steady_clock;

// AT+SYSRAM (3.1.14): a heap of the size an ESP32 running ESP-AT has free after boot, less
// what this process has allocated since the module booted.
constexpr std::int64_t kFreeHeapAtBoot = 160'000;

// mallinfo2() walks the whole heap: with thousands of modules booting at once, one reading
// serves every boot of the same few milliseconds (the figure is the process's anyway);
// AT+SYSRAM itself reads it fresh.
std::int64_t allocated_bytes(bool fresh) {
  static Clock::time_point taken{};
  static std::int64_t bytes = 0;
  if (const auto now = Clock::now(); fresh || now - taken > std::chrono::milliseconds(50)) {
    bytes = std::int64_t(mallinfo2().uordblks);
    taken = now;
  }
  return bytes;
}

transport::LineConfig factory_line(const flash::FactoryParams& f) {
  // 8N1 with RTS flow control: CONFIG_AT_UART_DEFAULT_FLOW_CONTROL (reference §7.2).
  std::uint32_t baud = f.uart_baudrate >= 80 && f.uart_baudrate <= 5'000'000 ? std::uint32_t(f.uart_baudrate) : 115200;
  return {baud, 8, 1, 0, 1};
}

// The eFuse MAC of a real ESP32 is unique per chip; here it follows the flash file, so a module
// keeps its MAC across runs and two flash files make two modules. Espressif's OUI 24:0a:c4.
sim::Mac base_mac_for(const std::string& flash_path) {
  std::error_code ec;
  auto abs = std::filesystem::weakly_canonical(flash_path, ec).string();
  if (ec) abs = flash_path;
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : abs) h = (h ^ c) * 16777619u;
  sim::Mac m{{0x24, 0x0a, 0xc4, std::uint8_t(h >> 16), std::uint8_t(h >> 8), std::uint8_t(h & 0xfe)}};
  return m;
}

// Module k's softAP network: 127.(64 + k / 256).(k % 256).0/24, inside loopback (BRIEF
// "Network model") and apart from the world's APs.
sim::Subnet softap_subnet_for(int index) {
  std::uint32_t base = (127u << 24) | std::uint32_t(64 + index / 256) << 16 | std::uint32_t(index % 256) << 8;
  return {{base}, {0xffffff00u}};
}

std::unique_ptr<flash::nvs::Storage> open_store(flash::Region* region, const char* what) {
  if (!region) return nullptr;
  auto s = std::make_unique<flash::nvs::Storage>(*region);
  for (const auto& p : s->problems()) spdlog::warn("{} partition: {}", what, p);
  if (s->foreign()) spdlog::error("{} partition holds no NVS data; it is left as it is and nothing is saved", what);
  return s;
}
flash::FlashImage open_flash(const Options& o) {
  if (o.flash_base) return flash::FlashImage::open_overlay(o.flash_path, o.flash_base, o.flash_base_path);
  return flash::FlashImage::open(o.flash_path);
}

const at::Registry& command_table_of(const Options& o) {
  if (!o.commands) throw std::logic_error("module::Options::commands is required");
  return *o.commands;
}

}  // namespace

struct Module::Impl final : Context {
  Impl(asio::io_context& io, Options o)
      : io(io), opts(std::move(o)), image_(open_flash(opts)),
        engine_(io, command_table_of(opts), *this, [this](std::string bytes) { to_host(std::move(bytes)); }),
        boot_timer(io), power_on(Clock::now()) {
    engine_.set_hold_input([this](bool hold) {
      if (port) port->hold_input(hold);
    });
    nvs_region = image_.partition("nvs");
    if (!nvs_region) throw std::runtime_error(opts.flash_path + ": the partition table has no \"nvs\" partition");
    nvs_store = open_store(nvs_region.get(), "nvs");
    factory_ = flash::read_factory_params(image_);  // boot_line() needs them before boot()
    if (!opts.world) {
      own_world = std::make_unique<sim::World>();
      opts.world = own_world.get();
    }
    wifi_ = std::make_unique<Wifi>(io, *this, *opts.world,
                                   WifiIdentity{base_mac_for(opts.flash_path), softap_subnet_for(opts.index)});
    net_ = std::make_unique<Net>(io, *this, opts.links);
    ota_ = std::make_unique<Ota>(io, *this);
    ws_ = std::make_unique<WebSockets>(io, *this);
    mqtt_ = std::make_unique<Mqtt>(io, *this);
    // ESP32 derives the Bluetooth address from the base MAC: base + 2.
    ble_ = std::make_unique<Ble>(io, *this, *opts.world, base_mac_for(opts.flash_path).plus(2));
    wifi_->on_address_lost = [this](sim::Ipv4 ip) {
      net_->address_lost(asio::ip::address_v4(ip.v));
      mqtt_->address_lost();
      ws_->address_lost();
    };
    wifi_->on_address_gained = [this] { net_->address_gained(); };
    opts.world->watch_faults(this, [this] { net_->faults_changed(); });
  }
  ~Impl() override {
    wifi_->on_address_lost = nullptr;  // Wi-Fi outlives the links: it must not call back
    wifi_->on_address_gained = nullptr;
    opts.world->unwatch_faults(this);
  }

  void to_host(std::string bytes) {
    if (opts.trace) opts.trace->out(opts.index, bytes);
    if (port) port->write(std::move(bytes));
  }

  // ---- life cycle ------------------------------------------------------------------------
  void boot() {
    boot_timer.cancel();
    ota_->reset();
    mqtt_->reset();
    ws_->reset();
    net_->stop();
    wifi_->stop();
    engine_.reset();
    ble_->reset();
    engine_.set_deaf(true);
    load_state();
    heap_baseline = allocated_bytes(false);
    heap_min = kFreeHeapAtBoot;
    if (port) port->set_line(st.uart_cur);
    boot_timer.expires_after(std::chrono::milliseconds(opts.boot_ms));
    boot_timer.async_wait([this](std::error_code ec) {
      if (ec) return;
      engine_.set_deaf(false);
      engine_.write("\r\nready\r\n");
      wifi_->start();  // auto-connect reports come after "ready"
      net_->start_translink(st.translink);
    });
  }

  void load_state() {
    // Every boot reads the factory parameters again (reference §1.6): AT+SYSMFG writes count.
    factory_ = flash::read_factory_params(image_);
    st = State{};
    auto def = load_uart_def(*nvs_store);
    if (!def) {  // first boot: the firmware writes the defaults (reference §7.2)
      def = factory_line(factory_);
      save_uart_def(*this, *def);
    }
    st.uart_def = st.uart_cur = *def;
    st.sysstore = factory_.sys_store == 0 ? 0 : 1;
    st.sysmsg = load_sysmsg(*nvs_store);
    st.translink = load_translink(*nvs_store);
    st.wifi_power = wifi_power_level(factory_.max_tx_power);
    auto& w = wifi_->settings();
    w = wifi_->defaults();
    load_wifi(*nvs_store, w);
    net_->settings() = net_->defaults();
    load_net(*nvs_store, net_->settings());
  }

  // After the queued output (the command's OK) has left the port.
  void after_output(std::function<void()> f) {
    engine_.set_deaf(true);
    if (port) port->drain(std::move(f));
    else f();
  }

  // ---- Context -------------------------------------------------------------------------
  at::Engine& engine() override { return engine_; }
  State& state() override { return st; }
  flash::FlashImage& image() override { return image_; }
  flash::nvs::Storage& nvs() override { return *nvs_store; }
  // Opened on first use (AT+SYSMFG): a module that never asks keeps no index of it in memory;
  // the factory parameters are read at boot through a store of their own.
  flash::nvs::Storage* mfg_nvs() override {
    if (!mfg_store && !mfg_region) {
      mfg_region = image_.partition("mfg_nvs");
      mfg_store = open_store(mfg_region.get(), "mfg_nvs");
    }
    return mfg_store.get();
  }
  const flash::FactoryParams& factory() const override { return factory_; }
  Wifi& wifi() override { return *wifi_; }
  sim::World& world() override { return *opts.world; }
  int index() const override { return opts.index; }
  Net& net() override { return *net_; }
  Ota* ota() override { return ota_.get(); }
  Mqtt& mqtt() override { return *mqtt_; }
  WebSockets* websockets() override { return ws_.get(); }
  Ble* ble() override { return ble_.get(); }
  bool multiple_links() const override { return net_->settings().mux; }
  int links() const override { return net_->links(); }
  std::size_t output_backlog() const override { return port ? port->output_backlog() : 0; }
  void on_output_drained(std::function<void()> f) override {
    if (port) port->drain(std::move(f));
    else f();
  }

  void reload_mfg_nvs() override {
    mfg_store.reset();
    mfg_region.reset();
  }

  bool save(std::string_view ns, std::string_view key, const flash::nvs::Value& v, bool always) override {
    if (!always && st.sysstore == 0) return true;
    auto err = nvs_store->set(ns, key, v);
    if (err != flash::nvs::Error::None) spdlog::error("saving {}/{}: {}", ns, key, flash::nvs::to_string(err));
    return err == flash::nvs::Error::None;
  }

  void set_uart(const transport::LineConfig& cfg) override {
    if (port) port->set_line(cfg);
  }
  void restart() override {
    after_output([this] { boot(); });
  }
  void restore() override {
    if (nvs_store->erase_all() != flash::nvs::Error::None) spdlog::error("AT+RESTORE could not erase the nvs partition");
    restart();
  }
  void deep_sleep(std::chrono::milliseconds ms) override {
    after_output([this, ms] {
      mqtt_->reset();
      ws_->reset();
      ble_->set_role(0);
      net_->stop();
      wifi_->stop();
      boot_timer.expires_after(ms);
      boot_timer.async_wait([this](std::error_code ec) {
        if (!ec) boot();
      });
    });
  }
  void light_sleep() override {
    // Without a wake-up GPIO (AT+SLEEPWKCFG) nothing wakes the chip again (3.1.13 note).
    if (!st.wake_gpio) after_output([] {});
  }

  std::int64_t now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(rtc_offset + (Clock::now() - power_on)).count();
  }
  void set_now(std::int64_t t) override {
    // The clock runs on from this moment, to the sub-second.
    rtc_offset = std::chrono::seconds(t) - (Clock::now() - power_on);
  }
  std::pair<std::int64_t, std::int64_t> heap() override {
    std::int64_t free = std::max<std::int64_t>(0, kFreeHeapAtBoot - (allocated_bytes(true) - heap_baseline));
    heap_min = std::min(heap_min, free);
    return {free, heap_min};
  }

  asio::io_context& io;
  Options opts;
  flash::FlashImage image_;
  std::unique_ptr<flash::Region> nvs_region, mfg_region;
  std::unique_ptr<flash::nvs::Storage> nvs_store, mfg_store;
  flash::FactoryParams factory_;
  std::unique_ptr<sim::World> own_world;
  at::Engine engine_;
  std::unique_ptr<Wifi> wifi_;  // after the engine: its last reports (a softAP closing) still reach it
  std::unique_ptr<Net> net_;    // after Wi-Fi: links go before the addresses they use
  std::unique_ptr<Mqtt> mqtt_;  // its connections are the module's own: before Net and Wi-Fi go
  std::unique_ptr<WebSockets> ws_;  // after Net: its connections close before the addresses go
  std::unique_ptr<Ble> ble_;    // leaves the world's medium when the module goes
  std::unique_ptr<Ota> ota_;    // last: its downloads are cancelled before the rest goes
  transport::Port* port = nullptr;
  State st;
  asio::steady_timer boot_timer;
  Clock::time_point power_on;
  Clock::duration rtc_offset{};  // the RTC keeps time across soft resets
  std::int64_t heap_baseline = 0, heap_min = kFreeHeapAtBoot;
};

Module::Module(asio::io_context& io, Options opts) : impl_(std::make_unique<Impl>(io, std::move(opts))) {}
Module::~Module() = default;

transport::LineConfig Module::boot_line() const {
  auto def = load_uart_def(*impl_->nvs_store);
  return def ? *def : factory_line(impl_->factory_);
}

void Module::start(transport::Port& port) {
  impl_->port = &port;
  port.start([this](std::span<const std::uint8_t> bytes) {
    if (auto* t = impl_->opts.trace) t->in(impl_->opts.index, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    impl_->engine_.on_input(bytes);
  });
  impl_->boot();
}

Wifi& Module::wifi() { return *impl_->wifi_; }
Net& Module::net() { return impl_->net(); }

void Module::reset() { impl_->boot(); }  // boot() resets the engine: a running command ends silently

void Module::power_cycle() {
  impl_->power_on = Clock::now();
  impl_->rtc_offset = {};
  // What the firmware keeps in RAM of its flash is read from flash again.
  impl_->nvs_store = open_store(impl_->nvs_region.get(), "nvs");
  impl_->reload_mfg_nvs();
  impl_->boot();
}

void Module::shutdown() {
  impl_->boot_timer.cancel();
  impl_->ota_->reset();
  impl_->mqtt_->reset();
  impl_->ws_->reset();
  impl_->ble_->set_role(0);
  impl_->net_->stop();
  impl_->wifi_->stop();
  impl_->engine_.set_deaf(true);
  impl_->image_.sync();
}

}  // namespace espat::module
