// The `control` plugin's descriptor and function table (pptpkit/control.h, pptpkit/plugin.h).
#include "pptpkit/control/plugin.hpp"

#include "pptpkit/control.h"
#include "pptpkit/control/engine.hpp"
#include "pptpkit/core/plugin_shim.hpp"

namespace pptpkit::control {

namespace {

const void* get_extension(const char* id) noexcept {
  (void)id;  // no extension interface yet: every id is unknown (STYLE A9)
  return nullptr;
}

}  // namespace

const pptpkit_plugin_descriptor& plugin_descriptor() noexcept {
  static const pptpkit_plugin_ops ops = core::make_ops<engine>();
  static const pptpkit_plugin_descriptor d =
      core::make_descriptor(PPTPKIT_KIND_CONTROL, "pptp-control", "0.1.0", &ops, &get_extension);
  return d;
}

}  // namespace pptpkit::control
