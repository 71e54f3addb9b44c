#include "module/ble.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "flash/legacy_read.hpp"
#include "module/context.hpp"
#include "module/rf_power.hpp"

namespace espat::module {

namespace {
constexpr std::string_view kNs = "BLE";  // espat's own namespace: the firmware's is not documented
constexpr std::size_t kScanBacklog = 8192;  // bytes waiting for the AT port past which scan reports are dropped
constexpr std::size_t kSppBacklog = 262144;  // the peer's AT-port backlog past which SPP data waits

std::chrono::milliseconds units_to_ms(int units) {
  return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(units * 625)));
}
}  // namespace

Ble::Ble(asio::io_context& io, Context& ctx, sim::World& world, sim::Mac public_addr)
    : io_(io), ctx_(ctx), world_(world), id_(fmt::format("m{}", ctx.index())), public_(public_addr), timer_(io),
      done_timer_(io), conn_timer_(io), spp_reconnect_(io) {
  // A non-resolvable private address: the two top bits 00, derived from the public one.
  private_ = public_addr;
  private_.b[0] = std::uint8_t((public_addr.b[5] ^ 0x5a) & 0x3f);
  world_.ble.watch_links(id_, [this](const sim::BleLink& l, sim::BleLinkEvent e) { on_link(l, e); });
  world_.ble.attach(id_, this);
}

Ble::~Ble() {
  world_.ble.detach(id_);
  world_.ble.unwatch(&conn_timer_);
  world_.ble.unwatch_links(id_);
  world_.ble.drop(id_);
  world_.ble.stop(id_);
  world_.ble.unwatch(this);
}

sim::Mac Ble::own_addr(int type) const {
  if (type == 0) return public_;
  return s_.random_addr.value_or(private_);
}

void Ble::drop_links() {
  world_.ble.unwatch_links(id_);
  world_.ble.drop(id_);
  world_.ble.watch_links(id_, [this](const sim::BleLink& l, sim::BleLinkEvent e) { on_link(l, e); });
}

void Ble::on_link(const sim::BleLink& l, sim::BleLinkEvent e) {
  if (hid_) return hid_link(l, e);
  if (blufi_) return blufi_link(l, e);
  const bool central = l.central == id_;
  if (e == sim::BleLinkEvent::Mtu) {  // 3.4.17: +BLECFGMTU:<conn_index>,<mtu_size> at both ends
    if (world_.observed() && central) world_.note(fmt::format("ble {} MTU {} with {}", id_, l.mtu, l.peer_of(id_)));
    ctx_.engine().report(fmt::format("+BLECFGMTU:{},{}\r\n", l.index_of(id_), l.mtu));
    return;
  }
  if (e == sim::BleLinkEvent::Params) {  // 3.4.14's line, at both ends once the update is done
    ctx_.engine().report(fmt::format("+BLECONNPARAM:{},{},{},{},{},{}\r\n", l.index_of(id_), l.min_interval,
                                     l.max_interval, l.interval, l.latency, l.timeout));
    return;
  }
  const bool up = e == sim::BleLinkEvent::Up;
  if (up && !central) advertising_ = false;  // the medium stopped it
  if (world_.observed())
    world_.note(up ? fmt::format("ble {} connected to {} ({})", id_, l.peer_of(id_), l.peer_addr_of(id_).str())
                   : fmt::format("ble {} disconnected from {} ({}), reason 0x{:02x}", id_, l.peer_of(id_),
                                 l.peer_addr_of(id_).str(), l.reason_for(id_)));
  if (!up && spp_active() && s_.spp.auto_conn) {
    // 3.4.31 note: with <auto_conn> the link comes back by itself, the host unaware: the client
    // connects again to the same address, the server advertises again.
    if (central) {
      const sim::Mac peer = l.peer_addr_of(id_);
      const int index = l.index_of(id_);
      spp_reconnect_.start([this, peer, index](async::StopToken stop) { return spp_reconnect(stop, peer, index); });
    } else {
      start_advertising();
    }
  }
  if (quiet_link_messages()) return;
  if (up && central) return;  // AT+BLECONN answers it
  // 3.4.13 and 3.4.15; guide example 4.3: +BLECONN:0,"24:0a:c4:d6:e4:46"
  ctx_.engine().report(fmt::format("+{}:{},\"{}\"\r\n", up ? "BLECONN" : "BLEDISCONN", l.index_of(id_),
                                   l.peer_addr_of(id_).str()));
}

asio::awaitable<const sim::BleLink*> Ble::connect(int index, sim::Mac target, int addr_type, std::chrono::seconds timeout) {
  const unsigned gen = generation_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const sim::Mac self = own_addr(s_.random_addr ? 1 : 0);
  world_.ble.watch(&conn_timer_, [this] { conn_timer_.cancel(); });
  const sim::BleLink* l = nullptr;
  while (gen == generation_ && !(l = world_.ble.connect(id_, index, self, target, addr_type)) &&
         std::chrono::steady_clock::now() < deadline) {
    conn_timer_.expires_at(deadline);
    std::error_code ec;
    co_await conn_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (gen == generation_) world_.ble.unwatch(&conn_timer_);
  co_return gen == generation_ ? l : nullptr;
}

void Ble::reset() {
  ++generation_;
  hid_deinit();
  blufi_stop();
  spp_ = false;
  spp_reconnect_.stop();
  world_.ble.unwatch(&conn_timer_);
  conn_timer_.cancel();
  drop_links();
  set_role(0);
  s_ = BleSettings{};
  auto& nvs = ctx_.nvs();
  if (auto v = nvs.get(kNs, "name"); v && v->type == flash::nvs::Type::Str) s_.name = v->as_string();
  blufi_name = "BLUFI_DEVICE";  // 3.4.46 note: the default
  if (auto v = nvs.get(kNs, "blufi_name"); v && v->type == flash::nvs::Type::Str) blufi_name = v->as_string();
  if (auto v = nvs.get(kNs, "addr"); v && v->type == flash::nvs::Type::Str) s_.random_addr = sim::Mac::parse(v->as_string());
  for (auto [key, field] : {std::pair{"adv_data", &s_.adv_data}, std::pair{"scan_rsp", &s_.scan_rsp}})
    if (auto v = nvs.get(kNs, key); v && v->type == flash::nvs::Type::Str)
      *field = sim::hex_to_bytes(v->as_string()).value_or("");
  if (auto v = nvs.get(kNs, "adv_param"); v && v->type == flash::nvs::Type::Str)
    s_.adv = adv_params_from_text(v->as_string()).value_or(s_.adv);
  if (auto v = nvs.get(kNs, "scan_param"); v && v->type == flash::nvs::Type::Str)
    s_.scan = scan_params_from_text(v->as_string()).value_or(s_.scan);
  bonds_.clear();
  bond_next_ = 0;
  if (auto v = nvs.get(kNs, "bonds"); v && v->type == flash::nvs::Type::Str) {
    const std::string list = v->as_string();  // "<next>;<mac>,<mac>..."
    const auto semi = list.find(';');
    if (semi != std::string::npos) {
      bond_next_ = std::atoi(list.substr(0, semi).c_str());
      for (std::size_t at = semi + 1; at + 17 <= list.size(); at += 18)
        if (auto m = sim::Mac::parse(std::string_view(list).substr(at, 17))) bonds_.push_back(*m);
    }
    if (bond_next_ < 0 || bond_next_ >= kMaxBonds) bond_next_ = 0;
  }
}

void Ble::set_role(int role) {
  if (role == 0) {
    if (s_.role != 0) drop_links();
    stop_advertising();
    stop_scan();
    gatt_.reset();  // the services go with the stack
  }
  s_.role = role;
}

void Ble::start_advertising() {
  advertising_ = true;
  refresh();
}

void Ble::stop_advertising() {
  if (!advertising_) return;
  advertising_ = false;
  world_.ble.stop(id_);
  if (world_.observed()) world_.note(fmt::format("ble {} advertising stopped", id_));
}

int Ble::advertised_rssi() const {
  return world_.ble_module_rssi + ble_power_dbm(ctx_.state().ble_adv_power) - ble_power_dbm(0);
}

void Ble::refresh() {
  if (profile_on()) {  // HID and BluFi advertise while no peer is connected
    if (links().empty()) hid_ ? hid_advertise() : blufi_advertise();
    return;
  }
  if (!advertising_) return;
  sim::BleAdvertiser a;
  a.id = id_;
  a.addr = own_addr(s_.adv.own_addr_type);
  a.addr_type = s_.adv.own_addr_type;
  a.type = sim::BleAdvType(s_.adv.type);
  a.adv_data = s_.adv_data;
  a.scan_rsp = s_.scan_rsp;
  a.interval = units_to_ms(s_.adv.int_min);
  a.rssi = advertised_rssi();
  a.module = true;
  if (world_.observed())
    world_.note(fmt::format("ble {} advertises {} every {} ms: {}", id_, a.addr.str(), a.interval.count(),
                            sim::bytes_to_hex(a.adv_data)));
  world_.ble.advertise(std::move(a));
}

void Ble::start_scan(int duration_s, sim::BleScanFilter filter) {
  stop_scan();
  scan_.emplace();
  scan_->self = id_;
  scan_->active = s_.scan.type == 1;
  scan_->filter = std::move(filter);
  world_.ble.watch(this, [this] { arm(); });
  if (duration_s > 0) {
    done_timer_.expires_after(std::chrono::seconds(duration_s));
    done_timer_.async_wait([this](std::error_code ec) {
      if (ec || !scan_) return;
      stop_scan();
      ctx_.engine().report("+BLESCANDONE\r\n");
    });
  }
  arm();
}

void Ble::stop_scan() {
  if (!scan_) return;
  scan_.reset();
  world_.ble.unwatch(this);
  timer_.cancel();
  done_timer_.cancel();
}

void Ble::arm() {
  if (!scan_) return;
  const auto now = sim::BleMedium::Clock::now();
  auto due = world_.ble.next_due(*scan_, now);
  if (!due) {  // nobody advertises: the medium's watcher calls again
    timer_.cancel();
    return;
  }
  timer_.expires_at(*due);
  timer_.async_wait([this](std::error_code ec) {
    if (ec || !scan_) return;
    // 3.4.6 and guide example 4.3: +BLESCAN:"<addr>",<rssi>,<adv_data>,<scan_rsp_data>,<addr_type>
    std::string out;
    for (const auto& r : world_.ble.poll(*scan_, sim::BleMedium::Clock::now())) {
      if (world_.observed()) world_.note(fmt::format("ble {} hears {} ({})", id_, r.id, r.addr.str()));
      out += fmt::format("+BLESCAN:\"{}\",{},{},{},{}\r\n", r.addr.str(), r.rssi, sim::bytes_to_hex(r.adv_data),
                         sim::bytes_to_hex(r.scan_rsp), r.addr_type);
    }
    // A host slower than the radio: what the UART cannot take is lost, as the firmware's full
    // event queue drops advertising reports, instead of piling up in memory.
    if (!out.empty() && ctx_.output_backlog() <= kScanBacklog) ctx_.engine().report(std::move(out));
    arm();
  });
}

bool Ble::create_services(std::string& why) {
  // The rows are ble_data/cfg0, cfg1, ... in mfg_nvs (reference esp-at-formats.md §4.1, §6).
  auto* mfg = ctx_.mfg_nvs();
  std::vector<std::string> rows;
  for (int i = 0; mfg; ++i) {
    auto v = mfg->get("ble_data", fmt::format("cfg{}", i));
    if (!v || v->type != flash::nvs::Type::Str) break;
    rows.push_back(v->as_string());
  }
  if (rows.empty()) {
    // A v1.x-v3.0 image keeps its services in a ble_data partition: 27 95 + JSON (§4.4).
    auto legacy = ctx_.image().partition("ble_data");
    if (!legacy) {
      why = "no ble_data/cfg0 in mfg_nvs, no ble_data partition";
      return false;
    }
    auto found = flash::legacy_ble_rows(legacy->read(0, legacy->size()), &why);
    if (!found) return false;
    rows = std::move(*found);
  }
  auto db = sim::parse_gatt_rows(rows, &why);
  if (!db) return false;
  gatt_ = std::move(*db);
  if (world_.observed()) world_.note(fmt::format("ble {} created {} GATT services", id_, gatt_->services.size()));
  return true;
}

void Ble::gatt_read(const sim::BleLink& l) {
  if (spp_active() || profile_on()) return;  // nothing but the data during SPP
  // Guide example 4.3.2 step 6: +READ:0,"7c:df:a1:b3:8d:de" at the server.
  ctx_.engine().report(fmt::format("+READ:{},\"{}\"\r\n", l.index_of(id_), l.peer_addr_of(id_).str()));
}

void Ble::gatt_written(const sim::BleLink& l, int srv, int chr, int desc, std::string_view value) {
  if (blufi_) {  // the phone's BluFi frames, on 0xFF01; handled after this write returns
    if (srv == 1 && chr == 1 && desc == 0)
      asio::post(io_, [this, index = l.index_of(id_), frame = std::string(value), b = std::weak_ptr(blufi_)] {
        if (!b.expired()) blufi_received(index, frame);
      });
    return;
  }
  if (hid_) return;  // the HID profile answers its host itself
  if (spp_active()) {  // the data on the rx characteristic goes to the host as it is; nothing else
    if (s_.role == 2 && srv == s_.spp.rx_srv && chr == s_.spp.rx_char && desc == 0)
      ctx_.engine().write_unfiltered(std::string(value));
    return;
  }
  // Guide example 4.3.2 step 7: +WRITE:<conn_index>,<srv_index>,<char_index>,[<desc_index>],<len>,<value>;
  // without a descriptor its field stays empty (esp-at issue #680: "+WRITE:0,1,1,,0,").
  ctx_.engine().report(fmt::format("+WRITE:{},{},{},{},{},{}\r\n", l.index_of(id_), srv, chr,
                                   desc ? std::to_string(desc) : std::string(), value.size(), value));
}

void Ble::gatt_notified(const sim::BleLink& l, int srv, int chr, std::string_view value, bool indication) {
  if (spp_active()) {
    if (srv == s_.spp.rx_srv && chr == s_.spp.rx_char) ctx_.engine().write_unfiltered(std::string(value));
    return;
  }
  // Guide example 4.3.2 step 8: +INDICATE:<conn_index>,<srv_index>,<char_index>,<len>,<value>.
  ctx_.engine().report(fmt::format("+{}:{},{},{},{},{}\r\n", indication ? "INDICATE" : "NOTIFY", l.index_of(id_), srv,
                                   chr, value.size(), value));
}

asio::awaitable<void> Ble::air_time(int index, async::StopToken stop) {
  if (!world_.ble_pacing) co_return;  // [world] ble_pacing = false: the radio takes no time
  const sim::BleLink* l = link(index);
  if (!l) co_return;
  co_await stop.sleep(io_, std::chrono::microseconds(l->interval * 1250));  // <interval> in 1.25 ms
}

std::size_t Ble::rx_backlog() const { return ctx_.output_backlog(); }

bool Ble::bonded_with(sim::Mac peer) const { return std::find(bonds_.begin(), bonds_.end(), peer) != bonds_.end(); }

void Ble::save_bonds() {
  std::string list = fmt::format("{};", bond_next_);
  for (std::size_t i = 0; i < bonds_.size(); ++i) list += (i ? "," : "") + bonds_[i].str();
  ctx_.save(kNs, "bonds", flash::nvs::Value::str(list), true);
}

bool Ble::forget_bond(int index) {
  if (index < 0 || std::size_t(index) >= bonds_.size()) return false;
  bonds_.erase(bonds_.begin() + index);
  bond_next_ = int(bonds_.size()) % kMaxBonds;
  save_bonds();
  return true;
}

void Ble::forget_bonds() {
  bonds_.clear();
  bond_next_ = 0;
  save_bonds();
}

void Ble::smp(const sim::BleLink& l, const SmpEvent& e) {
  const int index = l.index_of(id_);
  if (profile_on()) {
    // The HID and BluFi profiles accept their peer's pairing themselves, printing nothing.
    if (e.kind == SmpEvent::SecurityRequest)
      asio::post(io_, [this, index, gen = generation_] {
        if (gen == generation_ && profile_on()) world_.ble.pairing_response(id_, index, true);
      });
    return;
  }
  auto& engine = ctx_.engine();
  switch (e.kind) {  // the lines of 3.17 and guide examples 4.3.4 and 4.3.7
    case SmpEvent::SecurityRequest:
      engine.report(fmt::format("+BLESECREQ:{}\r\n", index));
      return;
    case SmpEvent::ShowKey:
      engine.report(fmt::format("+BLESECNTFYKEY:{},{}\r\n", index, e.key));
      return;
    case SmpEvent::KeyRequest:
      engine.report(fmt::format("+BLESECKEYREQ:{}\r\n", index));
      return;
    case SmpEvent::Complete:
      break;
  }
  if (world_.observed())
    world_.note(fmt::format("ble {} pairing with {}: {}{}", id_, l.peer_of(id_), e.ok ? "done" : "failed",
                            e.bonded ? ", bonded" : ""));
  std::string out;
  for (int t : e.key_types) out += fmt::format("+BLESECKEYTYPE:{},{}\r\n", index, t);
  out += fmt::format("+BLEAUTHCMPL:{},{}\r\n", index, e.ok ? 0 : 1);
  engine.report(std::move(out));
  const sim::Mac peer = l.peer_addr_of(id_);
  if (e.bonded && !bonded_with(peer)) {
    if (int(bonds_.size()) < kMaxBonds) {
      bonds_.push_back(peer);
    } else {  // 3.4.38 note: the 16th overwrites from index 0 on
      bonds_[std::size_t(bond_next_)] = peer;
    }
    bond_next_ = (bond_next_ + 1) % kMaxBonds;
    save_bonds();
  }
}

bool Ble::spp_active() const { return spp_ && ctx_.engine().in_passthrough(); }

bool Ble::quiet_link_messages() const {
  // 3.4.32 notes: no connection status during SPP unless AT+SYSMSG bit 2 (3.1.15); with
  // <auto_conn> the host is not told at all (3.4.31 note).
  if (!ctx_.engine().in_passthrough()) return false;
  if (spp_active() && s_.spp.auto_conn) return true;
  return !(ctx_.state().sysmsg & 4);
}

namespace {
const sim::GattChar* char_at(const std::vector<sim::GattService>& services, int srv, int chr) {
  if (srv < 1 || std::size_t(srv) > services.size()) return nullptr;
  const auto& chars = services[std::size_t(srv) - 1].chars;
  if (chr < 1 || std::size_t(chr) > chars.size()) return nullptr;
  return &chars[std::size_t(chr) - 1];
}
bool can_write(const sim::GattChar* c) { return c && (c->props & (sim::gatt_prop::write | sim::gatt_prop::write_nr)); }
bool can_notify(const sim::GattChar* c) { return c && (c->props & (sim::gatt_prop::notify | sim::gatt_prop::indicate)); }
// The CCCD value that enables what the characteristic does: notifications first.
std::string cccd_enable(const sim::GattChar& c) {
  return std::string(c.props & sim::gatt_prop::notify ? "\x01\x00" : "\x02\x00", 2);
}
}  // namespace

bool Ble::spp_check(bool entering) {
  const auto& cfg = s_.spp;
  if (!cfg.enabled) return !entering;
  const auto all = links();
  if (s_.role == 2) {  // the server: tx notifies or indicates, rx is written (3.4.31 notes)
    if (!gatt_) return false;
    const auto& services = gatt_->services;
    const auto* tx = char_at(services, cfg.tx_srv, cfg.tx_char);
    if (!can_notify(tx) || !can_write(char_at(services, cfg.rx_srv, cfg.rx_char))) return false;
    if (!entering) return true;
    // 3.4.32: ERROR when the client has not enabled notifications (or indications).
    const auto* cccd = tx->cccd();
    return !all.empty() && cccd && !cccd->value.empty() && (cccd->value[0] & 3);
  }
  if (all.empty()) return !entering;  // the client checks what it discovers on its link
  auto services = world_.ble.discover(id_, all.front()->index_of(id_));
  if (!services) return false;
  const auto* rx = char_at(*services, cfg.rx_srv, cfg.rx_char);
  return can_write(char_at(*services, cfg.tx_srv, cfg.tx_char)) && can_notify(rx) && (!entering || rx->cccd());
}

bool Ble::spp_subscribe(int index) {
  auto services = world_.ble.discover(id_, index);
  if (!services) return false;
  const auto* rx = char_at(*services, s_.spp.rx_srv, s_.spp.rx_char);
  if (!rx || !rx->cccd()) return false;
  int desc = 1;
  while (rx->descs[std::size_t(desc) - 1].uuid != "2902") ++desc;
  return world_.ble.write(id_, index, s_.spp.rx_srv, s_.spp.rx_char, desc, cccd_enable(*rx));
}

void Ble::enter_spp() {
  if (s_.role == 1) spp_subscribe(links().front()->index_of(id_));
  spp_ = true;
  at::Engine::Passthrough p;
  p.send = [this](std::string data) { return spp_send(std::move(data)); };
  p.exited = [this] {
    spp_ = false;
    spp_reconnect_.stop();
    if (ctx_.state().sysmsg & 1) ctx_.engine().write("\r\n+QUITT\r\n");  // 3.1.15 bit 0, 3.4.32 notes
  };
  p.interval = std::chrono::milliseconds(ctx_.state().transintvl_ms);
  p.packet = 512;  // cut again below to the link's MTU - 3
  ctx_.engine().enter_passthrough(std::move(p));
}

asio::awaitable<void> Ble::spp_send(std::string data) {
  // One ATT packet of at most MTU - 3 bytes per connection event: a write from the client, a
  // notification from the server; an indication takes two (the next waits for its
  // confirmation, as AT+BLEGATTSIND does). Without a link the data is lost, as on air.
  for (std::size_t at = 0; at < data.size();) {
    auto all = links();
    if (all.empty() || !spp_active()) co_return;
    const sim::BleLink* l = all.front();
    const std::size_t n = std::min(data.size() - at, std::size_t(l->mtu - 3));
    const std::string piece = data.substr(at, n);
    at += n;
    if (world_.ble_pacing) {
      // The connection events are one <interval> apart: the piece goes at the event after the
      // last one used, or, after a pause of the data, one interval from now. Counted from the
      // event, not from when the timer woke us, so a late wake-up does not slow the stream.
      const auto interval = std::chrono::microseconds(l->interval * 1250) * (s_.role == 2 && !spp_notifies() ? 2 : 1);
      const auto now = std::chrono::steady_clock::now();
      spp_event_ = spp_event_ + interval >= now ? spp_event_ + interval : now + interval;
      co_await async::StopToken{}.sleep(io_, spp_event_ - now);
    } else {
      co_await asio::post(io_, asio::use_awaitable);  // as fast as the loop goes, other work between
    }
    // A receiving host slower than the sender: the data waits here rather than piling up in
    // the peer's memory (a real stack runs out of buffers and stops the sender the same way).
    while (!links().empty() && world_.ble.peer_backlog(id_, links().front()->index_of(id_)) > kSppBacklog)
      co_await async::StopToken{}.sleep(io_, std::chrono::milliseconds(1));
    all = links();  // the link may have gone meanwhile
    if (all.empty() || !spp_active()) co_return;
    const int index = all.front()->index_of(id_);
    if (s_.role == 1) {
      world_.ble.write(id_, index, s_.spp.tx_srv, s_.spp.tx_char, 0, piece);
    } else if (gatt_) {
      world_.ble.notify(id_, index, s_.spp.tx_srv, s_.spp.tx_char, piece, !spp_notifies());
    }
  }
}

bool Ble::spp_notifies() const {
  // The server notifies when the client enabled notifications of its tx characteristic, else it
  // indicates.
  if (!gatt_) return false;
  const auto* tx = char_at(gatt_->services, s_.spp.tx_srv, s_.spp.tx_char);
  const auto* cccd = tx ? tx->cccd() : nullptr;
  return cccd && !cccd->value.empty() && (cccd->value[0] & 1);
}

asio::awaitable<void> Ble::spp_reconnect(async::StopToken stop, sim::Mac peer, int index) {
  while (spp_active() && !link(index)) {
    const sim::BleLink* l = co_await connect(index, peer, -1, std::chrono::seconds(1));
    stop.throw_if_requested();
    if (l) spp_subscribe(index);
  }
}

std::string adv_params_text(const BleAdvParams& p) {
  return fmt::format("{},{},{},{},{},{},{},\"{}\"", p.int_min, p.int_max, p.type, p.own_addr_type, p.channel_map,
                     p.filter_policy, p.peer_addr_type, p.peer_addr.str());
}

std::string scan_params_text(const BleScanParams& p) {
  return fmt::format("{},{},{},{},{}", p.type, p.own_addr_type, p.filter_policy, p.interval, p.window);
}

std::optional<BleAdvParams> adv_params_from_text(std::string_view text) {
  BleAdvParams p;
  char mac[18] = {};
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%d,%d,%d,%d,%d,%d,%d,\"%17[0-9a-fA-F:]\"", &p.int_min, &p.int_max, &p.type,
                  &p.own_addr_type, &p.channel_map, &p.filter_policy, &p.peer_addr_type, mac) != 8)
    return std::nullopt;
  auto m = sim::Mac::parse(mac);
  if (!m) return std::nullopt;
  p.peer_addr = *m;
  return p;
}

std::optional<BleScanParams> scan_params_from_text(std::string_view text) {
  BleScanParams p;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%d,%d,%d,%d,%d", &p.type, &p.own_addr_type, &p.filter_policy, &p.interval, &p.window) != 5)
    return std::nullopt;
  return p;
}

std::optional<std::string> build_adv_data_ex(const BleAdvDataEx& ex, int tx_power_dbm) {
  auto uuid = sim::hex_to_bytes(ex.uuid);
  auto manufacturer = sim::hex_to_bytes(ex.manufacturer);
  if (!uuid || !manufacturer) return std::nullopt;
  if (!uuid->empty() && uuid->size() != 2 && uuid->size() != 16) return std::nullopt;
  std::string out("\x02\x01\x06", 3);  // flags: LE general discoverable, BR/EDR not supported
  auto field = [&out](char type, std::string_view value) {
    out += char(value.size() + 1);
    out += type;
    out += value;
  };
  if (!ex.name.empty()) field('\x09', ex.name);
  if (!uuid->empty()) {  // little-endian on the air, written big-endian ("A002")
    std::string le(uuid->rbegin(), uuid->rend());
    field(uuid->size() == 2 ? '\x03' : '\x07', le);
  }
  if (!manufacturer->empty()) field('\xff', *manufacturer);
  if (ex.include_power) field('\x0a', std::string(1, char(tx_power_dbm)));
  if (out.size() > 31) return std::nullopt;
  return out;
}

}  // namespace espat::module
