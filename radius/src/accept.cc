// parse_authorization: the attributes of an Access-Accept/-Challenge/-Reject as named fields.
#include "pptpkit/radius/accept.hpp"

#include <algorithm>

namespace pptpkit::radius {

namespace {

void take_u32(std::optional<std::uint32_t>& field, std::span<const std::uint8_t> value, std::uint32_t& ignored) {
  if (const auto v = value_u32(value)) {
    field = *v;
  } else {
    ++ignored;
  }
}

// RFC 2548 §2.4.2/§2.4.3: the decrypted key's first 16 octets are the MPPE key. Servers send a 16-octet
// key (MS-CHAPv2) or 32 octets; both are accepted.
void take_key(std::optional<std::array<std::uint8_t, 16>>& field, std::span<const std::uint8_t> value,
              std::string_view secret, const authenticator& request_auth, std::uint32_t& ignored) {
  const auto plain = salt_decrypt(value, secret, request_auth);
  if (!plain || (plain->size() != 16 && plain->size() != 32)) {
    ++ignored;
    return;
  }
  std::array<std::uint8_t, 16> key;
  std::copy_n(plain->begin(), key.size(), key.begin());
  field = key;
}

}  // namespace

authorization parse_authorization(const packet_view& reply, std::string_view secret,
                                  const authenticator& request_authenticator) {
  authorization a;
  for (const attribute_view at : reply) {
    switch (at.type) {
      case attr::framed_ip_address:
        take_u32(a.framed_ip, at.value, a.ignored);
        break;
      case attr::framed_ip_netmask:
        take_u32(a.framed_netmask, at.value, a.ignored);
        break;
      case attr::framed_pool:
        a.framed_pool = value_string(at.value);
        break;
      case attr::framed_route:
        a.framed_routes.push_back(value_string(at.value));
        break;
      case attr::session_timeout:
        take_u32(a.session_timeout, at.value, a.ignored);
        break;
      case attr::idle_timeout:
        take_u32(a.idle_timeout, at.value, a.ignored);
        break;
      case attr::acct_interim_interval:
        take_u32(a.interim_interval, at.value, a.ignored);
        break;
      case attr::framed_mtu:
        take_u32(a.framed_mtu, at.value, a.ignored);
        break;
      case attr::class_:
        a.classes.emplace_back(at.value.begin(), at.value.end());
        break;
      case attr::filter_id:
        a.filter_ids.push_back(value_string(at.value));
        break;
      case attr::reply_message:
        a.reply_message += value_string(at.value);
        break;
      case attr::eap_message:
        a.eap_message.insert(a.eap_message.end(), at.value.begin(), at.value.end());
        break;
      case attr::state:
        a.state.assign(at.value.begin(), at.value.end());
        break;
      default:
        break;
    }
  }
  for (const vendor_attribute_view& v : reply.vendor_attributes()) {
    if (v.vendor != ms::vendor_id) {
      continue;
    }
    switch (v.type) {
      case ms::mppe_encryption_policy:
        take_u32(a.mppe_policy, v.value, a.ignored);
        break;
      case ms::mppe_encryption_types:
        take_u32(a.mppe_types, v.value, a.ignored);
        break;
      case ms::primary_dns_server:
        take_u32(a.dns1, v.value, a.ignored);
        break;
      case ms::secondary_dns_server:
        take_u32(a.dns2, v.value, a.ignored);
        break;
      case ms::mppe_send_key:
        take_key(a.mppe_send_key, v.value, secret, request_authenticator, a.ignored);
        break;
      case ms::mppe_recv_key:
        take_key(a.mppe_recv_key, v.value, secret, request_authenticator, a.ignored);
        break;
      case ms::chap2_success:
        // RFC 2548 §2.3.3 as used by MS-CHAPv2 (RFC 2759 §5): Ident, then "S=" and 40 hex digits.
        if (v.value.size() >= 43 && v.value[1] == 'S' && v.value[2] == '=') {
          a.mschap2_success = value_string(v.value.subspan(1, 42));
        } else {
          ++a.ignored;
        }
        break;
      case ms::chap_error:
        // RFC 2548 §2.1.5: Ident, then the text ("E=691 R=0 ...").
        if (v.value.size() >= 2) {
          a.mschap_error = value_string(v.value.subspan(1));
        } else {
          ++a.ignored;
        }
        break;
      default:
        break;
    }
  }
  return a;
}

}  // namespace pptpkit::radius
