// pptpkit/radius/dae.hpp — RFC 5176 Dynamic Authorization Extensions, the NAS (server) side, pure.
//
// The daemon receives a Disconnect-Request or CoA-Request on its DAE port, hands the bytes and the
// sender's address to parse_dae_request(), acts on the session it names, and sends what
// build_dae_reply() returns back to the sender. A request is accepted only from a configured client's
// address, and only with a valid request authenticator AND a valid Message-Authenticator (RFC 5176
// §3.5; required here, as for every reply the client accepts). Attributes we cannot act on are
// reported (`unsupported_attribute`), so the caller answers NAK with Error-Cause 401 (RFC 5176 §3.5).
// Proxy-State attributes are carried over into the reply (RFC 5176 §3).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {

struct dae_client {
  std::uint32_t address = 0;  // IPv4, host order
  std::string secret;
};

struct dae_request {
  code what = code::disconnect_request;  // disconnect_request or coa_request
  std::uint8_t identifier = 0;
  authenticator request_authenticator{};
  std::size_t client = 0;  // index into the dae_client list: its secret signs the reply
  // Session identification (RFC 5176 §3).
  std::string acct_session_id, user_name;
  std::optional<std::uint32_t> framed_ip;
  std::optional<std::uint32_t> nas_ip_address;
  std::string nas_identifier;
  std::optional<std::uint32_t> event_timestamp;  // RFC 5176 §3: for the caller's replay window, if wanted
  // Changes (CoA-Request).
  std::optional<std::uint32_t> session_timeout, idle_timeout;
  bool has_unsupported_attribute = false;
  std::uint8_t unsupported_attribute = 0;               // the first such attribute type (26 for any vendor attribute)
  std::vector<std::vector<std::uint8_t>> proxy_states;  // echoed in the reply, in order
};

enum class dae_error : std::uint8_t {
  unknown_client,                 // the sender is not a configured DAE client
  malformed,                      // parse() refused it
  not_a_request,                  // a code other than Disconnect-Request or CoA-Request
  bad_authenticator,              // request authenticator wrong (wrong secret, or forged)
  missing_message_authenticator,  // required (RFC 5176 §3.5; CVE-2024-3596)
  bad_message_authenticator,
};
const char* to_string(dae_error e) noexcept;

std::variant<dae_request, dae_error> parse_dae_request(std::span<const std::uint8_t> bytes, std::uint32_t from_address,
                                                       std::span<const dae_client> clients);

// Disconnect-ACK/NAK or CoA-ACK/NAK (RFC 5176 §3) for `request`, with Error-Cause when given, the
// request's Proxy-States and a Message-Authenticator, signed with `secret` (the client's).
std::vector<std::uint8_t> build_dae_reply(const dae_request& request, bool ack,
                                          std::optional<std::uint32_t> error_cause, std::string_view secret);

}  // namespace pptpkit::radius
