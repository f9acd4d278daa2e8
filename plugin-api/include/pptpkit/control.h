/*
 * pptpkit/control.h — the `control` plugin kind: PPTP control connections (RFC 2637 §2-§3, TCP 1723).
 *
 * One instance runs in one role (PAC = server or PNS = client) and owns many control connections.
 * Channel: a control connection id the host picks (non-zero, unique among its live connections).
 * Call ids the instance chooses are unique across the whole instance (the GRE demultiplexer relies on
 * it) and are reported in events; commands about a call name it by our (local) call id.
 *
 * Port PPTPKIT_CONTROL_PORT_STREAM: feed the TCP bytes received on a connection in any split (packet
 * channel = connection id); poll gives the bytes to write. Each polled packet holds exactly one control
 * message: write each in its own send() so no two messages share a TCP segment (the Linux NAT helper
 * nf_conntrack_pptp reads only the first message of a segment).
 *
 * Ownership and threading: see plugin.h.
 */
#ifndef PPTPKIT_CONTROL_H
#define PPTPKIT_CONTROL_H

#include "pptpkit/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PPTPKIT_CONTROL_EXTENSION_V1 "pptpkit.control.v1"

#define PPTPKIT_CONTROL_PORT_STREAM 0u

/* Configuration keys for create (all optional except role). Times in milliseconds.
 *   role                       "pac" (server) | "pns" (client)
 *   host_name, vendor          sent in SCCRQ/SCCRP (64 bytes on the wire)
 *   max_connections            live control connections (default 1024)
 *   max_calls_per_connection   default 4 for a PAC, 64 for a PNS (it was 64 for both).
 *                              A PAC takes a call before PPP authenticates anyone, so this bounds what an
 *                              unauthenticated connection holds. Windows and pptp-linux run one call per
 *                              connection; a pptp-linux call manager shared by several pppd runs a few;
 *                              4 leaves room for those and for a redial that overlaps a clear. A PAC
 *                              sends it as Maximum Channels in SCCRP (RFC 2637 §2.2).
 *   echo_interval_ms           idle time before an Echo-Request (default 60000, RFC 2637 §3.2)
 *   echo_timeout_ms            no Echo-Reply this long after a request: connection dead (default 60000)
 *   handshake_timeout_ms       SCCRQ/SCCRP exchange (default 10000; it was 30000).
 *                              Clients send SCCRQ as soon as TCP is up; 10 s rides out three lost TCP
 *                              segments, and a connection that never says who it is holds its slot no
 *                              longer. Echoes do not extend it. Ends with REASON_TIMEOUT, counted.
 *   call_setup_timeout_ms      OCRQ->OCRP, ICRQ->ICRP->ICCN (default 30000)
 *   stop_reply_timeout_ms      StopCCRQ->StopCCRP (default 10000)
 *   call_id_quarantine_ms      accepted and checked for compatibility, no longer used: a freed call id
 *                              now waits in a FIFO until nearly every other free id was handed out, a
 *                              bound no peer can exhaust as it could a time quarantine
 *   receive_window             our GRE receive window advertised in OCRP/ICRP/OCRQ/ICCN (default 64)
 *   processing_delay           our packet processing delay in 1/10 s (default 0)
 *   max_output_bytes           queued output per connection before it is closed (default 65536)
 * Added in 1.0 by pptp-control (appended):
 *   connect_speed              bits/s we report in OCRP and ICCN (default 100000000; an OCRQ's lower
 *                              Maximum BPS wins)
 *   echo_interval_ms = 0 turns the keepalive off.
 */

/* Commands (pptpkit_command.type). Channel = connection id. */
/* TCP is up. values[0]: 1 = we send SCCRQ (PNS, or a PAC that dials out), 0 = we wait for one; values[1]:
 * the peer's IPv4 address (host order); values[2] (appended): our IPv4 address on this connection (host
 * order), for the SCCRQ collision tie-break of RFC 2637 3.1.3; 0 = unknown (we then lose every collision) */
#define PPTPKIT_CONTROL_CMD_CONNECTION_OPEN 1u
#define PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED 2u /* TCP closed or failed under us: drop every call now */
#define PPTPKIT_CONTROL_CMD_CONNECTION_STOP 3u   /* stop politely: StopCCRQ, values[0]: reason (1-3) */
/* PNS: Outgoing-Call-Request; PAC: Incoming-Call-Request. entries: "phone" (optional), "subaddress"
 * (optional). Returns our new call id (> 0). */
#define PPTPKIT_CONTROL_CMD_CALL_OPEN 4u
/* values[0]: our call id. PNS: Call-Clear-Request; PAC: Call-Disconnect-Notify. values[1]: result code */
#define PPTPKIT_CONTROL_CMD_CALL_CLEAR 5u
#define PPTPKIT_CONTROL_CMD_SET_LINK_INFO 6u /* PNS: values[0] call id, [1] send ACCM, [2] recv ACCM */
#define PPTPKIT_CONTROL_CMD_WAN_ERROR 7u     /* PAC: values[0] call id, [1..6] as in the event */

/* Events (pptpkit_event.type). Channel = connection id. */
/* established. values[0] peer protocol version, [1] framing caps, [2] bearer caps, [3] max channels, [4]
 * firmware revision; text "host name|vendor" */
#define PPTPKIT_CONTROL_EVENT_CONNECTION_UP 1u
/* the host closes TCP once the output port is drained. values[0] PPTPKIT_CONTROL_REASON_*; text: why */
#define PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN 2u
/* values[0] our call id, [1] peer call id, [2] peer receive window, [3] peer processing delay, [4] connect
 * speed, [5] call serial number, [6] 1 = outgoing (OCRQ) / 2 = incoming (ICRQ) */
#define PPTPKIT_CONTROL_EVENT_CALL_UP 3u
/* values[0] our call id, [1] peer call id, [2] result code, [3] error code, [4] cause code; text: why */
#define PPTPKIT_CONTROL_EVENT_CALL_DOWN 4u
#define PPTPKIT_CONTROL_EVENT_SET_LINK_INFO 5u /* values[0] our call id, [1] send ACCM, [2] recv ACCM */
/* values[0] our call id, [1] CRC, [2] framing, [3] hardware overruns, [4] buffer overruns, [5] time-outs,
 * [6] alignment errors */
#define PPTPKIT_CONTROL_EVENT_WAN_ERROR 6u

/* CONNECTION_DOWN reasons. */
#define PPTPKIT_CONTROL_REASON_STOPPED 1u        /* StopCCRQ/StopCCRP exchange completed */
#define PPTPKIT_CONTROL_REASON_PEER_CLOSED 2u    /* CMD_CONNECTION_CLOSED */
#define PPTPKIT_CONTROL_REASON_PROTOCOL_ERROR 3u /* malformed or unexpected input; see text */
#define PPTPKIT_CONTROL_REASON_TIMEOUT 4u        /* handshake, echo or stop-reply timeout */
#define PPTPKIT_CONTROL_REASON_REFUSED 5u        /* SCCRP with a result other than 1, or version */
#define PPTPKIT_CONTROL_REASON_OUTPUT_FULL 6u    /* the peer stopped reading: max_output_bytes hit */
#define PPTPKIT_CONTROL_REASON_LIMIT 7u          /* max_connections */
/* Appended: */
/* lost an SCCRQ collision (RFC 2637 3.1.3): we close the connection we opened; the peer's one carries on */
#define PPTPKIT_CONTROL_REASON_COLLISION 8u

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_CONTROL_H */
