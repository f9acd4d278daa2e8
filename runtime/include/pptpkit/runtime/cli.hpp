// pptpkit/runtime/cli.hpp — the `pptpkit` command line, shared by every host.
//
// A host's main() creates its platform (which installs the signal handling take_signals() reports)
// and calls cli_main. Subcommands:
//   pptpkit server [options]   the PAC (pptpd + pppd)       — runs until SIGTERM
//   pptpkit client [options]   the PNS (pptp-linux + pppd)  — runs until the session ends (or forever
//                                                            with --persist)
//   pptpkit status [--status-socket PATH]   prints a running server's sessions
//   pptpkit --help
// Usage errors print one line naming the option and the value to stderr and return 2; a daemon that
// cannot start returns 1; see options.hpp for the options and engine.hpp for what runs.
#pragma once

#include <string>

#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::runtime {

// Runs `pptpkit server|client|status|--help ...`; returns the process exit status.
int cli_main(int argc, char** argv, platform& p, const std::string& default_plugin_dir);

}  // namespace pptpkit::runtime
