// libFuzzer target: the enhanced GRE header decoder (RFC 2637 §4.1) on arbitrary bytes.
// Property: decode never reads past the input, and whatever it accepts re-encodes to the same bytes
// (the accepted form is canonical: every optional or reserved bit it allows, encode writes).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "pptpkit/gre/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pptpkit::gre;
  header_info h;
  if (decode(std::span<const std::uint8_t>(data, size), h) != verdict::ok) {
    return 0;
  }
  if (h.header_length + h.payload_length != size) {
    std::abort();
  }
  static std::uint8_t buffer[max_length + max_payload];
  pptpkit_packet p{};
  p.base = buffer;
  p.capacity = sizeof buffer;
  p.offset = max_length;
  p.length = h.payload_length;
  std::memcpy(buffer + p.offset, data + h.header_length, h.payload_length);
  encode_params e;
  e.peer_call_id = h.call_id;
  e.has_sequence = h.has_sequence;
  e.sequence = h.sequence;
  e.has_ack = h.has_ack;
  e.ack = h.ack;
  if (!encode(p, e) || p.length != size || std::memcmp(buffer + p.offset, data, size) != 0) {
    std::abort();
  }
  return 0;
}
