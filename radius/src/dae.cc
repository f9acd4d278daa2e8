// RFC 5176 Disconnect-Request / CoA-Request in, ACK/NAK out.
#include "pptpkit/radius/dae.hpp"

namespace pptpkit::radius {

const char* to_string(dae_error e) noexcept {
  switch (e) {
    case dae_error::unknown_client:
      return "not from a configured DAE client";
    case dae_error::malformed:
      return "malformed packet";
    case dae_error::not_a_request:
      return "not a Disconnect-Request or CoA-Request";
    case dae_error::bad_authenticator:
      return "bad request authenticator";
    case dae_error::missing_message_authenticator:
      return "no Message-Authenticator";
    case dae_error::bad_message_authenticator:
      return "bad Message-Authenticator";
  }
  return "?";
}

std::variant<dae_request, dae_error> parse_dae_request(std::span<const std::uint8_t> bytes, std::uint32_t from_address,
                                                       std::span<const dae_client> clients) {
  std::size_t client = clients.size();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (clients[i].address == from_address) {
      client = i;
      break;
    }
  }
  if (client == clients.size()) {
    return dae_error::unknown_client;  // RFC 5176 §5.1: silently discarded
  }
  const auto v = parse(bytes);
  if (!v) {
    return dae_error::malformed;
  }
  if (v->packet_code() != code::disconnect_request && v->packet_code() != code::coa_request) {
    return dae_error::not_a_request;
  }
  switch (verify_request(*v, clients[client].secret)) {
    case verdict::ok:
      break;
    case verdict::bad_authenticator:
      return dae_error::bad_authenticator;
    case verdict::missing_message_authenticator:
      return dae_error::missing_message_authenticator;
    case verdict::bad_message_authenticator:
      return dae_error::bad_message_authenticator;
  }
  dae_request r;
  r.what = v->packet_code();
  r.identifier = v->identifier();
  r.request_authenticator = v->header_authenticator();
  r.client = client;
  auto unsupported = [&r](std::uint8_t type) {
    if (!r.has_unsupported_attribute) {
      r.has_unsupported_attribute = true;
      r.unsupported_attribute = type;
    }
  };
  auto u32 = [&](std::optional<std::uint32_t>& field, const attribute_view& a) {
    if (const auto x = value_u32(a.value)) {
      field = *x;
    } else {
      unsupported(a.type);
    }
  };
  const bool coa = r.what == code::coa_request;
  for (const attribute_view a : *v) {
    switch (a.type) {
      case attr::acct_session_id:
        r.acct_session_id = value_string(a.value);
        break;
      case attr::user_name:
        r.user_name = value_string(a.value);
        break;
      case attr::framed_ip_address:
        u32(r.framed_ip, a);
        break;
      case attr::nas_ip_address:
        u32(r.nas_ip_address, a);
        break;
      case attr::nas_identifier:
        r.nas_identifier = value_string(a.value);
        break;
      case attr::event_timestamp:
        u32(r.event_timestamp, a);
        break;
      case attr::proxy_state:
        r.proxy_states.emplace_back(a.value.begin(), a.value.end());
        break;
      case attr::message_authenticator:
      case attr::calling_station_id:  // identification we accept and do not need
      case attr::called_station_id:
      case attr::nas_port:
      case attr::nas_port_id:
      case attr::nas_port_type:
        break;
      case attr::session_timeout:
        if (coa) {
          u32(r.session_timeout, a);
        } else {
          unsupported(a.type);
        }
        break;
      case attr::idle_timeout:
        if (coa) {
          u32(r.idle_timeout, a);
        } else {
          unsupported(a.type);
        }
        break;
      default:
        unsupported(a.type);
        break;
    }
  }
  return r;
}

std::vector<std::uint8_t> build_dae_reply(const dae_request& request, bool ack,
                                          std::optional<std::uint32_t> error_cause, std::string_view secret) {
  code c;
  if (request.what == code::coa_request) {
    c = ack ? code::coa_ack : code::coa_nak;
  } else {
    c = ack ? code::disconnect_ack : code::disconnect_nak;
  }
  packet_builder b(c, request.identifier);
  if (error_cause) {
    b.add_u32(attr::error_cause, *error_cause);
  }
  for (const auto& p : request.proxy_states) {
    if (!b.add(attr::proxy_state, p)) {
      break;  // cannot happen: the request that carried them fit in 4096 octets
    }
  }
  return b.finish_response(secret, request.request_authenticator);
}

}  // namespace pptpkit::radius
