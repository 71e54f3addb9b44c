// Bluetooth LE pairing (issue 11, security step; spec 3.4.33-3.4.40, guide examples 4.3.4 and
// 4.3.7): the SMP parameters each end sets with AT+BLESECPARAM, the association model the two
// settle on (Bluetooth Core 4.2 Vol 3 Part H §2.3.5.1), and the keys a bonding distributes.
// Pure: the exchange itself runs on the medium's links (sim/ble_smp.cpp).
#pragma once
#include <optional>
#include <vector>

namespace espat::sim {

// AT+BLESECPARAM (3.4.33): <auth_req> bits 0 bond, 2 MITM, 3 secure connections; <iocap>
// 0 DisplayOnly, 1 DisplayYesNo, 2 KeyboardOnly, 3 NoInputNoOutput, 4 KeyboardDisplay;
// <init_key>/<rsp_key> bit 0 encryption key, bit 1 identity key.
struct BleSecParams {
  int auth_req = 0, iocap = 3, key_size = 16, init_key = 3, rsp_key = 3, auth_option = 0;
  std::optional<int> static_key;  // AT+BLESETKEY (3.4.40): the passkey this end displays
  bool bond() const { return auth_req & 1; }
  bool mitm() const { return auth_req & 4; }
  bool secure_connections() const { return auth_req & 8; }
};

enum class SmpModel { JustWorks, Passkey, NumericComparison };

struct SmpPlan {
  SmpModel model = SmpModel::JustWorks;
  // Passkey: who types it (+BLESECKEYREQ, AT+BLEKEYREPLY) and who shows it (+BLESECNTFYKEY);
  // both type when both are keyboards without a display.
  bool initiator_inputs = false, responder_inputs = false;
};

// The model for an initiator and a responder (Just Works when neither asks for MITM or either
// side has no input and no output; numeric comparison only when both support secure
// connections).
SmpPlan smp_plan(const BleSecParams& initiator, const BleSecParams& responder);

// The +BLESECKEYTYPE values each end prints after a bonding (ESP_LE_KEY_*: 1 PENC, 2 PID,
// 16 LENC, 32 LID), in the order guide example 4.3.4 shows them.
std::vector<int> smp_key_types(const BleSecParams& initiator, const BleSecParams& responder, bool at_initiator);

}  // namespace espat::sim
