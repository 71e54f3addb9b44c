#include "module/ota.hpp"

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <httplib.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include "flash/otadata.hpp"
#include "module/context.hpp"
#include "module/net.hpp"
#include "module/wifi.hpp"

namespace espat::module {

namespace {
using Clock = std::chrono::steady_clock;

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

std::string c_string(std::span<const std::uint8_t> field) {
  const auto* p = reinterpret_cast<const char*>(field.data());
  return std::string(p, strnlen(p, field.size()));
}

// The app slots of the primary table, ota_0 first.
std::vector<const flash::Partition*> app_slots(const flash::FlashImage& image) {
  std::vector<const flash::Partition*> v;
  for (const auto& p : image.primary().entries)
    if (p.type == flash::kTypeApp && p.subtype >= flash::kSubtypeOta0 && p.subtype < flash::kSubtypeOta0 + 16)
      v.push_back(&p);
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->subtype < b->subtype; });
  return v;
}

// A path segment as a URL carries it: a version or firmware name typed in an AT command may
// hold any byte.
std::string escape_segment(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out.push_back(char(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// One version per line (README "OTA server"); blank lines and CRs are ignored.
std::vector<std::string> parse_versions(const std::string& body) {
  std::vector<std::string> v;
  std::size_t i = 0;
  while (i < body.size()) {
    std::size_t j = body.find('\n', i);
    if (j == std::string::npos) j = body.size();
    std::string line = body.substr(i, j - i);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) v.push_back(std::move(line));
    i = j + 1;
  }
  return v;
}

// Whether the TCP (and TLS) connection was made: the firmware's "+CIPUPDATE:2" comes once
// connect() succeeded, whatever happens to the request after.
bool connected(httplib::Error e) {
  using E = httplib::Error;
  return e != E::Connection && e != E::ConnectionTimeout && e != E::BindIPAddress && e != E::SSLConnection &&
         e != E::SSLLoadingCerts && e != E::SSLServerVerification && e != E::Unknown;
}

constexpr std::size_t kVersionListLimit = 64 * 1024;
// AT+CIPFWVER's own timeout (at_ota_cmd.c asks with esp_http_client, timeout_ms 10000).
constexpr std::chrono::seconds kFwverTimeout{10};
}  // namespace

// ---- images ----------------------------------------------------------------------------------

std::optional<AppDesc> read_app_desc(std::span<const std::uint8_t> image) {
  if (image.size() < kAppDescOffset + 80 || image[0] != kImageMagic) return std::nullopt;
  const auto d = image.subspan(kAppDescOffset);
  if (le32(d.data()) != kAppDescMagic) return std::nullopt;
  AppDesc a;
  a.secure_version = le32(d.data() + 4);
  a.version = c_string(d.subspan(16, 32));
  a.project_name = c_string(d.subspan(48, 32));
  return a;
}

int update_slot(flash::FlashImage& image) {
  const auto slots = app_slots(image);
  if (slots.empty()) throw flash::ImageError(image.path() + ": no OTA app slot");
  return (flash::boot_slot(image) + 1) % int(slots.size());
}

std::string update_slot_label(flash::FlashImage& image) { return app_slots(image)[std::size_t(update_slot(image))]->label; }

std::optional<AppDesc> slot_app_desc(flash::FlashImage& image, int slot) {
  const auto slots = app_slots(image);
  if (slot < 0 || std::size_t(slot) >= slots.size()) return std::nullopt;
  auto region = image.partition(slots[std::size_t(slot)]->label);
  if (!region || region->size() < kAppDescOffset + 256) return std::nullopt;
  return read_app_desc(region->read(0, kAppDescOffset + 256));
}

std::optional<std::string> verify_app_image(std::span<const std::uint8_t> img, std::size_t slot_size) {
  constexpr std::size_t kHeader = 24, kSegmentHeader = 8;
  if (img.size() > slot_size) return fmt::format("{} bytes do not fit the slot's {}", img.size(), slot_size);
  if (img.size() < kHeader || img[0] != kImageMagic) return "no image header (magic 0xE9)";
  const unsigned segments = img[1];
  if (segments == 0 || segments > 16) return fmt::format("{} segments (1 to 16)", segments);
  if ((img[12] | img[13] << 8) != 0) return fmt::format("chip id {} is not an ESP32's (0)", img[12] | img[13] << 8);
  std::size_t pos = kHeader;
  std::uint8_t sum = 0xEF;  // ESP_ROM_CHECKSUM_INITIAL
  for (unsigned i = 0; i < segments; ++i) {
    if (pos + kSegmentHeader > img.size()) return fmt::format("segment {} header past the end", i);
    const std::uint32_t len = le32(img.data() + pos + 4);
    if (len % 4) return fmt::format("segment {} length {} is not a multiple of 4", i, len);
    pos += kSegmentHeader;
    if (len > img.size() - pos) return fmt::format("segment {} ({} bytes) past the end", i, len);
    for (std::size_t k = 0; k < len; ++k) sum ^= img[pos + k];
    pos += len;
  }
  // The checksum is the last byte of the image padded to 16 bytes (process_checksum).
  const std::size_t padded = (pos + 1 + 15) & ~std::size_t(15);
  if (padded > img.size()) return "checksum past the end";
  if (img[padded - 1] != sum) return fmt::format("checksum 0x{:02x}, computed 0x{:02x}", img[padded - 1], sum);
  if (img[23] == 1) {  // hash_appended: SHA-256 of everything before it
    if (padded + 32 > img.size()) return "appended SHA-256 past the end";
    std::uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(img.data(), padded, digest);
    if (std::memcmp(digest, img.data() + padded, sizeof digest) != 0) return "appended SHA-256 does not match";
  }
  return std::nullopt;
}

std::optional<std::string> check_signature(std::string_view name, std::span<const std::uint8_t> data) {
  struct Sig {
    std::string_view name;
    std::size_t offset;
    std::vector<std::uint8_t> magic;
  };
  static const Sig table[] = {
      {"ota", 0, {0xE9}},           {"mqtt_ca", 0, {0xF1, 0xF1}},     {"mqtt_cert", 0, {0xF1, 0xF1}},
      {"mqtt_key", 0, {0xF1, 0xF1}}, {"ble_data", 2, {0x27, 0x95}},    {"client_ca", 0, {0xF1, 0xF1}},
      {"client_cert", 0, {0xF1, 0xF1}}, {"client_key", 0, {0xF1, 0xF1}}, {"server_ca", 0, {0xF1, 0xF1}},
      {"server_cert", 0, {0xF1, 0xF1}}, {"server_key", 0, {0xF1, 0xF1}}, {"wpa2_ca", 0, {0xF1, 0xF1}},
      {"wpa2_cert", 0, {0xF1, 0xF1}}, {"wpa2_key", 0, {0xF1, 0xF1}},   {"factory_param", 0, {0xFC, 0xFC}},
  };
  for (const auto& s : table) {
    if (s.name != name) continue;
    if (data.size() < s.offset + s.magic.size()) return "too short for its magic bytes";
    if (!std::equal(s.magic.begin(), s.magic.end(), data.begin() + std::ptrdiff_t(s.offset)))
      return fmt::format("bad magic bytes for {}", name);
    return std::nullopt;
  }
  return fmt::format("no signature known for \"{}\"", name);
}

// ---- the worker side --------------------------------------------------------------------------

struct Ota::Fetched {
  httplib::Error error = httplib::Error::Unknown;
  int status = 0;
  std::string body;
  bool too_big = false;
};

// Shared by the loop and one worker thread. The worker posts its completion to `io` unless the
// module has gone (io null), so it never touches a module or an io_context that no longer lives.
struct Ota::Job {
  std::mutex m;
  asio::io_context* io = nullptr;
  std::unique_ptr<httplib::Client> client;
  std::atomic<bool> cancelled{false};
  Fetched result;

  void cancel() {
    {
      std::lock_guard lk(m);
      io = nullptr;
    }
    cancelled = true;
    client->stop();  // httplib: shuts the socket down from another thread
  }
};

namespace {
// What the loop waits on: the worker's posted completion sets done and wakes the timer.
struct Signal {
  explicit Signal(asio::io_context& io) : timer(io, Clock::time_point::max()) {}
  bool done = false;
  asio::steady_timer timer;
};
}  // namespace

asio::awaitable<std::optional<Ota::Fetched>> Ota::fetch(const Server& s, const std::string& path, std::size_t limit,
                                                        Clock::time_point deadline, async::StopToken stop) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) co_return std::nullopt;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left).count() + 1;

  auto job = std::make_shared<Job>();
  job->io = &io_;
  job->client = std::make_unique<httplib::Client>(s.url.origin());
  auto& cli = *job->client;
  cli.set_hostname_addr_map({{s.url.host, s.ip}});  // the world's names, resolved on the loop
  cli.set_interface(s.local);                       // the module's sockets leave from its own address
  cli.set_connection_timeout(secs);
  cli.set_read_timeout(secs);
  cli.set_write_timeout(secs);
  cli.set_keep_alive(false);
  // The firmware's OTA client sets no CA (esp_tls_cfg_t zeroed): the server is not verified.
  cli.enable_server_certificate_verification(false);
  jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), [](auto& w) { return w.expired(); }), jobs_.end());
  jobs_.push_back(job);

  auto signal = std::make_shared<Signal>(io_);
  std::weak_ptr<Signal> weak = signal;
  std::thread([job, weak, path, limit] {
    Fetched f;
    auto res = job->client->Get(
        path,
        [&](const httplib::Response& r) {
          f.status = r.status;
          return !job->cancelled.load();
        },
        [&](const char* data, std::size_t n) {
          if (job->cancelled) return false;
          if (f.body.size() + n > limit) {
            f.too_big = true;
            return false;
          }
          f.body.append(data, n);
          return true;
        });
    f.error = res.error();
    if (res) f.status = res->status;
    std::lock_guard lk(job->m);
    job->result = std::move(f);
    if (job->io)
      asio::post(*job->io, [weak] {
        if (auto s = weak.lock()) {
          s->done = true;
          s->timer.cancel();
        }
      });
  }).detach();

  // Ends the worker's request when this coroutine leaves early (deadline, module reset).
  struct Guard {
    std::shared_ptr<Job> job;
    bool armed = true;
    ~Guard() {
      if (armed) job->cancel();
    }
  } guard{job};

  auto wait = [](std::shared_ptr<Signal> s) -> asio::awaitable<bool> {
    if (!s->done) {
      std::error_code ec;
      co_await s->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return s->done;
  };
  auto finished = co_await stop.race(io_, wait(signal), deadline - Clock::now());
  if (!finished || !*finished) co_return std::nullopt;  // the deadline passed
  guard.armed = false;
  std::lock_guard lk(job->m);
  co_return std::move(job->result);
}

// ---- the loop side ----------------------------------------------------------------------------

Ota::Ota(asio::io_context& io, Context& ctx) : io_(io), ctx_(ctx), background_(io) {}

Ota::~Ota() { cancel_jobs(); }

void Ota::cancel_jobs() {
  for (auto& w : jobs_)
    if (auto j = w.lock()) j->cancel();
  jobs_.clear();
}

void Ota::reset() {
  background_.stop();
  cancel_jobs();
  state_ = 0;
  running_slot_ = flash::boot_slot(ctx_.image());
}

void Ota::reached(int state) {
  state_ = state;
  ctx_.engine().report(fmt::format("+CIPUPDATE:{}\r\n", state));
}

// The server's address as the firmware finds it: an IP literal at once, a name through DNS,
// which needs the module's own address; then the address its sockets leave from.
asio::awaitable<std::optional<Ota::Server>> Ota::find_server(const std::string& url, async::StopToken stop) {
  auto u = sim::HttpUrl::parse(url);
  if (!u) co_return std::nullopt;
  std::error_code ec;
  auto literal = asio::ip::make_address(u->host, ec);
  std::optional<asio::ip::address> ip;
  if (!ec) ip = literal;
  else if (ctx_.net().has_address()) ip = co_await ctx_.net().lookup(u->host, false, stop);
  if (!ip) co_return std::nullopt;
  Server s{*u, ip->to_string(), {}};
  auto& w = ctx_.wifi();
  if (w.station_on() && w.link()) s.local = w.station_ip().ip.str();
  else if (w.softap_on()) s.local = w.settings().ap_ip.ip.str();
  co_return s;
}

asio::awaitable<std::optional<std::vector<std::string>>> Ota::versions(async::StopToken stop) {
  const auto& cfg = ctx_.world().ota;
  const auto deadline = Clock::now() + std::min<Clock::duration>(kFwverTimeout, cfg.timeout);
  auto s = co_await find_server(cfg.url.empty() ? cfg.ssl_url : cfg.url, stop);
  if (!s || s->local.empty()) co_return std::nullopt;
  auto f = co_await fetch(*s, s->url.path + "/versions", kVersionListLimit, deadline, stop);
  if (!f || f->error != httplib::Error::Success || f->status >= 400) co_return std::nullopt;
  co_return parse_versions(f->body);
}

asio::awaitable<bool> Ota::update(UpdateRequest r, async::StopToken stop) {
  try {
    co_return co_await run(std::move(r), stop);
  } catch (const async::Stopped&) {
    throw;
  } catch (const std::exception& e) {  // a flash write failed: the OTA fails, the module lives on
    spdlog::error("AT+CIUPDATE: {}", e.what());
    state_ = -1;
    co_return false;
  }
}

asio::awaitable<bool> Ota::run(UpdateRequest r, async::StopToken stop) {
  const auto& cfg = ctx_.world().ota;
  const auto deadline = Clock::now() + cfg.timeout;
  // <ota mode> 1 goes to the HTTPS server: ssl_url, else url when it is https (README).
  std::string url = cfg.url;
  if (r.mode == 1) url = !cfg.ssl_url.empty() ? cfg.ssl_url : url.starts_with("https://") ? url : "";
  auto fail = [&](std::string_view why) {
    spdlog::info("AT+CIUPDATE: {}", why);
    state_ = -1;
    return false;
  };

  auto s = co_await find_server(url, stop);
  if (!s) co_return fail(url.empty() ? "no OTA server for this mode in the world" : "cannot resolve the OTA server");
  reached(1);  // found the server
  if (s->local.empty()) co_return fail("the module has no IP address");

  std::string version = r.version;
  if (version.empty()) {
    // The latest version: the last line of <url>/versions.
    auto f = co_await fetch(*s, s->url.path + "/versions", kVersionListLimit, deadline, stop);
    if (!f || !connected(f->error)) co_return fail("cannot connect to the OTA server");
    reached(2);
    if (f->error != httplib::Error::Success) co_return fail(fmt::format("versions: {}", httplib::to_string(f->error)));
    if (f->status != 200) co_return fail(fmt::format("versions: HTTP {}", f->status));
    const auto list = parse_versions(f->body);
    if (list.empty()) co_return fail("the server lists no version");
    version = list.back();
    reached(3);
  }

  // Where it goes: the next app slot for "ota" (the firmware takes any name starting so), a
  // partition of at_customize otherwise. Both are erased before the download, as
  // esp_ota_begin and the firmware's esp_partition_erase_range do.
  auto& image = ctx_.image();
  const bool app = r.name.starts_with("ota");
  int slot = -1;
  std::unique_ptr<flash::Region> target;
  if (app) {
    // The slot after the one otadata boots (esp_ota_get_boot_partition, then the next);
    // esp_ota_begin refuses the running one, which it is after a non-blocking OTA that was
    // not followed by a restart.
    slot = update_slot(image);
    if (slot == running_slot_) co_return fail("the next slot is the running application (restart first)");
    target = image.partition(update_slot_label(image));
  } else if (image.secondary().find(r.name)) {
    target = image.partition(r.name);
  }
  if (!target) co_return fail(fmt::format("no partition for \"{}\"", r.name));
  target->erase_range(0, target->size());
  if (!app) ctx_.reload_mfg_nvs();  // mfg_nvs itself may be the partition just erased

  const auto path = fmt::format("{}/{}/{}.bin", s->url.path, escape_segment(version), escape_segment(r.name));
  auto f = co_await fetch(*s, path, target->size(), deadline, stop);
  if (!f) co_return fail("timed out");
  if (f->too_big) co_return fail(fmt::format("{} is larger than its partition", path));
  if (f->error != httplib::Error::Success) co_return fail(fmt::format("{}: {}", path, httplib::to_string(f->error)));
  if (f->status != 200) co_return fail(fmt::format("{}: HTTP {}", path, f->status));
  const std::span<const std::uint8_t> body(reinterpret_cast<const std::uint8_t*>(f->body.data()), f->body.size());
  if (auto why = check_signature(r.name, body)) co_return fail(*why);  // nothing written yet
  target->write(0, body);
  if (app) {
    if (auto why = verify_app_image(body, target->size())) co_return fail(fmt::format("image refused: {}", *why));
    flash::set_boot_slot(image, slot);
  }
  image.sync();
  reached(4);
  co_return true;
}

void Ota::start(UpdateRequest r) {
  background_.start(
      [this, r](async::StopToken stop) -> asio::awaitable<void> {
        if (!co_await update(r, stop)) ctx_.engine().report("+CIPUPDATE:-1\r\n");
      },
      [this](std::exception_ptr) {
        state_ = -1;
        ctx_.engine().report("+CIPUPDATE:-1\r\n");
      });
}

}  // namespace espat::module
