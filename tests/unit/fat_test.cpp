// The fatfs partition (README "File system"): ESP-IDF wear levelling around a FAT12/16 volume
// (flash/wear_levelling.hpp, flash/fat.hpp, flash/fs_partition.hpp), and a round trip through
// mtools/dosfstools when they are installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "flash/crc32.hpp"
#include "flash/fat.hpp"
#include "flash/fs_partition.hpp"
#include "flash/wear_levelling.hpp"

using namespace espat::flash;

namespace {
constexpr std::size_t kFatfsSize = 0x90000;  // v4.1.1.0 at_customize.csv: fatfs, 576K

std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string read_all(fat::Volume& v, const std::string& name) {
  std::vector<std::uint8_t> out;
  EXPECT_EQ(v.read(name, 0, 0xFFFFFFFF, out), fat::Error::None) << name;
  return {out.begin(), out.end()};
}

std::vector<std::string> names(const fat::Volume& v) {
  std::vector<std::string> n;
  for (auto& e : v.list()) n.push_back(e.name);
  return n;
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(("MTOOLS_SKIP_CHECK=1 " + cmd).c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
  }
  return out;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/espat-fat-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

void save(const std::filesystem::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
std::vector<std::uint8_t> load(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
}  // namespace

TEST(WearLevelling, GeometryOfTheFatfsPartition) {
  // 144 sectors: 140 logical, one dummy, two states, one config (WL_Flash::config).
  EXPECT_EQ(wl::WlRegion::logical_size(kFatfsSize), 140u * 4096);
  MemoryRegion part(kFatfsSize);
  std::string why;
  EXPECT_EQ(wl::WlRegion::open(part, &why), nullptr);
  EXPECT_NE(why.find("CRC"), std::string::npos) << why;
  auto w = wl::WlRegion::format(part, 0x12345678);
  ASSERT_NE(w, nullptr);
  // State copies at 0x8D000 and 0x8E000, config at 0x8F000, each with its CRC32.
  auto st = part.read(0x8D000, 64);
  EXPECT_EQ(st, part.read(0x8E000, 64));
  auto le = [](const std::vector<std::uint8_t>& b, std::size_t o) {
    return std::uint32_t(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | std::uint32_t(b[o + 3]) << 24);
  };
  EXPECT_EQ(le(st, 4), 141u);         // max_pos
  EXPECT_EQ(le(st, 16), 16u);         // max_count = updaterate
  EXPECT_EQ(le(st, 20), 4096u);       // block_size
  EXPECT_EQ(le(st, 24), 2u);          // version
  EXPECT_EQ(le(st, 28), 0x12345678u);  // device_id
  EXPECT_EQ(le(st, 60), esp_crc32(std::span(st).first(60)));
  auto cfg = part.read(0x8F000, 36);
  EXPECT_EQ(le(cfg, 4), kFatfsSize);
  EXPECT_EQ(le(cfg, 32), esp_crc32(std::span(cfg).first(32)));
  auto again = wl::WlRegion::open(part);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->state().pos, 0u);
}

TEST(WearLevelling, MovedDummyPageAndRotation) {
  // A layout the firmware leaves after moves: pos from the move records, move_count in the
  // state. Logical page L is at (140 - move_count + L) % 140, plus one from pos on.
  MemoryRegion part(kFatfsSize);
  wl::WlRegion::format(part, 7);
  auto put32 = [](std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(v >> (8 * i));
  };
  std::vector<std::uint8_t> st = part.read(0x8D000, 64);
  put32(&st[8], 3);  // move_count
  put32(&st[60], esp_crc32(std::span(st).first(60)));
  for (std::size_t a : {0x8D000u, 0x8E000u}) {
    part.erase_sector(a);
    part.write(a, st);
    for (std::uint32_t n = 0; n < 5; ++n) {  // five move records: pos = 5
      std::uint8_t rec[16];
      for (std::uint32_t i = 0; i < 4; ++i) {
        std::uint8_t v[4];
        put32(v, 7 + n * 4 + i);
        put32(rec + 4 * i, esp_crc32(v));
      }
      part.write(a + 64 + n * 16, rec);
    }
  }
  auto w = wl::WlRegion::open(part);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->state().pos, 5u);
  EXPECT_EQ(w->state().move_count, 3u);
  const std::uint8_t mark[] = {0xA5};
  w->write(0, mark);              // L0 -> (140-3+0)%140 = 137 >= 5 -> 138
  w->write(4 * 4096, mark);       // L4 -> 1 < 5 -> 1
  w->write(2 * 4096 + 1, mark);   // L2 -> 139 -> 140 (the last data page)
  EXPECT_EQ(part.read(138 * 4096, 1)[0], 0xA5);
  EXPECT_EQ(part.read(1 * 4096, 1)[0], 0xA5);
  EXPECT_EQ(part.read(140 * 4096 + 1, 1)[0], 0xA5);
}

TEST(Fat, FormatsABlankPartitionAndKeepsFiles) {
  MemoryRegion part(kFatfsSize);
  std::string why;
  EXPECT_EQ(FsPartition::open(part, false, &why), nullptr) << "no format without being asked";
  auto fs = FsPartition::open(part, true, &why);
  ASSERT_NE(fs, nullptr) << why;
  auto& v = fs->volume();
  EXPECT_TRUE(v.fat12());
  EXPECT_EQ(v.total_bytes(), 133u * 4096);  // 140 sectors - boot - 2 FATs - 4 root sectors
  EXPECT_EQ(v.free_bytes(), v.total_bytes());
  EXPECT_TRUE(v.list().empty());

  EXPECT_EQ(v.write("test.txt", 0, bytes("hello")), fat::Error::None);
  EXPECT_EQ(v.write("A Long File Name.json", 0, bytes("{\"k\":1}")), fat::Error::None);
  EXPECT_EQ(v.write("UPPER.TXT", 0, bytes("U")), fat::Error::None);
  EXPECT_EQ(v.write("Mixed.txt", 0, bytes("M")), fat::Error::None);  // mixed case: an LFN
  EXPECT_EQ(names(v), (std::vector<std::string>{"test.txt", "A Long File Name.json", "UPPER.TXT", "Mixed.txt"}));
  EXPECT_EQ(read_all(v, "TEST.TXT"), "hello") << "names are case-insensitive";
  EXPECT_EQ(read_all(v, "a long file name.JSON"), "{\"k\":1}");
  EXPECT_EQ(read_all(v, "ALONGF~1.JSO"), "{\"k\":1}") << "the generated short name";

  // Write at an offset: inside, past the end (the gap reads as zeros), across clusters.
  EXPECT_EQ(v.write("test.txt", 1, bytes("ELL")), fat::Error::None);
  EXPECT_EQ(read_all(v, "test.txt"), "hELLo");
  EXPECT_EQ(v.write("test.txt", 8, bytes("!")), fat::Error::None);
  EXPECT_EQ(read_all(v, "test.txt"), std::string("hELLo\0\0\0!", 9));
  std::string big(10000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  EXPECT_EQ(v.write("big.bin", 100, bytes(big)), fat::Error::None);
  EXPECT_EQ(v.stat("big.bin")->size, 10100u);
  std::vector<std::uint8_t> part_read;
  EXPECT_EQ(v.read("big.bin", 4090, 20, part_read), fat::Error::None);
  EXPECT_EQ(std::string(part_read.begin(), part_read.end()), big.substr(3990, 20));
  EXPECT_EQ(v.read("big.bin", 10090, 100, part_read), fat::Error::None);
  EXPECT_EQ(part_read.size(), 10u) << "only what the file holds";
  EXPECT_EQ(v.read("nope", 0, 1, part_read), fat::Error::NotFound);

  // Everything is in the flash: a fresh mount sees it.
  fs.reset();
  fs = FsPartition::open(part, false, &why);
  ASSERT_NE(fs, nullptr) << why;
  EXPECT_EQ(read_all(fs->volume(), "big.bin").substr(100), big);
  EXPECT_EQ(fs->volume().remove("A Long File Name.json"), fat::Error::None);
  EXPECT_EQ(fs->volume().remove("A Long File Name.json"), fat::Error::NotFound);
  EXPECT_EQ(names(fs->volume()), (std::vector<std::string>{"test.txt", "UPPER.TXT", "Mixed.txt", "big.bin"}));
  const auto free_before = fs->volume().free_bytes();
  EXPECT_EQ(fs->volume().remove("big.bin"), fat::Error::None);
  EXPECT_EQ(fs->volume().free_bytes(), free_before + 3 * 4096);
  // Freed slots are reused: a long name fits in the deleted entries.
  EXPECT_EQ(fs->volume().write("another long name.txt", 0, bytes("z")), fat::Error::None);
  EXPECT_EQ(read_all(fs->volume(), "another long name.txt"), "z");
}

TEST(Fat, NamesCannotLeaveTheRoot) {
  MemoryRegion part(kFatfsSize);
  auto fs = FsPartition::open(part, true);
  ASSERT_NE(fs, nullptr);
  const auto before = part.bytes();
  for (const char* n : {"", ".", "..", "../x", "/etc/passwd", "a/b", "a\\b", "c:x", "x.", " x", "x ", "a*b", "a?b",
                        "a\x01", "\xff\xfe"}) {
    EXPECT_FALSE(fat::valid_name(n)) << n;
    EXPECT_EQ(fs->volume().write(n, 0, bytes("x")), fat::Error::BadName) << n;
    EXPECT_EQ(fs->volume().remove(n), fat::Error::BadName) << n;
  }
  EXPECT_FALSE(fat::valid_name(std::string(256, 'a')));
  EXPECT_TRUE(fat::valid_name(std::string(255, 'a')));
  EXPECT_TRUE(fat::valid_name("caf\xc3\xa9 menu.txt"));
  EXPECT_EQ(part.bytes(), before) << "a refused name writes nothing";
  EXPECT_EQ(fs->volume().write("caf\xc3\xa9 menu.txt", 0, bytes("ok")), fat::Error::None);
  EXPECT_EQ(names(fs->volume()), std::vector<std::string>{"caf\xc3\xa9 menu.txt"});
}

TEST(Fat, FullVolumeAndFullRoot) {
  MemoryRegion part(kFatfsSize);
  auto fs = FsPartition::open(part, true);
  ASSERT_NE(fs, nullptr);
  auto& v = fs->volume();
  const std::string chunk(100 * 4096, 'q');
  EXPECT_EQ(v.write("a.bin", 0, bytes(chunk)), fat::Error::None);
  const auto before = part.bytes();
  EXPECT_EQ(v.write("b.bin", 0, bytes(chunk)), fat::Error::NoSpace);
  EXPECT_EQ(part.bytes(), before) << "a write that does not fit changes nothing";
  EXPECT_EQ(v.write("b.bin", 0, bytes(chunk.substr(0, 33 * 4096))), fat::Error::None);
  EXPECT_EQ(v.free_bytes(), 0u);
  EXPECT_EQ(v.write("b.bin", 33 * 4096, bytes("x")), fat::Error::NoSpace);
  EXPECT_EQ(v.write("empty", 0, {}), fat::Error::None) << "an empty file needs no cluster";
  EXPECT_EQ(v.stat("empty")->size, 0u);
  EXPECT_EQ(v.remove("a.bin"), fat::Error::None);
  // 512 root entries: 510 more 8.3 names fit (a.bin's slot is free again), then the root is full.
  int made = 0;
  for (int i = 0; i < 600; ++i)
    if (v.write(fmt::format("f{}.txt", i), 0, {}) == fat::Error::None) ++made;
  EXPECT_EQ(made, 510);
  EXPECT_EQ(v.list().size(), 512u);
}

TEST(Fat, RefusesWhatIsNotAVolumeAndTouchesNothing) {
  {  // Not blank, no wear-levelling state: refused even when formatting is allowed.
    MemoryRegion part(kFatfsSize);
    const std::uint8_t junk[] = {1, 2, 3};
    part.write(0x1000, junk);
    const auto before = part.bytes();
    std::string why;
    EXPECT_EQ(FsPartition::open(part, true, &why), nullptr);
    EXPECT_NE(why.find("wear-levelling"), std::string::npos) << why;
    EXPECT_EQ(part.bytes(), before);
  }
  {  // A corrupt boot sector inside a valid layer.
    MemoryRegion part(kFatfsSize);
    auto fs = FsPartition::open(part, true);
    ASSERT_NE(fs, nullptr);
    ASSERT_EQ(fs->volume().write("keep.txt", 0, bytes("data")), fat::Error::None);
    fs.reset();
    auto w = wl::WlRegion::open(part);
    auto boot = w->read(0, 4096);
    boot[510] = 0;  // no 0x55AA
    w->erase_sector(0);
    w->write(0, boot);
    const auto before = part.bytes();
    std::string why;
    EXPECT_EQ(FsPartition::open(part, true, &why), nullptr);
    EXPECT_NE(why.find("not a FAT volume"), std::string::npos) << why;
    EXPECT_EQ(part.bytes(), before);
    boot[510] = 0x55;
    boot[11] = 0x03;  // 771 bytes per sector
    w->erase_sector(0);
    w->write(0, boot);
    EXPECT_EQ(FsPartition::open(part, true, &why), nullptr);
    EXPECT_NE(why.find("bad BPB"), std::string::npos) << why;
  }
}

TEST(Fat, Fat16With512ByteSectors) {
  MemoryRegion r(8u << 20);
  fat::format(r, 1, 512);
  auto v = fat::Volume::mount(r);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->fat12());
  std::string data(70000, 'k');
  EXPECT_EQ(v->write("sixteen.dat", 0, bytes(data)), fat::Error::None);
  auto again = fat::Volume::mount(r);
  EXPECT_EQ(read_all(*again, "sixteen.dat"), data);
}

TEST(FatMtools, EspatVolumeReadsBackInMtools) {
  if (!have("mdir") || !have("mcopy")) GTEST_SKIP() << "needs mtools (scripts/install-deps.sh)";
  TempDir t;
  MemoryRegion part(kFatfsSize);
  auto fs = FsPartition::open(part, true);
  ASSERT_NE(fs, nullptr);
  ASSERT_EQ(fs->volume().write("hello.txt", 0, bytes("hello from espat\n")), fat::Error::None);
  std::string big(9000, 'b');
  ASSERT_EQ(fs->volume().write("Long Name With Spaces.bin", 0, bytes(big)), fat::Error::None);
  // The FAT volume is the wear-levelled logical space: extract it, then ask mtools.
  save(t.path / "vol.img", fs->wl().read(0, fs->wl().size()));
  const std::string img = (t.path / "vol.img").string();
  const auto dir = run("mdir -i " + img + " -b ::");
  EXPECT_NE(dir.find("::/hello.txt"), std::string::npos) << dir;
  EXPECT_NE(dir.find("::/Long Name With Spaces.bin"), std::string::npos) << dir;
  EXPECT_EQ(run("mtype -i " + img + " ::hello.txt"), "hello from espat\n");
  run("mcopy -n -i " + img + " '::Long Name With Spaces.bin' " + (t.path / "out.bin").string());
  const auto out = load(t.path / "out.bin");
  EXPECT_EQ(std::string(out.begin(), out.end()), big);
  if (have("fsck.fat")) run("fsck.fat -n " + img + " >/dev/null");
}

TEST(FatMtools, MtoolsFilesReadInEspat) {
  if (!have("mcopy") || !have("mkfs.fat")) GTEST_SKIP() << "needs mtools and dosfstools (scripts/install-deps.sh)";
  TempDir t;
  const std::string img = (t.path / "mk.img").string();
  // The logical size of the fatfs partition, with the wear-levelled volume's 4 KiB sectors.
  run("mkfs.fat -C -S 4096 -s 1 -f 2 " + img + " 560 >/dev/null");
  save(t.path / "in.txt", std::vector<std::uint8_t>{'m', 't', 'o', 'o', 'l', 's'});
  run("mcopy -i " + img + " " + (t.path / "in.txt").string() + " ::short.txt");
  run("mcopy -i " + img + " " + (t.path / "in.txt").string() + " '::A much longer name.text'");
  MemoryRegion r(load(img));
  std::string why;
  auto v = fat::Volume::mount(r, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(names(*v), (std::vector<std::string>{"short.txt", "A much longer name.text"}));
  EXPECT_EQ(read_all(*v, "A much longer name.text"), "mtools");
  // And back: espat's write into the mtools volume is one mtools reads.
  ASSERT_EQ(v->write("short.txt", 6, bytes("+espat")), fat::Error::None);
  save(img, r.bytes());
  EXPECT_EQ(run("mtype -i " + img + " ::short.txt"), "mtools+espat");
  if (have("fsck.fat")) run("fsck.fat -n " + img + " >/dev/null");
}
