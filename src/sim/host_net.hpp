// The host's own network, for the host network model (BRIEF "Network model"): an AP marked
// host_network gives its stations the address of the host's interface toward its default route,
// so a Linux board used as an AT co-processor reaches real servers from its real address.
#pragma once
#include <optional>

#include "sim/world.hpp"

namespace espat::sim {

// The lease such an AP hands out: the interface of the default route (else the first IPv4
// interface that is up and not loopback), its netmask, the default gateway and the resolvers
// of /etc/resolv.conf. nullopt when the host has no such interface.
std::optional<Lease> host_lease();

}  // namespace espat::sim
