// The otadata partition: which OTA app slot boots (reference esp-at-formats.md §2.3). Two
// 32-byte esp_ota_select_entry_t, at the partition start and at +0x1000.
#pragma once
#include <array>
#include <cstdint>

#include "flash/region.hpp"

namespace espat::flash {

class FlashImage;

// esp_ota_img_states_t
enum class OtaState : std::uint32_t {
  New = 0, PendingVerify = 1, Valid = 2, Invalid = 3, Aborted = 4, Undefined = 0xFFFFFFFF,
};

struct OtaEntry {
  std::uint32_t seq = 0xFFFFFFFF;
  std::array<std::uint8_t, 20> seq_label{};
  std::uint32_t state = 0xFFFFFFFF;
  std::uint32_t crc = 0xFFFFFFFF;  // esp_crc32 of the 4 bytes of seq
  // bootloader_common_ota_select_valid (IDF v5): seq written, CRC matches, state not
  // Invalid/Aborted (a rolled-back image is never chosen again).
  bool valid() const;
};

std::array<OtaEntry, 2> read_otadata(const Region& otadata);

// The slot ESP-IDF boots: the valid entry with the highest seq, slot (seq - 1) % app_count;
// no valid entry (erased otadata) boots slot 0.
int boot_slot(const Region& otadata, int app_count = 2);
// Rewrites the non-active entry the way esp_ota_set_boot_partition does, so `slot` boots next.
// ESP-IDF writes OtaState::New when CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE is set, else Undefined.
void set_boot_slot(Region& otadata, int slot, int app_count = 2, OtaState state = OtaState::Undefined);

// The same on an image's `otadata` partition with its number of ota_N apps (AT+SYSROLLBACK,
// AT+CIUPDATE). boot_slot is 0 when the image has no otadata; set_boot_slot throws ImageError.
int boot_slot(FlashImage& image);
void set_boot_slot(FlashImage& image, int slot);

}  // namespace espat::flash
