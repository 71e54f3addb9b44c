// GATT over the medium's links (sim/ble.hpp): discovery, reads and writes by the client end,
// notifications and indications by the server end, with the permission checks a Bluedroid
// server makes (spec 6.9: perm bits, val_max_len; the declaration's properties).
#include "sim/ble.hpp"
#include "sim/gatt.hpp"

namespace espat::sim {

namespace {

// The attribute a client's (srv, chr, desc) names in `view`; null when there is none.
struct Target {
  GattChar* chr = nullptr;
  GattDesc* desc = nullptr;
};
Target attribute_at(std::vector<GattService>& services, int srv, int chr, int desc) {
  if (srv < 1 || std::size_t(srv) > services.size()) return {};
  auto& chars = services[std::size_t(srv) - 1].chars;
  if (chr < 1 || std::size_t(chr) > chars.size()) return {};
  auto& c = chars[std::size_t(chr) - 1];
  if (desc == 0) return {&c, nullptr};
  if (desc < 1 || std::size_t(desc) > c.descs.size()) return {};
  return {&c, &c.descs[std::size_t(desc) - 1]};
}

// Whether `perm` lets the link read (`plain` = gatt_perm::read) or write (gatt_perm::write): the
// plain bit, or the encrypted bit (<< 1) on an encrypted link, or the MITM bit (<< 2) on a link
// paired with MITM protection (spec 6.9's ESP_GATT_PERM_*).
bool permits(int perm, int plain, const BleLink& l) {
  return (perm & plain) || ((perm & (plain << 1)) && l.encrypted) || ((perm & (plain << 2)) && l.encrypted && l.mitm);
}

}  // namespace

BleHost* BleMedium::peer_host(std::string_view who, int index, const BleLink** l) {
  *l = link(who, index);
  if (!*l) return nullptr;
  auto it = hosts_.find((*l)->peer_of(who));
  return it == hosts_.end() ? nullptr : it->second;
}

std::size_t BleMedium::peer_backlog(std::string_view who, int index) {
  const BleLink* l = nullptr;
  BleHost* peer = peer_host(who, index, &l);
  return peer ? peer->rx_backlog() : 0;
}

std::optional<std::vector<GattService>> BleMedium::discover(std::string_view who, int index) {
  const BleLink* l = nullptr;
  BleHost* peer = peer_host(who, index, &l);
  if (!peer) return std::nullopt;
  return client_view(peer->gatt_db(), peer->device_name());
}

std::optional<std::string> BleMedium::read(std::string_view who, int index, int srv, int chr, int desc) {
  const BleLink* l = nullptr;
  BleHost* peer = peer_host(who, index, &l);
  if (!peer) return std::nullopt;
  auto view = client_view(peer->gatt_db(), peer->device_name());
  Target t = attribute_at(view, srv, chr, desc);
  if (!t.chr) return std::nullopt;
  const int perm = t.desc ? t.desc->perm : t.chr->perm;
  const bool readable = (t.desc || (t.chr->props & gatt_prop::read)) && permits(perm, gatt_perm::read, *l);
  if (!readable) return std::nullopt;
  std::string value = t.desc ? t.desc->value : t.chr->value;
  if (server_index_of(peer->gatt_db(), srv) > 0) peer->gatt_read(*l);  // Bluedroid answers 0x1800/0x1801 itself
  return value;
}

bool BleMedium::write(std::string_view who, int index, int srv, int chr, int desc, std::string_view value) {
  const BleLink* l = nullptr;
  BleHost* peer = peer_host(who, index, &l);
  if (!peer) return false;
  auto view = client_view(peer->gatt_db(), peer->device_name());
  Target t = attribute_at(view, srv, chr, desc);
  if (!t.chr) return false;
  const int perm = t.desc ? t.desc->perm : t.chr->perm;
  const bool writable =
      (t.desc || (t.chr->props & (gatt_prop::write | gatt_prop::write_nr))) && permits(perm, gatt_perm::write, *l);
  if (!writable) return false;
  const int own = server_index_of(peer->gatt_db(), srv);
  if (own <= 0) return true;  // the Service Changed CCCD: Bluedroid keeps it
  // The server's own attribute, the view held a copy.
  auto& s = peer->gatt_db()->services[std::size_t(own) - 1];
  auto& c = s.chars[std::size_t(chr) - 1];
  // Guide example 4.3.2 step 7 writes two bytes to the one-byte C302 and shows OK and the
  // server's +WRITE: the write is taken whole and reported; the value keeps val_max_len bytes.
  const int max_len = desc ? c.descs[std::size_t(desc) - 1].max_len : c.max_len;
  (desc ? c.descs[std::size_t(desc) - 1].value : c.value) = std::string(value.substr(0, std::size_t(max_len)));
  peer->gatt_written(*l, own, chr, desc, value);
  return true;
}

bool BleMedium::notify(std::string_view who, int index, int srv, int chr, std::string_view value, bool indication) {
  const BleLink* l = nullptr;
  BleHost* peer = peer_host(who, index, &l);
  auto self = hosts_.find(who);
  if (!peer || self == hosts_.end()) return false;
  GattDb* db = self->second->gatt_db();
  if (!db || srv < 1 || std::size_t(srv) > db->services.size()) return false;
  const auto& s = db->services[std::size_t(srv) - 1];
  if (!s.started || chr < 1 || std::size_t(chr) > s.chars.size()) return false;
  // The client's index of that service: after 0x1801 and 0x1800, among the started primaries.
  int client_srv = 0;
  for (int k = 1; k <= int(db->services.size()) + 2 && !client_srv; ++k)
    if (server_index_of(db, k) == srv) client_srv = k;
  const GattDesc* cccd = s.chars[std::size_t(chr) - 1].cccd();
  const int bit = indication ? 2 : 1;
  if (client_srv && cccd && !cccd->value.empty() && (static_cast<unsigned char>(cccd->value[0]) & bit))
    peer->gatt_notified(*l, client_srv, chr, value, indication);
  return true;
}

}  // namespace espat::sim
