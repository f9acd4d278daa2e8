// pptpkit/ppp/counters.hpp — every counter and drop reason of a PPP session, listed once.
#pragma once

#include "pptpkit/core/counters.hpp"

#define PPTPKIT_PPP_COUNTERS(X)                                                                \
  X(rx_frames, "PPP frames received from the link")                                            \
  X(tx_frames, "PPP frames sent to the link")                                                  \
  X(rx_ip_packets, "network packets delivered to the interface")                               \
  X(tx_ip_packets, "network packets framed for the link")                                      \
  X(drop_malformed_frame, "frames whose address/control or protocol field is invalid")         \
  X(drop_malformed_control, "control packets shorter than their header or their length field") \
  X(drop_ncp_not_open, "network packets while their NCP is not Opened (RFC 1661 §3.5)")        \
  X(drop_before_phase, "control packets of a phase not reached yet (RFC 1661 §3.4-3.5)")       \
  X(drop_auth_unexpected, "authentication packets that answer nothing we asked")               \
  X(auth_bad_peer_name, "logins refused: the peer's name has a NUL byte or passes 255 bytes")  \
  X(auth_verdict_unexpected, "AUTH_VERDICTs without a pending AUTH_VERIFY, ignored")           \
  X(auth_verdict_malformed, "AUTH_VERDICTs with a malformed entry, taken as a reject")         \
  X(auth_verdict_no_keys, "accepts without MPPE keys while MPPE is required, taken as reject") \
  X(drop_fsm_bad_id, "Configure-Ack/Nak/Reject with a stale identifier")                       \
  X(drop_fsm_bad_ack, "Configure-Ack whose options differ from our request")                   \
  X(drop_fsm_malformed, "Configure packets whose options do not parse")                        \
  X(drop_echo_not_opened, "LCP Echo-Requests before LCP is Opened (RFC 1661 §5.8)")            \
  X(drop_too_big, "network packets larger than the peer's MRU")                                \
  X(drop_no_headroom, "network packets without headroom for the PPP header")                   \
  X(drop_alloc_failed, "control frames not sent: the packet pool was empty")                   \
  X(drop_unknown_session, "packets for a session that does not exist")                         \
  X(drop_unknown_port, "packets fed on a port this kind does not have")                        \
  X(protocol_rejects_sent, "frames of protocols we do not run, answered with Protocol-Reject") \
  X(code_rejects_sent, "control packets with unknown codes, answered with Code-Reject")        \
  X(discard_requests, "LCP Discard-Requests received (RFC 1661 §5.9)")                         \
  X(lcp_informational, "LCP Identification/Time-Remaining received (RFC 1570), not answered")  \
  X(echo_requests_sent, "LCP Echo-Requests sent (keepalive)")                                  \
  X(echo_replies_received, "LCP Echo-Replies received")                                        \
  X(loopback_suspected, "magic numbers echoed back to us (RFC 1661 §6.4)")                     \
  /* CCP and MPPE (ccp.hpp) */                                                                 \
  X(drop_mppe_not_up, "network packets held back: MPPE required and not up (require-mppe)")    \
  X(drop_unencrypted, "unencrypted network frames while MPPE is required or up")               \
  X(drop_mppe_unexpected, "MPPE frames (0x00FD) while MPPE is not up")                         \
  X(mppe_tx_packets, "network packets encrypted with MPPE")                                    \
  X(mppe_rx_delivered, "MPPE frames decrypted and delivered")                                  \
  X(mppe_rx_dropped, "MPPE frames the decryptor dropped (header, stale, wrong key, resync)")   \
  X(ccp_rejected_options, "CCP options we Configure-Rejected (MPPC, Deflate, ...)")            \
  X(ccp_reset_requests_sent, "CCP Reset-Requests sent: stateful MPPE lost sync")               \
  X(ccp_reset_requests_received, "CCP Reset-Requests from the peer")                           \
  X(ccp_malformed_reset, "CCP Reset-Requests/Acks while MPPE is not up (RFC 1962 §5.3)")       \
  X(ccp_assumed_acks, "CCP opened without the peer's lost Configure-Ack (MPPE.md)")

namespace pptpkit::ppp {
PPTPKIT_DEFINE_COUNTERS(session_counters, PPTPKIT_PPP_COUNTERS);
}  // namespace pptpkit::ppp
