// A module without flash, for unit tests of the Wi-Fi layer: the real engine, the Basic and
// Wi-Fi commands, a module::Wifi in a sim::World the test owns. What the module prints collects
// in `out`; what it saves goes to `saved`, following AT+SYSSTORE as the real module does.
#pragma once
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <asio/io_context.hpp>

#include "at/engine.hpp"
#include "commands/table.hpp"
#include "module/context.hpp"
#include "module/net.hpp"
#include "module/mqtt.hpp"
#include "module/wifi.hpp"

namespace espat::fakes {

struct FakeModule : module::Context {
  asio::io_context& io;
  sim::World& world_;
  std::string out;
  at::Engine engine_{io, commands::command_table(), *this, [this](std::string s) { out += s; }};
  module::State st;
  flash::FactoryParams factory_;
  std::map<std::string, flash::nvs::Value> saved;  // "namespace/key"
  std::unique_ptr<module::Wifi> wifi_;
  std::unique_ptr<module::Net> net_;
  std::unique_ptr<module::Mqtt> mqtt_;

  // Station MAC 24:0a:c4:00:00:10, softAP network 127.64.0.0/24 (module 0). Started in station
  // mode with nothing saved: no auto-connect.
  FakeModule(asio::io_context& io, sim::World& world) : io(io), world_(world) {
    wifi_ = std::make_unique<module::Wifi>(
        io, *this, world_, module::WifiIdentity{*sim::Mac::parse("24:0a:c4:00:00:10"), *sim::Subnet::parse("127.64.0.0/24")});
    net_ = std::make_unique<module::Net>(io, *this);
    mqtt_ = std::make_unique<module::Mqtt>(io, *this);
    wifi_->start();
  }
  ~FakeModule() override {
    mqtt_.reset();
    net_.reset();
    wifi_.reset();
  }

  [[noreturn]] static void no() { throw std::logic_error("not in this test"); }
  at::Engine& engine() override { return engine_; }
  module::State& state() override { return st; }
  flash::FlashImage& image() override { no(); }
  flash::nvs::Storage& nvs() override { no(); }
  flash::nvs::Storage* mfg_nvs() override { return nullptr; }
  void reload_mfg_nvs() override {}
  const flash::FactoryParams& factory() const override { return factory_; }
  module::Wifi& wifi() override { return *wifi_; }
  sim::World& world() override { return world_; }
  module::Net& net() override { return *net_; }
  module::Mqtt& mqtt() override { return *mqtt_; }
  void on_output_drained(std::function<void()> f) override { f(); }
  std::size_t output_backlog() const override { return 0; }
  bool save(std::string_view ns, std::string_view key, const flash::nvs::Value& v, bool always) override {
    if (always || st.sysstore) saved.insert_or_assign(std::string(ns) + "/" + std::string(key), v);
    return true;
  }
  void set_uart(const transport::LineConfig&) override {}
  void restart() override { no(); }
  void restore() override { no(); }
  void deep_sleep(std::chrono::milliseconds) override { no(); }
  void light_sleep() override {}
  std::int64_t now() const override { return 0; }
  void set_now(std::int64_t) override {}
  std::pair<std::int64_t, std::int64_t> heap() override { return {0, 0}; }

  // One command line; returns everything printed until the loop is idle.
  std::string at(std::string_view cmd) {
    std::string line = std::string(cmd) + "\r\n";
    engine_.on_input({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
    io.restart();
    io.poll();
    return take();
  }
  std::string take() { return std::exchange(out, {}); }
};

}  // namespace espat::fakes
