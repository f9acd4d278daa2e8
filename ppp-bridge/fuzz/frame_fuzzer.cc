// libFuzzer target: every parser of received bytes — the frame header, the control header, option
// lists and MS-CHAPv2 failure text. None may read past the input or accept an inconsistent length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "pptpkit/ppp/auth.hpp"
#include "pptpkit/ppp/lcp.hpp"
#include "pptpkit/ppp/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pptpkit::ppp;
  const std::span<const std::uint8_t> in(data, size);
  if (const auto h = parse_frame_header(in)) {
    if (h->size > size || (h->protocol & 1u) == 0) {
      std::abort();
    }
    if (const auto c = parse_control(in.subspan(h->size))) {
      if (c->data.size() + control_header_size > size - h->size) {
        std::abort();
      }
      std::size_t seen = 0;
      for_each_option(c->data, [&](std::uint8_t, std::span<const std::uint8_t> v) {
        seen += v.size() + 2;
        if (seen > c->data.size()) {
          std::abort();
        }
        (void)decode_auth_option(v);
      });
    }
  }
  (void)parse_mschap_failure(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
