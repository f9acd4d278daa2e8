// Fuzzes what the NAS side parses from the operator's files and from RADIUS: the RADIUS secrets file,
// --filter overrides, and Framed-Route / Framed-IP-Netmask: any input parses or throws parse_error;
// nothing else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/runtime/radius_nas.hpp"
#include "pptpkit/runtime/secrets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto s = pptpkit::runtime::parse_radius_secrets(text, "fuzz");
    (void)s.find(0x7f000001);
  } catch (const pptpkit::runtime::parse_error&) {
  }
  try {
    (void)pptpkit::runtime::parse_filter_override(text);
  } catch (const pptpkit::runtime::parse_error&) {
  }
  std::vector<std::string> refused;
  const std::uint32_t mask = size >= 4 ? (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
                                             (std::uint32_t{data[2]} << 8) | data[3]
                                       : 0xffffff00u;
  (void)pptpkit::runtime::routed_subnets(0x0a000001, mask, {std::string(text)}, refused);
  return 0;
}
