// Calls: open, login (secrets, throttle, the address), the interface, hooks and teardown.
//
//  CALL_UP ── GRE open ── PPP open ── auth deadline armed (server)
//     AUTH_SECRET_NEEDED ── throttle: refuse | answer later | answer now
//        answer: chap-secrets entry ── address (the user's fixed one, else the pool's) ── CMD_AUTH_SECRET
//     AUTH_SUCCESS ── authenticated: deadline disarmed
//     IPV4_UP ── interface (lowest free unit) ── routes (client) ── ip-up ── "session up: ..."
//  request_teardown ── reap: PPP down, clear the call | drain ports | GRE close, interface, ip-down,
//                      address back to the pool, forgotten
#include <algorithm>

#include "engine_impl.hpp"
#include "pptpkit/control.h"
#include "pptpkit/gre.h"
#include "pptpkit/ppp.h"
#include "pptpkit/runtime/peer_text.hpp"

namespace pptpkit::runtime {

namespace {

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) {
      out += sep;
    }
    out += p;
  }
  return out;
}

}  // namespace

void engine_impl::open_session(connection& c, const pptpkit_event& ev) {
  const auto call = static_cast<std::uint32_t>(ev.values[0]);
  if (sessions_.contains(call)) {
    log(PPTPKIT_LOG_ERROR, c.id, call, "control reported call id " + std::to_string(call) + " twice; clearing it");
    // RFC 2637 §2.13 Call-Disconnect-Notify / §2.12 Call-Clear-Request; result 3 (administrative).
    command(plugins_->control(), PPTPKIT_CONTROL_CMD_CALL_CLEAR, c.id, {call, 3}, {}, c.id, call);
    return;
  }
  session& s = sessions_[call];
  s.id = call;
  s.connection = c.id;
  s.peer_call_id = static_cast<std::uint32_t>(ev.values[1]);
  s.peer_address = c.peer.address;
  s.started_ns = now_;
  c.sessions.push_back(call);
  ++counters_.sessions_started;

  entry_list ppp;
  if (server_) {
    // No address yet: it is assigned when the peer's name is known (a pool is not for strangers).
    s.local = options_.localip;
    ppp = {{"role", "server"},
           {"auth", join(options_.auth, ",")},
           {"name", "pptpkit"},
           {"local_ip", format_ipv4(s.local)}};
    if (!options_.dns.empty()) {
      ppp.emplace_back("dns1", format_ipv4(options_.dns[0]));
    }
    if (options_.dns.size() > 1) {
      ppp.emplace_back("dns2", format_ipv4(options_.dns[1]));
    }
    if (radius_) {
      // The plugin hands each login over (pptpkit/ppp.h, ABI 1.1) and RADIUS verifies it: the NAS never
      // sees a password, and MPPE keys come from the Access-Accept.
      ppp.emplace_back("auth_verify", "host");
      ppp.emplace_back("auth_secret_timeout_ms", std::to_string(std::uint64_t{options_.auth_timeout_s} * 1000));
      s.host_verifies = true;
    }
    arm(timer_kind::auth_deadline, s.id, s.auth_deadline, now_ + std::uint64_t{options_.auth_timeout_s} * seconds);
  } else {
    ppp = {{"role", "client"},
           {"auth", join(options_.auth, ",")},
           {"user", options_.user},
           {"password", options_.password}};
    s.user = options_.user;
  }
  ppp.emplace_back("mppe", options_.mppe);
  ppp.emplace_back("mppe_bits", options_.mppe_bits);
  ppp.emplace_back("mppe_stateful", options_.mppe_stateful ? "1" : "0");
  ppp.emplace_back("lcp_echo_interval", std::to_string(options_.echo_interval_s));
  ppp.emplace_back("lcp_echo_failure", std::to_string(options_.echo_failure));

  // RFC 2637 §4.1: the peer's call id goes in the key of what we send; its window bounds our sends.
  if (command(plugins_->gre(), PPTPKIT_GRE_CMD_SESSION_OPEN, call,
              {s.peer_call_id, ev.values[2], ev.values[3], s.peer_address}, {}, c.id, call) < 0) {
    request_teardown(s, "GRE session could not be opened");
    return;
  }
  s.gre_open = true;
  if (command(plugins_->ppp(), PPTPKIT_PPP_CMD_SESSION_OPEN, call, {}, ppp, c.id, call) < 0) {
    request_teardown(s, "PPP session could not be opened");
    return;
  }
  s.ppp_open = true;
  log(PPTPKIT_LOG_INFO, c.id, call,
      "call up: peer call id " + std::to_string(s.peer_call_id) + ", peer window " + std::to_string(ev.values[2]));
}

void engine_impl::request_teardown(session& s, std::string why, end_cause cause) {
  if (s.ending) {
    return;
  }
  s.ending = true;
  s.end_reason = std::move(why);
  s.cause = cause;
  to_teardown_.push_back(s.id);
}

// Teardown, first half: PPP down, then the call cleared (unless it is gone already).
void engine_impl::teardown_begin(session& s) {
  if (s.ppp_open) {
    s.ppp_open = false;
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_LOWER_DOWN, s.id, {}, {}, s.connection, s.id);
  }
  auto ci = connections_.find(s.connection);
  if (!s.call_cleared && ci != connections_.end() && !ci->second.down && !ci->second.closing) {
    s.call_cleared = true;
    // RFC 2637 §2.13 (PAC: Call-Disconnect-Notify, result 3 = administrative) / §2.12 (PNS:
    // Call-Clear-Request, which carries no result; the value is ignored).
    command(plugins_->control(), PPTPKIT_CONTROL_CMD_CALL_CLEAR, s.connection, {s.id, server_ ? 3u : 1u}, {},
            s.connection, s.id);
  }
}

// Teardown, second half (after PPP's last frames left): GRE, the interface, ip-down, the address; then
// the session is forgotten, and an idle connection that should stop is stopped.
void engine_impl::teardown_finish(session& s) {
  const std::uint32_t id = s.id;
  const std::uint32_t cid = s.connection;
  if (s.gre_open) {
    s.gre_open = false;
    command(plugins_->gre(), PPTPKIT_GRE_CMD_SESSION_CLOSE, id, {}, {}, cid, id);
  }
  disarm(timer_kind::auth_deadline, id, s.auth_deadline);
  disarm(timer_kind::deferred_login, id, s.deferred_until);
  radius_session_down(s);
  const std::uint64_t connect_time = s.up ? (now_ - s.up_ns) / seconds : 0;
  if (s.tun != invalid_handle) {
    owners_.erase(s.tun);
    platform_.close(s.tun);
    s.tun = invalid_handle;
  }
  counters_.drop_no_interface += s.held.size();
  free_packets(s.held);
  if (s.hook_up_run && !options_.ip_down.empty()) {
    run_hook(options_.ip_down, s,
             {"CONNECT_TIME=" + std::to_string(connect_time), "BYTES_SENT=" + std::to_string(s.tx_bytes),
              "BYTES_RCVD=" + std::to_string(s.rx_bytes)});
  }
  release_address(s);
  if (s.unit >= 0) {
    units_.release(s.unit);
  }
  ++counters_.sessions_ended;
  log(s.up ? PPTPKIT_LOG_NOTICE : PPTPKIT_LOG_INFO, cid, id,
      "session down: " + s.end_reason +
          (s.up ? ", connected " + std::to_string(connect_time) + " s, sent " + std::to_string(s.tx_bytes) +
                      " bytes, received " + std::to_string(s.rx_bytes) + " bytes"
                : std::string()));
  sessions_.erase(id);
  auto ci = connections_.find(cid);
  if (ci == connections_.end()) {
    return;
  }
  connection& c = ci->second;
  c.sessions.erase(std::remove(c.sessions.begin(), c.sessions.end(), id), c.sessions.end());
  if (should_stop_when_idle(c)) {
    c.stopping = true;
    // RFC 2637 §2.3 Stop-Control-Connection-Request, reason 1 (general request).
    command(plugins_->control(), PPTPKIT_CONTROL_CMD_CONNECTION_STOP, c.id, {1}, {}, c.id);
  }
}

bool engine_impl::should_stop_when_idle(const connection& c) const {
  // The client runs one call per connection; a stopping server stops each connection once idle.
  return c.sessions.empty() && c.h != invalid_handle && !c.down && !c.closing && !c.stopping && c.up &&
         (!server_ || stopping_);
}

// Server: the peer named itself (EVENT_AUTH_SECRET_NEEDED). Online guessing is throttled before any
// secret is looked up: refused at once, or answered after a delay.
void engine_impl::on_login(session& s, const std::string& name) {
  if (s.authenticated && name != s.user) {
    // RFC 1994 §4 lets the authenticator challenge again; a different name is another user taking
    // over a session whose address and interface are the first user's.
    ++counters_.reauth_refused;
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "peer authenticated as " + peer_text::field(s.user) + " tried again as " + peer_text::field(name) +
            ": ending the session");
    refuse_login(s);
    request_teardown(s, "re-authentication as another user");
    return;
  }
  const login_throttle::verdict v = throttle_.check(s.peer_address, name, now_);
  if (v.refuse) {
    ++counters_.logins_refused_throttle;
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "login as " + peer_text::field(name) + " refused: too many failed logins from " + format_ipv4(s.peer_address));
    refuse_login(s);
    return;
  }
  if (v.delay_ns > 0) {
    ++counters_.logins_delayed;
    log(PPTPKIT_LOG_INFO, s.connection, s.id,
        "login as " + peer_text::field(name) + " answered in " + std::to_string(v.delay_ns / 1'000'000) +
            " ms (earlier failures)");
    s.deferred_login = name;
    arm(timer_kind::deferred_login, s.id, s.deferred_until, now_ + v.delay_ns);
    return;
  }
  answer_login(s, name);
}

// Tells PPP the login is refused, in the form the session asked: no secret, or a reject.
void engine_impl::refuse_login(session& s) {
  if (s.host_verifies) {
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_REJECT, 0}, {}, s.connection,
            s.id);
  } else {
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {0}, {}, s.connection, s.id);
  }
}

// The secret for `name` from chap-secrets and, when it is found, the session's address; with RADIUS,
// the exchange goes to the servers instead.
void engine_impl::answer_login(session& s, const std::string& name) {
  if (s.host_verifies) {
    radius_verify(s, name);
    return;
  }
  const secret_entry* e = secrets_.find(name, "pptpkit");
  if (e == nullptr || e->server == "*") {
    if (const secret_entry* alt = secrets_.find(name, "pptpd"); alt != nullptr && alt->server == "pptpd") {
      e = alt;  // pptpd users' files name the server "pptpd"
    }
  }
  s.user = name;
  entry_list entries;
  if (e == nullptr) {
    log(PPTPKIT_LOG_NOTICE, s.connection, s.id, "no chap-secrets entry for user '" + peer_text::field(name) + "'");
  } else if (assign_address(s, name, *e, entries)) {
    entries.emplace_back("secret", e->secret);
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {1}, entries, s.connection, s.id);
    return;
  }
  command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_SECRET, s.id, {0}, {}, s.connection, s.id);
}

// The user's address: its chap-secrets address when it names one, else one from the pool. A session
// that already has one (the peer authenticated again as the same user) keeps it. False (logged) when
// there is none to give.
bool engine_impl::assign_address(session& s, const std::string& name, const secret_entry& e, entry_list& entries) {
  const address_policy policy = chap_secrets::addresses_of(e);
  if (policy.what == address_policy::kind::none) {
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "chap-secrets allows user '" + peer_text::field(name) + "' no IP address ('-'): refusing the login");
    return false;
  }
  const bool fixed = policy.what == address_policy::kind::fixed;
  if (s.remote_held && (!fixed || policy.address == s.remote)) {
    entries.emplace_back("remote_ip", format_ipv4(s.remote));
    return true;
  }
  if (s.remote_held) {
    // The address is on the interface already: it does not change under a live session.
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "user " + peer_text::field(name) + " would move this session to another address: refusing");
    return false;
  }
  std::optional<std::uint32_t> address;
  if (fixed) {
    address = pool4_.acquire(policy.address) ? std::optional(policy.address) : std::nullopt;
  } else {
    address = pool4_.acquire();
  }
  if (!address) {
    if (fixed) {
      ++counters_.address_in_use;
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "address " + format_ipv4(policy.address) + " of user '" + peer_text::field(name) +
              "' is in use by another session: refusing");
    } else {
      ++counters_.address_pool_exhausted;
      log(PPTPKIT_LOG_ERROR, s.connection, s.id,
          "no free address in --remoteip for user " + peer_text::field(name) + ": refusing the login");
    }
    return false;
  }
  s.remote = *address;
  s.remote_held = true;
  entries.emplace_back("remote_ip", format_ipv4(s.remote));
  return true;
}

void engine_impl::on_authenticated(session& s, const pptpkit_event& ev) {
  if (ev.values[1] != 1) {
    return;  // the peer authenticated us (client)
  }
  s.authenticated = true;
  disarm(timer_kind::auth_deadline, s.id, s.auth_deadline);
  throttle_.succeeded(s.peer_address, s.user);
}

void engine_impl::on_ipv4_up(session& s, const pptpkit_event& ev) {
  const auto local = static_cast<std::uint32_t>(ev.values[0]);
  const std::uint32_t remote = (!server_ || ev.values[1] != 0) ? static_cast<std::uint32_t>(ev.values[1]) : s.remote;
  if (s.up) {
    // IPCP renegotiated (RFC 1661 §4.3: a Configure-Request in Opened). ip-up already ran for these
    // addresses; other addresses under a live interface and its hooks are refused.
    ++counters_.ipcp_renegotiated;
    if (local != s.local || remote != s.remote) {
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "IPCP renegotiated to " + format_ipv4(local) + " / " + format_ipv4(remote) + " (was " + format_ipv4(s.local) +
              " / " + format_ipv4(s.remote) + "): ending the session");
      request_teardown(s, "addresses changed on IPCP renegotiation");
    } else {
      log(PPTPKIT_LOG_INFO, s.connection, s.id, "IPCP renegotiated with the same addresses");
    }
    return;
  }
  s.local = local;
  s.remote = remote;
  s.dns1 = static_cast<std::uint32_t>(ev.values[2]);
  s.dns2 = static_cast<std::uint32_t>(ev.values[3]);
  std::uint32_t mtu = static_cast<std::uint32_t>(ev.values[4] != 0 ? ev.values[4] : 1400);
  if (s.framed_mtu != 0 && s.framed_mtu < mtu) {
    mtu = s.framed_mtu;  // RADIUS Framed-MTU (RFC 2865 §5.12)
  }
  if (s.tun == invalid_handle && !open_interface(s, mtu)) {
    return;
  }
  if (s.ipv6_local != 0) {
    apply_ipv6(s);
  }
  s.up = true;
  s.up_ns = now_;
  ++counters_.sessions_up;
  if (!server_) {
    redial_.session_up();
  }
  // The one line the contract promises (interop and e2e tests grep for it).
  log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
      "session up: user=" + (s.user.empty() ? std::string("-") : peer_text::field(s.user)) + " auth=" + s.auth +
          " mppe=" + s.mppe + " local=" + format_ipv4(s.local) + " remote=" + format_ipv4(s.remote) +
          " ifname=" + s.ifname);
  if (!server_) {
    if (options_.usepeerdns && (s.dns1 != 0 || s.dns2 != 0)) {
      log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
          "DNS servers from the peer: " + format_ipv4(s.dns1) + (s.dns2 != 0 ? " " + format_ipv4(s.dns2) : ""));
    }
    std::vector<route> routes;
    if (options_.defaultroute) {
      routes.push_back({0, 0});
    }
    for (const cidr& r : options_.routes) {
      routes.push_back({r.network, r.prefix_length});
    }
    for (const route& r : routes) {
      std::string error;
      if (!platform_.tun_add_route(s.tun, r, error)) {
        log(PPTPKIT_LOG_WARNING, s.connection, s.id,
            "cannot add route " + format_ipv4(r.destination) + "/" + std::to_string(r.prefix_length) + " via " +
                s.ifname + ": " + error);
      }
    }
  }
  radius_session_up(s);
  if (!options_.ip_up.empty()) {
    run_hook(options_.ip_up, s, {});
  }
  s.hook_up_run = true;
}

// Makes the session's interface (like pppd, whose unit may be taken by another program: warn and take
// the next free one) and writes the packets that arrived before it. False: the session is ending.
bool engine_impl::open_interface(session& s, std::uint32_t mtu) {
  tun_config tc;
  tc.mtu = mtu;
  tc.local = s.local;
  tc.peer = s.remote;
  std::string error;
  std::string actual;
  handle h = invalid_handle;
  std::int32_t unit = server_ ? units_.lowest_free() : -1;
  for (std::uint32_t attempt = 0; attempt < interface_units::max_attempts && h == invalid_handle; ++attempt) {
    tc.name = server_ ? options_.ifname + std::to_string(unit) : interface_units::client_name(options_.ifname, attempt);
    std::string why;
    h = platform_.tun_open(tc, actual, why);
    if (h == invalid_handle) {
      ++counters_.tun_open_failed;
      log(PPTPKIT_LOG_WARNING, s.connection, s.id, "cannot create interface " + tc.name + ": " + why);
      error = error.empty() ? why : error;
      unit = server_ ? units_.next_free(unit) : unit;
    }
  }
  if (h == invalid_handle) {
    log(PPTPKIT_LOG_ERROR, s.connection, s.id,
        "no tunnel interface after " + std::to_string(interface_units::max_attempts) + " names: " + error);
    request_teardown(s, "no tunnel interface");
    return false;
  }
  if (server_) {
    s.unit = unit;
    units_.take(unit);
  }
  s.tun = h;
  s.ifname = actual.empty() ? tc.name : actual;
  owners_[h] = {owner_kind::tun, s.id};
  if (!readers_paused_) {
    platform_.watch(h, true, false);
  }
  if (!s.held.empty()) {
    for (pptpkit_packet& p : s.held) {
      s.rx_bytes += p.length;
    }
    s.rx_packets += s.held.size();
    platform_.tun_write(h, s.held);
    free_packets(s.held);
  }
  return true;
}

void engine_impl::apply_ipv6(session& s) {
  std::string error;
  if (!platform_.tun_set_ipv6(s.tun, s.ipv6_local, s.ipv6_peer, error)) {
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "cannot set the IPv6 link-local address on " + s.ifname + ": " + error);
  }
}

void engine_impl::run_hook(const std::string& path, const session& s, const std::vector<std::string>& extra) {
  // pppd: interface-name tty-device speed local-IP-address remote-IP-address ipparam
  const std::string ipparam = format_ipv4(s.peer_address);
  std::vector<std::string> args{s.ifname, s.ifname, "0", format_ipv4(s.local), format_ipv4(s.remote), ipparam};
  std::vector<std::string> env{"IFNAME=" + s.ifname,
                               "DEVICE=" + s.ifname,
                               "SPEED=0",
                               "IPLOCAL=" + format_ipv4(s.local),
                               "IPREMOTE=" + format_ipv4(s.remote),
                               "PEERNAME=" + peer_text::field(s.user),
                               "IPPARAM=" + ipparam};
  if (s.dns1 != 0) {
    env.push_back("DNS1=" + format_ipv4(s.dns1));
  }
  if (s.dns2 != 0) {
    env.push_back("DNS2=" + format_ipv4(s.dns2));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  ++counters_.hooks_run;
  platform_.run_hook(path, args, env);
}

}  // namespace pptpkit::runtime
