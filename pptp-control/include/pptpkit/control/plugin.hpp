// pptpkit/control/plugin.hpp — the `control` plugin's descriptor (kind PPTPKIT_KIND_CONTROL,
// name "pptp-control"), for the module's entry point and for tests that drive the engine through the
// C function table without loading the module.
#pragma once

#include "pptpkit/plugin.h"

namespace pptpkit::control {

// A static descriptor, valid for the life of the program (or the loaded module).
const pptpkit_plugin_descriptor& plugin_descriptor() noexcept;

}  // namespace pptpkit::control
