// A GATT server's database (issue 11, GATT step): the services a module builds with
// AT+BLEGATTSSRVCRE from the rows of its ble_data (reference esp-at-formats.md §6; spec 6.9),
// and what a client sees of them. Pure: parsing and lookups, no I/O.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace espat::sim {

// ESP_GATT_PERM_* (spec 6.9) and the characteristic properties of a 0x2803 declaration.
namespace gatt_perm {
constexpr int read = 0x01, write = 0x10;
}
namespace gatt_prop {
constexpr int read = 0x02, write_nr = 0x04, write = 0x08, notify = 0x10, indicate = 0x20;
}

struct GattDesc {
  std::string uuid;  // upper-case hex as the table writes it, without "0x": "2902"
  int perm = 0;
  int max_len = 0;
  std::string value;  // raw bytes
};

struct GattChar {
  std::string uuid;
  int props = 0;  // the declaration's property byte
  int perm = 0;   // the value's permissions
  int max_len = 0;
  std::string value;
  std::vector<GattDesc> descs;
  // The CCCD (0x2902) when there is one; its value's bit 0 enables notifications, bit 1
  // indications.
  const GattDesc* cccd() const;
};

struct GattInclude {  // a 0x2802 row: a service declared before it
  std::string uuid;
  bool primary = true;
};

struct GattService {
  std::string uuid;
  bool primary = true;  // 0x2800, or 0x2801 secondary
  bool started = false;
  std::vector<GattInclude> includes;
  std::vector<GattChar> chars;
};

struct GattDb {
  std::vector<GattService> services;  // <srv_index> 1.. on the server
};

// Reads the table's rows "index,uuid_len,uuid,perm,val_max_len,val_cur_len,value" (the
// ble_data/cfg<N> strings, in N order). nullopt with `why` when a row is malformed or the table
// is not services, declarations, values and descriptors in that order.
std::optional<GattDb> parse_gatt_rows(std::span<const std::string> rows, std::string* why = nullptr);

// "0x" + the UUID, as +BLEGATTSSRV and +BLEGATTCPRIMSRV print it (guide example 4.3: 0xA002).
std::string uuid_text(std::string_view uuid);
// The property byte as the +BLEGATT*CHAR lines print it: "0x02", "0x1a".
std::string props_text(int props);

// What a client discovers on a server named `name` serving `db` (null: no services created):
// the GATT service 0x1801 and the GAP service 0x1800 first, then the started primary services
// (guide example 4.3: the client's <srv_index> is the server's + 2).
std::vector<GattService> client_view(const GattDb* db, std::string_view name);
// The server's own <srv_index> (1..) of the client's <srv_index>; 0 for 0x1801 and 0x1800,
// -1 when there is no such service.
int server_index_of(const GattDb* db, int client_index);

}  // namespace espat::sim
