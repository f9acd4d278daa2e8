// pptpkit/control/counters.hpp — every counter of the control plugin, listed once (STYLE B15).
//
// Each connection keeps its own set (read_stats on its channel); the instance's total (read_stats on
// PPTPKIT_CHANNEL_ALL) is the instance-level counters plus every live and every finished connection.
#pragma once

#include "pptpkit/core/counters.hpp"

// clang-format off
#define PPTPKIT_CONTROL_COUNTERS(X)                                                                     \
  X(rx_messages, "control messages received")                                                          \
  X(tx_messages, "control messages handed to the host to write")                                       \
  X(rx_bytes, "stream bytes received")                                                                 \
  X(tx_bytes, "stream bytes handed to the host to write")                                              \
  X(connections_up, "control connections established")                                                 \
  X(connections_down, "control connections ended, for any reason")                                     \
  X(calls_up, "calls established")                                                                     \
  X(calls_down, "calls ended, for any reason")                                                         \
  X(echo_requests_sent, "keepalive Echo-Requests sent")                                                \
  X(echo_requests_answered, "peer Echo-Requests answered")                                             \
  X(echo_replies_received, "Echo-Replies matching our outstanding request")                            \
  X(drop_unknown_connection, "stream packets for a connection id the instance does not know")          \
  X(drop_after_close, "stream bytes received after the connection ended")                              \
  X(drop_bad_length, "rejected: Length outside 12..220 (connection closed)")                           \
  X(drop_bad_pptp_type, "rejected: PPTP Message Type not 1 (connection closed)")                       \
  X(drop_bad_magic, "rejected: bad Magic Cookie (connection closed)")                                  \
  X(drop_unknown_type, "rejected: unknown Control Message Type (connection closed)")                   \
  X(drop_length_mismatch, "rejected: Length disagrees with the type (connection closed)")              \
  X(drop_unexpected_before_established, "rejected: call or echo message before SCCRQ/SCCRP (closed)")  \
  X(drop_unexpected_message, "ignored: a message this role or state does not take")                    \
  X(drop_unknown_call, "ignored: a call message naming no call of this connection")                    \
  X(drop_echo_reply_mismatch, "ignored: Echo-Reply with an identifier we did not send")                \
  X(rejected_version, "rejected: unsupported protocol version in SCCRQ or SCCRP")                      \
  X(rejected_refused, "connection refused by the peer (SCCRP result not 1)")                           \
  X(rejected_connection_limit, "CONNECTION_OPEN refused: max_connections")                             \
  X(rejected_call_limit, "calls refused: max_calls_per_connection")                                    \
  X(rejected_call_ids_exhausted, "calls refused: no free call id")                                     \
  X(calls_refused_by_peer, "our OCRQ/ICRQ answered with a failure result")                             \
  X(sccrq_collisions_won, "SCCRQ collisions won (RFC 2637 §3.1.3)")                                    \
  X(sccrq_collisions_lost, "SCCRQ collisions lost (RFC 2637 §3.1.3)")                                  \
  X(timeout_handshake, "connections ended: SCCRQ/SCCRP not completed in time")                         \
  X(timeout_echo, "connections ended: no Echo-Reply in time")                                          \
  X(timeout_stop_reply, "connections ended: no StopCCRP in time")                                      \
  X(timeout_call_setup, "calls ended: setup or clear not completed in time")                           \
  X(output_full, "connections ended: queued output reached max_output_bytes")                          \
  X(output_no_packet, "connections ended: the host's packet pool was empty")                           \
  X(set_link_info_received, "Set-Link-Info messages received")                                         \
  X(wan_errors_received, "WAN-Error-Notify messages received")
// clang-format on

namespace pptpkit::control {
PPTPKIT_DEFINE_COUNTERS(counters, PPTPKIT_CONTROL_COUNTERS);
}  // namespace pptpkit::control
