// The gre-tunnel module's one exported symbol.
#include "pptpkit/gre/tunnel.hpp"

PPTPKIT_EXPORT_PLUGIN(pptpkit::gre::plugin_descriptor)
