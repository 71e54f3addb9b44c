#include "sim/ble_smp.hpp"

#include <random>

#include "sim/ble.hpp"

namespace espat::sim {

namespace {
enum Io { DisplayOnly = 0, DisplayYesNo = 1, KeyboardOnly = 2, NoInputNoOutput = 3, KeyboardDisplay = 4 };
SmpPlan passkey(bool initiator_inputs, bool responder_inputs) { return {SmpModel::Passkey, initiator_inputs, responder_inputs}; }
}  // namespace

SmpPlan smp_plan(const BleSecParams& initiator, const BleSecParams& responder) {
  if (!initiator.mitm() && !responder.mitm()) return {};
  const int i = initiator.iocap, r = responder.iocap;
  const bool sc = initiator.secure_connections() && responder.secure_connections();
  if (i == NoInputNoOutput || r == NoInputNoOutput) return {};
  // Core 4.2 Vol 3 Part H Table 2.8, by the responder's capability.
  switch (r) {
    case DisplayOnly:
      return i == KeyboardOnly || i == KeyboardDisplay ? passkey(true, false) : SmpPlan{};
    case DisplayYesNo:
      if (i == KeyboardOnly) return passkey(true, false);
      if (i == KeyboardDisplay) return sc ? SmpPlan{SmpModel::NumericComparison} : passkey(true, false);
      if (i == DisplayYesNo && sc) return {SmpModel::NumericComparison};
      return {};
    case KeyboardOnly:
      return i == KeyboardOnly ? passkey(true, true) : passkey(false, true);
    case KeyboardDisplay:
      if (i == KeyboardOnly) return passkey(true, false);
      if ((i == DisplayYesNo || i == KeyboardDisplay) && sc) return {SmpModel::NumericComparison};
      return passkey(false, true);
    default:
      return {};
  }
}

std::vector<int> smp_key_types(const BleSecParams& initiator, const BleSecParams& responder, bool at_initiator) {
  constexpr int enc = 1, id = 2;
  constexpr int penc = 1, pid = 2, lenc = 16, lid = 32;  // ESP_LE_KEY_*
  const int init = initiator.init_key & responder.init_key, rsp = initiator.rsp_key & responder.rsp_key;
  std::vector<int> out;
  auto add = [&out](bool given, int type) {
    if (given) out.push_back(type);
  };
  if (at_initiator) {  // guide example 4.3.4, the client: 2, 16, 1, 32
    add(rsp & id, pid);
    add(init & enc, lenc);
    add(rsp & enc, penc);
    add(init & id, lid);
  } else {  // the server: 16, 1, 32, 2
    add(rsp & enc, lenc);
    add(init & enc, penc);
    add(rsp & id, lid);
    add(init & id, pid);
  }
  return out;
}

// ---- the exchange on a link ------------------------------------------------------------------

namespace {
int random_passkey() {
  static std::mt19937 rng{std::random_device{}()};
  return int(rng() % 1000000);
}
}  // namespace

BleHost* BleMedium::host(std::string_view id) {
  auto it = hosts_.find(id);
  return it == hosts_.end() ? nullptr : it->second;
}

bool BleMedium::encrypt(std::string_view who, int index, int sec_act) {
  BleLink* l = link(who, index);
  if (!l || l->pairing) return false;
  BleHost *self = host(who), *peer = host(l->peer_of(who));
  if (!self || !peer) return false;
  if (sec_act == 0) return true;  // SEC_NONE: nothing asked
  if (self->bonded_with(l->peer_addr_of(who)) && peer->bonded_with(l->peer_addr_of(l->peer_of(who)))) {
    // Both keep the bond: the link is encrypted with the stored key, no pairing.
    l->encrypted = true;
    const BleLink copy = *l;
    for (auto* h : {self, peer}) h->smp(copy, {BleHost::SmpEvent::Complete, 0, true, false, {}});
    return true;
  }
  l->pairing = BleLink::Pairing{};
  l->pairing->asked_by = std::string(who);
  l->pairing->mitm_asked = sec_act == 3;
  const BleLink copy = *l;
  peer->smp(copy, {BleHost::SmpEvent::SecurityRequest});  // +BLESECREQ at the other end
  return true;
}

bool BleMedium::pairing_response(std::string_view who, int index, bool accept) {
  BleLink* l = link(who, index);
  if (!l || !l->pairing || l->pairing->stage != BleLink::Pairing::AwaitAccept || l->pairing->asked_by == who) return false;
  if (!accept) {
    finish_pairing(*l, false);
    return true;
  }
  BleHost *central = host(l->central), *peripheral = host(l->peripheral);
  BleSecParams i = central->security(), r = peripheral->security();
  if (l->pairing->mitm_asked) (l->pairing->asked_by == l->central ? i : r).auth_req |= 4;
  auto& p = *l->pairing;
  p.plan = smp_plan(i, r);
  if (p.plan.model == SmpModel::JustWorks) {
    // <auth_option> 1: an end that asked for MITM protection does not take less (3.4.33).
    const bool refused = (i.auth_option && i.mitm()) || (r.auth_option && r.mitm());
    if (refused && (i.mitm() || r.mitm())) {
      finish_pairing(*l, false);
      const std::string c = l->central;
      disconnect(c, l->central_index);
      return true;
    }
    finish_pairing(*l, true);
    return true;
  }
  const BleLink copy = *l;
  if (p.plan.model == SmpModel::NumericComparison) {
    p.stage = BleLink::Pairing::AwaitConfirm;
    p.key = random_passkey();
    const BleLink shown = *l;
    for (auto* h : {central, peripheral}) h->smp(shown, {BleHost::SmpEvent::ShowKey, p.key});
    return true;
  }
  p.stage = BleLink::Pairing::AwaitKey;
  // The end that displays shows its static key (AT+BLESETKEY) or a random one.
  BleHost* shows = !p.plan.initiator_inputs ? central : !p.plan.responder_inputs ? peripheral : nullptr;
  if (shows) {
    p.key = shows->security().static_key.value_or(random_passkey());
    const BleLink shown = *l;
    shows->smp(shown, {BleHost::SmpEvent::ShowKey, p.key});
  }
  const BleLink asked = *l;
  if (p.plan.initiator_inputs) central->smp(asked, {BleHost::SmpEvent::KeyRequest});
  if (p.plan.responder_inputs) peripheral->smp(asked, {BleHost::SmpEvent::KeyRequest});
  return true;
}

bool BleMedium::passkey_reply(std::string_view who, int index, int key) {
  BleLink* l = link(who, index);
  if (!l || !l->pairing || l->pairing->stage != BleLink::Pairing::AwaitKey) return false;
  auto& p = *l->pairing;
  const bool central = l->central == who;
  if (!(central ? p.plan.initiator_inputs : p.plan.responder_inputs)) return false;
  (central ? p.central_typed : p.peripheral_typed) = key;
  if ((p.plan.initiator_inputs && !p.central_typed) || (p.plan.responder_inputs && !p.peripheral_typed)) return true;
  // One typed what the other shows; or both typed the same number (keyboards on both sides).
  const bool both = p.plan.initiator_inputs && p.plan.responder_inputs;
  const bool ok = both ? p.central_typed == p.peripheral_typed : (central ? *p.central_typed : *p.peripheral_typed) == p.key;
  finish_pairing(*l, ok);
  return true;
}

bool BleMedium::confirm_reply(std::string_view who, int index, bool yes) {
  BleLink* l = link(who, index);
  if (!l || !l->pairing || l->pairing->stage != BleLink::Pairing::AwaitConfirm) return false;
  auto& p = *l->pairing;
  if (!yes) {
    finish_pairing(*l, false);
    return true;
  }
  (l->central == who ? p.central_confirmed : p.peripheral_confirmed) = true;
  if (p.central_confirmed && p.peripheral_confirmed) finish_pairing(*l, true);
  return true;
}

void BleMedium::finish_pairing(BleLink& l, bool ok) {
  BleHost *central = host(l.central), *peripheral = host(l.peripheral);
  const SmpModel model = l.pairing ? l.pairing->plan.model : SmpModel::JustWorks;
  l.pairing.reset();
  if (ok) {
    l.encrypted = true;
    l.mitm = model != SmpModel::JustWorks;
  }
  const BleLink copy = l;
  if (!central || !peripheral) return;
  const BleSecParams i = central->security(), r = peripheral->security();
  const bool bonded = ok && i.bond() && r.bond();
  BleHost::SmpEvent e{BleHost::SmpEvent::Complete, 0, ok, bonded, {}};
  if (bonded) e.key_types = smp_key_types(i, r, true);
  central->smp(copy, e);
  if (bonded) e.key_types = smp_key_types(i, r, false);
  peripheral->smp(copy, e);
}

}  // namespace espat::sim
