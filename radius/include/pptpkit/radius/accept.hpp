// pptpkit/radius/accept.hpp — what an Access-Accept (or -Challenge, or -Reject) grants, as values.
//
// parse_authorization() is pure: it reads a reply that verify_response() has already accepted (the
// client only hands out verified replies) and decrypts the MS-MPPE keys with the secret and the
// request authenticator of the request it answers (RFC 2548 §2.4.2/§2.4.3). An attribute of the wrong
// size is ignored and counted in `ignored`, never fatal: one odd attribute must not cost a login.
// Addresses are IPv4 in host order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {

struct authorization {
  std::optional<std::uint32_t> framed_ip;                     // Framed-IP-Address (RFC 2865 §5.8)
  std::optional<std::uint32_t> framed_netmask;                // Framed-IP-Netmask (§5.9)
  std::string framed_pool;                                    // Framed-Pool (RFC 2869 §5.18)
  std::vector<std::string> framed_routes;                     // Framed-Route (§5.22), each as sent
  std::optional<std::uint32_t> session_timeout;               // seconds (§5.27)
  std::optional<std::uint32_t> idle_timeout;                  // seconds (§5.28)
  std::optional<std::uint32_t> interim_interval;              // Acct-Interim-Interval, seconds (RFC 2869 §5.16)
  std::optional<std::uint32_t> framed_mtu;                    // §5.12
  std::optional<std::uint32_t> mppe_policy;                   // MS-MPPE-Encryption-Policy (RFC 2548 §2.4.4)
  std::optional<std::uint32_t> mppe_types;                    // MS-MPPE-Encryption-Types (§2.4.5)
  std::optional<std::uint32_t> dns1;                          // MS-Primary-DNS-Server (§2.7.1)
  std::optional<std::uint32_t> dns2;                          // MS-Secondary-DNS-Server (§2.7.2)
  std::vector<std::vector<std::uint8_t>> classes;             // Class (§5.25), to echo in accounting
  std::vector<std::string> filter_ids;                        // Filter-Id (§5.11)
  std::string reply_message;                                  // Reply-Message (§5.18), all of them joined
  std::optional<std::array<std::uint8_t, 16>> mppe_send_key;  // MS-MPPE-Send-Key, decrypted (§2.4.2)
  std::optional<std::array<std::uint8_t, 16>> mppe_recv_key;  // MS-MPPE-Recv-Key, decrypted (§2.4.3)
  std::string mschap2_success;            // MS-CHAP2-Success: the 42-character "S=<40 hex>", without the ident
  std::string mschap_error;               // MS-CHAP-Error (§2.1.5) text, without the ident (in rejects)
  std::vector<std::uint8_t> eap_message;  // all EAP-Message attributes joined (RFC 3579 §3.1)
  std::vector<std::uint8_t> state;        // State (§5.24), to return in the next Access-Request
  std::uint32_t ignored = 0;              // attributes of a known type but the wrong size or form
};

authorization parse_authorization(const packet_view& reply, std::string_view secret,
                                  const authenticator& request_authenticator);

}  // namespace pptpkit::radius
