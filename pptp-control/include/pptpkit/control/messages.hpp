// pptpkit/control/messages.hpp — the 15 PPTP control messages on the wire (RFC 2637 §2).
//
// Each message is a struct of Boost.Endian big-endian buffer fields (alignment 1, no padding) laid out
// exactly as the RFC draws it, with a static_assert of its size. A view of a message is made only
// after the stream framer has checked the common header and that Length equals the size of the type
// (header_status), so every field read through a view is in bounds. Text fields (host name, vendor,
// phone numbers, subaddress, call statistics) are NUL-padded byte arrays: read them with text(), which
// never trusts them to be NUL-terminated, and write them with set_text(), which truncates and pads.
//
// Everything here is constexpr or inline and allocation-free.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "pptpkit/core/wire.hpp"

namespace pptpkit::control {

using core::big_uint16_buf_t;
using core::big_uint32_buf_t;
using core::big_uint8_buf_t;

inline constexpr std::uint16_t tcp_port = 1723;                // RFC 2637 §1.4
inline constexpr std::uint16_t pptp_message_type_control = 1;  // RFC 2637 §2 "PPTP Message Type"
inline constexpr std::uint32_t magic_cookie = 0x1A2B3C4D;      // RFC 2637 §2 "Magic Cookie"
inline constexpr std::uint16_t protocol_version_1_0 = 0x0100;  // RFC 2637 §2.1 "Protocol Version"
inline constexpr std::size_t text_field_size = 64;             // host name, vendor, numbers (§2.1, §2.7)
inline constexpr std::size_t call_statistics_size = 128;       // RFC 2637 §2.13

// Control Message Type (RFC 2637 §2, the table before §2.1).
enum class message_type : std::uint16_t {
  start_control_connection_request = 1,  // §2.1
  start_control_connection_reply = 2,    // §2.2
  stop_control_connection_request = 3,   // §2.3
  stop_control_connection_reply = 4,     // §2.4
  echo_request = 5,                      // §2.5
  echo_reply = 6,                        // §2.6
  outgoing_call_request = 7,             // §2.7
  outgoing_call_reply = 8,               // §2.8
  incoming_call_request = 9,             // §2.9
  incoming_call_reply = 10,              // §2.10
  incoming_call_connected = 11,          // §2.11
  call_clear_request = 12,               // §2.12
  call_disconnect_notify = 13,           // §2.13
  wan_error_notify = 14,                 // §2.14
  set_link_info = 15,                    // §2.15
};
inline constexpr std::uint16_t message_type_max = 15;

// Framing Capabilities / Framing Type bits (§2.1, §2.7).
inline constexpr std::uint32_t framing_async = 0x1;
inline constexpr std::uint32_t framing_sync = 0x2;
// Bearer Capabilities / Bearer Type bits (§2.1, §2.7).
inline constexpr std::uint32_t bearer_analog = 0x1;
inline constexpr std::uint32_t bearer_digital = 0x2;

// Result Codes, per message (§2.2, §2.4, §2.6, §2.8, §2.10, §2.13).
namespace sccrp_result {
inline constexpr std::uint8_t success = 1;
inline constexpr std::uint8_t general_error = 2;
inline constexpr std::uint8_t channel_exists = 3;
inline constexpr std::uint8_t not_authorized = 4;
inline constexpr std::uint8_t bad_protocol_version = 5;
}  // namespace sccrp_result
namespace stop_reason {  // §2.3
inline constexpr std::uint8_t none = 1;
inline constexpr std::uint8_t stop_protocol = 2;
inline constexpr std::uint8_t stop_local_shutdown = 3;
}  // namespace stop_reason
namespace stop_result {  // §2.4
inline constexpr std::uint8_t ok = 1;
inline constexpr std::uint8_t general_error = 2;
}  // namespace stop_result
namespace echo_result {  // §2.6
inline constexpr std::uint8_t ok = 1;
inline constexpr std::uint8_t general_error = 2;
}  // namespace echo_result
namespace ocrp_result {  // §2.8
inline constexpr std::uint8_t connected = 1;
inline constexpr std::uint8_t general_error = 2;
inline constexpr std::uint8_t no_carrier = 3;
inline constexpr std::uint8_t busy = 4;
inline constexpr std::uint8_t no_dial_tone = 5;
inline constexpr std::uint8_t time_out = 6;
inline constexpr std::uint8_t do_not_accept = 7;
}  // namespace ocrp_result
namespace icrp_result {  // §2.10
inline constexpr std::uint8_t connect = 1;
inline constexpr std::uint8_t general_error = 2;
inline constexpr std::uint8_t do_not_accept = 3;
}  // namespace icrp_result
namespace cdn_result {  // §2.13
inline constexpr std::uint8_t lost_carrier = 1;
inline constexpr std::uint8_t general_error = 2;
inline constexpr std::uint8_t admin_shutdown = 3;
inline constexpr std::uint8_t request = 4;
}  // namespace cdn_result
// General Error Codes (§2.16).
namespace error_code {
inline constexpr std::uint8_t none = 0;
inline constexpr std::uint8_t not_connected = 1;
inline constexpr std::uint8_t bad_format = 2;
inline constexpr std::uint8_t bad_value = 3;
inline constexpr std::uint8_t no_resource = 4;
inline constexpr std::uint8_t bad_call_id = 5;
inline constexpr std::uint8_t pac_error = 6;
}  // namespace error_code

using text_field = std::array<std::uint8_t, text_field_size>;

// The common header of every control message (RFC 2637 §2).
struct header {
  big_uint16_buf_t length;
  big_uint16_buf_t pptp_message_type;
  big_uint32_buf_t magic_cookie;
  big_uint16_buf_t control_message_type;
  big_uint16_buf_t reserved0;
};
static_assert(sizeof(header) == 12);

// §2.1
struct start_control_connection_request {
  static constexpr message_type type = message_type::start_control_connection_request;
  header hdr;
  big_uint16_buf_t protocol_version;
  big_uint16_buf_t reserved1;
  big_uint32_buf_t framing_capabilities;
  big_uint32_buf_t bearer_capabilities;
  big_uint16_buf_t maximum_channels;
  big_uint16_buf_t firmware_revision;
  text_field host_name;
  text_field vendor_string;
};
static_assert(sizeof(start_control_connection_request) == 156);

// §2.2
struct start_control_connection_reply {
  static constexpr message_type type = message_type::start_control_connection_reply;
  header hdr;
  big_uint16_buf_t protocol_version;
  big_uint8_buf_t result_code;
  big_uint8_buf_t error_code;
  big_uint32_buf_t framing_capability;
  big_uint32_buf_t bearer_capability;
  big_uint16_buf_t maximum_channels;
  big_uint16_buf_t firmware_revision;
  text_field host_name;
  text_field vendor_string;
};
static_assert(sizeof(start_control_connection_reply) == 156);

// §2.3
struct stop_control_connection_request {
  static constexpr message_type type = message_type::stop_control_connection_request;
  header hdr;
  big_uint8_buf_t reason;
  big_uint8_buf_t reserved1;
  big_uint16_buf_t reserved2;
};
static_assert(sizeof(stop_control_connection_request) == 16);

// §2.4
struct stop_control_connection_reply {
  static constexpr message_type type = message_type::stop_control_connection_reply;
  header hdr;
  big_uint8_buf_t result_code;
  big_uint8_buf_t error_code;
  big_uint16_buf_t reserved1;
};
static_assert(sizeof(stop_control_connection_reply) == 16);

// §2.5
struct echo_request {
  static constexpr message_type type = message_type::echo_request;
  header hdr;
  big_uint32_buf_t identifier;
};
static_assert(sizeof(echo_request) == 16);

// §2.6
struct echo_reply {
  static constexpr message_type type = message_type::echo_reply;
  header hdr;
  big_uint32_buf_t identifier;
  big_uint8_buf_t result_code;
  big_uint8_buf_t error_code;
  big_uint16_buf_t reserved1;
};
static_assert(sizeof(echo_reply) == 20);

// §2.7
struct outgoing_call_request {
  static constexpr message_type type = message_type::outgoing_call_request;
  header hdr;
  big_uint16_buf_t call_id;
  big_uint16_buf_t call_serial_number;
  big_uint32_buf_t minimum_bps;
  big_uint32_buf_t maximum_bps;
  big_uint32_buf_t bearer_type;
  big_uint32_buf_t framing_type;
  big_uint16_buf_t packet_recv_window_size;
  big_uint16_buf_t packet_processing_delay;
  big_uint16_buf_t phone_number_length;
  big_uint16_buf_t reserved1;
  text_field phone_number;
  text_field subaddress;
};
static_assert(sizeof(outgoing_call_request) == 168);

// §2.8
struct outgoing_call_reply {
  static constexpr message_type type = message_type::outgoing_call_reply;
  header hdr;
  big_uint16_buf_t call_id;
  big_uint16_buf_t peer_call_id;
  big_uint8_buf_t result_code;
  big_uint8_buf_t error_code;
  big_uint16_buf_t cause_code;
  big_uint32_buf_t connect_speed;
  big_uint16_buf_t packet_recv_window_size;
  big_uint16_buf_t packet_processing_delay;
  big_uint32_buf_t physical_channel_id;
};
static_assert(sizeof(outgoing_call_reply) == 32);

// §2.9
struct incoming_call_request {
  static constexpr message_type type = message_type::incoming_call_request;
  header hdr;
  big_uint16_buf_t call_id;
  big_uint16_buf_t call_serial_number;
  big_uint32_buf_t call_bearer_type;
  big_uint32_buf_t physical_channel_id;
  big_uint16_buf_t dialed_number_length;
  big_uint16_buf_t dialing_number_length;
  text_field dialed_number;
  text_field dialing_number;
  text_field subaddress;
};
static_assert(sizeof(incoming_call_request) == 220);

// §2.10
struct incoming_call_reply {
  static constexpr message_type type = message_type::incoming_call_reply;
  header hdr;
  big_uint16_buf_t call_id;
  big_uint16_buf_t peer_call_id;
  big_uint8_buf_t result_code;
  big_uint8_buf_t error_code;
  big_uint16_buf_t packet_recv_window_size;
  big_uint16_buf_t packet_transmit_delay;
  big_uint16_buf_t reserved1;
};
static_assert(sizeof(incoming_call_reply) == 24);

// §2.11
struct incoming_call_connected {
  static constexpr message_type type = message_type::incoming_call_connected;
  header hdr;
  big_uint16_buf_t peer_call_id;
  big_uint16_buf_t reserved1;
  big_uint32_buf_t connect_speed;
  big_uint16_buf_t packet_recv_window_size;
  big_uint16_buf_t packet_transmit_delay;
  big_uint32_buf_t framing_type;
};
static_assert(sizeof(incoming_call_connected) == 28);

// §2.12
struct call_clear_request {
  static constexpr message_type type = message_type::call_clear_request;
  header hdr;
  big_uint16_buf_t call_id;
  big_uint16_buf_t reserved1;
};
static_assert(sizeof(call_clear_request) == 16);

// §2.13
struct call_disconnect_notify {
  static constexpr message_type type = message_type::call_disconnect_notify;
  header hdr;
  big_uint16_buf_t call_id;
  big_uint8_buf_t result_code;
  big_uint8_buf_t error_code;
  big_uint16_buf_t cause_code;
  big_uint16_buf_t reserved1;
  std::array<std::uint8_t, call_statistics_size> call_statistics;
};
static_assert(sizeof(call_disconnect_notify) == 148);

// §2.14
struct wan_error_notify {
  static constexpr message_type type = message_type::wan_error_notify;
  header hdr;
  big_uint16_buf_t peer_call_id;
  big_uint16_buf_t reserved1;
  big_uint32_buf_t crc_errors;
  big_uint32_buf_t framing_errors;
  big_uint32_buf_t hardware_overruns;
  big_uint32_buf_t buffer_overruns;
  big_uint32_buf_t time_out_errors;
  big_uint32_buf_t alignment_errors;
};
static_assert(sizeof(wan_error_notify) == 40);

// §2.15
struct set_link_info {
  static constexpr message_type type = message_type::set_link_info;
  header hdr;
  big_uint16_buf_t peer_call_id;
  big_uint16_buf_t reserved1;
  big_uint32_buf_t send_accm;
  big_uint32_buf_t receive_accm;
};
static_assert(sizeof(set_link_info) == 24);

// The exact Length of a message type, or 0 for a type RFC 2637 does not define.
constexpr std::size_t message_size(std::uint16_t type) noexcept {
  constexpr std::size_t sizes[message_type_max + 1] = {
      0,
      sizeof(start_control_connection_request),
      sizeof(start_control_connection_reply),
      sizeof(stop_control_connection_request),
      sizeof(stop_control_connection_reply),
      sizeof(echo_request),
      sizeof(echo_reply),
      sizeof(outgoing_call_request),
      sizeof(outgoing_call_reply),
      sizeof(incoming_call_request),
      sizeof(incoming_call_reply),
      sizeof(incoming_call_connected),
      sizeof(call_clear_request),
      sizeof(call_disconnect_notify),
      sizeof(wan_error_notify),
      sizeof(set_link_info),
  };
  return type <= message_type_max ? sizes[type] : 0;
}
inline constexpr std::size_t min_message_size = sizeof(header);
inline constexpr std::size_t max_message_size = sizeof(incoming_call_request);

// The RFC's short name of a message type ("SCCRQ"), or "unknown".
const char* message_name(std::uint16_t type) noexcept;

// What is wrong with a common header, in the order the framer checks it.
enum class header_status {
  ok,
  bad_length,       // Length below the header size or above the largest message
  bad_pptp_type,    // PPTP Message Type other than 1 (control)
  bad_magic,        // Magic Cookie other than 0x1A2B3C4D
  unknown_type,     // Control Message Type outside 1..15
  length_mismatch,  // Length differs from the size RFC 2637 §2 gives the type
};
const char* header_status_text(header_status s) noexcept;

// Checks a complete common header (the framer calls it once 12 bytes are there).
header_status check_header(const header& h) noexcept;

// Checks the fields that are complete in the first bytes of a header (fewer than 12), so junk is refused
// as soon as it shows rather than when 12 bytes have arrived: Length after 2 bytes, PPTP Message Type
// after 4, Magic Cookie after 8, Control Message Type and its size after 10.
header_status check_header_prefix(std::span<const std::uint8_t> prefix) noexcept;

// A NUL-padded text field as a string view: up to the first NUL or the end of the field.
template <std::size_t N>
std::string_view text(const std::array<std::uint8_t, N>& field) noexcept {
  std::size_t n = 0;
  while (n < N && field[n] != 0) {
    ++n;
  }
  return {reinterpret_cast<const char*>(field.data()), n};
}

// Copies s into a fixed text field, truncated to the field and NUL-padded.
template <std::size_t N>
void set_text(std::array<std::uint8_t, N>& field, std::string_view s) noexcept {
  const std::size_t n = s.size() < N ? s.size() : N;
  if (n != 0) {  // an empty view may have a null data()
    std::memcpy(field.data(), s.data(), n);
  }
  std::memset(field.data() + n, 0, N - n);
}

// Zeroes `out` (sizeof(T) bytes) and fills the common header for T; returns the message to fill in.
template <class T>
T& start_message(std::span<std::uint8_t> out) noexcept {
  static_assert(core::wire_header<T>);
  assert(out.size() >= sizeof(T));
  std::memset(out.data(), 0, sizeof(T));
  T& m = *reinterpret_cast<T*>(out.data());
  m.hdr.length = static_cast<std::uint16_t>(sizeof(T));
  m.hdr.pptp_message_type = pptp_message_type_control;
  m.hdr.magic_cookie = magic_cookie;
  m.hdr.control_message_type = static_cast<std::uint16_t>(T::type);
  return m;
}

}  // namespace pptpkit::control
