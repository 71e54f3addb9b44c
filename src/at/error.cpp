#include "at/error.hpp"

#include <fmt/format.h>

namespace espat::at {
std::string ErrCode::line() const { return fmt::format("ERR CODE:0x{:08x}\r\n", value); }
}
