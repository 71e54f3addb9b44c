// What a command handler sees of its module: the engine, the flash and its NVS stores, the
// run-time state, and the module's life-cycle actions (restart, deep sleep).
#pragma once
#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "at/engine.hpp"
#include "flash/factory_params.hpp"
#include "flash/image.hpp"
#include "flash/nvs.hpp"
#include "sim/world.hpp"
#include "transport/port.hpp"

namespace espat::module {

class Wifi;
class Net;
class Ota;
class Mqtt;
class WebSockets;
class Ble;

// AT+SAVETRANSLINK (spec 3.1.9), stored at once, acted on at boot by the TCP/IP work.
struct TransLink {
  int mode = 0;  // 0 off, 1 Wi-Fi passthrough, 2 BLE passthrough
  std::string host, type = "TCP";
  int port = 0, keep_alive = 0, local_port = 0;
  int role = 0, tx_srv = 0, tx_char = 0, rx_srv = 0, rx_char = 0;
  std::string peer_addr;
};

// Run-time state: reset by AT+RST, AT+RESTORE and deep sleep, then reloaded from flash.
struct State {
  transport::LineConfig uart_cur, uart_def;
  int transintvl_ms = 20;
  int sleep_mode = 1;  // ESP-IDF's default Wi-Fi power save is modem sleep
  int sysmsg = 0;
  int sysstore = 1;
  int wifi_power = 78;                       // AT+RFPOWER, 0.25 dBm
  int ble_adv_power = 0, ble_scan_power = 0, ble_conn_power = 0;
  std::optional<std::pair<int, int>> wake_gpio;  // AT+SLEEPWKCFG=2,<gpio>,<level>
  std::map<std::uint32_t, std::uint32_t> registers;  // AT+SYSREG: what is written reads back
  TransLink translink;
  std::string http_url;                  // AT+HTTPURLCFG (3.7.7): what a "" URL means
  std::vector<std::string> http_headers;  // AT+HTTPCHEAD (3.7.8): "key: value" as typed
};

class Context : public at::Host {
 public:
  virtual at::Engine& engine() = 0;
  virtual State& state() = 0;
  virtual flash::FlashImage& image() = 0;
  virtual flash::nvs::Storage& nvs() = 0;          // runtime settings (partition "nvs")
  virtual flash::nvs::Storage* mfg_nvs() = 0;      // manufacturing data (opened on first use), null if none
  virtual void reload_mfg_nvs() = 0;               // after AT+SYSFLASH rewrote it: read again on next use
  virtual const flash::FactoryParams& factory() const = 0;
  virtual Wifi& wifi() = 0;         // the module's station and softAP (spec 3.2)
  virtual sim::World& world() = 0;  // the radio world the module shares with others
  virtual int index() const { return 0; }  // the module's number in the process (m0, m1...)
  virtual Net& net() = 0;           // the module's links and server (spec 3.3)
  virtual Mqtt& mqtt() = 0;         // the MQTT client (spec 3.6)
  virtual Ota* ota() { return nullptr; }  // AT+CIUPDATE's state and downloads; null: none (test doubles)
  virtual WebSockets* websockets() { return nullptr; }  // spec 3.9's links; null: none (test doubles)
  virtual Ble* ble() { return nullptr; }  // spec 3.4's Bluetooth LE; null: none (test doubles)
  // Calls f once everything written to the AT port so far has left it (at once without a port).
  virtual void on_output_drained(std::function<void()> f) = 0;
  virtual std::size_t output_backlog() const = 0;  // bytes written to the port, not yet out

  // Saves a setting when AT+SYSSTORE=1, or always (spec 3.16). Unchanged values cost no write.
  virtual bool save(std::string_view ns, std::string_view key, const flash::nvs::Value& v, bool always = false) = 0;

  virtual void set_uart(const transport::LineConfig& cfg) = 0;  // after queued output left
  virtual void restart() = 0;                                    // after queued output left
  virtual void restore() = 0;                                    // erase settings, restart
  virtual void deep_sleep(std::chrono::milliseconds) = 0;        // deaf, then boot
  virtual void light_sleep() = 0;                                // AT+SLEEP=2 takes effect

  // Unix time, seconds (AT+SYSTIMESTAMP); kept across soft resets like the RTC.
  virtual std::int64_t now() const = 0;
  virtual void set_now(std::int64_t unix_seconds) = 0;
  // AT+SYSRAM: free and lowest free heap, bytes.
  virtual std::pair<std::int64_t, std::int64_t> heap() = 0;
};

}  // namespace espat::module
