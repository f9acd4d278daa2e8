// libFuzzer target: the RADIUS parser and verifiers on arbitrary bytes (RFC 2865 §3, RFC 3579 §3.2,
// RFC 5176). Properties: parse never reads past the input; whatever it accepts iterates (attributes
// and vendor sub-attributes) within the packet; verify_response, verify_request, parse_authorization
// and parse_dae_request never crash. The corpus is signed with the secret and request authenticator
// used here, so mutations start from packets that pass verification and reach the attribute parsers.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "pptpkit/radius/accept.hpp"
#include "pptpkit/radius/dae.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pptpkit::radius;
  const std::span<const std::uint8_t> bytes(data, size);
  const dae_client clients[] = {{0x0a000001, "fuzz"}};
  (void)parse_dae_request(bytes, 0x0a000001, clients);
  const auto v = parse(bytes);
  if (!v) {
    return 0;
  }
  const std::uint8_t* begin = v->bytes().data();
  const std::uint8_t* end = begin + v->bytes().size();
  if (v->bytes().size() < header_length || v->bytes().size() > max_packet_length || v->bytes().size() > size) {
    std::abort();
  }
  for (const attribute_view a : *v) {
    if (a.value.data() < begin || a.value.data() + a.value.size() > end) {
      std::abort();
    }
  }
  for (const vendor_attribute_view& a : v->vendor_attributes()) {
    if (a.value.data() < begin || a.value.data() + a.value.size() > end) {
      std::abort();
    }
  }
  // The RFC 2865 §7.1 request authenticator, as corpus_test.cc uses.
  const authenticator request_auth = {0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
                                      0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a};
  (void)verify_response(*v, request_auth, "fuzz");
  (void)verify_request(*v, "fuzz");
  const authorization a = parse_authorization(*v, "fuzz", request_auth);
  if (a.mschap2_success.size() > 42) {
    std::abort();
  }
  return 0;
}
