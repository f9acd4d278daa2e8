// Fuzzes the "key value" config parser and the address/CIDR parsers it feeds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pptpkit/runtime/secrets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& [key, value] : pptpkit::runtime::parse_config(text, "fuzz")) {
      (void)pptpkit::runtime::parse_ipv4(value);
      try {
        (void)pptpkit::runtime::parse_cidr(value);
      } catch (const pptpkit::runtime::parse_error&) {
      }
    }
  } catch (const pptpkit::runtime::parse_error&) {
  }
  return 0;
}
