// pptpkit/ppp/session.hpp — one PPP session: the phases of RFC 1661 §3.2 over LCP, the
// authentication in either direction, IPCP/IPV6CP, and the bridge between PPP frames and IP packets.
//
//   link frames ──feed_link──► parse header ─┬─ LCP/PAP/CHAP/EAP/IPCP/IPV6CP/CCP ─► fsm / auth
//                                             ├─ 0x0021/0x0057 (NCP Opened) ─pull─► net_out
//                                             └─ 0x00FD (MPPE up) ─decrypt in place─► net_out
//   IP packets ──feed_net──► (NCP Opened) ─[MPPE: encrypt in place]─push header─► link_out
//
// Sans-IO: every input carries `now`; frames and IP packets leave through the env's lists, events
// through its queue, and deadline()/tick() drive the restart, echo and authentication timers. Data
// packets are pushed/pulled in place and never copied; the data path allocates nothing.
// Threading: one thread; the owning instance serialises calls.
#pragma once

#include <array>
#include <boost/intrusive/set_hook.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/ppp/auth.hpp"
#include "pptpkit/ppp/ccp.hpp"
#include "pptpkit/ppp/counters.hpp"
#include "pptpkit/ppp/fsm.hpp"
#include "pptpkit/ppp/ipcp.hpp"
#include "pptpkit/ppp/lcp.hpp"

namespace pptpkit::ppp {

// The parameters of pptpkit/ppp.h, parsed. from() throws core::config_error naming the bad key.
struct session_config {
  bool server = false;
  std::vector<std::uint32_t> auth;  // server: accepted, preferred first; client: allowed
  std::string user, password;
  std::string name = "pptpkit";
  std::uint16_t mru = 1400;
  std::uint32_t echo_interval_s = 30;
  std::uint32_t echo_failure = 4;
  fsm_config fsm;
  std::uint64_t secret_timeout_ns = 30'000'000'000;  // server: how long the host may take to answer a lookup
  bool host_verifies = false;  // server, auth_verify=host (1.1): the host verifies, the server relays
  ipcp_config ipcp;
  bool ipv6 = true;
  std::string mppe = "optional";
  mppe_policy encryption;  // CCP/MPPE: the keys mppe, mppe_bits, mppe_stateful (mppe_ccp.hpp)

  static session_config from(const core::config_map& config);
};

// A dotted-quad value of `key` in host order (0 when absent); throws core::config_error when malformed.
std::uint32_t parse_ipv4_key(const core::config_map& config, std::string_view key);

// Where a session's output goes (owned by the instance, shared by its sessions).
struct session_env {
  const core::host& host;
  core::packet_list& link_out;
  core::packet_list& net_out;
  core::event_queue& events;
  std::uint32_t& finished_sessions;  // bumped when a session ends, so the owner reaps only then
};

enum class phase : std::uint8_t { dead, establish, authenticate, network, terminate };

class session final : private control_output, private layer_events, private auth_events, private random_source {
 public:
  session(std::uint32_t id, session_config config, session_env env);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // CMD_SESSION_OPEN: the lower layer is up; LCP starts.
  void open(std::uint64_t now);
  // CMD_SESSION_CLOSE: LCP Terminate, then EVENT_LINK_DOWN.
  void close(std::uint64_t now);
  // CMD_LOWER_DOWN: end at once.
  void lower_down(std::uint64_t now);
  // CMD_AUTH_SECRET. remote_ip: a per-user address (0 = keep the configured one). False when no
  // secret was asked for (the host answered twice or unasked).
  bool auth_secret(bool found, std::string_view secret, std::uint32_t remote_ip, std::uint64_t now);
  // CMD_AUTH_VERDICT (auth_verify=host). remote_ip as above, taken on an accept. False when no
  // verification was pending (counted in auth_verdict_unexpected).
  // dns: per-user DNS servers (0 = the configured one).
  bool auth_verdict(const host_verdict& verdict, std::uint32_t remote_ip, const std::uint32_t (&dns)[2],
                    std::uint64_t now);
  // The data of the pending EVENT_AUTH_VERIFY; nullopt when none is pending.
  std::optional<std::span<const std::uint8_t>> auth_verify_data() const noexcept;

  // Takes p (a frame from the link / an IP packet from the interface).
  void feed_link(pptpkit_packet& p, std::uint64_t now) noexcept;
  void feed_net(pptpkit_packet& p, std::uint64_t now) noexcept;

  std::uint64_t deadline() const noexcept;
  void tick(std::uint64_t now);

  // The plugin's timer index (an intrusive multiset ordered by timer_key, which is never later than
  // deadline()): next_deadline() is its first key, and tick() visits only the sessions that are due.
  boost::intrusive::set_member_hook<> timer_hook;
  std::uint64_t timer_key = UINT64_MAX;

  // The session ended (EVENT_LINK_DOWN was emitted); the owner destroys it.
  bool finished() const noexcept { return finished_; }
  std::uint32_t id() const noexcept { return id_; }
  ppp::phase current_phase() const noexcept { return phase_; }
  const fsm& lcp() const noexcept { return lcp_fsm_; }
  const fsm& ipcp() const noexcept { return ipcp_fsm_; }
  const fsm& ipv6cp() const noexcept { return ipv6cp_fsm_; }
  const ccp_layer& ccp() const noexcept { return ccp_; }
  const lcp_result& lcp_negotiated() const noexcept { return lcp_.result(); }
  session_counters counters() const noexcept;
  // The MPPE start keys for our role the authentication gave (RFC 3079 §3.4), kept for CCP.
  const std::optional<mppe_start_keys>& mppe_keys() const noexcept { return keys_; }

 private:
  // control_output
  void send_control(std::uint16_t protocol, std::uint8_t code, std::uint8_t id,
                    std::span<const std::uint8_t> data) noexcept override;
  // layer_events
  void layer_up(std::uint16_t protocol) noexcept override;
  void layer_down(std::uint16_t protocol) noexcept override;
  void layer_finished(std::uint16_t protocol) noexcept override;
  bool extra_code(std::uint16_t protocol, std::uint8_t code, std::uint8_t id,
                  std::span<const std::uint8_t> data) noexcept override;
  void peer_terminate(std::uint16_t protocol, std::span<const std::uint8_t> data) noexcept override;
  // auth_events
  void need_secret(std::uint32_t protocol, std::string_view peer_name) noexcept override;
  void need_verdict(std::uint32_t protocol, std::string_view peer_name, std::size_t data_size) noexcept override;
  void auth_result(bool server_side, std::uint32_t protocol, bool ok, std::string_view peer_name, std::uint32_t code,
                   std::string_view text) noexcept override;
  void mppe_keys_ready(const mppe_start_keys& keys) noexcept override;
  // random_source
  void random_fill(std::span<std::uint8_t> out) noexcept override;

  void on_control(std::uint16_t protocol, std::span<const std::uint8_t> info) noexcept;
  void send_protocol_reject(std::uint16_t protocol, std::span<const std::uint8_t> info) noexcept;
  void send_echo_request() noexcept;
  void maybe_enter_network() noexcept;
  // CCP/MPPE (ccp.hpp): act on what the CCP layer reported after a call into it.
  void ccp_news() noexcept;
  bool feed_link_mppe(pptpkit_packet& p) noexcept;
  void terminate(std::uint32_t reason, std::string_view text) noexcept;
  // Client: record (once) that the peer's required auth protocol was refused by us, as AUTH_FAILURE.
  void note_refused_auth() noexcept;
  // Emits the NCP-up events held while CCP settles (see session.cc).
  void report_network_up() noexcept;
  void end(std::uint32_t reason, std::string_view text) noexcept;
  void event(std::uint32_t type, std::initializer_list<std::uint64_t> values, std::string_view text) noexcept;

  std::uint32_t id_;
  session_config config_;
  session_env env_;
  std::uint64_t now_ = 0;  // the time of the call being handled (for callbacks without one)
  ppp::phase phase_ = ppp::phase::dead;
  lcp_handler lcp_;
  ipcp_handler ipcp_handler_;
  ipv6cp_handler ipv6cp_handler_;
  fsm lcp_fsm_;
  fsm ipcp_fsm_;
  fsm ipv6cp_fsm_;
  auth_server auth_server_;
  auth_client auth_client_;
  ccp_layer ccp_;
  bool server_auth_pending_ = false;
  bool client_auth_pending_ = false;
  bool auth_failed_ = false;
  std::uint64_t echo_deadline_ = UINT64_MAX;
  std::uint32_t echo_outstanding_ = 0;
  std::uint32_t down_reason_ = 0;  // set when we know why the link ends
  std::string down_text_;
  bool finished_ = false;
  std::optional<mppe_start_keys> keys_;
  std::optional<std::array<std::uint64_t, 5>> deferred_ipv4_up_;  // EVENT_IPV4_UP values, until reported
  std::optional<std::array<std::uint64_t, 2>> deferred_ipv6_up_;
  session_counters counters_;
};

}  // namespace pptpkit::ppp
