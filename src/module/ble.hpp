// The module's Bluetooth LE (spec 3.4, issue 11): its role (AT+BLEINIT), addresses, name, the
// advertising it publishes on the world's medium (sim/ble.hpp) and the scan that prints what it
// hears, "+BLESCAN:" lines paced by this module's io_context timer.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "async/activity.hpp"
#include "sim/blufi.hpp"
#include "sim/gatt.hpp"
#include "sim/world.hpp"

namespace espat::module {

class Context;

struct BleAdvParams {  // AT+BLEADVPARAM (3.4.8); intervals in 0.625 ms units
  int int_min = 0x20, int_max = 0x40, type = 0, own_addr_type = 0, channel_map = 7, filter_policy = 0;
  int peer_addr_type = 0;
  sim::Mac peer_addr;
};

struct BleScanParams {  // AT+BLESCANPARAM (3.4.5)
  int type = 0, own_addr_type = 0, filter_policy = 0, interval = 100, window = 50;
};

struct BleAdvDataEx {  // AT+BLEADVDATAEX (3.4.10), as typed
  std::string name, uuid, manufacturer;  // uuid and manufacturer in hex
  int include_power = 0;
};

struct BleSppConfig {  // AT+BLESPPCFG (3.4.31); service and characteristic indexes as this end counts
  bool enabled = false;
  int tx_srv = 0, tx_char = 0, rx_srv = 0, rx_char = 0;
  int auto_conn = 1;
};

struct BleSettings {
  int role = 0;                         // 0 not initialised, 1 client, 2 server
  std::string name = "ESP-AT";          // 3.4.4 default
  std::optional<sim::Mac> random_addr;  // AT+BLEADDR=1[,<random_addr>]
  BleAdvParams adv;
  BleScanParams scan;
  std::string adv_data, scan_rsp;       // raw bytes
  std::optional<BleAdvDataEx> adv_ex;   // the last AT+BLEADVDATAEX, until AT+BLEADVDATA
  BleSppConfig spp;
  sim::BleSecParams sec;  // AT+BLESECPARAM, AT+BLESETKEY (not saved: protocol-rules §9 lists neither)
};

class Ble : public sim::BleHost {
 public:
  Ble(asio::io_context& io, Context& ctx, sim::World& world, sim::Mac public_addr);
  ~Ble() override;
  Ble(const Ble&) = delete;
  Ble& operator=(const Ble&) = delete;

  // Boot: advertising and scanning end, the role is none, the saved settings are read.
  void reset();

  BleSettings& settings() { return s_; }
  sim::Mac public_addr() const { return public_; }
  // The address used with <own_addr_type> (0 public, 1 random).
  sim::Mac own_addr(int type) const;

  // AT+BLEINIT=<role>; 0 deinitialises (advertising and scanning stop).
  void set_role(int role);

  // Advertising: published on the medium as "m<index>"; refresh() republishes changed data.
  void start_advertising();
  void stop_advertising();
  bool advertising() const { return advertising_; }
  void refresh();
  // Bluetooth LE is up: AT+BLEINIT=1 or 2, AT+BLEHIDINIT=1 or AT+BLUFI=1 (AT+RFPOWER, 3.1.21).
  bool stack_on() const { return s_.role != 0 || profile_on(); }
  // The RSSI scanners hear from this module: the world's, less what AT+RFPOWER takes off 7 dBm.
  int advertised_rssi() const;

  // Scanning: "+BLESCAN:" lines until stop_scan(), or for duration_s seconds then "+BLESCANDONE".
  void start_scan(int duration_s, sim::BleScanFilter filter);
  void stop_scan();
  bool scanning() const { return scan_.has_value(); }

  // Connections (3.4.13-3.4.17) on the medium: connect() as the central, retried whenever the
  // advertising changes until `timeout`; nullptr when it timed out or the module reset. The
  // peer's "+BLECONN:" and both ends' "+BLEDISCONN:" are reported by the link watcher.
  asio::awaitable<const sim::BleLink*> connect(int index, sim::Mac target, int addr_type, std::chrono::seconds timeout);
  bool disconnect(int index) { return world_.ble.disconnect(id_, index); }
  bool set_mtu(int index, int mtu) { return world_.ble.set_mtu(id_, index, mtu); }
  bool set_conn_params(int index, int min, int max, int latency, int timeout) {
    return world_.ble.set_params(id_, index, min, max, latency, timeout);
  }
  sim::BleLink* link(int index) { return world_.ble.link(id_, index); }
  std::vector<const sim::BleLink*> links() const { return world_.ble.links_of(id_); }
  const std::string& id() const { return id_; }

  // GATT (3.4.18-3.4.30). create_services() builds the server from the ble_data rows of
  // mfg_nvs (AT+BLEGATTSSRVCRE); false with `why` when there are none or they are malformed.
  bool create_services(std::string& why);
  sim::GattDb* gatt_db() override { return gatt_ ? &*gatt_ : nullptr; }
  std::string device_name() const override { return s_.name; }
  void gatt_read(const sim::BleLink& l) override;
  void gatt_written(const sim::BleLink& l, int srv, int chr, int desc, std::string_view value) override;
  void gatt_notified(const sim::BleLink& l, int srv, int chr, std::string_view value, bool indication) override;
  // One connection interval of link `index`: how long an ATT exchange takes on the air; no
  // time at all unless the world's ble_pacing is on.
  asio::awaitable<void> air_time(int index, async::StopToken stop);

  // SPP (3.4.31-3.4.32): the passthrough over the configured characteristics of the lowest
  // link. spp_check() says whether AT+BLESPPCFG's characteristics have the properties 3.4.31's
  // notes require (and, for AT+BLESPP, the peer enabled notifications or indications).
  // enter_spp() (after the check) subscribes a client to its rx characteristic, and has the
  // engine in passthrough until "+++".
  bool spp_check(bool entering);
  void enter_spp();

  // Security (3.4.33-3.4.40): what the medium's pairing asks of this end, and the bonds it keeps
  // (at most 15, the oldest overwritten first, saved always as the firmware's Bluedroid does).
  sim::BleSecParams security() const override { return s_.sec; }
  bool bonded_with(sim::Mac peer) const override;
  void smp(const sim::BleLink& l, const SmpEvent& e) override;
  std::size_t rx_backlog() const override;
  const std::vector<sim::Mac>& bonds() const { return bonds_; }

  // HID (3.4.41-3.4.44, module/ble_hid.cpp): the module as a keyboard, mouse and consumer
  // control, with its own services and advertising, apart from AT+BLEINIT's roles.
  bool hid_init();  // false: AT+BLEINIT's role is set (3.4.41 note)
  void hid_deinit();
  bool hid_on() const { return hid_; }
  // The <conn_index> of the host that paired (the reports go there); -1 when none did.
  int hid_host() const;
  // Notifies input report `report_id` (1 mouse, 2 keyboard, 3 consumer); false without a host
  // that enabled it.
  bool hid_send(int report_id, std::string_view report);

  // BluFi (3.4.45-3.4.47, module/ble_blufi.cpp): Wi-Fi provisioning by a phone over the BluFi
  // service 0xFFFF, its frames read and written by sim/blufi.hpp.
  bool blufi_start(int auth_floor);  // false: AT+BLEINIT's role is set, or HID is on (3.4.45 note)
  bool blufi_stop();                 // false: AT+BLEINIT's role is set
  bool blufi_on() const { return blufi_ != nullptr; }
  std::string blufi_name = "BLUFI_DEVICE";  // AT+BLUFINAME (3.4.46 note), saved as AT+SYSSTORE says
  // Custom data to the phone (AT+BLUFISEND); false without a phone listening.
  bool blufi_send(std::string_view data);
  bool forget_bond(int index);  // false: no such bond
  void forget_bonds();
  static constexpr int kMaxBonds = 15;

 private:
  void arm();
  void on_link(const sim::BleLink& l, sim::BleLinkEvent e);
  void drop_links();  // silently here; the peers are told
  bool spp_active() const;
  bool quiet_link_messages() const;  // during passthrough, unless AT+SYSMSG bit 2 (or auto_conn)
  asio::awaitable<void> spp_send(std::string data);
  bool spp_notifies() const;  // the server's tx: notified (true) or indicated
  bool spp_subscribe(int index);  // the client enables its rx characteristic's CCCD
  asio::awaitable<void> spp_reconnect(async::StopToken stop, sim::Mac peer, int index);
  asio::io_context& io_;
  Context& ctx_;
  sim::World& world_;
  std::string id_;  // on the medium: "m<index>"
  sim::Mac public_;
  sim::Mac private_;  // AT+BLEADDR=1 without an address
  BleSettings s_;
  bool advertising_ = false;
  std::optional<sim::BleScan> scan_;
  std::optional<sim::GattDb> gatt_;
  asio::steady_timer timer_, done_timer_, conn_timer_;
  unsigned generation_ = 0;  // moves on at each reset: a pending connect gives up
  bool spp_ = false;         // AT+BLESPP entered (the engine says whether it is still on)
  std::chrono::steady_clock::time_point spp_event_;  // the connection event of the last SPP piece (paced)
  std::vector<sim::Mac> bonds_;
  int bond_next_ = 0;  // the bond overwritten when all 15 are taken
  void save_bonds();
  async::Activity spp_reconnect_;
  bool hid_ = false;
  bool profile_on() const { return hid_ || blufi_; }  // HID or BluFi: its own services, no +WRITE
  void hid_advertise();
  struct Blufi;
  std::shared_ptr<Blufi> blufi_;
  void blufi_advertise();
  void blufi_link(const sim::BleLink& l, sim::BleLinkEvent e);
  void blufi_received(int index, std::string frame);
  bool blufi_out(int index, sim::blufi::Message m);
  void blufi_report(int index);
  void hid_link(const sim::BleLink& l, sim::BleLinkEvent e);
};

// The parameters as the queries print them and NVS keeps them: AT+BLEADVPARAM? (3.4.8)
// "32,64,0,0,7,0,0,\"00:00:00:00:00:00\"", AT+BLESCANPARAM? (3.4.5) "0,0,0,100,50"; and back.
std::string adv_params_text(const BleAdvParams& p);
std::string scan_params_text(const BleScanParams& p);
std::optional<BleAdvParams> adv_params_from_text(std::string_view text);
std::optional<BleScanParams> scan_params_from_text(std::string_view text);

// AT+BLEADVDATAEX's advertising data: flags, complete local name, 16-bit or 128-bit service
// UUID, manufacturer data, TX power; nullopt when it is over 31 bytes or a hex field is bad.
std::optional<std::string> build_adv_data_ex(const BleAdvDataEx& ex, int tx_power_dbm);

}  // namespace espat::module
