// Spec 3.8: AT+FS=<type>,<operation>,<filename>[,<offset>,<length>] and AT+FSMOUNT=<mount> on
// the `fatfs` partition, FATFS through ESP-IDF wear levelling (flash/fs_partition.hpp), as the
// firmware mounts it at /fatfs. Answers follow reference §9.3: read "+FS:<len>,"+data, size
// "+FS:<size>\r\n", list "+FS:" then "<name> " per entry.
#include "commands/fs.hpp"

#include "commands/handler.hpp"
#include "flash/fs_partition.hpp"
#include "flash/image.hpp"

namespace espat::commands {

namespace {
using flash::FsPartition;
namespace fat = flash::fat;

// Mounts on every use: the volume lives in the flash file, never in RAM, so a restart or a
// kill loses nothing AT+FS answered OK for. A blank partition is formatted on first use (the
// firmware's format_if_mount_failed); anything else that does not mount is left alone.
std::unique_ptr<FsPartition> mount(Ctx& ctx, std::unique_ptr<flash::Region>& part) {
  part = ctx.image().partition(flash::kFatfsLabel);
  if (!part) return nullptr;
  return FsPartition::open(*part, true);
}

bool root_dir(const std::string& n) { return n == "." || n == "/" || n == "./" || n.empty(); }

asio::awaitable<Result> fs(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const auto op = a.integer(1);
  const std::string& name = a.text(2);
  std::unique_ptr<flash::Region> part;
  if (op == 4) {  // list: only the root directory (3.8.2 parameters)
    if (!root_dir(name)) co_return Result::invalid(3);
    auto fs = mount(ctx, part);
    if (!fs) co_return Result::error();
    std::string out = "+FS:";
    for (const auto& e : fs->volume().list()) out += e.name + " ";
    c.reply(out + "\r\n");
    co_return Result::ok();
  }
  if (!fat::valid_name(name)) co_return Result::invalid(3);
  if ((op == 1 || op == 2) && (!a.has(3) || !a.has(4)))
    co_return Result::error(at::ErrCode::para_num(5, unsigned(a.given())));
  auto fs = mount(ctx, part);
  if (!fs) co_return Result::error();
  auto& vol = fs->volume();
  switch (op) {
    case 0: co_return vol.remove(name) == fat::Error::None ? Result::ok() : Result::error();
    case 3: {
      auto e = vol.stat(name);
      if (!e || e->directory) co_return Result::error();
      c.reply(fmt::format("+FS:{}\r\n", e->size));
      co_return Result::ok();
    }
    case 2: {
      auto e = vol.stat(name);
      if (!e || e->directory) co_return Result::error();
      std::vector<std::uint8_t> data;
      // "only the actual data length of the file will be returned" (3.8.2 notes)
      if (vol.read(name, std::uint32_t(a.integer(3)), std::uint32_t(a.integer(4)), data) != fat::Error::None ||
          data.empty())
        co_return Result::error();
      c.reply(fmt::format("+FS:{},", data.size()) + std::string(data.begin(), data.end()) + "\r\n");
      co_return Result::ok();
    }
    default: {  // 1: write, data after '>'
      const auto len = std::uint64_t(a.integer(4)), off = std::uint64_t(a.integer(3));
      if (len == 0 || len > vol.total_bytes()) co_return Result::invalid(5);
      if (auto e = vol.stat(name); e && e->directory) co_return Result::error();
      std::string data = co_await c.read_data(std::size_t(len));
      // The prompt was a suspension point: mount again, the flash may have changed meanwhile.
      fs = mount(ctx, part);
      if (!fs) co_return Result::error();
      auto err = fs->volume().write(name, std::uint32_t(off),
                                    {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
      co_return err == fat::Error::None ? Result::ok() : Result::error();
    }
  }
}
}  // namespace

at::Family fs_family() {
  at::Family f{.name = "fs"};
  f.rows.push_back({.name = "+FS",
                    .set = coro(fs),
                    .params = {at::Int{"type", 0, 0}, at::Int{"operation", 0, 4}, at::Str{"filename", 255, 0},
                               at::Int{"offset", 0, INT32_MAX, true}, at::Int{"length", 0, INT32_MAX, true}}});
  f.rows.push_back({.name = "+FSMOUNT",
                    .set = plain([](Ctx& ctx, Call& c) {
                      if (c.args.integer(0) == 0) return Result::ok();  // nothing held in RAM to free
                      std::unique_ptr<flash::Region> part;
                      return mount(ctx, part) ? Result::ok() : Result::error();
                    }),
                    .params = {at::Int{"mount", 0, 1}}});
  return f;
}

}  // namespace espat::commands
