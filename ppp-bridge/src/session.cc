#include "pptpkit/ppp/session.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "pptpkit/core/ipv4.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/ppp.h"

namespace pptpkit::ppp {

namespace {

constexpr const char* component = "ppp";

}  // namespace

std::uint32_t parse_ipv4_key(const core::config_map& c, std::string_view key) {
  const std::string text = c.get(key);
  if (text.empty()) {
    return 0;
  }
  const std::optional<std::uint32_t> address = core::parse_ipv4(text);
  if (!address) {
    throw core::config_error(std::string(key) + ": not an IPv4 address: '" + text + "'");
  }
  return *address;
}

namespace {

std::vector<std::uint32_t> parse_auth_list(const std::string& text) {
  std::vector<std::uint32_t> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    const std::string name = text.substr(pos, end - pos);
    std::uint32_t v = 0;
    if (name == "pap") {
      v = PPTPKIT_PPP_AUTH_PAP;
    } else if (name == "chap") {
      v = PPTPKIT_PPP_AUTH_CHAP_MD5;
    } else if (name == "mschapv2") {
      v = PPTPKIT_PPP_AUTH_MSCHAP_V2;
    } else if (name == "eap") {
      v = PPTPKIT_PPP_AUTH_EAP;
    } else if (!name.empty()) {
      throw core::config_error("auth: unknown protocol '" + name + "' (pap, chap, mschapv2, eap)");
    }
    if (v != 0 && std::find(out.begin(), out.end(), v) == out.end()) {
      out.push_back(v);
    }
    pos = end + 1;
  }
  return out;
}

std::string printable(std::span<const std::uint8_t> b) {
  std::string out;
  for (std::uint8_t c : b.first(std::min<std::size_t>(b.size(), 64))) {
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace

session_config session_config::from(const core::config_map& c) {
  session_config s;
  const std::string role = c.get("role", "client");
  if (role != "server" && role != "client") {
    throw core::config_error("role: expected 'server' or 'client', got '" + role + "'");
  }
  s.server = role == "server";
  // Server default: MS-CHAPv2 only, as pptpd ships; client: everything but PAP (ppp.h).
  s.auth = parse_auth_list(c.get("auth", s.server ? "mschapv2" : "mschapv2,chap,eap"));
  s.user = c.get("user");
  s.password = c.get("password");
  s.name = c.get("name", "pptpkit");
  s.mru = static_cast<std::uint16_t>(c.get_u32("mru", 1400, lcp_min_mru, 1500));
  s.echo_interval_s = c.get_u32("lcp_echo_interval", 30, 0, 3600);
  s.echo_failure = c.get_u32("lcp_echo_failure", 4, 1, 100);
  s.fsm.restart_ns = std::uint64_t{c.get_u32("restart_timer_ms", 3000, 10, 600000)} * 1'000'000u;
  s.fsm.max_configure = c.get_u32("max_configure", 10, 1, 255);
  s.fsm.max_terminate = c.get_u32("max_terminate", 2, 1, 255);
  s.fsm.max_failure = c.get_u32("max_failure", 5, 1, 255);
  s.secret_timeout_ns = std::uint64_t{c.get_u32("auth_secret_timeout_ms", 30000, 10, 600000)} * 1'000'000u;
  const std::string verify = c.get("auth_verify", "secret");
  if (verify != "secret" && verify != "host") {
    throw core::config_error("auth_verify: expected 'secret' or 'host', got '" + verify + "'");
  }
  s.host_verifies = verify == "host";
  s.ipcp.server = s.server;
  s.ipcp.local = parse_ipv4_key(c, "local_ip");
  s.ipcp.remote = parse_ipv4_key(c, "remote_ip");
  s.ipcp.dns[0] = parse_ipv4_key(c, "dns1");
  s.ipcp.dns[1] = parse_ipv4_key(c, "dns2");
  s.ipcp.nbns[0] = parse_ipv4_key(c, "nbns1");
  s.ipcp.nbns[1] = parse_ipv4_key(c, "nbns2");
  s.ipv6 = c.get_bool("ipv6", true);
  s.mppe = c.get("mppe", "optional");
  if (s.mppe != "required" && s.mppe != "optional" && s.mppe != "refused") {
    throw core::config_error("mppe: expected required, optional or refused, got '" + s.mppe + "'");
  }
  s.encryption = mppe_policy::from_config(c);
  if (s.server && s.auth.empty()) {
    throw core::config_error("auth: a server needs at least one protocol");
  }
  if (s.server && s.ipcp.local == 0) {
    throw core::config_error("local_ip: a server needs its own address");
  }
  return s;
}

namespace {
lcp_config make_lcp_config(const session_config& c) {
  lcp_config l;
  l.mru = c.mru;
  if (c.server) {
    l.authenticate_with = c.auth;
  } else if (!c.user.empty()) {
    l.accept_auth = c.auth;
  }
  return l;
}
}  // namespace

session::session(std::uint32_t id, session_config config, session_env env)
    : id_(id),
      config_(std::move(config)),
      env_(env),
      lcp_(*this, *this, make_lcp_config(config_)),
      ipcp_handler_(*this, config_.ipcp),
      ipv6cp_handler_(*this, *this),
      lcp_fsm_(proto_lcp, lcp_, *this, config_.fsm),
      ipcp_fsm_(proto_ipcp, ipcp_handler_, *this, config_.fsm),
      ipv6cp_fsm_(proto_ipv6cp, ipv6cp_handler_, *this, config_.fsm),
      auth_server_(*this, *this, *this, config_.name,
                   {config_.fsm.restart_ns, config_.fsm.max_configure, config_.secret_timeout_ns},
                   {config_.host_verifies, config_.encryption.requirement == mppe_requirement::required}),
      auth_client_(*this, *this, *this, config_.user, config_.password,
                   {config_.fsm.restart_ns, config_.fsm.max_configure}),
      ccp_(config_.encryption, *this, env_.host, id_, config_.fsm) {}

session::~session() = default;

// ---- commands ----

void session::open(std::uint64_t now) {
  now_ = now;
  phase_ = ppp::phase::establish;  // RFC 1661 §3.3
  lcp_fsm_.open(now);
  lcp_fsm_.up(now);
}

void session::close(std::uint64_t now) {
  now_ = now;
  terminate(PPTPKIT_PPP_REASON_CLOSED, "closed by the administrator");
}

void session::lower_down(std::uint64_t now) {
  now_ = now;
  if (finished_) {
    return;
  }
  lcp_fsm_.down();
  // A server that gives up on authentication may clear the call instead of terminating LCP: the user
  // must still learn why (pptpd/pppd say "peer refused to authenticate" on their side).
  note_refused_auth();
  if (down_reason_ != 0) {
    end(down_reason_, down_text_);
    return;
  }
  end(PPTPKIT_PPP_REASON_CLOSED, "the call is gone");
}

void session::note_refused_auth() noexcept {
  if (down_reason_ != 0 || config_.server || lcp_.we_refused_auth() == 0 || phase_ == ppp::phase::network) {
    return;
  }
  // We Nak'd/rejected the authentication the peer insisted on, and it gave up.
  const std::string text = std::string("we refused the peer's auth protocol: it requires ") +
                           auth_name(lcp_.we_refused_auth()) + ", which is not in our auth list";
  event(PPTPKIT_PPP_EVENT_AUTH_FAILURE, {lcp_.we_refused_auth(), 0, 0}, text);
  down_reason_ = PPTPKIT_PPP_REASON_AUTH_FAILED;
  down_text_ = text;
}

bool session::auth_secret(bool found, std::string_view secret, std::uint32_t remote_ip, std::uint64_t now) {
  now_ = now;
  if (!auth_server_.waiting_for_secret()) {
    env_.host.log(PPTPKIT_LOG_WARNING, component, "session %u: AUTH_SECRET without a pending request", id_);
    return false;
  }
  if (found && remote_ip != 0) {
    ipcp_handler_.set_remote(remote_ip);
  }
  auth_server_.secret(found, secret, now);
  return true;
}

bool session::auth_verdict(const host_verdict& given, std::uint32_t remote_ip, const std::uint32_t (&dns)[2],
                           std::uint64_t now) {
  now_ = now;
  if (!auth_server_.waiting_for_verdict()) {
    ++counters_.auth_verdict_unexpected;
    env_.host.log(PPTPKIT_LOG_WARNING, component, "session %u: AUTH_VERDICT without a pending AUTH_VERIFY (ignored)",
                  id_);
    return false;
  }
  host_verdict verdict = given;
  if (verdict.what == host_verdict::decision::accept && verdict.malformed.empty() &&
      (verdict.mppe_required || verdict.mppe_bits)) {
    bool allow[3] = {true, true, true};  // 40, 56, 128
    if (verdict.mppe_bits) {
      allow[0] = allow[1] = allow[2] = false;
      std::string_view rest = *verdict.mppe_bits;
      while (!rest.empty() && verdict.malformed.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view bits = rest.substr(0, comma);
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
        if (bits == "40" || bits == "56" || bits == "128") {
          allow[bits == "40" ? 0 : bits == "56" ? 1 : 2] = true;
        } else {
          verdict.malformed = "mppe_bits: expected a list of 128, 56 and 40";
        }
      }
    }
    if (verdict.malformed.empty() && !ccp_.narrow(verdict.mppe_required, allow[0], allow[1], allow[2])) {
      verdict.malformed = "mppe_bits: no key length this session allows";
    }
  }
  if (!verdict.malformed.empty()) {
    env_.host.log(PPTPKIT_LOG_WARNING, component, "session %u: malformed AUTH_VERDICT, taken as a reject: %s", id_,
                  verdict.malformed.c_str());
  }
  if (verdict.what == host_verdict::decision::accept && verdict.malformed.empty()) {
    if (remote_ip != 0) {
      ipcp_handler_.set_remote(remote_ip);
    }
    for (std::uint32_t i = 0; i < 2; ++i) {
      if (dns[i] != 0) {
        ipcp_handler_.set_dns(i, dns[i]);
      }
    }
  }
  auth_server_.verdict(verdict, now);
  return true;
}

std::optional<std::span<const std::uint8_t>> session::auth_verify_data() const noexcept {
  if (!auth_server_.waiting_for_verdict()) {
    return std::nullopt;
  }
  return auth_server_.verify_data();
}

// ---- timers ----

std::uint64_t session::deadline() const noexcept {
  if (finished_) {
    return UINT64_MAX;
  }
  return std::min({lcp_fsm_.deadline(), ipcp_fsm_.deadline(), ipv6cp_fsm_.deadline(), auth_server_.deadline(),
                   auth_client_.deadline(), echo_deadline_, ccp_.deadline()});
}

void session::tick(std::uint64_t now) {
  now_ = now;
  if (finished_) {
    return;
  }
  lcp_fsm_.tick(now);
  if (!finished_) {
    ipcp_fsm_.tick(now);
    ipv6cp_fsm_.tick(now);
    auth_server_.tick(now);
    auth_client_.tick(now);
    ccp_.tick(now);  // CCP restart timer and stateful MPPE Reset-Requests
    ccp_news();
  }
  if (!finished_ && now >= echo_deadline_) {
    // pppd lcp-echo-failure: that many unanswered Echo-Requests and the link is declared dead.
    if (echo_outstanding_ >= config_.echo_failure) {
      echo_deadline_ = UINT64_MAX;
      terminate(PPTPKIT_PPP_REASON_ECHO_TIMEOUT,
                "no answer to " + std::to_string(echo_outstanding_) + " LCP Echo-Requests: the peer is gone");
    } else {
      send_echo_request();
      echo_deadline_ = now + std::uint64_t{config_.echo_interval_s} * 1'000'000'000u;
    }
  }
}

// ---- the link side ----

void session::feed_link(pptpkit_packet& p, std::uint64_t now) noexcept {
  now_ = now;
  ++counters_.rx_frames;
  const auto header = parse_frame_header(core::bytes(p));
  if (!header) {
    ++counters_.drop_malformed_frame;
    env_.host.free(&p);
    return;
  }
  const std::uint16_t proto = header->protocol;
  if (proto == ppp_protocol_compressed) {  // ---- MPPE (ccp.hpp) ----
    core::pull(p, header->size);
    if (!feed_link_mppe(p)) {
      env_.host.free(&p);
    }
    return;
  }
  if (proto == proto_ipv4 || proto == proto_ipv6) {
    const bool v6 = proto == proto_ipv6;
    const fsm& ncp = v6 ? ipv6cp_fsm_ : ipcp_fsm_;
    if (ccp_.blocks_network() || ccp_.mppe_up()) {
      ++counters_.drop_unencrypted;  // MPPE required or up: plaintext is refused (the kernel's SC_MUST_COMP)
      env_.host.free(&p);
      return;
    }
    if (!ncp.is_opened() || finished_) {
      ++counters_.drop_ncp_not_open;  // RFC 1661 §3.5: network traffic only once its NCP is Opened
      env_.host.free(&p);
      return;
    }
    core::pull(p, header->size);
    p.flags = v6 ? PPTPKIT_PACKET_F_IPV6 : 0u;
    p.channel = id_;
    ++counters_.rx_ip_packets;
    env_.net_out.push_back(p);
    return;
  }
  if (!finished_) {
    on_control(proto, core::bytes(p).subspan(header->size));
  }
  env_.host.free(&p);
}

void session::on_control(std::uint16_t protocol, std::span<const std::uint8_t> info) noexcept {
  const bool lcp_open = lcp_fsm_.is_opened();
  switch (protocol) {
    case proto_lcp:
    case proto_pap:
    case proto_chap:
    case proto_eap:
    case proto_ipcp:
    case proto_ipv6cp:
      break;
    case proto_ccp:
      if (ccp_.enabled()) {
        break;
      }
      [[fallthrough]];  // mppe=refused: CCP is not run (pppd's noccp) and gets a Protocol-Reject
    default:
      // RFC 1661 §5.7: an unknown protocol while LCP is Opened gets a Protocol-Reject; before that it
      // is silently discarded.
      if (lcp_open) {
        send_protocol_reject(protocol, info);
      } else {
        ++counters_.drop_before_phase;
      }
      return;
  }
  const auto pkt = parse_control(info);
  if (!pkt) {
    ++counters_.drop_malformed_control;
    return;
  }
  switch (protocol) {
    case proto_lcp:
      lcp_fsm_.receive(*pkt, now_);
      if (lcp_.loopback_detected() && !finished_ && down_reason_ == 0) {
        // RFC 1661 §6.4: our magic number keeps coming back; the link is looped.
        ++counters_.loopback_suspected;
        terminate(PPTPKIT_PPP_REASON_LOOPBACK, "loopback detected: the link returns our own frames");
      }
      return;
    case proto_pap:
    case proto_chap:
    case proto_eap: {
      // RFC 1661 §3.4: authentication packets only once LCP is Opened.
      if (!lcp_open) {
        ++counters_.drop_before_phase;
        return;
      }
      // Requests to an authenticator are code 1 for PAP and code 2 (Response) for CHAP and EAP.
      const bool to_server = protocol == proto_pap ? pkt->code == 1 : pkt->code == 2;
      const std::uint32_t ours = lcp_.result().our_auth;
      const std::uint32_t theirs = lcp_.result().peer_auth;
      if (to_server && ours != 0) {
        auth_server_.receive(protocol, *pkt, now_);
      } else if (!to_server && theirs != 0) {
        auth_client_.receive(protocol, *pkt, now_);
      } else {
        ++counters_.drop_auth_unexpected;
      }
      return;
    }
    case proto_ipcp:
    case proto_ipv6cp: {
      if (protocol == proto_ipv6cp && !config_.ipv6) {
        send_protocol_reject(protocol, info);
        return;
      }
      // RFC 1661 §3.5: NCP packets before the Network phase are silently discarded.
      if (phase_ != ppp::phase::network) {
        ++counters_.drop_before_phase;
        return;
      }
      (protocol == proto_ipcp ? ipcp_fsm_ : ipv6cp_fsm_).receive(*pkt, now_);
      return;
    }
    case proto_ccp:
      // RFC 1962 §1: like an NCP, only in the Network phase.
      if (phase_ != ppp::phase::network || !ccp_.started()) {
        ++counters_.drop_before_phase;
        return;
      }
      ccp_.receive(*pkt, now_);
      ccp_news();
      return;
    default:
      return;
  }
}

void session::send_protocol_reject(std::uint16_t protocol, std::span<const std::uint8_t> info) noexcept {
  if (!lcp_fsm_.is_opened()) {
    ++counters_.drop_before_phase;
    return;
  }
  // RFC 1661 §5.7: Rejected-Protocol and as much of the Rejected-Information as the peer's MRU allows.
  std::array<std::uint8_t, 1500> buf;
  core::wire_writer w(buf);
  w.u16(protocol);
  const std::size_t room = std::min<std::size_t>(lcp_.result().peer_mru, buf.size()) - control_header_size - 2;
  w.bytes(info.first(std::min(info.size(), room)));
  ++counters_.protocol_rejects_sent;
  send_control(proto_lcp, protocol_reject, lcp_fsm_.next_id(), {buf.data(), w.written()});
}

void session::send_control(std::uint16_t protocol, std::uint8_t code, std::uint8_t id,
                           std::span<const std::uint8_t> data) noexcept {
  pptpkit_packet* p = env_.host.alloc_one();
  if (p == nullptr) {
    ++counters_.drop_alloc_failed;
    return;
  }
  const std::uint32_t len = static_cast<std::uint32_t>(data.size()) + control_header_size;
  std::uint8_t* at = core::put(*p, len);
  if (at == nullptr) {
    ++counters_.drop_alloc_failed;
    env_.host.free(p);
    return;
  }
  at[0] = code;
  at[1] = id;
  at[2] = static_cast<std::uint8_t>(len >> 8);
  at[3] = static_cast<std::uint8_t>(len);
  if (!data.empty()) {
    std::memcpy(at + control_header_size, data.data(), data.size());
  }
  // Control frames always carry the full header (RFC 1661 §6.5, §6.6: never compressed for LCP).
  if (!push_frame_header(*p, protocol, false, false)) {
    ++counters_.drop_no_headroom;
    env_.host.free(p);
    return;
  }
  p->channel = id_;
  p->flags = PPTPKIT_PACKET_F_CONTROL;
  ++counters_.tx_frames;
  env_.link_out.push_back(*p);
}

// ---- the network side ----

void session::feed_net(pptpkit_packet& p, std::uint64_t now) noexcept {
  now_ = now;
  const bool v6 = (p.flags & PPTPKIT_PACKET_F_IPV6) != 0;
  const fsm& ncp = v6 ? ipv6cp_fsm_ : ipcp_fsm_;
  if (finished_ || !ncp.is_opened()) {
    ++counters_.drop_ncp_not_open;
    env_.host.free(&p);
    return;
  }
  const lcp_result& r = lcp_.result();
  if (ccp_.blocks_network()) {
    ++counters_.drop_mppe_not_up;  // pppd's require-mppe: nothing passes before MPPE is up
    env_.host.free(&p);
    return;
  }
  const bool mppe = ccp_.mppe_up();
  const std::uint32_t overhead = mppe ? PPTPKIT_HDR_MPPE : 0u;  // RFC 3078 §3: header + inner protocol
  if (p.length == 0 || p.length + overhead > r.peer_mru) {
    ++counters_.drop_too_big;
    env_.host.free(&p);
    return;
  }
  std::uint16_t protocol = v6 ? proto_ipv6 : proto_ipv4;
  if (mppe) {
    if (ccp_.encrypt(p, protocol) != PPTPKIT_OK) {
      ++counters_.drop_no_headroom;
      env_.host.free(&p);
      return;
    }
    protocol = ppp_protocol_compressed;  // RFC 1962 §4
  }
  // RFC 1661 §6.5-§6.6: compress only what the peer agreed to receive compressed.
  if (!push_frame_header(p, protocol, r.acfc_tx, r.pfc_tx)) {
    ++counters_.drop_no_headroom;
    env_.host.free(&p);
    return;
  }
  p.channel = id_;
  p.flags = 0;
  ++counters_.tx_ip_packets;
  ++counters_.tx_frames;
  env_.link_out.push_back(p);
}

// ---- layer events ----

void session::layer_up(std::uint16_t protocol) noexcept {
  switch (protocol) {
    case proto_lcp: {
      // RFC 1661 §3.4: Authenticate phase.
      const lcp_result& r = lcp_.result();
      phase_ = ppp::phase::authenticate;
      echo_outstanding_ = 0;
      echo_deadline_ =
          config_.echo_interval_s == 0 ? UINT64_MAX : now_ + std::uint64_t{config_.echo_interval_s} * 1'000'000'000u;
      env_.host.log(PPTPKIT_LOG_INFO, component, "session %u: LCP opened (peer mru %u, we auth %s, peer auths %s)", id_,
                    r.peer_mru, auth_name(r.our_auth), auth_name(r.peer_auth));
      if (config_.server && r.our_auth == 0) {
        // The peer Nak'd or rejected every protocol we accept: we may not let it in (pppd: "peer
        // refused to authenticate").
        auth_failed_ = true;
        event(PPTPKIT_PPP_EVENT_AUTH_FAILURE, {config_.auth.front(), 1, 0}, "peer refused auth protocol");
        terminate(PPTPKIT_PPP_REASON_AUTH_FAILED, "peer refused auth protocol");
        return;
      }
      server_auth_pending_ = r.our_auth != 0;
      client_auth_pending_ = r.peer_auth != 0;
      auth_failed_ = false;
      if (server_auth_pending_) {
        auth_server_.start(r.our_auth, now_);
      }
      if (client_auth_pending_) {
        auth_client_.start(r.peer_auth, now_);
      }
      maybe_enter_network();
      return;
    }
    case proto_ipcp: {
      const ipcp_result& r = ipcp_handler_.result();
      if (r.local == 0 || r.remote == 0) {
        // RFC 1332 §3.3 leaves it to configuration; an interface without both addresses cannot route
        // (pppd: "Could not determine local/remote IP address"). IPCP closes; IPV6CP may carry on.
        env_.host.log(PPTPKIT_LOG_WARNING, component, "session %u: IPCP opened without %s IPv4 address", id_,
                      r.local == 0 ? "a local" : "a remote");
        ipcp_fsm_.close(now_, "no IPv4 address");
        return;
      }
      // MTU: what the peer can receive, less MPPE's 4 octets whenever CCP may agree MPPE (1400 -> 1396);
      // IPCP may open before CCP, so the bound holds from the first packet on.
      const std::uint32_t mtu = lcp_.result().peer_mru - (ccp_.may_encrypt() ? PPTPKIT_HDR_MPPE : 0u);
      deferred_ipv4_up_ = {r.local, r.remote, r.dns[0], r.dns[1], mtu};
      report_network_up();
      return;
    }
    case proto_ipv6cp:
      deferred_ipv6_up_ = {ipv6cp_handler_.local_id(), ipv6cp_handler_.remote_id()};
      report_network_up();
      return;
    default:
      return;
  }
}

void session::layer_down(std::uint16_t protocol) noexcept {
  if (protocol != proto_lcp) {
    return;
  }
  // RFC 1661 §3.7: leaving Opened takes the NCPs and authentication down with it (back to Initial,
  // ready for the next Network phase). The phase changes first so their tlf is not taken for a
  // failed negotiation.
  if (phase_ != ppp::phase::terminate) {
    phase_ = ppp::phase::establish;
  }
  deferred_ipv4_up_.reset();
  deferred_ipv6_up_.reset();
  ipcp_fsm_.down();
  ipv6cp_fsm_.down();
  ipcp_fsm_.close(now_);
  ipv6cp_fsm_.close(now_);
  ccp_.stop(now_);
  server_auth_pending_ = client_auth_pending_ = false;
  echo_deadline_ = UINT64_MAX;
}

void session::layer_finished(std::uint16_t protocol) noexcept {
  if (protocol == proto_lcp) {
    note_refused_auth();
    if (down_reason_ == 0) {
      down_reason_ = PPTPKIT_PPP_REASON_NEGOTIATION;
      down_text_ = "LCP negotiation failed (no agreement or no answer)";
    }
    end(down_reason_, down_text_);
    return;
  }
  // An NCP gave up (Protocol-Reject, Max-Configure). pppd ends the link when none is left.
  auto alive = [](const fsm& f) {
    const fsm_state s = f.state();
    return s == fsm_state::req_sent || s == fsm_state::ack_rcvd || s == fsm_state::ack_sent || s == fsm_state::opened;
  };
  if (phase_ == ppp::phase::network && !alive(ipcp_fsm_) && !(config_.ipv6 && alive(ipv6cp_fsm_))) {
    terminate(PPTPKIT_PPP_REASON_NEGOTIATION, "no network protocol could be negotiated");
  }
}

bool session::extra_code(std::uint16_t protocol, std::uint8_t code, std::uint8_t id,
                         std::span<const std::uint8_t> data) noexcept {
  if (protocol != proto_lcp) {
    return false;
  }
  const lcp_result& r = lcp_.result();
  switch (code) {
    case echo_request: {
      // RFC 1661 §5.8: only in Opened; otherwise silently discarded.
      if (!lcp_fsm_.is_opened()) {
        ++counters_.drop_echo_not_opened;
        return true;
      }
      if (data.size() < 4) {
        ++counters_.drop_malformed_control;
        return true;
      }
      std::array<std::uint8_t, 1500> buf;
      core::wire_writer w(buf);
      w.u32(r.our_magic);
      const std::size_t room = std::min<std::size_t>(r.peer_mru, buf.size()) - control_header_size - 4;
      w.bytes(data.subspan(4, std::min(data.size() - 4, room)));
      send_control(proto_lcp, echo_reply, id, {buf.data(), w.written()});
      return true;
    }
    case echo_reply: {
      if (!lcp_fsm_.is_opened() || data.size() < 4) {
        ++counters_.drop_malformed_control;
        return true;
      }
      const std::uint32_t magic =
          (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) | (std::uint32_t{data[2]} << 8) | data[3];
      if (r.our_magic != 0 && magic == r.our_magic) {
        ++counters_.loopback_suspected;  // RFC 1661 §6.4: our own echo came back
        return true;
      }
      ++counters_.echo_replies_received;
      echo_outstanding_ = 0;
      return true;
    }
    case discard_request:  // RFC 1661 §5.9
      ++counters_.discard_requests;
      return true;
    case identification:  // RFC 1570 §2.1-2.2: informational (Windows sends "MSRASV5.20"...); no reply
    case time_remaining:
      ++counters_.lcp_informational;
      return true;
    case protocol_reject: {  // RFC 1661 §5.7
      if (data.size() < 2) {
        ++counters_.drop_malformed_control;
        return true;
      }
      const std::uint16_t rejected = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
      env_.host.log(PPTPKIT_LOG_INFO, component, "session %u: peer rejected protocol 0x%04x", id_, rejected);
      if (rejected == proto_ipcp) {
        ipcp_fsm_.protocol_rejected(now_);
      } else if (rejected == proto_ipv6cp) {
        ipv6cp_fsm_.protocol_rejected(now_);
      } else if (rejected == proto_ccp && ccp_.started()) {
        ccp_.protocol_rejected(now_);
        ccp_news();
      } else if (rejected == proto_lcp) {
        terminate(PPTPKIT_PPP_REASON_NEGOTIATION, "peer rejected LCP");
      }
      return true;
    }
    default:
      return false;
  }
}

void session::peer_terminate(std::uint16_t protocol, std::span<const std::uint8_t> data) noexcept {
  if (protocol != proto_lcp || down_reason_ != 0) {
    return;
  }
  if (!config_.server && lcp_.we_refused_auth() != 0 && lcp_.result().peer_auth == 0) {
    return;  // we refused the peer's authentication: reported as such when LCP finishes
  }
  down_reason_ = PPTPKIT_PPP_REASON_PEER_TERMINATE;
  down_text_ = data.empty() ? "peer terminated the link" : "peer terminated the link: " + printable(data);
  phase_ = ppp::phase::terminate;
}

// ---- authentication ----

void session::need_secret(std::uint32_t protocol, std::string_view peer_name) noexcept {
  // The event's text must carry the whole name the server will hash (auth_server refuses the others).
  assert(peer_name.size() <= max_peer_name && peer_name.find('\0') == std::string_view::npos);
  event(PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED, {protocol}, peer_name);
}

void session::need_verdict(std::uint32_t protocol, std::string_view peer_name, std::size_t data_size) noexcept {
  assert(peer_name.size() <= max_peer_name && peer_name.find('\0') == std::string_view::npos);
  event(PPTPKIT_PPP_EVENT_AUTH_VERIFY, {protocol, data_size}, peer_name);
}

void session::auth_result(bool server_side, std::uint32_t protocol, bool ok, std::string_view peer_name,
                          std::uint32_t code, std::string_view text) noexcept {
  if (ok) {
    event(PPTPKIT_PPP_EVENT_AUTH_SUCCESS, {protocol, server_side ? 1u : 0u}, peer_name);
    (server_side ? server_auth_pending_ : client_auth_pending_) = false;
    env_.host.log(PPTPKIT_LOG_INFO, component, "session %u: %s authentication with %s succeeded", id_,
                  server_side ? "peer" : "our", auth_name(protocol));
    maybe_enter_network();
    return;
  }
  auth_failed_ = true;
  env_.host.log(PPTPKIT_LOG_NOTICE, component, "session %u: %s authentication with %s failed: %.*s", id_,
                server_side ? "peer" : "our", auth_name(protocol), static_cast<int>(text.size()), text.data());
  event(PPTPKIT_PPP_EVENT_AUTH_FAILURE, {protocol, server_side ? 1u : 0u, code}, text);
  terminate(PPTPKIT_PPP_REASON_AUTH_FAILED,
            server_side ? "Authentication failed" : "Failed to authenticate ourselves to peer");
  down_text_ = std::string(text);
}

void session::mppe_keys_ready(const mppe_start_keys& keys) noexcept {
  keys_ = keys;
}

void session::maybe_enter_network() noexcept {
  if (phase_ != ppp::phase::authenticate || server_auth_pending_ || client_auth_pending_ || auth_failed_) {
    return;
  }
  phase_ = ppp::phase::network;  // RFC 1661 §3.5
  ipcp_fsm_.open(now_);
  ipcp_fsm_.up(now_);
  if (config_.ipv6) {
    ipv6cp_fsm_.open(now_);
    ipv6cp_fsm_.up(now_);
  }
  // RFC 1962 §1: CCP starts with the NCPs (pppd does the same); MPPE start keys from the authentication
  // if it gave any.
  ccp_.start(keys_ ? &*keys_ : nullptr, now_);
  ccp_news();
}

// ---- CCP / MPPE (ccp.hpp) ----

void session::ccp_news() noexcept {
  if (const auto params = ccp_.take_up()) {
    event(PPTPKIT_PPP_EVENT_ENCRYPTION_UP,
          {static_cast<std::uint64_t>(params->strength), params->stateless ? 1u : 0u, ccp_.send_stateless() ? 1u : 0u},
          {});
  }
  if (const auto failure = ccp_.take_failure(); failure && !finished_) {
    terminate(PPTPKIT_PPP_REASON_ENCRYPTION, *failure);
  }
  report_network_up();
}

// IPV4_UP / IPV6_UP wait while CCP may still agree MPPE: the host then learns the addresses together with
// the link's protection (one "session up" line, as users read pppd's log) and never opens an interface
// that would carry in clear what a moment later is encrypted.
void session::report_network_up() noexcept {
  const fsm_state c = ccp_.automaton().state();
  const bool ccp_settling = ccp_.may_encrypt() && !ccp_.mppe_up() &&
                            (c == fsm_state::req_sent || c == fsm_state::ack_rcvd || c == fsm_state::ack_sent);
  if (ccp_settling || finished_ || phase_ != ppp::phase::network) {
    return;
  }
  if (deferred_ipv4_up_) {
    const auto& v = *deferred_ipv4_up_;
    event(PPTPKIT_PPP_EVENT_IPV4_UP, {v[0], v[1], v[2], v[3], v[4]}, {});
    deferred_ipv4_up_.reset();
  }
  if (deferred_ipv6_up_) {
    event(PPTPKIT_PPP_EVENT_IPV6_UP, {(*deferred_ipv6_up_)[0], (*deferred_ipv6_up_)[1]}, {});
    deferred_ipv6_up_.reset();
  }
}

// A frame of protocol 0x00FD, its PPP header pulled. True when it was delivered (ownership passed on).
bool session::feed_link_mppe(pptpkit_packet& p) noexcept {
  if (!finished_ && !ccp_.mppe_up() && ccp_.automaton().state() == fsm_state::ack_sent) {
    ccp_.peer_sent_mppe();  // its Configure-Ack to us was lost; the frame proves it came
    ccp_news();
  }
  if (finished_ || !ccp_.mppe_up()) {
    ++counters_.drop_mppe_unexpected;  // RFC 1962 §4: compressed datagrams only once CCP agreed MPPE
    return false;
  }
  const mppe_rx r = ccp_.decrypt(p, now_);  // counted by the decryptor when dropped
  if (r.verdict != mppe_verdict::deliver) {
    return false;
  }
  const bool v6 = r.protocol == proto_ipv6;
  if ((r.protocol != proto_ipv4 && !v6) || !(v6 ? ipv6cp_fsm_ : ipcp_fsm_).is_opened()) {
    ++counters_.drop_ncp_not_open;  // RFC 1661 §3.5: network traffic only once its NCP is Opened
    return false;
  }
  p.flags = v6 ? PPTPKIT_PACKET_F_IPV6 : 0u;
  p.channel = id_;
  ++counters_.rx_ip_packets;
  env_.net_out.push_back(p);
  return true;
}

// ---- ending ----

void session::send_echo_request() noexcept {
  std::array<std::uint8_t, 4> magic;
  core::wire_writer w(magic);
  w.u32(lcp_.result().our_magic);
  ++echo_outstanding_;
  ++counters_.echo_requests_sent;
  send_control(proto_lcp, echo_request, lcp_fsm_.next_id(), magic);
}

void session::terminate(std::uint32_t reason, std::string_view text) noexcept {
  if (finished_) {
    return;
  }
  if (down_reason_ == 0) {
    down_reason_ = reason;
    down_text_ = std::string(text);
  }
  phase_ = ppp::phase::terminate;  // RFC 1661 §3.6
  lcp_fsm_.close(now_, text);
  // Close in a state without a Terminate exchange (Stopped, Starting...) finishes at once.
  const fsm_state s = lcp_fsm_.state();
  if (!finished_ && (s == fsm_state::closed || s == fsm_state::initial)) {
    end(down_reason_, down_text_);
  }
}

void session::end(std::uint32_t reason, std::string_view text) noexcept {
  if (finished_) {
    return;
  }
  finished_ = true;
  ++env_.finished_sessions;
  phase_ = ppp::phase::dead;
  echo_deadline_ = UINT64_MAX;
  env_.host.log(PPTPKIT_LOG_INFO, component, "session %u: link down: %.*s", id_, static_cast<int>(text.size()),
                text.data());
  event(PPTPKIT_PPP_EVENT_LINK_DOWN, {reason}, text);
}

void session::event(std::uint32_t type, std::initializer_list<std::uint64_t> values, std::string_view text) noexcept {
  try {
    env_.events.push(type, id_, values, text);
  } catch (...) {  // out of memory on the control path: the event is lost, the session goes on
    env_.host.log(PPTPKIT_LOG_ERROR, component, "session %u: event %u lost (out of memory)", id_, type);
  }
}

void session::random_fill(std::span<std::uint8_t> out) noexcept {
  env_.host.random(out);
}

session_counters session::counters() const noexcept {
  session_counters c = counters_;
  for (const fsm* f : {&lcp_fsm_, &ipcp_fsm_, &ipv6cp_fsm_}) {
    c.drop_fsm_bad_id += f->stats().bad_id;
    c.drop_fsm_bad_ack += f->stats().bad_ack;
    c.drop_fsm_malformed += f->stats().malformed;
    c.drop_before_phase += f->stats().bad_state;
    c.code_rejects_sent += f->stats().code_rejects;
  }
  c.drop_auth_unexpected += auth_server_.dropped() + auth_client_.dropped();
  c.auth_bad_peer_name += auth_server_.bad_peer_names();
  c.auth_verdict_malformed += auth_server_.malformed_verdicts();
  c.auth_verdict_no_keys += auth_server_.verdicts_without_keys();
  // CCP and MPPE.
  const fsm_stats& f = ccp_.automaton().stats();
  c.drop_fsm_bad_id += f.bad_id;
  c.drop_fsm_bad_ack += f.bad_ack;
  c.drop_fsm_malformed += f.malformed;
  c.drop_before_phase += f.bad_state;
  c.code_rejects_sent += f.code_rejects;
  const ccp_stats& s = ccp_.stats();
  c.ccp_rejected_options += s.rejected_options;
  c.ccp_reset_requests_sent += s.reset_requests_sent;
  c.ccp_reset_requests_received += s.reset_requests_received;
  c.ccp_malformed_reset += s.drop_malformed_reset;
  c.ccp_assumed_acks += f.assumed_acks;
  const mppe_counters m = ccp_.mppe_totals();
  c.mppe_tx_packets += m.tx_packets;
  c.mppe_rx_delivered += m.rx_delivered;
  c.mppe_rx_dropped += mppe_dropped(m);  // every drop_* of the MPPE counter list, new ones included
  return c;
}

}  // namespace pptpkit::ppp
