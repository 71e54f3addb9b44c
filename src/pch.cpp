// The translation unit that compiles pch.hpp (CMakeLists.txt: espat_pch).
