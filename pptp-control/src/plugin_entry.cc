// The one symbol the pptp-control module exports: pptpkit_plugin_query (pptpkit/plugin.h).
#include "pptpkit/control/plugin.hpp"
#include "pptpkit/core/plugin_shim.hpp"

PPTPKIT_EXPORT_PLUGIN(pptpkit::control::plugin_descriptor)
