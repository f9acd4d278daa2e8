// packet_builder: attributes in, finished (authenticated) packets out. RFC 2865 §3/§5, RFC 2866 §3,
// RFC 2869 §5.14, RFC 3579 §3.2, RFC 5176 §3.5.
#include <cassert>
#include <cstring>

#include "hash.hpp"
#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {

packet_builder::packet_builder(code c, std::uint8_t identifier) {
  bytes_.reserve(256);
  bytes_.resize(header_length, 0);
  bytes_[0] = static_cast<std::uint8_t>(c);
  bytes_[1] = identifier;
}

bool packet_builder::fits(std::size_t more) const noexcept {
  return bytes_.size() + more + message_authenticator_length <= max_packet_length;
}

void packet_builder::put(std::uint8_t type, std::span<const std::uint8_t> value) {
  bytes_.push_back(type);
  bytes_.push_back(static_cast<std::uint8_t>(value.size() + 2));
  bytes_.insert(bytes_.end(), value.begin(), value.end());
}

bool packet_builder::add(std::uint8_t type, std::span<const std::uint8_t> value) {
  assert(type != attr::message_authenticator && "finish_*() adds the Message-Authenticator");
  if (value.empty()) {
    return false;  // RFC 2865 §5: a value is at least one octet
  }
  const std::size_t pieces = (value.size() + max_attribute_value - 1) / max_attribute_value;
  if (!fits(value.size() + 2 * pieces)) {
    return false;
  }
  for (std::size_t at = 0; at < value.size(); at += max_attribute_value) {
    put(type, value.subspan(at, std::min(max_attribute_value, value.size() - at)));
  }
  return true;
}

bool packet_builder::add_string(std::uint8_t type, std::string_view value) {
  return add(type, std::span<const std::uint8_t>(detail::u8(value), value.size()));
}

bool packet_builder::add_u32(std::uint8_t type, std::uint32_t value) {
  const std::uint8_t be[4] = {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                              static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  return add(type, be);
}

bool packet_builder::add_ipv4(std::uint8_t type, std::uint32_t address_host_order) {
  return add_u32(type, address_host_order);  // RFC 2865 §5: an address is 4 octets, network order
}

bool packet_builder::add_vendor(std::uint32_t vendor, std::uint8_t subtype, std::span<const std::uint8_t> value) {
  if (value.empty() || value.size() > max_vendor_value || !fits(2 + vendor_header_length + value.size())) {
    return false;
  }
  bytes_.push_back(attr::vendor_specific);
  bytes_.push_back(static_cast<std::uint8_t>(2 + vendor_header_length + value.size()));
  bytes_.push_back(static_cast<std::uint8_t>(vendor >> 24));
  bytes_.push_back(static_cast<std::uint8_t>(vendor >> 16));
  bytes_.push_back(static_cast<std::uint8_t>(vendor >> 8));
  bytes_.push_back(static_cast<std::uint8_t>(vendor));
  bytes_.push_back(subtype);
  bytes_.push_back(static_cast<std::uint8_t>(2 + value.size()));
  bytes_.insert(bytes_.end(), value.begin(), value.end());
  return true;
}

// The packet with its final length, `header_auth` in the header and a Message-Authenticator computed
// over exactly that (RFC 2869 §5.14: HMAC-MD5 keyed with the secret, the attribute's value taken as 16
// zero octets while it is computed).
std::vector<std::uint8_t> packet_builder::with_message_authenticator(const authenticator& header_auth) const {
  std::vector<std::uint8_t> out;
  out.reserve(bytes_.size() + message_authenticator_length);
  out = bytes_;
  out.push_back(attr::message_authenticator);
  out.push_back(static_cast<std::uint8_t>(message_authenticator_length));
  out.resize(out.size() + 16, 0);
  out[2] = static_cast<std::uint8_t>(out.size() >> 8);
  out[3] = static_cast<std::uint8_t>(out.size());
  std::memcpy(out.data() + 4, header_auth.data(), header_auth.size());
  return out;
}

namespace {

void sign(std::vector<std::uint8_t>& packet, std::string_view secret) {
  const authenticator mac = detail::hmac_md5(secret, packet);
  std::memcpy(packet.data() + packet.size() - 16, mac.data(), mac.size());
}

}  // namespace

std::vector<std::uint8_t> packet_builder::finish_access_request(std::string_view secret,
                                                                const authenticator& request_auth) const {
  std::vector<std::uint8_t> out = with_message_authenticator(request_auth);
  sign(out, secret);
  return out;
}

std::vector<std::uint8_t> packet_builder::finish_accounting_request(std::string_view secret) const {
  // RFC 5176 §3.5 (and RFC 2866 §3 for the authenticator): zeros in the header for the HMAC, then the
  // request authenticator over the signed packet with zeros still in the header.
  std::vector<std::uint8_t> out = with_message_authenticator(authenticator{});
  sign(out, secret);
  const authenticator request_auth = detail::md5().update(out).update(secret).digest();
  std::memcpy(out.data() + 4, request_auth.data(), request_auth.size());
  return out;
}

std::vector<std::uint8_t> packet_builder::finish_response(std::string_view secret,
                                                          const authenticator& request_auth) const {
  // RFC 2869 §5.14: the reply's Message-Authenticator uses the request authenticator; RFC 2865 §3: the
  // response authenticator = MD5(Code|ID|Length|RequestAuth|Attributes|Secret), over the signed packet.
  std::vector<std::uint8_t> out = with_message_authenticator(request_auth);
  sign(out, secret);
  const authenticator response_auth = detail::md5().update(out).update(secret).digest();
  std::memcpy(out.data() + 4, response_auth.data(), response_auth.size());
  return out;
}

}  // namespace pptpkit::radius
