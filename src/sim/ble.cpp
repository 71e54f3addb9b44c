#include "sim/ble.hpp"

#include <algorithm>
#include <cctype>

namespace espat::sim {

namespace {
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = char(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The value of the first AD structure of type 0x09, else 0x08, in `data`.
std::optional<std::string> name_in(std::string_view data) {
  std::optional<std::string> shortened;
  for (std::size_t i = 0; i < data.size();) {
    const std::size_t len = static_cast<unsigned char>(data[i]);
    if (len == 0 || i + 1 + len > data.size()) break;
    const auto type = static_cast<unsigned char>(data[i + 1]);
    std::string value(data.substr(i + 2, len - 1));
    if (type == 0x09) return value;
    if (type == 0x08 && !shortened) shortened = std::move(value);
    i += 1 + len;
  }
  return shortened;
}

bool same_mac_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<std::string> hex_to_bytes(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi << 4 | lo));
  }
  return out;
}

std::string bytes_to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string ble_local_name(std::string_view adv_data, std::string_view scan_rsp) {
  if (auto n = name_in(adv_data)) return *n;
  return name_in(scan_rsp).value_or("");
}

void BleMedium::advertise(BleAdvertiser a) {
  auto it = std::find_if(adverts_.begin(), adverts_.end(), [&](const BleAdvertiser& x) { return x.id == a.id; });
  if (it == adverts_.end()) adverts_.push_back(std::move(a));
  else *it = std::move(a);
  changed();
}

bool BleMedium::stop(std::string_view id) {
  auto it = std::find_if(adverts_.begin(), adverts_.end(), [&](const BleAdvertiser& x) { return x.id == id; });
  if (it == adverts_.end()) return false;
  adverts_.erase(it);
  changed();
  return true;
}

const BleAdvertiser* BleMedium::find(std::string_view id) const {
  for (const auto& a : adverts_)
    if (a.id == id) return &a;
  return nullptr;
}

bool BleMedium::matches(const BleScan& scan, const BleAdvertiser& a) const {
  if (a.id == scan.self) return false;
  switch (scan.filter.kind) {
    case BleScanFilter::None: return true;
    case BleScanFilter::Mac: return same_mac_text(a.addr.str(), scan.filter.param);
    case BleScanFilter::Name: return ble_local_name(scan.adv_data_of(a), scan.scan_rsp_of(a)) == scan.filter.param;
  }
  return false;
}

std::vector<BleReport> BleMedium::poll(BleScan& scan, Clock::time_point now) const {
  std::vector<BleReport> out;
  std::erase_if(scan.next, [&](const auto& e) { return !find(e.first); });
  for (const auto& a : adverts_) {
    if (!matches(scan, a)) continue;
    auto it = scan.next.try_emplace(a.id, now).first;
    if (it->second > now) continue;
    out.push_back({a.id, a.addr, a.addr_type, a.rssi, scan.adv_data_of(a), scan.scan_rsp_of(a)});
    // Due once per interval from when it was due, but never twice for one poll.
    it->second = std::max(it->second + a.interval, now + std::chrono::milliseconds(1));
  }
  return out;
}

std::optional<BleMedium::Clock::time_point> BleMedium::next_due(const BleScan& scan, Clock::time_point now) const {
  std::optional<Clock::time_point> due;
  for (const auto& a : adverts_) {
    if (!matches(scan, a)) continue;
    auto it = scan.next.find(a.id);
    const auto t = it == scan.next.end() ? now : it->second;
    if (!due || t < *due) due = t;
  }
  return due;
}

const BleLink* BleMedium::connect(std::string_view central, int index, Mac addr, Mac target, int addr_type) {
  if (link(central, index)) return nullptr;
  auto a = std::find_if(adverts_.begin(), adverts_.end(), [&](const BleAdvertiser& x) {
    return attached(x.id) && x.id != central && x.addr == target && (addr_type < 0 || x.addr_type == addr_type) && x.type != BleAdvType::ScanInd && x.type != BleAdvType::NonConnInd;
  });
  if (a == adverts_.end()) return nullptr;
  const std::string peripheral = a->id;
  for (const auto& l : links_)
    if (l.has(central) && l.has(peripheral)) return nullptr;
  int free = 0;
  while (free < kMaxLinks && link(peripheral, free)) ++free;
  if (free == kMaxLinks) return nullptr;
  BleLink l;
  l.central = std::string(central);
  l.peripheral = peripheral;
  l.central_index = index;
  l.peripheral_index = free;
  l.central_addr = addr;
  l.peripheral_addr = target;
  adverts_.erase(a);  // a connectable advertiser stops advertising once connected
  changed();
  links_.push_back(std::move(l));
  const BleLink copy = links_.back();
  tell(copy, BleLinkEvent::Up);
  return link(central, index);
}

bool BleMedium::disconnect(std::string_view who, int index) { return end(who, index, false); }

bool BleMedium::end(std::string_view who, int index, bool timed_out) {
  auto it = std::find_if(links_.begin(), links_.end(), [&](const BleLink& l) { return l.has(who) && l.index_of(who) == index; });
  if (it == links_.end()) return false;
  BleLink l = *it;
  links_.erase(it);
  l.ended_by = std::string(who);
  l.timed_out = timed_out;
  tell(l, BleLinkEvent::Down);
  return true;
}

void BleMedium::drop(std::string_view who) {
  while (true) {
    auto it = std::find_if(links_.begin(), links_.end(), [&](const BleLink& l) { return l.has(who); });
    if (it == links_.end()) return;
    end(who, it->index_of(who), true);
  }
}

BleLink* BleMedium::link(std::string_view who, int index) {
  for (auto& l : links_)
    if (l.has(who) && l.index_of(who) == index) return &l;
  return nullptr;
}

std::vector<const BleLink*> BleMedium::links_of(std::string_view who) const {
  std::vector<const BleLink*> out;
  for (const auto& l : links_)
    if (l.has(who)) out.push_back(&l);
  std::sort(out.begin(), out.end(), [&](const BleLink* a, const BleLink* b) { return a->index_of(who) < b->index_of(who); });
  return out;
}

bool BleMedium::set_mtu(std::string_view who, int index, int mtu) {
  auto* l = link(who, index);
  if (!l) return false;
  l->mtu = mtu;
  const BleLink copy = *l;
  tell(copy, BleLinkEvent::Mtu);
  return true;
}

bool BleMedium::set_params(std::string_view who, int index, int min_interval, int max_interval, int latency, int timeout) {
  auto* l = link(who, index);
  if (!l) return false;
  l->min_interval = min_interval;
  l->max_interval = max_interval;
  l->interval = min_interval;  // the peer accepts: the central takes the shortest
  l->latency = latency;
  l->timeout = timeout;
  const BleLink copy = *l;
  tell(copy, BleLinkEvent::Params);
  return true;
}

void BleMedium::tell(const BleLink& l, BleLinkEvent e) {
  for (const std::string* id : {&l.central, &l.peripheral}) {
    auto it = link_watchers_.find(*id);
    if (it == link_watchers_.end()) continue;
    auto f = it->second;  // it may unwatch itself
    f(l, e);
  }
}

void BleMedium::changed() {
  // A watcher may unwatch itself: call a copy.
  auto copy = watchers_;
  for (auto& [k, f] : copy) f();
}

}  // namespace espat::sim
