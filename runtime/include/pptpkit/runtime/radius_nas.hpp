// pptpkit/runtime/radius_nas.hpp — what the daemon says to RADIUS as a NAS, as pure functions: the
// secrets file, the Access-Request of each PPP authentication protocol, accounting records, and the
// Acct-Terminate-Cause of each way a session ends.
//
// The RADIUS protocol itself (packets, authenticators, retransmission, servers) is the radius
// component's (pptpkit/radius/); the engine (runtime/src/radius.cc) drives it and uses these to fill
// requests. Nothing here touches the network or a clock.
// Threading: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/radius/client.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::runtime {

// --radius-secrets: '#' comments, blank lines, and either one line "SECRET" (every server and DAE
// client) or lines "ADDR SECRET" (per address); both may be mixed, an address line wins. Throws
// parse_error naming the line.
struct radius_secrets {
  std::string shared;
  std::map<std::uint32_t, std::string> by_address;
  // The secret for `address`, or nullptr when there is none.
  const std::string* find(std::uint32_t address) const;
};
radius_secrets parse_radius_secrets(std::string_view text, const std::string& path);

// Who we are, in every request (RFC 2865 §5.4, §5.32, §5.41; RFC 2868 for the tunnel).
struct nas_identity {
  std::string identifier;     // NAS-Identifier
  std::uint32_t address = 0;  // NAS-IP-Address, 0 = not sent
};

// One session as RADIUS sees it.
struct nas_session {
  std::uint32_t port = 0;          // NAS-Port: our call id
  std::string acct_session_id;     // Acct-Session-Id
  std::uint32_t peer_address = 0;  // Calling-Station-Id and Tunnel-Client-Endpoint
  std::uint32_t our_address = 0;   // Called-Station-Id and Tunnel-Server-Endpoint (0 = not sent)
};

// The attributes every request about a session carries: User-Name, NAS-IP-Address/NAS-Identifier,
// NAS-Port, NAS-Port-Type Virtual, Service-Type Framed, Framed-Protocol PPP, Calling/Called-Station-Id,
// Tunnel-Type PPTP, Tunnel-Medium-Type IPv4, Tunnel-Client/Server-Endpoint, Acct-Session-Id.
void add_session_attributes(std::vector<radius::attribute>& out, const nas_identity& nas, const nas_session& s,
                            std::string_view user);

// The Access-Request for one PPTPKIT_PPP_EVENT_AUTH_VERIFY (`data` laid out as pptpkit/ppp.h says):
//   PAP        User-Password (hidden by the client core with the server's secret)
//   CHAP-MD5   CHAP-Challenge, CHAP-Password (identifier + response; RFC 2865 §5.3, §5.40)
//   MS-CHAPv2  MS-CHAP-Challenge, MS-CHAP2-Response (identifier, flags, peer challenge, reserved,
//              NT-Response; RFC 2548 §2.3.2)
//   EAP        EAP-Message (split into 253-byte attributes), State from the last Access-Challenge
//              (RFC 3579 §2.1)
// nullopt when the data does not have the protocol's length (a plugin bug: the login is refused).
std::optional<radius::request> access_request(std::uint32_t protocol, std::span<const std::uint8_t> data,
                                              std::string_view user, const nas_identity& nas, const nas_session& s,
                                              std::span<const std::uint8_t> state);

// Traffic and time for accounting (RFC 2866 §5.3-5.8, RFC 2869 §5.1-5.2). Input is what the user sent
// us, output what we sent the user.
struct session_usage {
  std::uint64_t input_octets = 0;
  std::uint64_t output_octets = 0;
  std::uint64_t input_packets = 0;
  std::uint64_t output_packets = 0;
  std::uint32_t session_time_s = 0;
};

// Accounting-Request Start (1), Stop (2) or Interim-Update (3) for a session: the session attributes,
// Framed-IP-Address, every Class the Access-Accept carried (RFC 2865 §5.25), Acct-Authentic RADIUS,
// and for Stop/Interim the usage (octets split into 32-bit counts and Gigawords); Stop adds
// Acct-Terminate-Cause.
radius::request accounting_request(std::uint32_t status, const nas_identity& nas, const nas_session& s,
                                   std::string_view user, std::uint32_t framed_ip,
                                   const std::vector<std::vector<std::uint8_t>>& classes, const session_usage& usage,
                                   std::uint32_t terminate_cause);

// Accounting-On (7) / Accounting-Off (8): the NAS restarted / stops cleanly (RFC 2866 §5.1).
radius::request accounting_on_off(std::uint32_t status, const nas_identity& nas, std::string_view acct_session_id);

// Acct-Session-Id: 16 hexadecimal digits, a random prefix per daemon start (`boot`) and a counter, so
// ids stay unique across restarts.
std::string make_acct_session_id(std::uint32_t boot, std::uint32_t counter);

// The subnets routed to a user (RFC 2865 §5.9 Framed-IP-Netmask with Framed-IP-Address, §5.22
// Framed-Route "PREFIX[/LEN] [GATEWAY] [METRICS]"): the server adds each as a route through the
// session's interface. A /32 netmask routes nothing more than the address itself (the point-to-point
// peer); a Framed-Route that does not parse is left out and named in `refused`.
std::vector<route> routed_subnets(std::optional<std::uint32_t> framed_ip, std::optional<std::uint32_t> netmask,
                                  const std::vector<std::string>& framed_routes, std::vector<std::string>& refused);

// --filter NAME:KEY=VALUE[,KEY=VALUE...]: what a Filter-Id NAME in an Access-Accept changes for that
// user (pppd and accel-ppp users map Filter-Id to per-user settings). Keys: session-timeout,
// idle-timeout, interim (seconds), pool (a --pool name). Throws parse_error.
struct user_override {
  std::optional<std::uint32_t> session_timeout_s;
  std::optional<std::uint32_t> idle_timeout_s;
  std::optional<std::uint32_t> interim_s;
  std::string pool;
};
std::pair<std::string, user_override> parse_filter_override(std::string_view text);

// Why a session ended, as the runtime knows it, and the Acct-Terminate-Cause for it (RFC 2866 §5.10).
enum class end_cause : std::uint8_t {
  user_request,     // the peer ended PPP (LCP Terminate) or cleared the call
  lost_carrier,     // LCP echoes unanswered, the control connection lost
  idle_timeout,     // Idle-Timeout
  session_timeout,  // Session-Timeout
  admin_reset,      // Disconnect-Request, or an administrator
  admin_reboot,     // the daemon stops
  port_error,       // the session's interface failed
  nas_error,        // anything else on our side
  auth_failed,      // never authenticated (no Stop is sent: there was no Start)
};
std::uint32_t terminate_cause(end_cause c);

}  // namespace pptpkit::runtime
