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
 * host answers with CMD_AUTH_SECRET (at once, or later). Added in 1.1: with auth_verify=host the server
 * never holds the secret — it hands the peer's authentication data to the host (EVENT_AUTH_VERIFY, the
 * bytes through the PPTPKIT_PPP_AUTH_EXTENSION_V1 extension) and the host answers with a verdict
 * (CMD_AUTH_VERDICT), as a NAS asks RADIUS; EAP is relayed packet by packet (RFC 3579).
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
 * Added in 1.1 (a 1.0 plugin refuses unknown keys: send it only to a plugin that offers
 * PPTPKIT_PPP_AUTH_EXTENSION_V1):
 *   auth_verify         server: "secret" (default: ask the host for the secret, EVENT_AUTH_SECRET_NEEDED,
 *                       and verify here) | "host" (hand the peer's data to the host, EVENT_AUTH_VERIFY,
 *                       and take its CMD_AUTH_VERDICT). auth_secret_timeout_ms bounds each wait for a
 *                       verdict as it does for a secret.
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

/* --- added in 1.1: the host verifies (auth_verify=host) --- */

/* EVENT_AUTH_VERIFY (server, auth_verify=host): the peer answered; the host verifies it (e.g. asks RADIUS)
 * and answers with CMD_AUTH_VERDICT. values[0] PPTPKIT_PPP_AUTH_*, [1] the length of the data, which the
 * host reads with the extension's request_data; text: the peer's name, under the rules of
 * AUTH_SECRET_NEEDED's text (the exact bytes; a name with NUL or too long is refused before the host sees
 * it). The data, by protocol:
 *   PAP        the password as the peer sent it (0..255 bytes).
 *   CHAP-MD5   [0] identifier, [1..16] our 16-byte challenge, [17..32] the peer's 16-byte response.
 *   MS-CHAPv2  [0] identifier, [1..16] our authenticator challenge, [17..65] the peer's 49-byte response
 *              value (peer challenge 16, reserved 8, NT-Response 24, flags 1): what RADIUS's
 *              MS-CHAP-Challenge and MS-CHAP2-Response carry.
 *   EAP        one EAP packet from the peer as received (RFC 3748 §4: code, identifier, length, data).
 *              The plugin sends EAP-Request/Identity itself (RFC 3579 §2.1); the peer's Response/Identity
 *              is the first AUTH_VERIFY (text: the identity), every later EAP Response another one. */
#define PPTPKIT_PPP_EVENT_AUTH_VERIFY 8u

/* CMD_AUTH_VERDICT: the host's answer to AUTH_VERIFY. values[0] PPTPKIT_PPP_VERDICT_*; values[1] on reject
 * the MS-CHAP error code (646-649, 691, 709; 0 means 691). entries (all optional):
 *   "message"        PAP/CHAP-MD5: the text of Ack/Nak, Success/Failure. MS-CHAPv2 accept: the 42-character
 *                    "S=..." authenticator response RADIUS returned in MS-CHAP2-Success (required: an
 *                    accept without it is a reject); the plugin sends "S=... M=..." as usual. Reject:
 *                    the text the user sees.
 *   "mppe_send_key", "mppe_recv_key"  32 hex digits each: the 16-byte MPPE start keys from this server's
 *                    point of view (RFC 3079 §3.4; RADIUS's MS-MPPE-Send-Key/Recv-Key, the first 16 bytes
 *                    for EAP): send is what this server encrypts with. MS-CHAPv2 and EAP only; both or
 *                    neither. With mppe=required an MS-CHAPv2 or EAP accept without them is a reject
 *                    (REASON_AUTH_FAILED, counted in auth_verdict_no_keys).
 *   "remote_ip"      as CMD_AUTH_SECRET's.
 *   "dns1", "dns2"   accept: this user's DNS servers (RFC 1877), in place of the session's.
 *   "mppe", "mppe_bits"  accept: this user's encryption (RADIUS MS-MPPE-Encryption-Policy/-Types):
 *                    "required" or "optional", and the key lengths allowed ("128,56,40"). They narrow
 *                    the session's policy and never widen it; none of its lengths left is a reject.
 *   "eap"            hex: the EAP packet to send: the Request for CONTINUE, the Success/Failure for
 *                    ACCEPT/REJECT (built by the plugin when absent).
 * Returns PPTPKIT_ERR_STATE (ignored, logged, counted in auth_verdict_unexpected) when no verification is
 * pending. A malformed verdict (bad hex, a key not 16 bytes, an EAP packet of the wrong code, CONTINUE
 * without an EAP Request or for another protocol) is a reject, logged and counted in
 * auth_verdict_malformed. */
#define PPTPKIT_PPP_CMD_AUTH_VERDICT 5u
#define PPTPKIT_PPP_VERDICT_REJECT 0u
#define PPTPKIT_PPP_VERDICT_ACCEPT 1u
#define PPTPKIT_PPP_VERDICT_CONTINUE 2u /* EAP only: send the "eap" Request and wait for the next Response */

/* get_extension(PPTPKIT_PPP_AUTH_EXTENSION_V1): a static table of the plugin; a host that finds it may
 * send auth_verify. A reader checks PPTPKIT_HAS_FIELD against struct_size before using a field. */
#define PPTPKIT_PPP_AUTH_EXTENSION_V1 "pptpkit.ppp.auth.v1"

typedef struct pptpkit_ppp_auth_extension {
  uint32_t struct_size;
  uint32_t reserved;
  /* The data of session's pending AUTH_VERIFY into out[0..max). Returns its length (when that exceeds max,
   * nothing is copied), PPTPKIT_ERR_NOT_FOUND for an unknown session, PPTPKIT_ERR_STATE when no
   * verification is pending. Borrows inst. */
  int32_t (*request_data)(const pptpkit_instance* inst, uint32_t session, uint8_t* out, uint32_t max);
  /* --- end of 1.1 fields --- */
} pptpkit_ppp_auth_extension;

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_PPP_H */
