#include "pptpkit/host_bsd/cli_options.hpp"

#include <string_view>

namespace pptpkit::host_bsd {

bool take_capture_option(std::vector<char*>& args, const char* env_value, capture_options& out, std::string& error) {
  const std::string_view flag = "--capture";
  std::string value;
  bool given = false;
  std::vector<char*> kept;
  kept.reserve(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i] == nullptr ? std::string_view() : std::string_view(args[i]);
    if (i > 0 && a == flag) {
      if (i + 1 >= args.size() || args[i + 1] == nullptr) {
        error = "--capture needs a value: raw, divert or divert:PORT";
        return false;
      }
      value = args[++i];
      given = true;
    } else if (i > 0 && a.starts_with("--capture=")) {
      value = std::string(a.substr(flag.size() + 1));
      given = true;
    } else {
      kept.push_back(args[i]);
    }
  }
  args = std::move(kept);
  if (!given) {
    if (env_value == nullptr) {
      out = capture_options{};
      return true;
    }
    value = env_value;
  }
  return parse_capture(value, out, error);
}

std::string default_plugin_dir(bsd_sys& sys, const std::string& argv0) {
  std::string program = sys.executable_path();
  if (program.empty()) {
    program = argv0;
  }
  const auto slash = program.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : program.substr(0, slash);
  const std::string installed = dir + "/../lib/pptpkit";
  return sys.exists(installed) ? installed : dir + "/../plugins";
}

}  // namespace pptpkit::host_bsd
