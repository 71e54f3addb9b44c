// The vectors (bins made by Espressif's own tools) and the guide's command list are not in the
// repository: they are read from ../shared/vectors and ../shared/spec beside it. A test that
// needs them is registered all the same, so the test list never depends on what the build
// machine had, and skips with a message naming the missing folder.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace espat_test {

inline bool folder_present(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec);
}

inline std::string shown(const std::string& dir) { return std::filesystem::path(dir).lexically_normal().string(); }

// ../shared/spec, worked out without going through ../shared/vectors (which may be missing).
inline std::string spec_dir() { return (std::filesystem::path(ESPAT_VECTORS_DIR).parent_path() / "spec").string(); }

}  // namespace espat_test

// At the top of a test body or a fixture's SetUp(): skips the test when `dir` is missing.
#define ESPAT_REQUIRE_FOLDER(dir, what)                                                          \
  if (::espat_test::folder_present(dir)) {                                                       \
  } else                                                                                         \
    GTEST_SKIP() << "needs " what " (" << ::espat_test::shown(dir) << "), which is not there; " \
                 << "it is kept outside the repository, beside it"

#define REQUIRE_VECTORS() \
  ESPAT_REQUIRE_FOLDER(ESPAT_VECTORS_DIR, "../shared/vectors, the files made by Espressif's own tools")

#define REQUIRE_SPEC() ESPAT_REQUIRE_FOLDER(::espat_test::spec_dir(), "../shared/spec, the guide's text")
