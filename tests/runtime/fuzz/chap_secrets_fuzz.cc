// Fuzzes pppd chap-secrets parsing, lookups and address policies: any input parses or throws
// parse_error; nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pptpkit/runtime/secrets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto s = pptpkit::runtime::chap_secrets::parse(text, "fuzz");
    for (const auto& e : s.entries()) {
      (void)s.find(e.client, e.server);
      (void)pptpkit::runtime::chap_secrets::addresses_of(e);
    }
    (void)s.find("alice", "pptpkit");
  } catch (const pptpkit::runtime::parse_error&) {
  }
  try {
    (void)pptpkit::runtime::parse_ranges(text);
  } catch (const pptpkit::runtime::parse_error&) {
  }
  return 0;
}
