// pptpkit/ppp/auth.hpp — the Authenticate phase (RFC 1661 §3.5) in both directions.
//
// auth_server authenticates the peer (we are the authenticator): PAP (RFC 1334 §2), CHAP with MD5
// (RFC 1994), MS-CHAPv2 (RFC 2759) and EAP (RFC 3748) with EAP-MD5. It never knows secrets. By default
// it asks through auth_events::need_secret, the host answers later through secret(), and it verifies
// itself. With host_verifies (auth_verify=host, pptpkit/ppp.h 1.1) it is a NAS: it hands the peer's
// data to the host (need_verdict, verify_data()) and takes the host's verdict() — which may carry the
// authenticator response and the MPPE start keys a RADIUS server sent; EAP is relayed packet by packet
// (RFC 3579 §2.1: we send Request/Identity, every Response goes to the host, every Request it returns
// goes to the peer). auth_client proves who we are with the user name and password it was given.
//
// Both are sans-IO (now in, control packets out through control_output, deadline()/tick() for the
// retransmission timer) and report the outcome once through auth_events::auth_result with the text a
// user would see. Control path: may allocate (names, messages).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/plugin.h"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/eap.hpp"
#include "pptpkit/ppp/mppe_keys.hpp"
#include "pptpkit/ppp/protocol.hpp"

namespace pptpkit::ppp {

// The longest peer name the server takes: need_secret hands the name to the host as an event's text,
// which holds PPTPKIT_EVENT_TEXT_MAX - 1 bytes and ends at the first NUL. A longer name, or one with a
// NUL byte, would be looked up as another name than the one hashed and reported, so it is refused.
inline constexpr std::size_t max_peer_name = PPTPKIT_EVENT_TEXT_MAX - 1;

class auth_events {
 public:
  // The server needs the secret of `peer_name` for `protocol` (PPTPKIT_PPP_AUTH_*). The name is the
  // peer's bytes exactly as received: at most max_peer_name of them, none of them NUL.
  virtual void need_secret(std::uint32_t protocol, std::string_view peer_name) noexcept = 0;
  // Server with host_verifies: the peer answered; the host verifies verify_data() (data_size bytes, laid
  // out as pptpkit/ppp.h's EVENT_AUTH_VERIFY says) and answers through verdict(). peer_name as above.
  virtual void need_verdict(std::uint32_t protocol, std::string_view peer_name, std::size_t data_size) noexcept = 0;
  // The exchange ended. server_side: we authenticated the peer. code: the MS-CHAP error (646-691) or 0.
  // On the server side peer_name is the name need_secret gave, byte for byte.
  virtual void auth_result(bool server_side, std::uint32_t protocol, bool ok, std::string_view peer_name,
                           std::uint32_t code, std::string_view text) noexcept = 0;
  // The authentication gave MPPE start keys for our role (RFC 3079 §3.4): MS-CHAPv2 derives them from
  // the password on each side (the server's send key is the client's receive key).
  virtual void mppe_keys_ready(const mppe_start_keys& keys) noexcept = 0;

 protected:
  ~auth_events() = default;
};

// MS-CHAP failure codes (RFC 2759 §6).
enum mschap_error : std::uint32_t {
  mschap_restricted_logon_hours = 646,
  mschap_account_disabled = 647,
  mschap_password_expired = 648,
  mschap_no_dialin_permission = 649,
  mschap_authentication_failure = 691,
  mschap_changing_password = 709,
};
// What a user sees for an MS-CHAP error code.
const char* mschap_error_text(std::uint32_t code) noexcept;

struct auth_timing {
  std::uint64_t restart_ns = 3'000'000'000;  // retransmission interval (pppd's chap-restart 3 s)
  std::uint32_t max_transmits = 10;          // pppd's chap-max-challenge / pap-max-authreq
  // Server: how long the host may take to answer need_secret (a RADIUS server that never replies);
  // then authentication fails rather than holding the session forever.
  std::uint64_t secret_timeout_ns = 30'000'000'000;
};

// The server's policy.
struct auth_server_policy {
  bool host_verifies = false;       // auth_verify=host: the host verifies (need_verdict/verdict)
  bool mppe_keys_required = false;  // mppe=required: an MS-CHAPv2 or EAP accept must carry MPPE keys
};

// The host's answer to need_verdict (CMD_AUTH_VERDICT, pptpkit/ppp.h), its entries parsed.
struct host_verdict {
  enum class decision : std::uint8_t { reject, accept, next };  // next: EAP CONTINUE
  decision what = decision::reject;
  std::uint32_t code = 0;                // reject: the MS-CHAP error (0: 691)
  std::optional<std::string> message;    // Ack/Nak/Success/Failure text; MS-CHAPv2 accept: "S=..."
  std::optional<mppe_start_keys> keys;   // this server's MPPE start keys (MS-MPPE-Send-Key/Recv-Key)
  std::vector<std::uint8_t> eap;         // a whole EAP packet to send (empty: none given)
  bool mppe_required = false;            // accept: "mppe" = "required"
  std::optional<std::string> mppe_bits;  // accept: the strengths this user may use, e.g. "128"
  std::string malformed;                 // not empty: what was wrong with an entry; the verdict is a reject
};

// Parses MS-CHAPv2's failure message "E=eeee R=r C=cccc... V=vvvv M=<msg>" (RFC 2759 §6).
struct mschap_failure {
  std::uint32_t error = 0;
  bool retry = false;
  std::string message;
};
mschap_failure parse_mschap_failure(std::string_view text);

class auth_server {
 public:
  auth_server(control_output& out, auth_events& events, random_source& random, std::string our_name,
              auth_timing timing = {}, auth_server_policy policy = {});
  ~auth_server();

  void start(std::uint32_t protocol, std::uint64_t now);
  // A PAP, CHAP or EAP packet from the peer.
  void receive(std::uint16_t ppp_protocol, const control_packet& pkt, std::uint64_t now);
  // The host's answer to need_secret. Ignored unless one is pending.
  void secret(bool found, std::string_view secret, std::uint64_t now);
  bool waiting_for_secret() const noexcept { return phase_ == phase::waiting_secret; }
  // host_verifies: the host's answer to need_verdict. Ignored unless one is pending. A malformed verdict,
  // or an accept that lacks what the login needs (MS-CHAPv2's S=, MPPE keys when required), is a reject.
  void verdict(const host_verdict& v, std::uint64_t now);
  bool waiting_for_verdict() const noexcept { return phase_ == phase::waiting_verdict; }
  // What the host verifies, while waiting_for_verdict() (pptpkit/ppp.h, EVENT_AUTH_VERIFY).
  std::span<const std::uint8_t> verify_data() const noexcept { return verify_data_; }
  bool done() const noexcept { return phase_ == phase::succeeded || phase_ == phase::failed; }
  std::uint64_t deadline() const noexcept { return deadline_; }
  void tick(std::uint64_t now);
  std::uint64_t dropped() const noexcept { return dropped_; }
  // Peer names refused: a NUL byte, or longer than max_peer_name.
  std::uint64_t bad_peer_names() const noexcept { return bad_peer_names_; }
  // Verdicts taken as rejects: a malformed entry; an accept without MPPE keys that MPPE required.
  std::uint64_t malformed_verdicts() const noexcept { return malformed_verdicts_; }
  std::uint64_t verdicts_without_keys() const noexcept { return verdicts_without_keys_; }

 private:
  enum class phase : std::uint8_t { idle, challenged, waiting_secret, waiting_verdict, succeeded, failed };
  void send_challenge(std::uint64_t now);
  // host: the verdict whose message / EAP packet replace ours, when the host gave them.
  void finish(bool ok, std::uint32_t code, std::string_view text, const host_verdict* host = nullptr);
  // Takes the peer's name, or refuses it (the verdict is sent, false returned).
  bool take_peer_name(std::span<const std::uint8_t> name);
  void on_pap(const control_packet& pkt, std::uint64_t now);
  void on_chap(const control_packet& pkt, std::uint64_t now);
  void wait_for_secret(std::uint64_t now);
  // The peer's answer is in: ask the host for the secret, or (host_verifies) for its verdict.
  void ask_host(std::uint64_t now);
  void wait_for_verdict(std::uint64_t now);
  // What is wrong with a verdict for this login ("" when nothing).
  std::string check_verdict(const host_verdict& v) const;
  void on_eap(const control_packet& pkt, std::uint64_t now);
  void on_eap_relay(const control_packet& pkt, std::uint64_t now);
  void send_verdict();

  control_output& out_;
  auth_events& events_;
  random_source& random_;
  std::string our_name_;
  auth_timing timing_;
  auth_server_policy policy_;
  std::uint32_t protocol_ = 0;
  phase phase_ = phase::idle;
  std::uint8_t id_ = 0;  // identifier of our outstanding challenge / request
  std::uint32_t transmits_ = 0;
  std::uint64_t deadline_ = UINT64_MAX;
  challenge16 challenge_{};
  std::string peer_name_;
  std::vector<std::uint8_t> response_;       // what the peer answered, kept until the secret arrives
  std::vector<std::uint8_t> verify_data_;    // host_verifies: what the pending need_verdict is about
  std::vector<std::uint8_t> relay_request_;  // host_verifies, EAP: the host's Request, kept for retransmission
  // The verdict we sent, resent when the peer repeats its answer (RFC 1994 §4.2, RFC 1334 §2.2).
  std::uint16_t verdict_protocol_ = 0;
  std::uint8_t verdict_code_ = 0;
  std::uint8_t verdict_id_ = 0;
  std::vector<std::uint8_t> verdict_data_;
  bool eap_identity_done_ = false;
  std::unique_ptr<eap_server_method> eap_method_;
  std::uint64_t dropped_ = 0;
  std::uint64_t bad_peer_names_ = 0;
  std::uint64_t malformed_verdicts_ = 0;
  std::uint64_t verdicts_without_keys_ = 0;
};

class auth_client {
 public:
  auth_client(control_output& out, auth_events& events, random_source& random, std::string user, std::string password,
              auth_timing timing = {});
  ~auth_client();

  void start(std::uint32_t protocol, std::uint64_t now);
  void receive(std::uint16_t ppp_protocol, const control_packet& pkt, std::uint64_t now);
  bool done() const noexcept { return done_; }
  std::uint64_t deadline() const noexcept { return deadline_; }
  void tick(std::uint64_t now);
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  void send_pap(std::uint64_t now);
  void on_chap(const control_packet& pkt);
  void on_eap(const control_packet& pkt);
  void finish(bool ok, std::uint32_t code, std::string_view text);

  control_output& out_;
  auth_events& events_;
  random_source& random_;
  std::string user_;
  std::string password_;
  auth_timing timing_;
  std::uint32_t protocol_ = 0;
  bool done_ = false;
  bool started_ = false;
  std::uint8_t id_ = 0;
  std::uint32_t transmits_ = 0;
  std::uint64_t deadline_ = UINT64_MAX;
  // CHAP: our last answer, resent when the same challenge is repeated (RFC 1994 §4.1).
  std::optional<std::uint8_t> answered_id_;
  std::vector<std::uint8_t> answer_;
  challenge16 auth_challenge_{};
  challenge16 peer_challenge_{};
  nt_response_t nt_response_{};
  std::unique_ptr<eap_peer_method> eap_method_;
  std::uint64_t now_ = 0;  // of the packet being handled
  std::string peer_name_;  // the authenticator's name from its CHAP Challenge / EAP-MD5 request
  std::uint64_t dropped_ = 0;
};

}  // namespace pptpkit::ppp
