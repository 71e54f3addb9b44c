// OTA through Wi-Fi (spec 3.3.23 AT+CIPFWVER, 3.3.24 AT+CIUPDATE, 6.14): the module asks the
// OTA server the world names (sim::OtaServer; README "OTA server" gives the protocol), writes
// what it downloads into the flash image exactly where the firmware does (the app slot that is
// not booting, or a partition of at_customize), and switches otadata as esp_ota_set_boot_partition.
//
// HTTP is cpp-httplib's blocking client, run on a worker thread per request; its result is
// posted back to the module's io_context, so the module keeps answering (`busy p...`) meanwhile.
// Flash is only touched on the loop.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "async/activity.hpp"
#include "flash/image.hpp"
#include "sim/world.hpp"

namespace espat::module {

class Context;

// ESP-IDF's esp_app_desc_t (esp_app_format.h), at 0x20 of an app image: after the 24-byte
// esp_image_header_t and the 8-byte header of the first segment.
inline constexpr std::uint32_t kAppDescMagic = 0xABCD5432;
inline constexpr std::size_t kAppDescOffset = 0x20;
inline constexpr std::uint8_t kImageMagic = 0xE9;  // ESP_IMAGE_HEADER_MAGIC
struct AppDesc {
  std::uint32_t secure_version = 0;
  std::string version;       // 32 bytes at +16
  std::string project_name;  // 32 bytes at +48
};
// The descriptor of an app image (its first 0x20 + 256 bytes are enough), when the image starts
// with 0xE9 and carries the descriptor's magic word.
std::optional<AppDesc> read_app_desc(std::span<const std::uint8_t> image);
// The descriptor of the image in app slot `slot` (0 = ota_0); nullopt when that slot holds no
// image with a descriptor. AT+GMR's "Bin version" reads the running slot's.
std::optional<AppDesc> slot_app_desc(flash::FlashImage& image, int slot);

// The label of the app slot an OTA writes: the ota_N after the booting one, wrapping
// (esp_ota_get_next_update_partition). Throws ImageError when the image has no app slot.
std::string update_slot_label(flash::FlashImage& image);
int update_slot(flash::FlashImage& image);

// esp_image_verify (ESP-IDF bootloader_support), what esp_ota_end and
// esp_ota_set_boot_partition check: header magic, ESP32 chip id, at most 16 segments, every
// segment inside the data, the XOR checksum byte (seed 0xEF) at the end padded to 16 bytes,
// and the SHA-256 appended after it when the header says so; the image fits the slot.
// nullopt when valid, else why not.
std::optional<std::string> verify_app_image(std::span<const std::uint8_t> image, std::size_t slot_size);

// The firmware's check of a download by firmware name, made on its first bytes before anything
// is written (at_ota_cmd.c's signature table): "ota" starts with 0xE9, the legacy PKI
// partitions with F1 F1, ble_data with 27 95 at offset 2, factory_param with FC FC; a name
// the table lacks (mfg_nvs...) is refused. nullopt when accepted.
std::optional<std::string> check_signature(std::string_view name, std::span<const std::uint8_t> data);

// AT+CIUPDATE's parameters (3.3.24).
struct UpdateRequest {
  int mode = 0;          // 0 HTTP (the world's ota.url), 1 HTTPS (ota.ssl_url, else an https url)
  std::string version;   // empty: the latest the server lists
  std::string name = "ota";
  bool nonblocking = false;
};

class Ota {
 public:
  Ota(asio::io_context& io, Context& ctx);
  ~Ota();
  Ota(const Ota&) = delete;
  Ota& operator=(const Ota&) = delete;

  // AT+CIUPDATE?: 0 idle, 1-4 the last state reached, -1 after a failure (at_ota_cmd.c's
  // esp_at_ota_state_t). RAM only: a boot clears it.
  int state() const { return state_; }
  // The app slot the module booted from (otadata at its last boot): the application running,
  // whatever otadata says since (a non-blocking OTA switches it before the restart).
  int running_slot() const { return running_slot_; }
  bool running() const { return background_.running(); }
  // The module boots: a non-blocking OTA ends, downloads under way are dropped, the slot that
  // boots is read from otadata.
  void reset();

  // AT+CIPFWVER?: the versions the server lists, nullopt when it cannot be asked.
  asio::awaitable<std::optional<std::vector<std::string>>> versions(async::StopToken stop);
  // One OTA, printing "+CIPUPDATE:<n>" for each state reached; true when it is done. On
  // failure the state becomes -1 (the caller prints ERROR or +CIPUPDATE:-1).
  asio::awaitable<bool> update(UpdateRequest r, async::StopToken stop);
  // AT+CIUPDATE=...,1: the same in the background; a failure ends with "+CIPUPDATE:-1".
  void start(UpdateRequest r);

  struct Job;  // one HTTP request on its worker thread (ota.cpp)

 private:
  struct Fetched;
  struct Server {
    sim::HttpUrl url;
    std::string ip, local;  // resolved address of the server, the module's own
  };
  asio::awaitable<std::optional<Fetched>> fetch(const Server& s, const std::string& path, std::size_t limit,
                                                std::chrono::steady_clock::time_point deadline, async::StopToken stop);
  asio::awaitable<std::optional<Server>> find_server(const std::string& url, async::StopToken stop);
  asio::awaitable<bool> run(UpdateRequest r, async::StopToken stop);
  void reached(int state);
  void cancel_jobs();

  asio::io_context& io_;
  Context& ctx_;
  int state_ = 0;
  int running_slot_ = 0;
  async::Activity background_;
  std::vector<std::weak_ptr<Job>> jobs_;
};

}  // namespace espat::module
