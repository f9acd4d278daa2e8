// pptpkit/host_bsd/cli_options.hpp — what host-bsd's main() decides before handing over to cli_main.
//
// The command line and config are the runtime's (same CLI as host-linux). host-bsd adds one option of
// its own, the GRE capture path, which main() takes out of argv before the runtime parses it:
//   --capture raw | divert | divert:PORT     (or --capture=...; default raw, or $PPTPKIT_CAPTURE)
#pragma once

#include <string>
#include <vector>

#include "pptpkit/host_bsd/bsd_sys.hpp"
#include "pptpkit/host_bsd/gre.hpp"

namespace pptpkit::host_bsd {

// Removes every --capture option from args (args[0] is the program) and parses the last one; without
// one, parses env_value when it is not null. False + error when a value is missing or malformed.
bool take_capture_option(std::vector<char*>& args, const char* env_value, capture_options& out, std::string& error);

// Where the plugin modules are: <dir of the program>/../lib/pptpkit when installed, else the build
// tree's <dir>/../plugins (bin/pptpkit next to plugins/). The program's path comes from the kernel, or
// from argv0 when the OS cannot say.
std::string default_plugin_dir(bsd_sys& sys, const std::string& argv0);

}  // namespace pptpkit::host_bsd
