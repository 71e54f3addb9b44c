// Spec 3.8, FileSystem AT Commands: AT+FS and AT+FSMOUNT on the `fatfs` partition.
#pragma once
#include "at/command.hpp"

namespace espat::commands {
at::Family fs_family();
}
