// pptpkit/radius/codec.hpp — RADIUS packets and attributes (RFC 2865 §3, §5; RFC 2866; RFC 2869 §5.14;
// RFC 3579 §3.2; RFC 5176; RFC 2548; RFC 2868).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Code      |  Identifier   |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Authenticator (16)                    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Attributes (Type, Length, Value) ...
//
// Contracts:
// - packet_builder never grows a packet past 4096 octets (RFC 2865 §3): an add() that would not fit,
//   together with the Message-Authenticator every finish_*() appends, returns false and leaves the
//   packet as it was. finish_*() therefore cannot fail.
// - Everything we build carries a Message-Authenticator (RFC 2869 §5.14, RFC 3579 §3.2), and every
//   reply or dynamic-authorization request we accept must carry a valid one: without it a forged
//   reply can be made to collide with the response authenticator (Blast-RADIUS, CVE-2024-3596).
// - parse() validates the header and every attribute's length before a view exists; iterating a
//   packet_view cannot read out of bounds. Bad input is a value (parse_error), never an exception.
// - Authenticators and Message-Authenticators are compared in constant time (nettle memeql_sec).
// Hashes come from Nettle (MD5, HMAC-MD5); nothing here keeps state between calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/core/wire.hpp"

namespace pptpkit::radius {

// RFC 2865 §3, RFC 2866 §3, RFC 5997, RFC 5176 §3: packet codes.
enum class code : std::uint8_t {
  access_request = 1,
  access_accept = 2,
  access_reject = 3,
  accounting_request = 4,
  accounting_response = 5,
  access_challenge = 11,
  status_server = 12,
  disconnect_request = 40,
  disconnect_ack = 41,
  disconnect_nak = 42,
  coa_request = 43,
  coa_ack = 44,
  coa_nak = 45,
};

using authenticator = std::array<std::uint8_t, 16>;

// RFC 2865 §3: the fixed header.
struct header {
  core::big_uint8_buf_t code;
  core::big_uint8_buf_t identifier;
  core::big_uint16_buf_t length;
  std::uint8_t authenticator[16];
};
static_assert(sizeof(header) == 20, "RFC 2865 §3: a 20-octet header");

inline constexpr std::size_t header_length = sizeof(header);
inline constexpr std::size_t max_packet_length = 4096;   // RFC 2865 §3
inline constexpr std::size_t max_attribute_value = 253;  // RFC 2865 §5: Length is one octet, 2 of it header
inline constexpr std::size_t vendor_header_length = 6;   // RFC 2865 §5.26: Vendor-Id(4) type(1) length(1)
inline constexpr std::size_t max_vendor_value = max_attribute_value - vendor_header_length;
inline constexpr std::size_t message_authenticator_length = 18;  // RFC 2869 §5.14: type, length, 16 octets
inline constexpr std::size_t max_password_length = 128;          // RFC 2865 §5.2

// Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2868 §3, RFC 2869 §5, RFC 5176 §3.6).
namespace attr {
inline constexpr std::uint8_t user_name = 1;
inline constexpr std::uint8_t user_password = 2;
inline constexpr std::uint8_t chap_password = 3;
inline constexpr std::uint8_t nas_ip_address = 4;
inline constexpr std::uint8_t nas_port = 5;
inline constexpr std::uint8_t service_type = 6;
inline constexpr std::uint8_t framed_protocol = 7;
inline constexpr std::uint8_t framed_ip_address = 8;
inline constexpr std::uint8_t framed_ip_netmask = 9;
inline constexpr std::uint8_t filter_id = 11;
inline constexpr std::uint8_t framed_mtu = 12;
inline constexpr std::uint8_t reply_message = 18;
inline constexpr std::uint8_t framed_route = 22;
inline constexpr std::uint8_t state = 24;
inline constexpr std::uint8_t class_ = 25;
inline constexpr std::uint8_t vendor_specific = 26;
inline constexpr std::uint8_t session_timeout = 27;
inline constexpr std::uint8_t idle_timeout = 28;
inline constexpr std::uint8_t termination_action = 29;
inline constexpr std::uint8_t called_station_id = 30;
inline constexpr std::uint8_t calling_station_id = 31;
inline constexpr std::uint8_t nas_identifier = 32;
inline constexpr std::uint8_t proxy_state = 33;
inline constexpr std::uint8_t acct_status_type = 40;      // RFC 2866 §5.1
inline constexpr std::uint8_t acct_delay_time = 41;       // RFC 2866 §5.2
inline constexpr std::uint8_t acct_input_octets = 42;     // RFC 2866 §5.3
inline constexpr std::uint8_t acct_output_octets = 43;    // RFC 2866 §5.4
inline constexpr std::uint8_t acct_session_id = 44;       // RFC 2866 §5.5
inline constexpr std::uint8_t acct_authentic = 45;        // RFC 2866 §5.6
inline constexpr std::uint8_t acct_session_time = 46;     // RFC 2866 §5.7
inline constexpr std::uint8_t acct_input_packets = 47;    // RFC 2866 §5.8
inline constexpr std::uint8_t acct_output_packets = 48;   // RFC 2866 §5.9
inline constexpr std::uint8_t acct_terminate_cause = 49;  // RFC 2866 §5.10
inline constexpr std::uint8_t acct_input_gigawords = 52;  // RFC 2869 §5.1
inline constexpr std::uint8_t acct_output_gigawords = 53;
inline constexpr std::uint8_t event_timestamp = 55;  // RFC 2869 §5.3
inline constexpr std::uint8_t chap_challenge = 60;
inline constexpr std::uint8_t nas_port_type = 61;
inline constexpr std::uint8_t tunnel_type = 64;  // RFC 2868 §3.1
inline constexpr std::uint8_t tunnel_medium_type = 65;
inline constexpr std::uint8_t tunnel_client_endpoint = 66;
inline constexpr std::uint8_t tunnel_server_endpoint = 67;
inline constexpr std::uint8_t tunnel_password = 69;  // RFC 2868 §3.5
inline constexpr std::uint8_t connect_info = 77;
inline constexpr std::uint8_t eap_message = 79;            // RFC 3579 §3.1
inline constexpr std::uint8_t message_authenticator = 80;  // RFC 3579 §3.2
inline constexpr std::uint8_t acct_interim_interval = 85;  // RFC 2869 §5.16
inline constexpr std::uint8_t nas_port_id = 87;
inline constexpr std::uint8_t framed_pool = 88;
inline constexpr std::uint8_t error_cause = 101;  // RFC 5176 §3.6
}  // namespace attr

// Microsoft vendor-specific attributes (RFC 2548), vendor 311.
namespace ms {
inline constexpr std::uint32_t vendor_id = 311;
inline constexpr std::uint8_t chap_response = 1;           // §2.3.2
inline constexpr std::uint8_t chap_error = 2;              // §2.1.5
inline constexpr std::uint8_t mppe_encryption_policy = 7;  // §2.4.4
inline constexpr std::uint8_t mppe_encryption_types = 8;   // §2.4.5
inline constexpr std::uint8_t chap_challenge = 11;         // §2.3.3
inline constexpr std::uint8_t mppe_send_key = 16;          // §2.4.2
inline constexpr std::uint8_t mppe_recv_key = 17;          // §2.4.3
inline constexpr std::uint8_t chap2_response = 25;         // RFC 2548 §2.3.2 as amended for MS-CHAPv2
inline constexpr std::uint8_t chap2_success = 26;          // ident + "S=<40 hex>"
inline constexpr std::uint8_t primary_dns_server = 28;     // §2.7.1
inline constexpr std::uint8_t secondary_dns_server = 29;   // §2.7.2
}  // namespace ms

// RFC 2866 §5.1 Acct-Status-Type values.
namespace acct_status {
inline constexpr std::uint32_t start = 1;
inline constexpr std::uint32_t stop = 2;
inline constexpr std::uint32_t interim_update = 3;
inline constexpr std::uint32_t accounting_on = 7;
inline constexpr std::uint32_t accounting_off = 8;
}  // namespace acct_status

// RFC 2866 §5.10 Acct-Terminate-Cause values.
namespace terminate_cause {
inline constexpr std::uint32_t user_request = 1;
inline constexpr std::uint32_t lost_carrier = 2;
inline constexpr std::uint32_t lost_service = 3;
inline constexpr std::uint32_t idle_timeout = 4;
inline constexpr std::uint32_t session_timeout = 5;
inline constexpr std::uint32_t admin_reset = 6;
inline constexpr std::uint32_t admin_reboot = 7;
inline constexpr std::uint32_t port_error = 8;
inline constexpr std::uint32_t nas_error = 9;
inline constexpr std::uint32_t nas_request = 10;
inline constexpr std::uint32_t nas_reboot = 11;
inline constexpr std::uint32_t port_unneeded = 12;
inline constexpr std::uint32_t port_preempted = 13;
inline constexpr std::uint32_t port_suspended = 14;
inline constexpr std::uint32_t service_unavailable = 15;
inline constexpr std::uint32_t callback = 16;
inline constexpr std::uint32_t user_error = 17;
inline constexpr std::uint32_t host_request = 18;
}  // namespace terminate_cause

inline constexpr std::uint32_t nas_port_type_virtual = 5;  // RFC 2865 §5.41
inline constexpr std::uint32_t tunnel_type_pptp = 1;       // RFC 2868 §3.1
inline constexpr std::uint32_t tunnel_medium_ipv4 = 1;     // RFC 2868 §3.2
inline constexpr std::uint32_t service_type_framed = 2;    // RFC 2865 §5.6
inline constexpr std::uint32_t framed_protocol_ppp = 1;    // RFC 2865 §5.7
inline constexpr std::uint32_t acct_authentic_radius = 1;  // RFC 2866 §5.6

// RFC 5176 §3.6 Error-Cause values.
namespace error_cause {
inline constexpr std::uint32_t residual_context_removed = 201;
inline constexpr std::uint32_t unsupported_attribute = 401;
inline constexpr std::uint32_t missing_attribute = 402;
inline constexpr std::uint32_t nas_identification_mismatch = 403;
inline constexpr std::uint32_t invalid_request = 404;
inline constexpr std::uint32_t unsupported_service = 405;
inline constexpr std::uint32_t administratively_prohibited = 501;
inline constexpr std::uint32_t session_context_not_found = 503;
inline constexpr std::uint32_t session_context_not_removable = 504;
inline constexpr std::uint32_t resources_unavailable = 506;
}  // namespace error_cause

// Builds one packet. add*() append attributes in order and return false, changing nothing, when the
// attribute is malformed (empty value, vendor value over 247 octets) or the packet would pass 4096
// octets with the Message-Authenticator still to come. A Message-Authenticator is never add()ed by
// hand (an assert): finish_*() appends it.
class packet_builder {
 public:
  packet_builder(code c, std::uint8_t identifier);

  // A value longer than 253 octets is split over consecutive attributes of the same type, as RFC 2865
  // §5 and RFC 3579 §3.1 (EAP-Message) concatenate them.
  bool add(std::uint8_t type, std::span<const std::uint8_t> value);
  bool add_string(std::uint8_t type, std::string_view value);
  bool add_u32(std::uint8_t type, std::uint32_t value);
  bool add_ipv4(std::uint8_t type, std::uint32_t address_host_order);
  // RFC 2865 §5.26 with the recommended inner format: Vendor-Id, vendor type, vendor length, value.
  bool add_vendor(std::uint32_t vendor, std::uint8_t subtype, std::span<const std::uint8_t> value);

  std::size_t size() const noexcept { return bytes_.size() + message_authenticator_length; }
  code packet_code() const noexcept { return static_cast<code>(bytes_[0]); }

  // Access-Request / Status-Server (RFC 2865 §3, RFC 3579 §3.2): the header carries the given random
  // request authenticator; Message-Authenticator = HMAC-MD5(secret, packet with it zeroed).
  std::vector<std::uint8_t> finish_access_request(std::string_view secret, const authenticator& request_auth) const;
  // Accounting-Request (RFC 2866 §3), Disconnect-Request and CoA-Request (RFC 5176 §3.5): the
  // Message-Authenticator is computed with 16 zero octets as the authenticator, then the request
  // authenticator = MD5(code|id|length|16 zero octets|attributes|secret) over the attributes including it.
  std::vector<std::uint8_t> finish_accounting_request(std::string_view secret) const;
  std::vector<std::uint8_t> finish_dae_request(std::string_view secret) const {
    return finish_accounting_request(secret);
  }
  // Any reply (RFC 2865 §3, RFC 2866 §4, RFC 5176 §3.5): the Message-Authenticator is computed with the
  // request's authenticator in the header (RFC 2869 §5.14), then the response authenticator =
  // MD5(code|id|length|request authenticator|attributes|secret).
  std::vector<std::uint8_t> finish_response(std::string_view secret, const authenticator& request_auth) const;

 private:
  bool fits(std::size_t more) const noexcept;
  void put(std::uint8_t type, std::span<const std::uint8_t> value);
  std::vector<std::uint8_t> with_message_authenticator(const authenticator& header_auth) const;

  std::vector<std::uint8_t> bytes_;
};

struct attribute_view {
  std::uint8_t type = 0;
  std::span<const std::uint8_t> value;
};

struct vendor_attribute_view {
  std::uint32_t vendor = 0;
  std::uint8_t type = 0;
  std::span<const std::uint8_t> value;
};

// Why parse() refused a packet.
enum class parse_error : std::uint8_t {
  too_short,             // fewer than 20 octets, or a Length field under 20
  too_long,              // a Length field over 4096
  truncated,             // the Length field claims more octets than arrived
  bad_attribute_length,  // an attribute's Length under 2 or past the end of the packet
};

// A validated packet: borrows the bytes given to parse(), which must outlive it. Octets past the
// Length field are padding and not part of the view (RFC 2865 §3).
class packet_view {
 public:
  class iterator {
   public:
    using value_type = attribute_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const std::uint8_t* at) noexcept : at_(at) {}
    attribute_view operator*() const noexcept { return {at_[0], {at_ + 2, static_cast<std::size_t>(at_[1] - 2)}}; }
    iterator& operator++() noexcept {
      at_ += at_[1];
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator&) const = default;

   private:
    const std::uint8_t* at_ = nullptr;
  };

  code packet_code() const noexcept { return static_cast<code>(bytes_[0]); }
  std::uint8_t identifier() const noexcept { return bytes_[1]; }
  authenticator header_authenticator() const noexcept;
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }  // exactly Length octets

  iterator begin() const noexcept { return iterator(bytes_.data() + header_length); }
  iterator end() const noexcept { return iterator(bytes_.data() + bytes_.size()); }

  std::optional<attribute_view> find(std::uint8_t type) const noexcept;
  std::vector<attribute_view> find_all(std::uint8_t type) const;
  // Vendor sub-attributes, in packet order; Vendor-Specific attributes whose inner TLVs do not tile
  // the value exactly are skipped (counted in malformed_vendor_attributes()).
  std::vector<vendor_attribute_view> vendor_attributes() const;
  std::optional<vendor_attribute_view> find_vendor(std::uint32_t vendor, std::uint8_t type) const;
  std::vector<vendor_attribute_view> find_all_vendor(std::uint32_t vendor, std::uint8_t type) const;
  std::size_t malformed_vendor_attributes() const noexcept { return malformed_vendor_; }

 private:
  friend std::optional<packet_view> parse(std::span<const std::uint8_t>, parse_error*) noexcept;
  std::span<const std::uint8_t> bytes_;
  std::size_t malformed_vendor_ = 0;
};

std::optional<packet_view> parse(std::span<const std::uint8_t> bytes, parse_error* why = nullptr) noexcept;

// A 32-bit integer value (RFC 2865 §5: 4 octets, network order); nullopt when the length is not 4.
std::optional<std::uint32_t> value_u32(std::span<const std::uint8_t> value) noexcept;
std::string value_string(std::span<const std::uint8_t> value);

enum class verdict : std::uint8_t {
  ok,
  bad_authenticator,
  missing_message_authenticator,
  bad_message_authenticator,
};
const char* to_string(verdict v) noexcept;

// A reply to our request (any reply code, Accounting-Response included): response authenticator and
// Message-Authenticator both checked, and a reply without a Message-Authenticator refused.
verdict verify_response(const packet_view& reply, const authenticator& request_auth, std::string_view secret);
// An incoming request with a computed request authenticator (Accounting, Disconnect, CoA-Request):
// request authenticator and Message-Authenticator both checked, the Message-Authenticator required.
verdict verify_request(const packet_view& request, std::string_view secret);

// RFC 2865 §5.2: the hidden User-Password (16..128 octets); nullopt for a password over 128 octets.
std::optional<std::vector<std::uint8_t>> hide_user_password(std::string_view password, std::string_view secret,
                                                            const authenticator& request_auth);
// The inverse; nullopt unless 16..128 octets in blocks of 16. Trailing NUL padding is removed.
std::optional<std::string> unhide_user_password(std::span<const std::uint8_t> hidden, std::string_view secret,
                                                const authenticator& request_auth);

// The salt encryption of RFC 2548 §2.4.2/§2.4.3 (MS-MPPE-Send/Recv-Key) and RFC 2868 §3.5
// (Tunnel-Password, whose value has a Tag octet before the salt: pass the value after it).
// value = Salt(2, high bit set) | encrypted(Length(1) | plain | zero padding to a multiple of 16).
// salt_decrypt checks the salt's high bit, the block structure, the Length octet and that the padding
// is under one block, and returns the plain octets.
std::optional<std::vector<std::uint8_t>> salt_decrypt(std::span<const std::uint8_t> value, std::string_view secret,
                                                      const authenticator& request_auth);
// plain ≤ 239 octets (an assert): the result must fit one vendor attribute. The salt's high bit is set.
std::vector<std::uint8_t> salt_encrypt(std::span<const std::uint8_t> plain, std::uint16_t salt, std::string_view secret,
                                       const authenticator& request_auth);

}  // namespace pptpkit::radius
