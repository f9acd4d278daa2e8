// Plugin events -> connection and session changes. Handlers only change state and *request* teardown
// or a close; the loop reaps those after the events have drained (engine.cc).
#include <cstring>

#include "engine_impl.hpp"
#include "pptpkit/control.h"
#include "pptpkit/gre.h"
#include "pptpkit/ppp.h"
#include "pptpkit/runtime/peer_text.hpp"

namespace pptpkit::runtime {

namespace {

std::string auth_name(std::uint64_t protocol) {
  switch (protocol) {
    case PPTPKIT_PPP_AUTH_MSCHAP_V2:
      return "MS-CHAPv2";
    case PPTPKIT_PPP_AUTH_CHAP_MD5:
      return "CHAP-MD5";
    case PPTPKIT_PPP_AUTH_PAP:
      return "PAP";
    case PPTPKIT_PPP_AUTH_EAP:
      return "EAP-MD5";
    default:
      return "none";
  }
}

// Acct-Terminate-Cause of a PPTPKIT_PPP_REASON_*.
end_cause link_down_cause(std::uint64_t reason) {
  switch (reason) {
    case PPTPKIT_PPP_REASON_PEER_TERMINATE:
      return end_cause::user_request;
    case PPTPKIT_PPP_REASON_ECHO_TIMEOUT:
      return end_cause::lost_carrier;
    case PPTPKIT_PPP_REASON_AUTH_FAILED:
      return end_cause::auth_failed;
    default:
      return end_cause::nas_error;
  }
}

// The event's text exactly as the plugin gave it (bytes up to the first NUL).
std::string text_of(const pptpkit_event& ev) {
  return std::string(ev.text, strnlen(ev.text, sizeof(ev.text)));
}

}  // namespace

bool engine_impl::drain_events() {
  bool any = false;
  pptpkit_event ev = PPTPKIT_EVENT_INIT;
  for (int guard = 0; guard < 4096; ++guard) {
    // Inner layers first: PPP's news about a session (an authentication failure) is reported
    // before the control connection's news tears the session down.
    bool got = false;
    ev.struct_size = sizeof(ev);
    if (plugins_->ppp().ops().poll_event(plugins_->ppp().inst, &ev) == 1) {
      on_ppp_event(ev);
      got = true;
    }
    ev.struct_size = sizeof(ev);
    if (plugins_->gre().ops().poll_event(plugins_->gre().inst, &ev) == 1) {
      on_gre_event(ev);
      got = true;
    }
    ev.struct_size = sizeof(ev);
    if (plugins_->control().ops().poll_event(plugins_->control().inst, &ev) == 1) {
      on_control_event(ev);
      got = true;
    }
    if (!got) {
      break;
    }
    any = true;
  }
  return any;
}

void engine_impl::on_control_event(const pptpkit_event& ev) {
  auto ci = connections_.find(ev.channel);
  if (ci == connections_.end()) {
    return;
  }
  connection& c = ci->second;
  const std::string text = peer_text::line(text_of(ev));  // host name and vendor come from the peer
  switch (ev.type) {
    case PPTPKIT_CONTROL_EVENT_CONNECTION_UP: {
      connection_established(c);
      log(PPTPKIT_LOG_INFO, c.id, 0,
          "control connection established with " + format_ipv4(c.peer.address) +
              (text.empty() ? "" : " (" + text + ")"));
      if (stopping_) {
        c.stopping = true;
        command(plugins_->control(), PPTPKIT_CONTROL_CMD_CONNECTION_STOP, c.id, {1}, {}, c.id);
      } else if (!server_) {
        // RFC 2637 §2.7: the PNS asks for one outgoing call.
        command(plugins_->control(), PPTPKIT_CONTROL_CMD_CALL_OPEN, c.id, {}, {}, c.id);
      }
      break;
    }
    case PPTPKIT_CONTROL_EVENT_CALL_UP:
      if (!c.closing) {
        open_session(c, ev);
      }
      break;
    case PPTPKIT_CONTROL_EVENT_CALL_DOWN: {
      const auto call = static_cast<std::uint32_t>(ev.values[0]);
      if (auto si = sessions_.find(call); si != sessions_.end()) {
        si->second.call_cleared = true;
        request_teardown(si->second, "call cleared" + (text.empty() ? std::string() : ": " + text),
                         end_cause::user_request);
      }
      break;
    }
    case PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN: {
      c.down = true;
      log(ev.values[0] == PPTPKIT_CONTROL_REASON_STOPPED ? PPTPKIT_LOG_INFO : PPTPKIT_LOG_NOTICE, c.id, 0,
          "control connection down" + (text.empty() ? std::string() : ": " + text));
      if (c.h == invalid_handle || c.out.empty()) {
        request_close(c, "ended");
      } else {
        flush(c);  // closes once the last message (e.g. StopCCRP) is written, or at the drain deadline
      }
      break;
    }
    case PPTPKIT_CONTROL_EVENT_SET_LINK_INFO:
    case PPTPKIT_CONTROL_EVENT_WAN_ERROR:
      log(PPTPKIT_LOG_DEBUG, c.id, static_cast<std::uint32_t>(ev.values[0]),
          ev.type == PPTPKIT_CONTROL_EVENT_WAN_ERROR ? "peer reported WAN errors" : "peer set link info");
      break;
    default:
      break;
  }
}

void engine_impl::on_gre_event(const pptpkit_event& ev) {
  auto si = sessions_.find(ev.channel);
  if (si == sessions_.end()) {
    return;
  }
  session& s = si->second;
  if (ev.type == PPTPKIT_GRE_EVENT_NO_PEER_DATA) {
    ++counters_.no_gre_warnings;
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "the control connection is up but no GRE arrives from " + format_ipv4(s.peer_address) + " after " +
            std::to_string(ev.values[0]) +
            " ms: likely a firewall dropping IP protocol 47 (GRE) on the way, or a NAT router without the PPTP "
            "helper (e.g. Linux nf_conntrack_pptp / nf_nat_pptp not loaded)");
  } else if (ev.type == PPTPKIT_GRE_EVENT_FIRST_PEER_DATA) {
    log(PPTPKIT_LOG_DEBUG, s.connection, s.id, "first GRE packet from the peer");
  }
}

void engine_impl::on_ppp_event(const pptpkit_event& ev) {
  auto si = sessions_.find(ev.channel);
  const std::string raw = text_of(ev);
  const std::string text = peer_text::line(raw);
  if (si == sessions_.end()) {
    if (ev.type == PPTPKIT_PPP_EVENT_AUTH_FAILURE) {  // still the reason the user needs to see
      ++counters_.auth_failures;
      log(PPTPKIT_LOG_WARNING, 0, ev.channel,
          "authentication failed: " + (text.empty() ? std::string("rejected") : text) + " (" + auth_name(ev.values[0]) +
              ")");
    }
    return;  // a late event of a session already torn down
  }
  session& s = si->second;
  switch (ev.type) {
    case PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED:
      if (s.ending) {
        break;  // reaped this round: no address for it
      }
      if (server_) {
        on_login(s, raw);  // the exact name: looked up as the plugin will hash it
      } else {
        command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {1}, {{"secret", options_.password}}, s.connection,
                s.id);
      }
      break;
    case PPTPKIT_PPP_EVENT_AUTH_VERIFY:
      if (s.ending) {
        break;
      }
      if (!server_ || !s.host_verifies) {
        log(PPTPKIT_LOG_WARNING, s.connection, s.id, "PPP asked to verify a login it was not told to hand over");
        break;
      }
      s.radius_protocol = static_cast<std::uint32_t>(ev.values[0]);
      on_login(s, raw);
      break;
    case PPTPKIT_PPP_EVENT_AUTH_SUCCESS:
      // A relayed EAP method is whatever the RADIUS server ran; the plugin runs only EAP-MD5 itself.
      s.auth = s.host_verifies && ev.values[0] == PPTPKIT_PPP_AUTH_EAP ? "EAP" : auth_name(ev.values[0]);
      if (ev.values[1] == 1 && !raw.empty()) {
        s.user = raw;
      }
      on_authenticated(s, ev);
      log(PPTPKIT_LOG_INFO, s.connection, s.id, "authenticated (" + s.auth + "), user " + peer_text::field(s.user));
      break;
    case PPTPKIT_PPP_EVENT_AUTH_FAILURE:
      ++counters_.auth_failures;
      if (ev.values[1] == 1) {
        throttle_.failed(s.peer_address, s.user, now_);
      }
      if (ev.values[1] == 1 && !raw.empty() && s.user.empty()) {
        s.user = raw;
      }
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "authentication failed: " + (text.empty() ? std::string("rejected") : text) + " (" + auth_name(ev.values[0]) +
              (s.user.empty() ? "" : ", user " + peer_text::field(s.user)) + ")");
      break;
    case PPTPKIT_PPP_EVENT_ENCRYPTION_UP:
      s.mppe = std::to_string(ev.values[0]) + "-bit" + (ev.values[1] == 1 ? "-stateless" : "-stateful");
      break;
    case PPTPKIT_PPP_EVENT_IPV4_UP:
      if (!s.ending) {
        on_ipv4_up(s, ev);
      }
      break;
    case PPTPKIT_PPP_EVENT_IPV6_UP:
      s.ipv6_local = ev.values[0];
      s.ipv6_peer = ev.values[1];
      if (s.tun != invalid_handle) {
        apply_ipv6(s);
      }
      break;
    case PPTPKIT_PPP_EVENT_LINK_DOWN:
      s.ppp_open = false;
      request_teardown(s, "PPP link down" + (text.empty() ? std::string() : ": " + text),
                       stopping_ ? end_cause::admin_reboot : link_down_cause(ev.values[0]));
      break;
    default:
      break;
  }
}

}  // namespace pptpkit::runtime
