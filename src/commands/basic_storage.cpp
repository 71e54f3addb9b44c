// Spec 3.1.18-3.1.19: AT+SYSFLASH (user partitions of the secondary table, raw) and AT+SYSMFG
// (key-value access to the mfg_nvs partition).
#include "commands/basic.hpp"
#include "commands/handler.hpp"

namespace espat::commands {

namespace {
using flash::nvs::Type;
using flash::nvs::Value;
constexpr std::size_t kSector = flash::kSectorSize;

const flash::Partition* user_partition(Ctx& ctx, const std::string& label) {
  for (const auto& p : ctx.image().secondary().entries)
    if (p.label == label) return &p;
  return nullptr;
}

// AT+SYSFLASH=<op>,<"partition">[,<offset>,<length>]: 0 erase, 1 write ('>' then data), 2 read.
asio::awaitable<Result> sysflash(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const auto op = a.integer(0);
  const flash::Partition* p = user_partition(ctx, a.text(1));
  if (!p) co_return Result::invalid(1);
  auto region = ctx.image().partition(p->label);
  const bool whole = !a.has(2) && !a.has(3);
  // Offset and length come together; only an erase may omit both (the whole partition).
  if (a.has(2) != a.has(3) || (op != 0 && whole)) co_return Result::error(at::ErrCode::para_num(4, unsigned(a.given())));
  const std::uint64_t off = whole ? 0 : std::uint64_t(a.integer(2));
  const std::uint64_t len = whole ? p->size : std::uint64_t(a.integer(3));
  if (off > p->size || len > p->size - off) co_return Result::invalid(a.has(3) ? 3 : 2);
  if (op == 0) {
    // Erasing works on whole sectors (esp_partition_erase_range).
    if (off % kSector || len % kSector) co_return Result::invalid(off % kSector ? 2 : 3);
    region->erase_range(off, len);
    if (p->label == "mfg_nvs") ctx.reload_mfg_nvs();
    co_return Result::ok();
  }
  if (len == 0) co_return Result::invalid(3);
  if (op == 1) {
    std::string data = co_await c.read_data(len);
    region->write(off, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    if (p->label == "mfg_nvs") ctx.reload_mfg_nvs();
    co_return Result::ok();
  }
  auto bytes = region->read(off, len);
  c.reply(fmt::format("+SYSFLASH:{},", len) + std::string(bytes.begin(), bytes.end()) + "\r\n");
  co_return Result::ok();
}

// AT+SYSMFG value types (3.1.19) and their NVS types.
constexpr std::pair<int, Type> kTypes[] = {{1, Type::U8},  {2, Type::I8},  {3, Type::U16}, {4, Type::I16},
                                           {5, Type::U32}, {6, Type::I32}, {7, Type::Str}, {8, Type::Blob}};
int at_type(Type t) {
  for (auto [n, nt] : kTypes)
    if (nt == t) return n;
  return 0;  // 64-bit integers have no AT+SYSMFG type
}

bool in_range(Type t, std::int64_t v) {
  switch (t) {
    case Type::U8: return v >= 0 && v <= UINT8_MAX;
    case Type::I8: return v >= INT8_MIN && v <= INT8_MAX;
    case Type::U16: return v >= 0 && v <= UINT16_MAX;
    case Type::I16: return v >= INT16_MIN && v <= INT16_MAX;
    case Type::U32: return v >= 0 && v <= UINT32_MAX;
    case Type::I32: return v >= INT32_MIN && v <= INT32_MAX;
    default: return false;
  }
}

// One "+SYSMFG:..." read answer: integers as decimal text, <len> its character count (§4.2).
std::string mfg_value(const std::string& ns, const std::string& key, const Value& v, const at::Args& a) {
  std::string data;
  if (v.type == Type::Str || v.type == Type::Blob) data.assign(v.bytes.begin(), v.bytes.end());
  else data = std::to_string(v.integer);
  if (a.has(3) || a.has(4)) {  // <offset>,<length>: a slice of the value
    std::size_t off = std::size_t(a.integer(3)), len = std::size_t(a.integer(4, std::int64_t(data.size())));
    if (off > data.size()) off = data.size();
    data = data.substr(off, len);
  }
  return fmt::format("+SYSMFG:\"{}\",\"{}\",{},{},", ns, key, at_type(v.type), data.size()) + data + "\r\n";
}

asio::awaitable<Result> sysmfg(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  flash::nvs::Storage* mfg = ctx.mfg_nvs();
  if (!mfg) co_return Result::error();
  const auto op = a.integer(0);
  const std::string& ns = a.text(1);
  const std::string& key = a.text(2);
  if (op == 0) {  // erase a namespace or one key
    if (!a.has(1)) co_return Result::error(at::ErrCode::para_num(2, unsigned(a.given())));
    auto err = a.has(2) ? mfg->erase_key(ns, key) : mfg->erase_namespace(ns);
    co_return err == flash::nvs::Error::None ? Result::ok() : Result::error();
  }
  if (op == 1) {  // read
    if (!a.has(1)) {
      for (const auto& n : mfg->namespaces()) c.reply(fmt::format("+SYSMFG:\"{}\"\r\n", n));
      co_return Result::ok();
    }
    if (!a.has(2)) {
      auto keys = mfg->keys(ns);
      if (keys.empty()) co_return Result::invalid(1);
      for (const auto& k : keys) c.reply(fmt::format("+SYSMFG:\"{}\",\"{}\",{}\r\n", ns, k.key, at_type(k.type)));
      co_return Result::ok();
    }
    auto v = mfg->get(ns, key);
    if (!v) co_return Result::invalid(2);
    if (a.has(3) != a.has(4) || a.integer(3) < 0 || a.integer(4) < 0) co_return Result::invalid(a.has(3) ? 4 : 3);
    c.reply(mfg_value(ns, key, *v, a));
    co_return Result::ok();
  }
  // op 2: write <type>,<value>; strings and binaries: <value> is a length, data after '>'.
  if (!a.has(1) || !a.has(2) || !a.has(3) || !a.has(4))
    co_return Result::error(at::ErrCode::para_num(5, unsigned(a.given())));
  const auto type_no = a.integer(3);
  if (type_no < 1 || type_no > 8) co_return Result::invalid(3);
  const Type type = kTypes[type_no - 1].second;
  Value v{type, 0, {}};
  if (type == Type::Str || type == Type::Blob) {
    const auto len = a.integer(4);
    const std::int64_t max = type == Type::Str ? flash::nvs::kMaxStringBytes - 1 : flash::nvs::kMaxBlobBytes;
    if (len < 0 || len > max) co_return Result::invalid(4);
    std::string data = co_await c.read_data(std::size_t(len));
    v.bytes.assign(data.begin(), data.end());
  } else {
    if (!in_range(type, a.integer(4))) co_return Result::invalid(4);
    v.integer = a.integer(4);
  }
  co_return mfg->set(ns, key, v) == flash::nvs::Error::None ? Result::ok() : Result::error();
}
}  // namespace

std::vector<at::Command> storage_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+SYSFLASH",
         .query = plain([](Ctx& ctx, Call& c) {
           for (const auto& p : ctx.image().secondary().entries)
             c.reply(fmt::format("+SYSFLASH:\"{}\",{},{},0x{:x},0x{:x}\r\n", p.label, p.type, p.subtype, p.offset, p.size));
           return Result::ok();
         }),
         .set = coro(sysflash),
         .params = {at::Int{"operation", 0, 2}, at::Str{"partition", 16, 1},
                    at::Int{"offset", 0, INT32_MAX, true}, at::Int{"length", 0, INT32_MAX, true}}});

  r.push_back({.name = "+SYSMFG",
         .query = plain([](Ctx& ctx, Call& c) {
           auto* mfg = ctx.mfg_nvs();
           if (!mfg) return Result::error();
           for (const auto& n : mfg->namespaces()) c.reply(fmt::format("+SYSMFG:\"{}\"\r\n", n));
           return Result::ok();
         }),
         .set = coro(sysmfg),
         .params = {at::Int{"operation", 0, 2}, at::Str{"namespace", 15, 1, true}, at::Str{"key", 15, 1, true},
                    at::Int{"type|offset", 0, INT32_MAX, true}, at::Int{"value|length", INT32_MIN, UINT32_MAX, true}}});
  return r;
}

}  // namespace espat::commands
