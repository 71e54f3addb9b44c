// The Bluetooth LE radio medium of the world (issue 11): who advertises what, and what a scanner
// sees of it. Pure: no I/O, no timers. A scanner (a module's AT+BLESCAN, module/ble.hpp) polls it
// with the time of its own io_context timer; each advertiser is reported about once per its
// advertising interval, its first time at once.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/addr.hpp"
#include "sim/ble_smp.hpp"

namespace espat::sim {

// "0201060a09" → bytes; nullopt for an odd length or a non-hex digit. Either case is accepted.
std::optional<std::string> hex_to_bytes(std::string_view hex);
// bytes → lower-case hex, as +BLESCAN prints them (guide example 4.3).
std::string bytes_to_hex(std::string_view bytes);

// The local name an advertisement carries: AD type 0x09 (complete) or 0x08 (shortened), in the
// advertising data first, then the scan response; "" when none.
std::string ble_local_name(std::string_view adv_data, std::string_view scan_rsp);

// <adv_type> of AT+BLEADVPARAM (spec 3.4.8).
enum class BleAdvType { Ind = 0, DirectHigh = 1, ScanInd = 2, NonConnInd = 3, DirectLow = 4 };

struct BleAdvertiser {
  std::string id;            // unique in the medium: "m0" for module 0, a peer's own id
  Mac addr;
  int addr_type = 0;         // 0 public, 1 random (the <addr_type> of +BLESCAN)
  BleAdvType type = BleAdvType::Ind;
  std::string adv_data;      // raw bytes, at most 31
  std::string scan_rsp;      // raw bytes, at most 31; sent to active scanners of a scannable advert
  std::chrono::milliseconds interval{100};
  int rssi = -40;            // as every scanner sees it
  bool module = false;       // a module's own advertising (the control API leaves it alone)
};

// One advertisement received: one "+BLESCAN:" line.
struct BleReport {
  std::string id;
  Mac addr;
  int addr_type = 0;
  int rssi = 0;
  std::string adv_data, scan_rsp;
};

// AT+BLESCAN=1,<duration>,<filter_type>,<filter_param> (spec 3.4.6).
struct BleScanFilter {
  enum Kind { None = 0, Mac = 1, Name = 2 } kind = None;
  std::string param;  // the MAC as typed (any case), or the name
};

// A scanner's state: what it looks for and when each advertiser is next due.
struct BleScan {
  using Clock = std::chrono::steady_clock;
  std::string self;       // the scanner's own advertiser id: it does not hear itself
  bool active = false;    // AT+BLESCANPARAM <scan_type> 1: scan responses are asked for
  BleScanFilter filter;
  std::map<std::string, Clock::time_point, std::less<>> next;  // by advertiser id

  // What an advertisement shows this scanner: a directed one carries no data; the scan response
  // comes to an active scanner from a scannable advertiser (ADV_IND, ADV_SCAN_IND) only.
  static bool directed(const BleAdvertiser& a) { return a.type == BleAdvType::DirectHigh || a.type == BleAdvType::DirectLow; }
  std::string adv_data_of(const BleAdvertiser& a) const { return directed(a) ? std::string() : a.adv_data; }
  std::string scan_rsp_of(const BleAdvertiser& a) const {
    return active && (a.type == BleAdvType::Ind || a.type == BleAdvType::ScanInd) ? a.scan_rsp : std::string();
  }
};

// A connection between two modules (issue 11, second step): the central (AT+BLEINIT=1,
// AT+BLECONN) and the advertising peripheral it connected to. Each end knows it by its own
// <conn_index>; the parameters are as AT+BLECONNPARAM? prints them (1.25 ms, 10 ms units).
struct BleLink {
  std::string central, peripheral;  // advertiser ids ("m0")
  int central_index = 0, peripheral_index = 0;
  Mac central_addr, peripheral_addr;
  int min_interval = 0, max_interval = 0, interval = 24, latency = 0, timeout = 500;
  int mtu = 23;
  bool encrypted = false, mitm = false;  // after a pairing (or a bonded peer's re-encryption)
  struct Pairing {  // AT+BLEENC ... +BLEAUTHCMPL (sim/ble_smp.cpp)
    enum Stage { AwaitAccept, AwaitKey, AwaitConfirm } stage = AwaitAccept;
    std::string asked_by;  // the end that ran AT+BLEENC
    bool mitm_asked = false;  // <sec_act> 3
    SmpPlan plan;
    int key = 0;  // the passkey shown (or number compared)
    std::optional<int> central_typed, peripheral_typed;
    bool central_confirmed = false, peripheral_confirmed = false;
  };
  std::optional<Pairing> pairing;
  // Why it ended (Down), as HCI reason codes (Bluetooth Core Vol 1 Part F): 0x16 at the end that
  // disconnected, 0x13 at its peer; 0x08 (supervision timeout) at the peer of an end that reset.
  std::string ended_by;  // the end that disconnected or reset
  bool timed_out = false;
  int reason_for(std::string_view who) const { return timed_out ? 0x08 : ended_by == who ? 0x16 : 0x13; }
  // The other end, as `who` sees it: its id, address and this link's index at `who`.
  bool has(std::string_view who) const { return central == who || peripheral == who; }
  int index_of(std::string_view who) const { return central == who ? central_index : peripheral_index; }
  const std::string& peer_of(std::string_view who) const { return central == who ? peripheral : central; }
  Mac peer_addr_of(std::string_view who) const { return central == who ? peripheral_addr : central_addr; }
};

enum class BleLinkEvent { Down, Up, Mtu, Params };

struct GattDb;
struct GattService;

// What one end of a link is to GATT (module/ble.cpp implements it for a module): the server it
// serves, and what it prints when its peer acts on it.
class BleHost {
 public:
  virtual ~BleHost() = default;
  virtual GattDb* gatt_db() = 0;                // null before its services were created
  virtual std::string device_name() const = 0;  // the GAP Device Name (0x2A00) a client reads
  // The peer's client read (+READ) or wrote (+WRITE) one of this server's attributes; <srv_index>
  // as this server counts, `desc` 0 for the characteristic's value.
  virtual void gatt_read(const BleLink& l) = 0;
  virtual void gatt_written(const BleLink& l, int srv, int chr, int desc, std::string_view value) = 0;
  // This end's client received a notification or indication (+NOTIFY, +INDICATE); <srv_index>
  // as this client counts.
  virtual void gatt_notified(const BleLink& l, int srv, int chr, std::string_view value, bool indication) = 0;
  // Pairing: this end's AT+BLESECPARAM and AT+BLESETKEY, whether it keeps a bond with `peer`,
  // and what it is told: +BLESECREQ, +BLESECNTFYKEY, +BLESECKEYREQ, then the keys and
  // +BLEAUTHCMPL (a bond to keep when `bonded`).
  virtual BleSecParams security() const = 0;
  virtual bool bonded_with(Mac peer) const = 0;
  struct SmpEvent {
    enum Kind { SecurityRequest, ShowKey, KeyRequest, Complete } kind;
    int key = 0;       // ShowKey
    bool ok = false;   // Complete
    bool bonded = false;
    std::vector<int> key_types;
  };
  virtual void smp(const BleLink& l, const SmpEvent& e) = 0;
  // Bytes this end received and its host has not read yet (a module's AT-port backlog): an SPP
  // sender waits while it is large, as a full Bluetooth stack would hold it back.
  virtual std::size_t rx_backlog() const { return 0; }
};

class BleMedium {
 public:
  using Clock = BleScan::Clock;

  // Starts advertising, or replaces the advertiser with the same id. Watchers are told.
  void advertise(BleAdvertiser a);
  bool stop(std::string_view id);  // true if it was advertising
  const std::vector<BleAdvertiser>& advertisers() const { return adverts_; }
  const BleAdvertiser* find(std::string_view id) const;

  // The advertisements `scan` receives by `now`, in the medium's order; each one reported is
  // next due one interval later. Advertisers that stopped are forgotten.
  std::vector<BleReport> poll(BleScan& scan, Clock::time_point now) const;
  // When the next advertisement is due for `scan` (nullopt: nobody advertises).
  std::optional<Clock::time_point> next_due(const BleScan& scan, Clock::time_point now) const;

  // Connections. connect() links `central` (its <conn_index> `index`, address `addr`) to the
  // module or world peripheral (an attached host) advertising connectably at `target`: the peripheral's advertising stops and it takes
  // its lowest free index (0-2). nullptr: nobody connectable advertises there, or the central
  // already uses `index` or is already linked to that peripheral. Both ends' link watchers are
  // told (Up); disconnect() and drop() tell both ends too (Down).
  const BleLink* connect(std::string_view central, int index, Mac addr, Mac target, int addr_type = -1);
  bool disconnect(std::string_view who, int index);
  void drop(std::string_view who);  // every link of `who` ends (a reset: its peers time out)
  BleLink* link(std::string_view who, int index);
  std::vector<const BleLink*> links_of(std::string_view who) const;
  // The MTU exchange of `who`'s link `index` settled on `mtu`: both ends are told.
  bool set_mtu(std::string_view who, int index, int mtu);
  // The connection parameters were updated (AT+BLECONNPARAM=): both ends are told (Params).
  bool set_params(std::string_view who, int index, int min_interval, int max_interval, int latency, int timeout);
  // GATT over a link (sim/ble_gatt.cpp). `who` is one end, `index` its <conn_index>; service,
  // characteristic and descriptor indexes count from 1, as the AT commands do, `desc` 0 for
  // the characteristic's value. The client side counts services as client_view() lists them.
  void attach(std::string id, BleHost* host) { hosts_[std::move(id)] = host; }
  void detach(std::string_view id) {
    if (auto it = hosts_.find(id); it != hosts_.end()) hosts_.erase(it);
  }
  // The services `who` discovers on its peer; nullopt without that link.
  std::optional<std::vector<GattService>> discover(std::string_view who, int index);
  // Reads an attribute of the peer's server (nullopt: no such attribute, or not readable); the
  // peer prints +READ.
  std::optional<std::string> read(std::string_view who, int index, int srv, int chr, int desc);
  // Writes it (false: no such attribute, or not writable); the peer stores the value (at most
  // val_max_len bytes of it) and prints +WRITE with all of it.
  bool write(std::string_view who, int index, int srv, int chr, int desc, std::string_view value);
  // `who`'s server notifies or indicates its characteristic (its own <srv_index>) to the client
  // at the other end (false: no such started service or characteristic). The client prints it
  // when the characteristic's CCCD enables it.
  bool notify(std::string_view who, int index, int srv, int chr, std::string_view value, bool indication);
  // Pairing on `who`'s link `index` (sim/ble_smp.cpp): AT+BLEENC, AT+BLEENCRSP,
  // AT+BLEKEYREPLY, AT+BLECONFREPLY. false: no such link, or nothing of that kind is awaited
  // from `who`.
  bool encrypt(std::string_view who, int index, int sec_act);
  bool pairing_response(std::string_view who, int index, bool accept);
  bool passkey_reply(std::string_view who, int index, int key);
  bool confirm_reply(std::string_view who, int index, bool yes);
  static constexpr int kMaxLinks = 3;  // <conn_index> 0-2 (3.4.13)
  void watch_links(std::string id, std::function<void(const BleLink&, BleLinkEvent)> f) { link_watchers_[std::move(id)] = std::move(f); }
  void unwatch_links(std::string_view id) {
    if (auto it = link_watchers_.find(id); it != link_watchers_.end()) link_watchers_.erase(it);
  }

  // Work for later (a world peer's next notification, the reply it gives): the event loop runs
  // it after `delay` (cli/run.cpp sets the scheduler); without one, nothing runs.
  using Scheduler = std::function<void(std::chrono::milliseconds, std::function<void()>)>;
  void set_scheduler(Scheduler s) { scheduler_ = std::move(s); }
  void after(std::chrono::milliseconds delay, std::function<void()> f) const {
    if (scheduler_) scheduler_(delay, std::move(f));
  }
  bool attached(std::string_view id) const { return hosts_.find(id) != hosts_.end(); }
  // The rx_backlog() of the other end of `who`'s link `index` (0 without one).
  std::size_t peer_backlog(std::string_view who, int index);

  // Called after any advertiser started, changed or stopped (a scanner waiting with nothing due).
  void watch(const void* key, std::function<void()> f) { watchers_[key] = std::move(f); }
  void unwatch(const void* key) { watchers_.erase(key); }

 private:
  bool matches(const BleScan& scan, const BleAdvertiser& a) const;
  void changed();
  std::vector<BleAdvertiser> adverts_;
  std::map<const void*, std::function<void()>> watchers_;
  void tell(const BleLink& l, BleLinkEvent e);
  bool end(std::string_view who, int index, bool timed_out);
  std::vector<BleLink> links_;
  std::map<std::string, std::function<void(const BleLink&, BleLinkEvent)>, std::less<>> link_watchers_;
  std::map<std::string, BleHost*, std::less<>> hosts_;
  Scheduler scheduler_;
  BleHost* peer_host(std::string_view who, int index, const BleLink** l);
  BleHost* host(std::string_view id);
  void finish_pairing(BleLink& l, bool ok);
};

}  // namespace espat::sim
