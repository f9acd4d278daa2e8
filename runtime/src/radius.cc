// RADIUS as a NAS: logins verified by the servers (the PPP plugin hands the exchange over, ABI 1.1's
// auth extension), accounting, Session-Timeout / Idle-Timeout / Interim-Update, and dynamic
// authorization (RFC 5176 Disconnect and CoA).
//
//  AUTH_VERIFY ── throttle (on_login) ── radius_verify: Access-Request ── the client core retransmits,
//     fails over, marks servers dead ── result:
//        Accept     address (Framed-IP-Address | Framed-Pool | --remoteip) ── AUTH_VERDICT accept with
//                   MS-CHAP2-Success and the MS-MPPE keys; Class, timeouts, interim kept on the session
//        Challenge  (EAP) AUTH_VERDICT continue with the EAP-Message; State kept for the next round
//        Reject / no answer   AUTH_VERDICT reject
//  IPV4_UP ── Accounting Start, Interim timer, Idle timer    teardown ── Accounting Stop with the cause
//  start ── Accounting-On                                    stop ── Accounting-Off, waited for (bounded)
//
// Nothing here blocks: requests are datagrams on one socket, answers are read when it is readable, and
// the client core's deadline joins the loop's. A server that never answers costs each login its
// configured time and nothing else.
#include <algorithm>
#include <array>

#include "engine_impl.hpp"
#include "pptpkit/radius/accept.hpp"
#include "pptpkit/radius/codec.hpp"
#include "pptpkit/radius/dae.hpp"
#include "pptpkit/runtime/peer_text.hpp"

namespace pptpkit::runtime {

namespace {

constexpr std::size_t datagram_max = 4096;         // RFC 2865 §3: the longest RADIUS packet
constexpr std::uint32_t datagrams_per_ready = 64;  // per readiness: a flood cannot hold the loop
constexpr std::uint32_t radius_max_outstanding = 4096;

std::string hex(std::span<const std::uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

// The MS-CHAP error code of an MS-CHAP-Error ("E=691 R=0 ..."), 0 when there is none.
std::uint32_t mschap_error_code(std::string_view text) {
  const std::size_t at = text.find("E=");
  if (at == std::string_view::npos) {
    return 0;
  }
  std::uint32_t code = 0;
  for (std::size_t i = at + 2; i < text.size() && i < at + 6 && text[i] >= '0' && text[i] <= '9'; ++i) {
    code = code * 10 + static_cast<std::uint32_t>(text[i] - '0');
  }
  return code;
}

}  // namespace

bool engine_impl::radius_start(std::string& error) {
  if (!options_.radius() && !options_.dae_listen) {
    return true;
  }
  std::string content;
  std::string warning;
  if (!platform_.read_private_file(options_.radius_secrets_path, content, warning, error)) {
    return false;
  }
  if (!warning.empty()) {
    log(PPTPKIT_LOG_WARNING, 0, 0, warning);
  }
  try {
    radius_secrets_ = parse_radius_secrets(content, options_.radius_secrets_path);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  std::array<std::uint8_t, 4> boot{};
  platform_.random_bytes(boot);
  boot_id_ = (std::uint32_t{boot[0]} << 24) | (std::uint32_t{boot[1]} << 16) | (std::uint32_t{boot[2]} << 8) | boot[3];
  nas_.identifier = options_.nas_identifier;
  nas_.address = options_.nas_ip != 0 ? options_.nas_ip : options_.listen.address;
  for (const auto& [name, ranges] : options_.pools) {
    named_pools_.emplace(name, address_pool(ranges));
  }
  for (const std::string& f : options_.filters) {
    auto [name, o] = parse_filter_override(f);
    if (!o.pool.empty() && !named_pools_.contains(o.pool)) {
      error = "--filter " + f + ": no --pool named " + o.pool;
      return false;
    }
    filters_[name] = std::move(o);
  }

  if (options_.radius()) {
    const pptpkit_plugin_descriptor& d = plugins_->ppp().module->descriptor();
    ppp_auth_ = d.get_extension != nullptr
                    ? static_cast<const pptpkit_ppp_auth_extension*>(d.get_extension(PPTPKIT_PPP_AUTH_EXTENSION_V1))
                    : nullptr;
    if (ppp_auth_ == nullptr || !PPTPKIT_HAS_FIELD(pptpkit_ppp_auth_extension, request_data, ppp_auth_->struct_size)) {
      error = "--radius-server: the PPP plugin cannot hand logins to the host (it needs ABI 1.1's " +
              std::string(PPTPKIT_PPP_AUTH_EXTENSION_V1) + ")";
      return false;
    }
    radius::client_config cc;
    for (const daemon_options::radius_server& rs : options_.radius_servers) {
      const std::string* secret = radius_secrets_.find(rs.address);
      if (secret == nullptr) {
        error = options_.radius_secrets_path + ": no secret for RADIUS server " + format_ipv4(rs.address);
        return false;
      }
      radius::server_config sc;
      sc.address = rs.address;
      sc.auth_port = rs.auth_port;
      sc.acct_port = rs.acct_port;
      sc.secret = *secret;
      sc.priority = static_cast<std::uint32_t>(cc.servers.size());
      cc.servers.push_back(std::move(sc));
    }
    cc.timeout_ns = std::uint64_t{options_.radius_timeout_s} * seconds;
    cc.tries = options_.radius_tries;
    cc.dead_time_ns = std::uint64_t{options_.radius_dead_time_s} * seconds;
    cc.max_outstanding = radius_max_outstanding;
    radius_servers_ = cc.servers;
    radius_ = std::make_unique<radius::client>(std::move(cc),
                                               [this](std::span<std::uint8_t> out) { platform_.random_bytes(out); });
    radius_h_ = platform_.udp_open({0, 0}, error);
    if (radius_h_ == invalid_handle) {
      return false;
    }
    owners_[radius_h_] = {owner_kind::radius};
    platform_.watch(radius_h_, true, false);
    if (options_.radius_accounting) {
      if (const auto id = radius_->submit(
              accounting_on_off(radius::acct_status::accounting_on, nas_, make_acct_session_id(boot_id_, 0)), now_)) {
        radius_jobs_[*id] = {radius_job::kind::on_off, 0};
      }
    }
  }
  if (options_.dae_listen) {
    for (std::uint32_t address : options_.dae_clients) {
      if (const std::string* secret = radius_secrets_.find(address)) {
        dae_clients_.push_back({address, *secret});
      }
    }
    dae_h_ = platform_.udp_open(*options_.dae_listen, error);
    if (dae_h_ == invalid_handle) {
      error = "--radius-dae: " + error;
      return false;
    }
    owners_[dae_h_] = {owner_kind::dae};
    platform_.watch(dae_h_, true, false);
  }
  log(PPTPKIT_LOG_NOTICE, 0, 0,
      "RADIUS: " + std::to_string(options_.radius_servers.size()) + " servers, accounting " +
          (options_.radius_accounting ? "on" : "off") +
          (options_.dae_listen ? ", Disconnect/CoA on " + format_ipv4(options_.dae_listen->address) + ":" +
                                     std::to_string(options_.dae_listen->port)
                               : std::string()));
  radius_pump();
  return true;
}

// A clean stop: Accounting-Off after every session's Stop. The loop waits for them (radius_idle) until
// the stop bound.
void engine_impl::radius_stop() {
  if (radius_ && options_.radius_accounting) {
    if (const auto id = radius_->submit(
            accounting_on_off(radius::acct_status::accounting_off, nas_, make_acct_session_id(boot_id_, 0)), now_)) {
      radius_jobs_[*id] = {radius_job::kind::on_off, 0};
    }
    radius_pump();  // out now, not at the next wake-up
  }
}

bool engine_impl::radius_idle() const {
  return !radius_ || radius_->outstanding() == 0;
}

// Replies on the client socket: handed to the core, which matches and verifies them.
void engine_impl::radius_read() {
  std::array<std::uint8_t, datagram_max> buffer;
  for (std::uint32_t n = 0; n < datagrams_per_ready; ++n) {
    endpoint from;
    const io_result r = platform_.udp_receive(radius_h_, buffer, from);
    if (r.status == io_status::would_block) {
      break;
    }
    if (r.status != io_status::ok) {
      ++counters_.radius_socket_errors;
      log(PPTPKIT_LOG_DEBUG, 0, 0, "RADIUS socket: " + r.error);
      continue;
    }
    radius_->receive(from.address, from.port, std::span<const std::uint8_t>(buffer.data(), r.bytes), now_);
  }
  radius_pump();
}

// Ticks the core, sends what it queued and handles what finished.
void engine_impl::radius_pump() {
  if (!radius_) {
    return;
  }
  if (radius_->next_deadline() <= now_) {
    radius_->tick(now_);
  }
  radius::datagram d;
  while (radius_->poll_datagram(d)) {
    const io_result r = platform_.udp_send(radius_h_, {d.address, d.port}, d.bytes);
    if (r.status != io_status::ok) {
      ++counters_.radius_socket_errors;  // lost like a datagram on the wire: retransmitted
      log(PPTPKIT_LOG_DEBUG, 0, 0, "RADIUS send to " + format_ipv4(d.address) + ": " + r.error);
    }
  }
  radius::result res;
  while (radius_->poll_result(res)) {
    on_radius_result(res);
  }
}

// Answers a login through RADIUS: the exchange the PPP plugin holds, as an Access-Request.
void engine_impl::radius_verify(session& s, const std::string& name) {
  std::array<std::uint8_t, 2048> data;
  const std::int32_t n = ppp_auth_->request_data(plugins_->ppp().inst, s.id, data.data(), data.size());
  if (n < 0 || static_cast<std::size_t>(n) > data.size()) {
    log(PPTPKIT_LOG_WARNING, s.connection, s.id,
        "login data unavailable (" + plugin_error_name(n < 0 ? n : PPTPKIT_ERR_NO_SPACE) + "): refusing");
    refuse_login(s);
    return;
  }
  if (s.acct_session_id.empty()) {
    s.acct_session_id = make_acct_session_id(boot_id_, ++acct_counter_);
  }
  const nas_session ns{s.id, s.acct_session_id, s.peer_address, options_.listen.address};
  auto request = access_request(static_cast<std::uint32_t>(s.radius_protocol),
                                {data.data(), static_cast<std::size_t>(n)}, name, nas_, ns, s.radius_state);
  if (!request) {
    log(PPTPKIT_LOG_WARNING, s.connection, s.id, "login data of an unexpected length: refusing");
    refuse_login(s);
    return;
  }
  if (s.radius_request) {
    radius_->cancel(*s.radius_request);
    radius_jobs_.erase(*s.radius_request);
  }
  s.user = name;
  const auto id = radius_->submit(std::move(*request), now_);
  if (!id) {
    ++counters_.radius_busy;
    log(PPTPKIT_LOG_WARNING, s.connection, s.id, "too many RADIUS requests outstanding: refusing the login");
    refuse_login(s);
    return;
  }
  s.radius_request = *id;
  radius_jobs_[*id] = {radius_job::kind::auth, s.id};
  radius_pump();
}

void engine_impl::on_radius_result(radius::result& r) {
  const auto job = radius_jobs_.find(r.id);
  if (job == radius_jobs_.end()) {
    return;  // cancelled
  }
  const radius_job j = job->second;
  radius_jobs_.erase(job);
  if (j.what != radius_job::kind::auth) {
    if (r.what == radius::outcome::accounting_ok) {
      ++counters_.radius_acct_sent;
    } else {
      ++counters_.radius_acct_lost;
      log(PPTPKIT_LOG_WARNING, 0, j.session, "no RADIUS server took an Accounting-Request: it is lost");
    }
    return;
  }
  const auto si = sessions_.find(j.session);
  if (si == sessions_.end() || si->second.ending) {
    return;
  }
  session& s = si->second;
  s.radius_request.reset();
  radius_auth_result(s, r);
}

void engine_impl::radius_auth_result(session& s, radius::result& r) {
  const std::string& secret = radius_servers_[r.server].secret;
  const auto view = radius::parse(r.reply);
  const std::string who = "user " + peer_text::field(s.user);
  if (r.what == radius::outcome::timeout || !view) {
    ++counters_.radius_no_answer;
    log(PPTPKIT_LOG_WARNING, s.connection, s.id, "no RADIUS server answered for " + who + ": refusing the login");
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_REJECT, 0},
            {{"message", "authentication service unavailable"}}, s.connection, s.id);
    return;
  }
  radius::authorization a = radius::parse_authorization(*view, secret, r.request_authenticator);
  for (const std::string& id : a.filter_ids) {
    const auto f = filters_.find(id);
    if (f == filters_.end()) {
      continue;
    }
    const user_override& o = f->second;
    a.session_timeout = o.session_timeout_s ? o.session_timeout_s : a.session_timeout;
    a.idle_timeout = o.idle_timeout_s ? o.idle_timeout_s : a.idle_timeout;
    a.interim_interval = o.interim_s ? o.interim_s : a.interim_interval;
    if (!o.pool.empty() && !a.framed_ip && a.framed_pool.empty()) {
      a.framed_pool = o.pool;
    }
  }
  if (r.what == radius::outcome::challenge) {
    if (s.radius_protocol != PPTPKIT_PPP_AUTH_EAP || a.eap_message.empty()) {
      ++counters_.radius_rejects;
      log(PPTPKIT_LOG_WARNING, s.connection, s.id, "RADIUS sent an Access-Challenge outside EAP for " + who);
      command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_REJECT, 0}, {}, s.connection,
              s.id);
      return;
    }
    ++counters_.radius_challenges;
    s.radius_state = a.state;
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_CONTINUE, 0},
            {{"eap", hex(a.eap_message)}}, s.connection, s.id);
    return;
  }
  if (r.what == radius::outcome::reject) {
    ++counters_.radius_rejects;
    entry_list entries;
    const std::string text = !a.reply_message.empty() ? a.reply_message : a.mschap_error;
    if (!text.empty()) {
      entries.emplace_back("message", text);
    }
    if (!a.eap_message.empty()) {
      entries.emplace_back("eap", hex(a.eap_message));
    }
    log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
        "RADIUS rejected " + who + (text.empty() ? std::string() : ": " + peer_text::line(text)));
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id,
            {PPTPKIT_PPP_VERDICT_REJECT, mschap_error_code(a.mschap_error)}, entries, s.connection, s.id);
    return;
  }
  // Access-Accept.
  entry_list entries;
  if (!radius_address(s, a, entries)) {
    ++counters_.radius_bad_accept;
    command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_REJECT, 0}, {}, s.connection,
            s.id);
    return;
  }
  if (s.radius_protocol == PPTPKIT_PPP_AUTH_MSCHAP_V2) {
    if (a.mschap2_success.size() != 42) {
      ++counters_.radius_bad_accept;
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "RADIUS accepted " + who + " without an MS-CHAP2-Success: the client could not trust it; refusing");
      release_address(s);
      command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_REJECT, 0}, {}, s.connection,
              s.id);
      return;
    }
    entries.emplace_back("message", a.mschap2_success);
  } else if (!a.reply_message.empty()) {
    entries.emplace_back("message", a.reply_message);
  }
  if (a.mppe_send_key && a.mppe_recv_key) {
    entries.emplace_back("mppe_send_key", hex(*a.mppe_send_key));
    entries.emplace_back("mppe_recv_key", hex(*a.mppe_recv_key));
  }
  // RFC 2548 §2.4.4-2.4.5: Policy 2 is Encryption-Required; Types 1 is 40-bit, 2 128-bit (and 8
  // 56-bit, which Windows servers send). They narrow what --mppe allows.
  if (a.mppe_policy && *a.mppe_policy == 2) {
    entries.emplace_back("mppe", "required");
  }
  if (a.mppe_types && (*a.mppe_types & 0xbu) != 0) {
    std::string bits;
    for (const auto& [mask, text] : {std::pair{2u, "128"}, std::pair{8u, "56"}, std::pair{1u, "40"}}) {
      if ((*a.mppe_types & mask) != 0) {
        bits += (bits.empty() ? "" : ",") + std::string(text);
      }
    }
    entries.emplace_back("mppe_bits", bits);
  }
  if (a.dns1) {
    entries.emplace_back("dns1", format_ipv4(*a.dns1));
  }
  if (a.dns2) {
    entries.emplace_back("dns2", format_ipv4(*a.dns2));
  }
  if (s.radius_protocol == PPTPKIT_PPP_AUTH_EAP && !a.eap_message.empty()) {
    entries.emplace_back("eap", hex(a.eap_message));
  }
  ++counters_.radius_accepts;
  std::vector<std::string> refused;
  s.framed_routes = routed_subnets(a.framed_ip, a.framed_netmask, a.framed_routes, refused);
  for (const std::string& route_text : refused) {
    log(PPTPKIT_LOG_WARNING, s.connection, s.id, "Framed-Route '" + peer_text::field(route_text) + "' not used");
  }
  // RFC 2865 §5.12: 64-65535; under IPv4's 576 it is not an MTU a tunnel can use.
  s.framed_mtu = a.framed_mtu && *a.framed_mtu >= 576 ? *a.framed_mtu : 0;
  s.classes = a.classes;
  s.session_timeout_s = a.session_timeout.value_or(0);
  s.idle_timeout_s = a.idle_timeout.value_or(0);
  // RFC 2869 §5.16: an Acct-Interim-Interval SHOULD NOT be under 60 s; --radius-interim is the
  // operator's own choice.
  s.interim_s = !a.interim_interval        ? options_.radius_interim_s
                : *a.interim_interval == 0 ? 0
                                           : std::max<std::uint32_t>(*a.interim_interval, 60);
  if (s.session_timeout_s != 0) {
    arm(timer_kind::session_timeout, s.id, s.session_deadline, now_ + std::uint64_t{s.session_timeout_s} * seconds);
  }
  log(PPTPKIT_LOG_INFO, s.connection, s.id,
      "RADIUS accepted " + who + ": address " + format_ipv4(s.remote) +
          (s.session_timeout_s != 0 ? ", Session-Timeout " + std::to_string(s.session_timeout_s) + " s" : "") +
          (s.idle_timeout_s != 0 ? ", Idle-Timeout " + std::to_string(s.idle_timeout_s) + " s" : "") +
          (s.interim_s != 0 ? ", Interim-Update every " + std::to_string(s.interim_s) + " s" : ""));
  command(plugins_->ppp(), PPTPKIT_PPP_CMD_AUTH_VERDICT, s.id, {PPTPKIT_PPP_VERDICT_ACCEPT, 0}, entries, s.connection,
          s.id);
}

// The session's address from an Access-Accept: Framed-IP-Address (RFC 2865 §5.8; 0xFFFFFFFE means "the
// NAS picks", 0xFFFFFFFF "the user picks", which PPTP servers do not allow: both take the pool),
// else Framed-Pool's named pool (RFC 2869 §5.18), else --remoteip. Every address goes through pool4_,
// which also tracks addresses outside its ranges, so no two sessions share one.
bool engine_impl::radius_address(session& s, const radius::authorization& a, entry_list& entries) {
  if (s.remote_held) {
    entries.emplace_back("remote_ip", format_ipv4(s.remote));  // authenticated again: the address stays
    return true;
  }
  std::optional<std::uint32_t> address;
  std::string pool;
  if (a.framed_ip && *a.framed_ip != 0xfffffffeu && *a.framed_ip != 0xffffffffu) {
    if (!pool4_.acquire(*a.framed_ip)) {
      ++counters_.address_in_use;
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "RADIUS gave user " + peer_text::field(s.user) + " address " + format_ipv4(*a.framed_ip) +
              ", which another session holds: refusing");
      return false;
    }
    address = a.framed_ip;
  } else if (!a.framed_pool.empty()) {
    const auto it = named_pools_.find(a.framed_pool);
    if (it == named_pools_.end()) {
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "RADIUS named pool '" + peer_text::field(a.framed_pool) + "', which no --pool defines: refusing");
      return false;
    }
    // Bounded by the pool's size: each address either is free in both or is skipped for good.
    for (std::size_t tries = 0; tries < it->second.size() && !address; ++tries) {
      const auto candidate = it->second.acquire();
      if (!candidate) {
        break;
      }
      if (pool4_.acquire(*candidate)) {
        address = candidate;
      }
    }
    pool = a.framed_pool;
  } else {
    address = pool4_.acquire();
  }
  if (!address) {
    ++counters_.address_pool_exhausted;
    log(PPTPKIT_LOG_ERROR, s.connection, s.id,
        "no free address " + (pool.empty() ? std::string("in --remoteip") : "in pool " + peer_text::field(pool)) +
            " for user " + peer_text::field(s.user) + ": refusing the login");
    return false;
  }
  s.remote = *address;
  s.remote_held = true;
  s.pool = pool;
  entries.emplace_back("remote_ip", format_ipv4(s.remote));
  return true;
}

void engine_impl::release_address(session& s) {
  if (!s.remote_held) {
    return;
  }
  pool4_.release(s.remote);
  if (!s.pool.empty()) {
    if (const auto it = named_pools_.find(s.pool); it != named_pools_.end()) {
      it->second.release(s.remote);
    }
  }
  s.remote_held = false;
}

void engine_impl::account(session& s, std::uint32_t status) {
  if (!radius_ || !options_.radius_accounting) {
    return;
  }
  session_usage u;
  u.input_octets = s.rx_bytes;
  u.output_octets = s.tx_bytes;
  u.input_packets = s.rx_packets;
  u.output_packets = s.tx_packets;
  u.session_time_s = s.up ? static_cast<std::uint32_t>((now_ - s.up_ns) / seconds) : 0;
  const nas_session ns{s.id, s.acct_session_id, s.peer_address, options_.listen.address};
  auto request = accounting_request(status, nas_, ns, s.user, s.remote, s.classes, u, terminate_cause(s.cause));
  const auto id = radius_->submit(std::move(request), now_);
  if (!id) {
    ++counters_.radius_busy;
    ++counters_.radius_acct_lost;
    log(PPTPKIT_LOG_WARNING, s.connection, s.id, "too many RADIUS requests outstanding: an accounting record is lost");
    return;
  }
  radius_jobs_[*id] = {radius_job::kind::accounting, s.id};
  radius_pump();
}

// IPv4 is up: Accounting Start, the Interim-Update and Idle-Timeout timers.
void engine_impl::radius_session_up(session& s) {
  if (!radius_) {
    return;
  }
  if (s.acct_session_id.empty()) {
    s.acct_session_id = make_acct_session_id(boot_id_, ++acct_counter_);
  }
  for (const route& r : s.framed_routes) {
    std::string error;
    if (!platform_.tun_add_route(s.tun, r, error)) {
      log(PPTPKIT_LOG_WARNING, s.connection, s.id,
          "cannot route " + format_ipv4(r.destination) + "/" + std::to_string(r.prefix_length) + " to " + s.ifname +
              ": " + error);
    }
  }
  if (options_.radius_accounting) {
    s.acct_started = true;
    account(s, radius::acct_status::start);
    if (s.interim_s != 0) {
      arm(timer_kind::acct_interim, s.id, s.interim_deadline, now_ + std::uint64_t{s.interim_s} * seconds);
    }
  }
  if (s.idle_timeout_s != 0) {
    s.idle_mark = s.rx_packets + s.tx_packets;
    arm(timer_kind::idle_timeout, s.id, s.idle_deadline, now_ + std::uint64_t{s.idle_timeout_s} * seconds);
  }
}

// The session is being forgotten: its request cancelled, its timers disarmed, Accounting Stop.
void engine_impl::radius_session_down(session& s) {
  disarm(timer_kind::session_timeout, s.id, s.session_deadline);
  disarm(timer_kind::idle_timeout, s.id, s.idle_deadline);
  disarm(timer_kind::acct_interim, s.id, s.interim_deadline);
  if (s.radius_request && radius_) {
    radius_->cancel(*s.radius_request);
    radius_jobs_.erase(*s.radius_request);
    s.radius_request.reset();
  }
  if (s.acct_started) {
    s.acct_started = false;
    account(s, radius::acct_status::stop);
  }
}

void engine_impl::radius_timer(timer_kind kind, session& s) {
  switch (kind) {
    case timer_kind::session_timeout:
      ++counters_.session_timeouts;
      log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
          "Session-Timeout of " + std::to_string(s.session_timeout_s) + " s reached: ending the session");
      request_teardown(s, "Session-Timeout", end_cause::session_timeout);
      break;
    case timer_kind::idle_timeout: {
      const std::uint64_t packets = s.rx_packets + s.tx_packets;
      if (packets != s.idle_mark) {
        s.idle_mark = packets;
        arm(timer_kind::idle_timeout, s.id, s.idle_deadline, now_ + std::uint64_t{s.idle_timeout_s} * seconds);
        break;
      }
      ++counters_.idle_timeouts;
      log(PPTPKIT_LOG_NOTICE, s.connection, s.id,
          "idle for " + std::to_string(s.idle_timeout_s) + " s (Idle-Timeout): ending the session");
      request_teardown(s, "Idle-Timeout", end_cause::idle_timeout);
      break;
    }
    case timer_kind::acct_interim:
      account(s, radius::acct_status::interim_update);
      arm(timer_kind::acct_interim, s.id, s.interim_deadline, now_ + std::uint64_t{s.interim_s} * seconds);
      break;
    default:
      break;
  }
}

// Disconnect-Request and CoA-Request (RFC 5176) from the configured clients. Requests that do not verify
// are dropped silently (§3.5: a NAK would tell a forger which secret failed), counted, logged at a
// limited rate.
void engine_impl::dae_read() {
  std::array<std::uint8_t, datagram_max> buffer;
  for (std::uint32_t n = 0; n < datagrams_per_ready; ++n) {
    endpoint from;
    const io_result r = platform_.udp_receive(dae_h_, buffer, from);
    if (r.status == io_status::would_block) {
      break;
    }
    if (r.status != io_status::ok) {
      ++counters_.radius_socket_errors;
      continue;
    }
    auto parsed = radius::parse_dae_request({buffer.data(), r.bytes}, from.address, dae_clients_);
    if (const auto* e = std::get_if<radius::dae_error>(&parsed)) {
      ++counters_.dae_dropped;
      log_about(
          PPTPKIT_LOG_WARNING, from.address,
          "dynamic authorization request from " + format_ipv4(from.address) + " dropped: " + radius::to_string(*e));
      continue;
    }
    const radius::dae_request& q = std::get<radius::dae_request>(parsed);
    const std::string& secret = dae_clients_[q.client].secret;
    const bool disconnect = q.what == radius::code::disconnect_request;
    const auto nak = [&](std::uint32_t cause, const std::string& why) {
      ++counters_.dae_naks;
      log(PPTPKIT_LOG_NOTICE, 0, 0,
          std::string(disconnect ? "Disconnect" : "CoA") + "-Request from " + format_ipv4(from.address) + ": NAK (" +
              why + ")");
      dae_answer(from, radius::build_dae_reply(q, false, cause, secret));
    };
    if (q.acct_session_id.empty() && q.user_name.empty() && !q.framed_ip) {
      nak(radius::error_cause::missing_attribute, "no Acct-Session-Id, User-Name or Framed-IP-Address");
      continue;
    }
    if (!disconnect && q.has_unsupported_attribute) {
      nak(radius::error_cause::unsupported_attribute, "only Session-Timeout and Idle-Timeout can change");
      continue;
    }
    std::vector<session*> matches;
    for (auto& [id, s] : sessions_) {
      if (s.ending || !s.authenticated) {
        continue;
      }
      if ((!q.acct_session_id.empty() && q.acct_session_id != s.acct_session_id) ||
          (!q.user_name.empty() && q.user_name != s.user) ||
          (q.framed_ip && (!s.remote_held || *q.framed_ip != s.remote))) {
        continue;
      }
      matches.push_back(&s);
    }
    if (matches.empty()) {
      nak(radius::error_cause::session_context_not_found, "no such session");
      continue;
    }
    for (session* s : matches) {
      if (disconnect) {
        ++counters_.dae_disconnects;
        log(PPTPKIT_LOG_NOTICE, s->connection, s->id,
            "Disconnect-Request from " + format_ipv4(from.address) + ": ending the session of user " +
                peer_text::field(s->user));
        request_teardown(*s, "Disconnect-Request", end_cause::admin_reset);
        continue;
      }
      ++counters_.dae_coa;
      if (q.session_timeout) {
        s->session_timeout_s = *q.session_timeout;
        if (*q.session_timeout == 0) {
          disarm(timer_kind::session_timeout, s->id, s->session_deadline);
        } else {
          // RFC 5176 §3.1: the new Session-Timeout counts from the session's start (RFC 2865 §5.27).
          const std::uint64_t at = std::max(now_, s->started_ns + std::uint64_t{*q.session_timeout} * seconds);
          arm(timer_kind::session_timeout, s->id, s->session_deadline, at);
        }
      }
      if (q.idle_timeout) {
        s->idle_timeout_s = *q.idle_timeout;
        if (*q.idle_timeout == 0) {
          disarm(timer_kind::idle_timeout, s->id, s->idle_deadline);
        } else if (s->up) {
          s->idle_mark = s->rx_packets + s->tx_packets;
          arm(timer_kind::idle_timeout, s->id, s->idle_deadline, now_ + std::uint64_t{*q.idle_timeout} * seconds);
        }
      }
      log(PPTPKIT_LOG_NOTICE, s->connection, s->id,
          "CoA-Request from " + format_ipv4(from.address) + ": Session-Timeout " +
              std::to_string(s->session_timeout_s) + " s, Idle-Timeout " + std::to_string(s->idle_timeout_s) + " s");
    }
    dae_answer(from, radius::build_dae_reply(q, true, std::nullopt, secret));
  }
}

void engine_impl::dae_answer(endpoint to, std::span<const std::uint8_t> reply) {
  const io_result r = platform_.udp_send(dae_h_, to, reply);
  if (r.status != io_status::ok) {
    ++counters_.radius_socket_errors;
  }
}

std::string engine_impl::radius_status() const {
  if (!radius_) {
    return {};
  }
  std::string out = "radius: " + std::to_string(radius_->outstanding()) + " requests outstanding\n";
  const auto stats = radius_->stats();
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const radius::server_config& sc = radius_servers_[i];
    const radius::server_stats& st = stats[i];
    const std::uint64_t avg_ms = st.replies != 0 ? st.latency_ns_sum / st.replies / 1'000'000 : 0;
    out += "radius " + format_ipv4(sc.address) + ":" + std::to_string(sc.auth_port) + "/" +
           std::to_string(sc.acct_port) + " " + (st.alive ? "alive" : "dead") +
           " requests=" + std::to_string(st.requests) + " retransmissions=" + std::to_string(st.retransmissions) +
           " timeouts=" + std::to_string(st.timeouts) + " replies=" + std::to_string(st.replies) +
           " bad_replies=" + std::to_string(st.bad_replies) + " avg_ms=" + std::to_string(avg_ms) + "\n";
  }
  return out;
}

}  // namespace pptpkit::runtime
