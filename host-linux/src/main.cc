// main.cc — the `pptpkit` executable: the Linux platform under the runtime's command line.
#include <cstdio>
#include <exception>

#include "pptpkit/host_linux/linux_platform.hpp"
#include "pptpkit/runtime/cli.hpp"

int main(int argc, char** argv) {
  try {
    auto platform = pptpkit::host_linux::linux_platform::create();
    return pptpkit::runtime::cli_main(argc, argv, *platform, pptpkit::host_linux::default_plugin_dir());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pptpkit: %s\n", e.what());
    return 1;
  }
}
