// pptpkit for FreeBSD and OpenBSD: the same daemon and CLI as on Linux (runtime::cli_main) on the BSD
// platform. main() only takes host-bsd's --capture option, creates the platform and hands over.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "pptpkit/host_bsd/bsd_platform.hpp"
#include "pptpkit/host_bsd/cli_options.hpp"
#include "pptpkit/runtime/cli.hpp"

int main(int argc, char** argv) {
  using namespace pptpkit::host_bsd;
  std::vector<char*> args(argv, argv + argc);
  platform_options options;
  std::string error;
  if (!take_capture_option(args, std::getenv("PPTPKIT_CAPTURE"), options.capture, error)) {
    std::fprintf(stderr, "pptpkit: %s\n", error.c_str());
    return 2;
  }
  std::unique_ptr<bsd_sys> sys = create_native_sys();
  const std::string plugin_dir = default_plugin_dir(*sys, argc > 0 ? argv[0] : "pptpkit");
  std::unique_ptr<bsd_platform> platform;
  try {
    platform = bsd_platform::create(std::move(sys), options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pptpkit: %s\n", e.what());
    return 1;
  }
  const int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  return pptpkit::runtime::cli_main(count, args.data(), *platform, plugin_dir);
}
