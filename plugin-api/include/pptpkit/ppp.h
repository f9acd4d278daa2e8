/*
 * pptpkit/ppp.h — the `ppp` plugin kind: PPP over PPTP — LCP, authentication (PAP, CHAP-MD5,
 * MS-CHAPv2, EAP), IPCP, IPV6CP, CCP and MPPE — in either role.
 *
 * One instance runs many sessions. Channel: a session id the host picks (pptpkit uses our call id).
 *
 * Port PPTPKIT_PPP_PORT_LINK: PPP frames as PPTP carries them (no HDLC flags, escaping or FCS; address/
 * control and protocol fields possibly compressed). Feed what GRE delivered; poll frames to send (LCP,
 * authentication and CCP frames carry PPTPKIT_PACKET_F_CONTROL).
 * Port PPTPKIT_PPP_PORT_NET: IP packets. Feed what the host's interface read (PPTPKIT_PACKET_F_IPV6 for
 * IPv6); poll what arrived from the peer for the interface. Network packets pass only while their NCP
 * (and MPPE when required) is up; other ones are counted and dropped. Headers are pushed and pulled in
 * place in the same buffer.
 *
 * Secrets never come from files: when the core needs a secret it emits EVENT_AUTH_SECRET_NEEDED and the
 * host answers with CMD_AUTH_SECRET (at once, or later — e.g. after asking RADIUS).
 *
 * Ownership and threading: see plugin.h.
 */
#ifndef PPTPKIT_PPP_H
#define PPTPKIT_PPP_H

#include "pptpkit/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PPTPKIT_PPP_EXTENSION_V1 "pptpkit.ppp.v1"

#define PPTPKIT_PPP_PORT_LINK 0u
#define PPTPKIT_PPP_PORT_NET 1u

/* Authentication protocols (values in events and the auth list), as on the wire. */
#define PPTPKIT_PPP_AUTH_NONE 0u
#define PPTPKIT_PPP_AUTH_PAP 0xc023u         /* RFC 1334 */
#define PPTPKIT_PPP_AUTH_CHAP_MD5 0xc22305u  /* RFC 1994, algorithm 5 */
#define PPTPKIT_PPP_AUTH_MSCHAP_V2 0xc22381u /* RFC 2759, CHAP algorithm 0x81 */
#define PPTPKIT_PPP_AUTH_EAP 0xc227u         /* RFC 3748 */

/* Session parameters (entries of CMD_SESSION_OPEN; instance-wide defaults may be given to create with
 * the same keys). Times in milliseconds.
 *   role                "server" (authenticator, assigns addresses) | "client"
 *   auth                server: accepted protocols in order of preference, comma separated, from
 *                       "pap,chap,mschapv2,eap"; client: the ones it will agree to (default all but pap)
 *   user, password      client: our name and secret
 *   name                our name in CHAP/EAP challenges (default "pptpkit")
 *   mru                 (default 1400, what pppd asks over PPTP)
 *   lcp_echo_interval   s between LCP Echo-Requests, 0 = off (pppd lcp-echo-interval; default 30)
 *   lcp_echo_failure    unanswered echoes before the link is declared dead (default 4)
 *   restart_timer_ms, max_configure, max_terminate, max_failure   RFC 1661 §4.6 (3000, 10, 2, 5)
 *   auth_secret_timeout_ms  server: how long the host may take to answer EVENT_AUTH_SECRET_NEEDED before
 *                       authentication fails (default 30000; a later answer is ignored)
 *   local_ip, remote_ip server: IPv4 addresses (dotted quad); client: local_ip optional
 *   dns1, dns2, nbns1, nbns2  server: handed out via RFC 1877
 *   ipv6                "1" to run IPV6CP (default 1)
 *   mppe                "required" | "optional" | "refused" (default "optional")
 *   mppe_bits           allowed key lengths, e.g. "128,56,40" (default "128,40")
 *   mppe_stateful       "1" allows stateful mode (default 0: stateless, like pppd's nomppe-stateful)
 */

/* Commands. Channel = session id. */
#define PPTPKIT_PPP_CMD_SESSION_OPEN 1u  /* lower layer up: start LCP. entries: the parameters above */
#define PPTPKIT_PPP_CMD_SESSION_CLOSE 2u /* administrative close: LCP Terminate, then EVENT_LINK_DOWN */
#define PPTPKIT_PPP_CMD_LOWER_DOWN 3u    /* the call is gone: end at once, no Terminate exchange */
/* answer to EVENT_AUTH_SECRET_NEEDED. values[0]: 1 = found, 0 = unknown user. entries: "secret", optional
 * "remote_ip" (a per-user address from chap-secrets) */
#define PPTPKIT_PPP_CMD_AUTH_SECRET 4u

/* Events. Channel = session id. */
#define PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED 1u /* values[0] PPTPKIT_PPP_AUTH_*; text: peer's name */
/* values[0] protocol, [1] 1 = we authenticated the peer, 0 = the peer authenticated us; text: peer's name */
#define PPTPKIT_PPP_EVENT_AUTH_SUCCESS 2u
/* values[0] protocol, [1] as above, [2] reason code (MS-CHAP error 646-691 or 0); text: what a user sees */
#define PPTPKIT_PPP_EVENT_AUTH_FAILURE 3u
/* values[0] local address, [1] peer address, [2] DNS1, [3] DNS2 (host order, 0 = none), [4] MTU */
#define PPTPKIT_PPP_EVENT_IPV4_UP 4u
#define PPTPKIT_PPP_EVENT_IPV6_UP 5u /* values[0] local interface id, [1] peer interface id */
/* ENCRYPTION_UP: values[0] key bits (40, 56, 128), [1] 1 = stateless in the direction we receive,
 * [2] 1 = stateless in the one we send (CCP negotiates each direction on its own: pppd with
 * mppe-stateful acks a stateful request while asking for stateless itself). */
#define PPTPKIT_PPP_EVENT_ENCRYPTION_UP 6u
/* the session ended; values[0] PPTPKIT_PPP_REASON_*; text: why. The host closes the call. */
#define PPTPKIT_PPP_EVENT_LINK_DOWN 7u

#define PPTPKIT_PPP_REASON_CLOSED 1u /* SESSION_CLOSE or LOWER_DOWN */
#define PPTPKIT_PPP_REASON_PEER_TERMINATE 2u
#define PPTPKIT_PPP_REASON_AUTH_FAILED 3u
#define PPTPKIT_PPP_REASON_NEGOTIATION 4u  /* LCP/NCP did not converge, or a required option refused */
#define PPTPKIT_PPP_REASON_ECHO_TIMEOUT 5u /* lcp_echo_failure reached */
#define PPTPKIT_PPP_REASON_LOOPBACK 6u     /* magic-number loopback detected */
#define PPTPKIT_PPP_REASON_ENCRYPTION 7u   /* MPPE required but not agreed */

/* Peer names (appended): the text of AUTH_SECRET_NEEDED and of a server-side AUTH_SUCCESS is the name the
 * peer sent, byte for byte — the name looked up is the name hashed. It may hold any byte but NUL,
 * newlines included: a host escapes it before it reaches a log line, a status listing or a hook's
 * environment. A name with a NUL byte or longer than PPTPKIT_EVENT_TEXT_MAX - 1 bytes never reaches the
 * host: authentication fails (AUTH_FAILURE, text "peer name refused: ...") and is counted in
 * auth_bad_peer_name. */

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_PPP_H */
