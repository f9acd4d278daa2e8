#include "pptpkit/runtime/radius_nas.hpp"

#include <cstdio>

#include "pptpkit/ppp.h"
#include "pptpkit/radius/codec.hpp"
#include "pptpkit/runtime/secrets.hpp"

namespace pptpkit::runtime {

namespace {

using radius::attribute;

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<std::uint8_t> u32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

void add(std::vector<attribute>& out, std::uint8_t type, std::vector<std::uint8_t> value) {
  out.push_back({0, type, std::move(value)});
}

void add_ms(std::vector<attribute>& out, std::uint8_t type, std::vector<std::uint8_t> value) {
  out.push_back({radius::ms::vendor_id, type, std::move(value)});
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

const std::string* radius_secrets::find(std::uint32_t address) const {
  if (const auto it = by_address.find(address); it != by_address.end()) {
    return &it->second;
  }
  return shared.empty() ? nullptr : &shared;
}

radius_secrets parse_radius_secrets(std::string_view text, const std::string& path) {
  radius_secrets out;
  std::uint32_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const std::size_t blank = line.find_first_of(" \t");
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (blank == std::string_view::npos) {
      if (!out.shared.empty()) {
        throw parse_error(where + "a second shared secret (one line SECRET, or ADDR SECRET lines)");
      }
      out.shared = std::string(line);
      continue;
    }
    const auto address = parse_ipv4(std::string(line.substr(0, blank)));
    const std::string_view secret = trim(line.substr(blank));
    if (!address || secret.empty() || secret.find_first_of(" \t") != std::string_view::npos) {
      throw parse_error(where + "expected SECRET or ADDR SECRET (a secret has no blanks)");
    }
    out.by_address[*address] = std::string(secret);
  }
  if (out.shared.empty() && out.by_address.empty()) {
    throw parse_error(path + ": no secret in the file");
  }
  return out;
}

void add_session_attributes(std::vector<attribute>& out, const nas_identity& nas, const nas_session& s,
                            std::string_view user) {
  namespace a = radius::attr;
  add(out, a::user_name, bytes_of(user));
  if (nas.address != 0) {
    add(out, a::nas_ip_address, u32(nas.address));
  }
  add(out, a::nas_identifier, bytes_of(nas.identifier));
  add(out, a::nas_port, u32(s.port));
  add(out, a::nas_port_type, u32(radius::nas_port_type_virtual));
  add(out, a::service_type, u32(radius::service_type_framed));
  add(out, a::framed_protocol, u32(radius::framed_protocol_ppp));
  add(out, a::calling_station_id, bytes_of(format_ipv4(s.peer_address)));
  if (s.our_address != 0) {
    add(out, a::called_station_id, bytes_of(format_ipv4(s.our_address)));
  }
  // RFC 2868 §3.1-3.2: tagged integers (tag 0, then 24 bits); the endpoints are dotted quads, whose
  // first character can never be read as a tag.
  add(out, a::tunnel_type, u32(radius::tunnel_type_pptp));
  add(out, a::tunnel_medium_type, u32(radius::tunnel_medium_ipv4));
  add(out, a::tunnel_client_endpoint, bytes_of(format_ipv4(s.peer_address)));
  if (s.our_address != 0) {
    add(out, a::tunnel_server_endpoint, bytes_of(format_ipv4(s.our_address)));
  }
  add(out, a::acct_session_id, bytes_of(s.acct_session_id));
}

std::optional<radius::request> access_request(std::uint32_t protocol, std::span<const std::uint8_t> data,
                                              std::string_view user, const nas_identity& nas, const nas_session& s,
                                              std::span<const std::uint8_t> state) {
  namespace a = radius::attr;
  radius::request r;
  r.svc = radius::service::auth;
  r.packet_code = radius::code::access_request;
  add_session_attributes(r.attributes, nas, s, user);
  switch (protocol) {
    case PPTPKIT_PPP_AUTH_PAP:
      if (data.size() > 128) {  // RFC 2865 §5.2: at most 128 octets
        return std::nullopt;
      }
      r.user_password = std::string(data.begin(), data.end());
      break;
    case PPTPKIT_PPP_AUTH_CHAP_MD5: {
      if (data.size() != 33) {
        return std::nullopt;
      }
      add(r.attributes, a::chap_challenge, {data.begin() + 1, data.begin() + 17});
      std::vector<std::uint8_t> password{data[0]};
      password.insert(password.end(), data.begin() + 17, data.end());
      add(r.attributes, a::chap_password, std::move(password));
      break;
    }
    case PPTPKIT_PPP_AUTH_MSCHAP_V2: {
      if (data.size() != 66) {
        return std::nullopt;
      }
      // data: identifier, authenticator challenge (16), then the response value: peer challenge (16),
      // reserved (8), NT-Response (24), flags (1).
      add_ms(r.attributes, radius::ms::chap_challenge, {data.begin() + 1, data.begin() + 17});
      std::vector<std::uint8_t> response{data[0], data[65]};
      response.insert(response.end(), data.begin() + 17, data.begin() + 65);
      add_ms(r.attributes, radius::ms::chap2_response, std::move(response));
      break;
    }
    case PPTPKIT_PPP_AUTH_EAP:
      if (data.size() < 4) {
        return std::nullopt;
      }
      for (std::size_t at = 0; at < data.size(); at += 253) {
        const std::size_t n = std::min<std::size_t>(253, data.size() - at);
        add(r.attributes, a::eap_message,
            {data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n)});
      }
      if (!state.empty()) {
        add(r.attributes, a::state, {state.begin(), state.end()});
      }
      break;
    default:
      return std::nullopt;
  }
  return r;
}

radius::request accounting_request(std::uint32_t status, const nas_identity& nas, const nas_session& s,
                                   std::string_view user, std::uint32_t framed_ip,
                                   const std::vector<std::vector<std::uint8_t>>& classes, const session_usage& usage,
                                   std::uint32_t cause) {
  namespace a = radius::attr;
  radius::request r;
  r.svc = radius::service::acct;
  r.packet_code = radius::code::accounting_request;
  add(r.attributes, a::acct_status_type, u32(status));
  add_session_attributes(r.attributes, nas, s, user);
  if (framed_ip != 0) {
    add(r.attributes, a::framed_ip_address, u32(framed_ip));
  }
  for (const auto& c : classes) {
    add(r.attributes, a::class_, c);
  }
  add(r.attributes, a::acct_authentic, u32(radius::acct_authentic_radius));
  add(r.attributes, a::acct_delay_time, u32(0));
  if (status != radius::acct_status::start) {
    add(r.attributes, a::acct_session_time, u32(usage.session_time_s));
    add(r.attributes, a::acct_input_octets, u32(static_cast<std::uint32_t>(usage.input_octets)));
    add(r.attributes, a::acct_output_octets, u32(static_cast<std::uint32_t>(usage.output_octets)));
    add(r.attributes, a::acct_input_gigawords, u32(static_cast<std::uint32_t>(usage.input_octets >> 32)));
    add(r.attributes, a::acct_output_gigawords, u32(static_cast<std::uint32_t>(usage.output_octets >> 32)));
    add(r.attributes, a::acct_input_packets, u32(static_cast<std::uint32_t>(usage.input_packets)));
    add(r.attributes, a::acct_output_packets, u32(static_cast<std::uint32_t>(usage.output_packets)));
  }
  if (status == radius::acct_status::stop) {
    add(r.attributes, a::acct_terminate_cause, u32(cause));
  }
  return r;
}

radius::request accounting_on_off(std::uint32_t status, const nas_identity& nas, std::string_view acct_session_id) {
  namespace a = radius::attr;
  radius::request r;
  r.svc = radius::service::acct;
  r.packet_code = radius::code::accounting_request;
  add(r.attributes, a::acct_status_type, u32(status));
  if (nas.address != 0) {
    add(r.attributes, a::nas_ip_address, u32(nas.address));
  }
  add(r.attributes, a::nas_identifier, bytes_of(nas.identifier));
  add(r.attributes, a::acct_session_id, bytes_of(acct_session_id));
  add(r.attributes, a::acct_delay_time, u32(0));
  return r;
}

std::vector<route> routed_subnets(std::optional<std::uint32_t> framed_ip, std::optional<std::uint32_t> netmask,
                                  const std::vector<std::string>& framed_routes, std::vector<std::string>& refused) {
  std::vector<route> out;
  if (framed_ip && netmask && *netmask != 0xffffffffu) {
    std::uint8_t len = 0;
    while (len < 32 && (*netmask & (0x80000000u >> len)) != 0) {
      ++len;
    }
    out.push_back({*framed_ip & *netmask, len});
  }
  for (const std::string& text : framed_routes) {
    const std::string prefix = text.substr(0, text.find(' '));
    try {
      const cidr c = parse_cidr(prefix);
      if (c.prefix_length == 0) {
        refused.push_back(text);  // a default route through one user is not what a NAS hands out
        continue;
      }
      out.push_back({c.network, c.prefix_length});
    } catch (const parse_error&) {
      refused.push_back(text);
    }
  }
  return out;
}

std::pair<std::string, user_override> parse_filter_override(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw parse_error("expected NAME:KEY=VALUE[,KEY=VALUE...]");
  }
  std::pair<std::string, user_override> out{std::string(text.substr(0, colon)), {}};
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw parse_error("'" + std::string(item) + "': expected KEY=VALUE");
    }
    const std::string key(item.substr(0, eq));
    const std::string value(item.substr(eq + 1));
    const auto seconds = [&]() {
      if (value.empty() || value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos) {
        throw parse_error("'" + std::string(item) + "': expected a number of seconds");
      }
      return static_cast<std::uint32_t>(std::stoul(value));
    };
    if (key == "session-timeout") {
      out.second.session_timeout_s = seconds();
    } else if (key == "idle-timeout") {
      out.second.idle_timeout_s = seconds();
    } else if (key == "interim") {
      out.second.interim_s = seconds();
    } else if (key == "pool" && !value.empty()) {
      out.second.pool = value;
    } else {
      throw parse_error("'" + key + "': not a per-user setting (session-timeout, idle-timeout, interim, pool)");
    }
  }
  return out;
}

std::string make_acct_session_id(std::uint32_t boot, std::uint32_t counter) {
  char text[17];
  std::snprintf(text, sizeof(text), "%08X%08X", boot, counter);
  return text;
}

std::uint32_t terminate_cause(end_cause c) {
  namespace t = radius::terminate_cause;
  switch (c) {
    case end_cause::user_request:
      return t::user_request;
    case end_cause::lost_carrier:
      return t::lost_carrier;
    case end_cause::idle_timeout:
      return t::idle_timeout;
    case end_cause::session_timeout:
      return t::session_timeout;
    case end_cause::admin_reset:
      return t::admin_reset;
    case end_cause::admin_reboot:
      return t::admin_reboot;
    case end_cause::port_error:
      return t::port_error;
    case end_cause::nas_error:
      return t::nas_error;
    case end_cause::auth_failed:
      return t::user_error;
  }
  return t::nas_error;
}

}  // namespace pptpkit::runtime
