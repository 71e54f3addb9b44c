#include "sim/ble_peer.hpp"

#include <algorithm>
#include <cctype>

namespace espat::sim {

namespace {
using namespace std::chrono_literals;

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The 1-based indexes of (srv, chr, desc) in a client's view; 0 where a name is not found.
struct Where {
  int srv = 0, chr = 0, desc = 0;
};
Where find(const std::vector<GattService>& view, std::string_view srv, std::string_view chr, std::string_view desc,
           std::string& why) {
  Where w;
  const std::string s = upper(srv), c = upper(chr), d = upper(desc);
  for (std::size_t i = 0; i < view.size() && !w.chr; ++i) {
    if (view[i].uuid != s) continue;
    for (std::size_t k = 0; k < view[i].chars.size() && !w.chr; ++k)
      if (view[i].chars[k].uuid == c) w = {int(i) + 1, int(k) + 1, 0};
  }
  if (!w.chr) {
    why = "the peer serves no characteristic " + c + " in a service " + s;
    return {};
  }
  if (d.empty()) return w;
  const auto& descs = view[std::size_t(w.srv) - 1].chars[std::size_t(w.chr) - 1].descs;
  for (std::size_t k = 0; k < descs.size(); ++k)
    if (descs[k].uuid == d) w.desc = int(k) + 1;
  if (!w.desc) why = "the characteristic " + c + " has no descriptor " + d;
  return w.desc ? w : Where{};
}

const char* hid_report_name(int id) {  // the report IDs of the module's report map (module/ble_hid.cpp)
  switch (id) {
    case 1: return "mouse";
    case 2: return "keyboard";
    case 3: return "consumer";
  }
  return "other";
}
}  // namespace

const char* role_name(BlePeerRole r) {
  switch (r) {
    case BlePeerRole::Beacon: return "beacon";
    case BlePeerRole::Peripheral: return "peripheral";
    case BlePeerRole::Central: return "central";
    case BlePeerRole::HidHost: return "hid_host";
  }
  return "beacon";
}

std::optional<BlePeerRole> role_from_name(std::string_view name) {
  for (auto r : {BlePeerRole::Beacon, BlePeerRole::Peripheral, BlePeerRole::Central, BlePeerRole::HidHost})
    if (name == role_name(r)) return r;
  return std::nullopt;
}

BleSecParams default_security(BlePeerRole role) {
  BleSecParams p;
  p.auth_req = 1;  // bond
  p.iocap = 3;     // NoInputNoOutput
  if (role == BlePeerRole::Central) {
    p.auth_req = 13;  // bond, MITM, secure connections
    p.iocap = 4;      // KeyboardDisplay
  }
  return p;
}

bool adv_lists_uuid16(std::string_view data, unsigned uuid16) {
  for (std::size_t i = 0; i < data.size();) {
    const std::size_t len = static_cast<unsigned char>(data[i]);
    if (len == 0 || i + 1 + len > data.size()) return false;
    const auto type = static_cast<unsigned char>(data[i + 1]);
    if (type == 0x02 || type == 0x03)
      for (std::size_t k = i + 2; k + 1 < i + 1 + len; k += 2)
        if (unsigned(static_cast<unsigned char>(data[k]) | static_cast<unsigned char>(data[k + 1]) << 8) == uuid16) return true;
    i += 1 + len;
  }
  return false;
}

BlePeer::BlePeer(BleMedium& medium, BlePeerSpec spec) : medium_(medium), spec_(std::move(spec)) {
  if (spec_.role == BlePeerRole::Peripheral) {
    GattDb db;
    for (const auto& s : spec_.services) {
      GattService out{s.uuid, true, true, {}, {}};
      for (const auto& c : s.chars) {
        GattChar gc{c.uuid, c.props, gatt_perm::read | gatt_perm::write, 512, c.value, {}};
        if (c.props & (gatt_prop::notify | gatt_prop::indicate))
          gc.descs.push_back(GattDesc{"2902", gatt_perm::read | gatt_perm::write, 2, std::string(2, '\0')});
        out.chars.push_back(std::move(gc));
      }
      db.services.push_back(std::move(out));
    }
    db_ = std::move(db);
  }
  if (spec_.role != BlePeerRole::Beacon) {
    medium_.attach(id(), this);
    medium_.watch_links(id(), [this](const BleLink& l, BleLinkEvent e) { on_link(l, e); });
  }
  if (spec_.role == BlePeerRole::Beacon || spec_.role == BlePeerRole::Peripheral) medium_.advertise(spec_.adv);
  if (spec_.role == BlePeerRole::HidHost) {
    medium_.watch(this, [this, alive = std::weak_ptr<bool>(alive_)] {
      // Not now: the medium may be half way through a change.
      medium_.after(0ms, [this, alive] {
        if (!alive.expired()) look_for_hid_device();
      });
    });
    medium_.after(0ms, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) look_for_hid_device();
    });
  }
  schedule_notifications();
}

BlePeer::~BlePeer() {
  alive_.reset();
  medium_.unwatch(this);
  medium_.unwatch_links(id());
  medium_.drop(id());
  medium_.stop(id());
  medium_.detach(id());
}

std::string BlePeer::device_name() const {
  const std::string name = ble_local_name(spec_.adv.adv_data, spec_.adv.scan_rsp);
  return name.empty() ? id() : name;
}

void BlePeer::record(BlePeerEvent e) {
  events_.push_back(std::move(e));
  if (events_.size() > kMaxEvents) events_.pop_front();
}

BlePeerEvent BlePeer::event(const char* kind, const BleLink& l) const {
  BlePeerEvent e;
  e.kind = kind;
  e.conn_index = l.index_of(id());
  e.peer = l.peer_addr_of(id()).str();
  return e;
}

void BlePeer::advertise_if_idle() {
  if (spec_.role == BlePeerRole::Peripheral && links().empty()) medium_.advertise(spec_.adv);
}

void BlePeer::on_link(const BleLink& l, BleLinkEvent e) {
  if (e != BleLinkEvent::Up && e != BleLinkEvent::Down) return;
  BlePeerEvent ev = event(e == BleLinkEvent::Up ? "connected" : "disconnected", l);
  if (e == BleLinkEvent::Down) ev.reason = l.reason_for(id());
  record(std::move(ev));
  const int index = l.index_of(id());
  if (e == BleLinkEvent::Down) {
    blufi_.reset();  // a BluFi session lives as long as its link
    advertise_if_idle();
    if (spec_.role == BlePeerRole::HidHost)
      medium_.after(100ms, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.expired()) look_for_hid_device();
      });
    return;
  }
  if (spec_.role == BlePeerRole::HidHost && l.central == id())
    medium_.after(0ms, [this, index, alive = std::weak_ptr<bool>(alive_)] {
      std::string why;
      if (!alive.expired()) pair(index, why);  // an HID host pairs before it uses the reports
    });
}

void BlePeer::look_for_hid_device() {
  if (!links().empty()) return;
  for (const auto& a : medium_.advertisers()) {
    if (a.id == id() || !medium_.attached(a.id) || a.type == BleAdvType::ScanInd || a.type == BleAdvType::NonConnInd) continue;
    if (!adv_lists_uuid16(a.adv_data, 0x1812) && !adv_lists_uuid16(a.scan_rsp, 0x1812)) continue;
    std::string why;
    if (connect(a.addr, why)) return;
  }
}

void BlePeer::hid_subscribe(int index) {
  auto view = medium_.discover(id(), index);
  if (!view) return;
  for (std::size_t s = 0; s < view->size(); ++s) {
    if ((*view)[s].uuid != "1812") continue;
    const auto& chars = (*view)[s].chars;
    for (std::size_t c = 0; c < chars.size(); ++c) {
      if (chars[c].uuid != "2A4D" || !(chars[c].props & gatt_prop::notify)) continue;
      for (std::size_t d = 0; d < chars[c].descs.size(); ++d)
        if (chars[c].descs[d].uuid == "2902")
          medium_.write(id(), index, int(s) + 1, int(c) + 1, int(d) + 1, std::string("\x01\x00", 2));
    }
  }
}

void BlePeer::schedule_notifications() {
  if (!db_) return;
  for (std::size_t s = 0; s < spec_.services.size(); ++s)
    for (std::size_t c = 0; c < spec_.services[s].chars.size(); ++c) {
      const int every = spec_.services[s].chars[c].notify_ms;
      if (every <= 0) continue;
      auto tick = std::make_shared<std::function<void()>>();
      *tick = [this, s, c, every, alive = std::weak_ptr<bool>(alive_), weak = std::weak_ptr(tick)] {
        if (alive.expired()) return;
        const auto& ch = db_->services[s].chars[c];
        const bool indicate = !(ch.props & gatt_prop::notify);
        for (const BleLink* l : links()) medium_.notify(id(), l->index_of(id()), int(s) + 1, int(c) + 1, ch.value, indicate);
        if (auto again = weak.lock()) medium_.after(std::chrono::milliseconds(every), [again] { (*again)(); });
      };
      // The closure holds itself only through the scheduled copy: it ends with the peer.
      medium_.after(std::chrono::milliseconds(every), [tick] { (*tick)(); });
    }
}

const BleLink* BlePeer::connect(Mac target, std::string& why) {
  int index = 0;
  while (index < BleMedium::kMaxLinks && medium_.link(id(), index)) ++index;
  if (index == BleMedium::kMaxLinks) {
    why = "the peer has no free connection";
    return nullptr;
  }
  const BleLink* l = medium_.connect(id(), index, spec_.adv.addr, target);
  if (!l) why = "nothing connectable advertises at " + target.str() + " (or the peer is already connected to it)";
  return l;
}

bool BlePeer::disconnect(int index, std::string& why) {
  if (medium_.disconnect(id(), index)) return true;
  why = "no connection " + std::to_string(index);
  return false;
}

std::optional<std::vector<GattService>> BlePeer::discover(int index, std::string& why) {
  auto view = medium_.discover(id(), index);
  if (!view) why = "no connection " + std::to_string(index);
  return view;
}

std::optional<std::string> BlePeer::read(int index, std::string_view srv, std::string_view chr, std::string_view desc,
                                         std::string& why) {
  auto view = discover(index, why);
  if (!view) return std::nullopt;
  const Where w = find(*view, srv, chr, desc, why);
  if (!w.chr) return std::nullopt;
  auto value = medium_.read(id(), index, w.srv, w.chr, w.desc);
  if (!value) why = "not readable (its properties or permissions)";
  return value;
}

bool BlePeer::write(int index, std::string_view srv, std::string_view chr, std::string_view desc,
                    std::string_view value, std::string& why) {
  auto view = discover(index, why);
  if (!view) return false;
  const Where w = find(*view, srv, chr, desc, why);
  if (!w.chr) return false;
  if (medium_.write(id(), index, w.srv, w.chr, w.desc, value)) return true;
  why = "not writable (its properties or permissions)";
  return false;
}

bool BlePeer::subscribe(int index, std::string_view srv, std::string_view chr, bool indicate, std::string& why) {
  return write(index, srv, chr, "2902", indicate ? std::string("\x02\x00", 2) : std::string("\x01\x00", 2), why);
}

bool BlePeer::pair(int index, std::string& why) {
  if (medium_.encrypt(id(), index, spec_.sec.mitm() ? 3 : 1)) return true;
  why = "no connection " + std::to_string(index) + ", or a pairing is under way";
  return false;
}

bool BlePeer::passkey(int index, int key, std::string& why) {
  if (medium_.passkey_reply(id(), index, key)) return true;
  why = "no passkey is asked of the peer on connection " + std::to_string(index);
  return false;
}

bool BlePeer::notify(std::string_view srv, std::string_view chr, std::string_view value, bool indicate) {
  if (!db_) return false;
  const std::string s = upper(srv), c = upper(chr);
  for (std::size_t i = 0; i < db_->services.size(); ++i) {
    if (db_->services[i].uuid != s) continue;
    auto& chars = db_->services[i].chars;
    for (std::size_t k = 0; k < chars.size(); ++k) {
      if (chars[k].uuid != c) continue;
      chars[k].value = std::string(value);
      for (const BleLink* l : links())
        medium_.notify(id(), l->index_of(id()), int(i) + 1, int(k) + 1, value, indicate);
      return true;
    }
  }
  return false;
}

void BlePeer::gatt_read(const BleLink&) {}

void BlePeer::gatt_written(const BleLink& l, int srv, int chr, int desc, std::string_view value) {
  BlePeerEvent e = event("write", l);
  const auto& s = db_->services[std::size_t(srv) - 1];
  const auto& c = s.chars[std::size_t(chr) - 1];
  e.service = s.uuid;
  e.characteristic = desc ? c.uuid + "/" + c.descs[std::size_t(desc) - 1].uuid : c.uuid;
  e.value = std::string(value);
  record(std::move(e));
}

void BlePeer::gatt_notified(const BleLink& l, int srv, int chr, std::string_view value, bool indication) {
  if (is_blufi_frame(srv, chr)) {  // a BluFi frame: read after this returns
    medium_.after(0ms, [this, index = l.index_of(id()), frame = std::string(value), alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) blufi_frame(index, frame);
    });
    return;
  }
  BlePeerEvent e = event(indication ? "indicate" : "notify", l);
  e.value = std::string(value);
  if (auto view = medium_.discover(id(), l.index_of(id()));
      view && srv >= 1 && std::size_t(srv) <= view->size() && chr >= 1 &&
      std::size_t(chr) <= (*view)[std::size_t(srv) - 1].chars.size()) {
    const auto& s = (*view)[std::size_t(srv) - 1];
    const auto& c = s.chars[std::size_t(chr) - 1];
    e.service = s.uuid;
    e.characteristic = c.uuid;
    if (spec_.role == BlePeerRole::HidHost && s.uuid == "1812" && c.uuid == "2A4D") {
      e.kind = "hid";
      for (const auto& d : c.descs)  // the Report Reference: report ID, report type
        if (d.uuid == "2908" && !d.value.empty()) e.report = hid_report_name(static_cast<unsigned char>(d.value[0]));
    }
  }
  record(std::move(e));
}

void BlePeer::smp(const BleLink& l, const SmpEvent& ev) {
  const int index = l.index_of(id());
  auto later = [this, index, alive = std::weak_ptr<bool>(alive_)](auto f) {
    medium_.after(0ms, [this, index, alive, f] {
      if (!alive.expired()) f(index);
    });
  };
  switch (ev.kind) {
    case SmpEvent::SecurityRequest:  // the user taps "Pair"
      later([this](int i) { medium_.pairing_response(id(), i, true); });
      return;
    case SmpEvent::ShowKey: {
      BlePeerEvent e = event("passkey", l);
      e.key = ev.key;
      record(std::move(e));
      if (l.pairing && l.pairing->plan.model == SmpModel::NumericComparison)
        later([this](int i) { medium_.confirm_reply(id(), i, true); });  // the numbers match
      return;
    }
    case SmpEvent::KeyRequest: record(event("key_request", l)); return;
    case SmpEvent::Complete: {
      record(event(ev.ok ? "paired" : "pairing_failed", l));
      if (ev.ok && ev.bonded) bonds_.insert(l.peer_addr_of(id()).str());
      if (ev.ok && spec_.role == BlePeerRole::HidHost) hid_subscribe(index);
      return;
    }
  }
}

}  // namespace espat::sim
