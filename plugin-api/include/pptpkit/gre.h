/*
 * pptpkit/gre.h — the `gre` plugin kind: PPTP's enhanced GRE data channel (RFC 2637 §4.1).
 *
 * One instance demultiplexes every session of a host. Channel: our call id — the key the peer puts in
 * the GRE packets it sends us (the control plugin chose it; it is unique in the host).
 *
 * Port PPTPKIT_GRE_PORT_NET: GRE packets, starting at the GRE header (the host strips the outer IP
 * header, taking its length from what it received). Fed packets carry the sender's IPv4 address in
 * `aux` (host order; 0 when unknown) and need no channel: the key decides. Polled packets are ready to
 * send: `channel` is our call id and `aux` the peer's IPv4 address given at SESSION_OPEN.
 * Port PPTPKIT_GRE_PORT_PPP: PPP frames. Feed frames to send (channel = our call id; a frame with
 * PPTPKIT_PACKET_F_CONTROL goes ahead of queued data); poll frames received, in sequence order.
 *
 * The GRE header is prepended in the frame's headroom (PPTPKIT_HDR_GRE); decapsulation only moves the
 * data offset. No payload is copied.
 *
 * Ownership and threading: see plugin.h.
 */
#ifndef PPTPKIT_GRE_H
#define PPTPKIT_GRE_H

#include "pptpkit/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PPTPKIT_GRE_EXTENSION_V1 "pptpkit.gre.v1"

#define PPTPKIT_GRE_PORT_NET 0u
#define PPTPKIT_GRE_PORT_PPP 1u

/* Configuration keys for create. Times in milliseconds.
 *   max_sessions            (default 16384)
 *   receive_window          what we advertise and accept out of order (default 64)
 *   enforce_peer_window     1 = never more unacked packets than the peer's window (default 0: many
 *                           peers never ack)
 *   send_queue_limit        packets waiting for the peer's window per session (default 256)
 *   reorder_timeout_ms      how long a gap is waited for (default 80; 0 = no reordering)
 *   reorder_depth           packets held out of order per session (default 32)
 *   ack_delay_ms            delay of a standalone ack when no data flows (default 50)
 *   no_data_warning_ms      emit EVENT_NO_PEER_DATA when a session saw no GRE this long (default 5000;
 *                           0 = off)
 *   check_peer_address      1 = drop GRE whose sender differs from the session's peer (default 1)
 *   first_sequence          our first sequence number (default 0, as pptpd and pptp-linux; the Linux
 *                           kernel and OpenBSD start at 1; RFC 2637 leaves it open)
 * Added in 1.0 by gre-tunnel (appended):
 *   restart_confirm_ms      how long a run of packets far behind the window must last, with nothing of
 *                           the current numbering in between, before the receiver takes it for a
 *                           restarted peer and follows it (default 1000; 0 = at the second packet of
 *                           the run). Shorter runs are late packets and are dropped: the Linux kernel's
 *                           sender displaces runs of hundreds of packets behind later ones under load.
 */

/* Commands. Channel = our call id. */
/* values[0] peer call id, [1] peer receive window (0 = not given), [2] peer processing delay (1/10 s), [3]
 * peer IPv4 address (host order) */
#define PPTPKIT_GRE_CMD_SESSION_OPEN 1u
#define PPTPKIT_GRE_CMD_SESSION_CLOSE 2u /* frees queued packets */

/* Events. Channel = our call id. */
/* control is up but no GRE came: values[0] ms since open; text: likely causes (firewall, NAT without PPTP
 * helper) */
#define PPTPKIT_GRE_EVENT_NO_PEER_DATA 1u
#define PPTPKIT_GRE_EVENT_FIRST_PEER_DATA 2u /* the first valid GRE packet of the session arrived */

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_GRE_H */
