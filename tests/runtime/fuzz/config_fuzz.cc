// Fuzzes the "key value" config parser, the address/CIDR parsers it feeds, and the daemon's option
// parser (the input split at NUL bytes into arguments): any input parses or throws the parser's
// error type; nothing else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/runtime/options.hpp"
#include "pptpkit/runtime/secrets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pptpkit::runtime;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& [key, value] : parse_config(text, "fuzz")) {
      (void)parse_ipv4(value);
      try {
        (void)parse_cidr(value);
      } catch (const parse_error&) {
      }
    }
  } catch (const parse_error&) {
  }
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start <= text.size() && args.size() < 64) {
    const std::size_t nul = text.find('\0', start);
    std::string arg(text.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
    if (arg.find("config") != std::string::npos || arg.find("password-file") != std::string::npos) {
      return 0;  // these read files named by the input: not for a fuzzer
    }
    args.push_back(std::move(arg));
    if (nul == std::string_view::npos) {
      break;
    }
    start = nul + 1;
  }
  for (daemon_mode mode : {daemon_mode::server, daemon_mode::client}) {
    try {
      (void)parse_daemon_options(mode, args, (size & 1) != 0 ? "pw" : nullptr, "plugins");
    } catch (const option_error&) {
    }
  }
  return 0;
}
