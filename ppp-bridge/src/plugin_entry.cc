// The ppp-bridge module's one exported symbol.
#include "pptpkit/ppp/plugin.hpp"

PPTPKIT_EXPORT_PLUGIN(pptpkit::ppp::ppp_descriptor)
