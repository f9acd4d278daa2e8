#include "pptpkit/gre/header.hpp"

namespace pptpkit::gre {

verdict decode(std::span<const std::uint8_t> bytes, header_info& out) noexcept {
  const fixed_header* h = core::view<fixed_header>(bytes);
  if (h == nullptr) {
    return verdict::reject_too_short;
  }
  const std::uint8_t flags = h->flags.value();
  const std::uint8_t ack_version = h->ack_version.value();
  // RFC 2637 §4.1: the checks in header order, so the first wrong field names the reason.
  if ((ack_version & version_mask) != version) {
    return verdict::reject_version;
  }
  if (h->protocol.value() != protocol_ppp) {
    return verdict::reject_protocol;
  }
  if ((flags & flag_key) == 0) {
    return verdict::reject_no_key;
  }
  if ((flags & flag_checksum) != 0) {
    return verdict::reject_checksum;
  }
  if ((flags & flag_routing) != 0) {
    return verdict::reject_routing;
  }
  if ((flags & flag_strict_route) != 0) {
    return verdict::reject_strict_route;
  }
  if ((flags & recursion_mask) != 0) {
    return verdict::reject_recursion;
  }
  if ((ack_version & reserved_flags_mask) != 0) {
    return verdict::reject_reserved_flags;
  }
  out.has_sequence = (flags & flag_sequence) != 0;
  out.has_ack = (ack_version & flag_ack) != 0;
  out.header_length = header_length(out.has_sequence, out.has_ack);
  if (bytes.size() < out.header_length) {
    return verdict::reject_too_short;
  }
  out.call_id = h->call_id.value();
  out.payload_length = h->payload_length.value();
  const std::size_t present = bytes.size() - out.header_length;
  if (out.payload_length > present) {
    return verdict::reject_truncated;
  }
  if (out.payload_length < present) {
    return verdict::reject_trailing;
  }
  std::span<const std::uint8_t> rest = bytes.subspan(fixed_length);
  if (out.has_sequence) {
    out.sequence = core::view<number_field>(rest)->value.value();
    rest = rest.subspan(sizeof(number_field));
  }
  if (out.has_ack) {
    out.ack = core::view<number_field>(rest)->value.value();
  }
  if (out.payload_length != 0 && !out.has_sequence) {
    return verdict::reject_payload_without_sequence;
  }
  if (out.payload_length == 0 && out.has_sequence) {
    return verdict::reject_sequence_without_payload;
  }
  if (out.payload_length == 0 && !out.has_ack) {
    return verdict::reject_empty;
  }
  return verdict::ok;
}

bool encode(pptpkit_packet& p, const encode_params& params) noexcept {
  if (p.length > max_payload) {
    return false;
  }
  const std::uint32_t n = header_length(params.has_sequence, params.has_ack);
  const auto payload_length = static_cast<std::uint16_t>(p.length);
  std::uint8_t* at = core::push(p, n);
  if (at == nullptr) {
    return false;
  }
  auto* h = reinterpret_cast<fixed_header*>(at);
  h->flags = static_cast<std::uint8_t>(flag_key | (params.has_sequence ? flag_sequence : 0));
  h->ack_version = static_cast<std::uint8_t>(version | (params.has_ack ? flag_ack : 0));
  h->protocol = protocol_ppp;
  h->payload_length = payload_length;
  h->call_id = params.peer_call_id;
  auto* field = reinterpret_cast<number_field*>(at + fixed_length);
  if (params.has_sequence) {
    field->value = params.sequence;
    ++field;
  }
  if (params.has_ack) {
    field->value = params.ack;
  }
  return true;
}

}  // namespace pptpkit::gre
