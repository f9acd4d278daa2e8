// The sans-IO RADIUS client: server choice, identifiers, retransmission, failover and reply matching.
// RFC 2865 §2.5 (retransmission keeps the identifier and authenticator; the same request to another
// server is a new request), RFC 2866 §5.2 (Acct-Delay-Time), RFC 5080 §2.2 (back-off).
#include "pptpkit/radius/client.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

namespace pptpkit::radius {

namespace {

constexpr std::uint32_t max_backoff_doublings = 3;  // the wait grows to 8 × timeout_ns, then stays

bool is_auth_reply(code c) {
  return c == code::access_accept || c == code::access_reject || c == code::access_challenge;
}

}  // namespace

client::client(client_config config, random_source random) : config_(std::move(config)), random_(std::move(random)) {
  assert(!config_.servers.empty() && "a RADIUS client needs at least one server");
  assert(config_.tries >= 1 && config_.timeout_ns > 0);
  assert(random_);
  const std::size_t n = config_.servers.size();
  stats_.resize(n);
  servers_.resize(n);
  ids_.resize(2 * n);
  for (id_table& t : ids_) {
    t.cursor = static_cast<std::uint8_t>(random_u32());  // identifiers need not be guessable either
  }
  request_deadline_ns_ = config_.request_deadline_ns;
  if (request_deadline_ns_ == 0) {
    // Every server's tries, and one more timeout of slack so that the last server's failure is seen
    // (and counted) before the request's own deadline.
    std::uint64_t per_server = 0;
    for (std::uint32_t k = 1; k <= config_.tries; ++k) {
      per_server += backoff(k);
    }
    request_deadline_ns_ = per_server * n + config_.timeout_ns;
  }
}

std::uint32_t client::random_u32() {
  std::uint8_t b[4];
  random_(b);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

std::uint64_t client::backoff(std::uint32_t sends) const {
  // RFC 5080 §2.2.1: each retransmission waits twice as long as the one before, up to a maximum.
  const std::uint32_t doublings = std::min(sends - 1, max_backoff_doublings);
  return config_.timeout_ns << doublings;
}

std::uint16_t client::port_of(std::size_t server, service svc) const {
  const server_config& s = config_.servers[server];
  return svc == service::acct ? s.acct_port : s.auth_port;
}

std::optional<std::vector<std::uint8_t>> client::build(const pending& p, std::size_t server, std::uint8_t identifier,
                                                       std::uint64_t now, authenticator& auth) {
  const std::string& secret = config_.servers[server].secret;
  packet_builder b(p.req.packet_code, identifier);
  const bool accounting = p.req.packet_code == code::accounting_request;
  for (const attribute& a : p.req.attributes) {
    assert(a.vendor != 0 || a.type != attr::message_authenticator);
    assert(a.vendor != 0 || a.type != attr::user_password || !p.req.user_password);
    bool ok;
    if (a.vendor != 0) {
      ok = b.add_vendor(a.vendor, a.type, a.value);
    } else if (accounting && a.type == attr::acct_delay_time && a.value.size() == 4) {
      // RFC 2866 §5.2: the seconds the client has been trying to send this record.
      const std::uint64_t delay = value_u32(a.value).value_or(0) + (now - p.submitted) / 1'000'000'000;
      ok = b.add_u32(a.type, static_cast<std::uint32_t>(std::min<std::uint64_t>(delay, 0xffffffffu)));
    } else {
      ok = b.add(a.type, a.value);
    }
    if (!ok) {
      return std::nullopt;
    }
  }
  if (p.req.user_password) {
    const auto hidden = hide_user_password(*p.req.user_password, secret, auth);
    if (!hidden || !b.add(attr::user_password, *hidden)) {
      return std::nullopt;
    }
  }
  if (accounting) {
    std::vector<std::uint8_t> out = b.finish_accounting_request(secret);
    std::memcpy(auth.data(), out.data() + 4, auth.size());
    return out;
  }
  return b.finish_access_request(secret, auth);
}

std::optional<request_id> client::submit(request r, std::uint64_t now) {
  assert((r.svc == service::auth && (r.packet_code == code::access_request || r.packet_code == code::status_server)) ||
         (r.svc == service::acct && r.packet_code == code::accounting_request));
  last_now_ = now;
  if (pending_.size() >= config_.max_outstanding) {
    ++counters_.submit_full;
    return std::nullopt;
  }
  pending p;
  p.req = std::move(r);
  p.submitted = now;
  p.deadline = now + request_deadline_ns_;
  p.tried.assign(config_.servers.size(), false);
  // The size depends on neither the secret nor the authenticator: one trial build tells.
  authenticator trial{};
  if (!build(p, 0, 0, now, trial)) {
    ++counters_.submit_too_large;
    return std::nullopt;
  }
  const request_id id = next_id_++;
  pending& stored = pending_.emplace(id, std::move(p)).first->second;
  place(id, stored, now);
  return id;
}

std::optional<std::size_t> client::choose(const pending& p, std::uint64_t now) {
  revive(now);
  bool any_alive = false;
  std::optional<std::uint32_t> best_priority;
  for (std::size_t s = 0; s < servers_.size(); ++s) {
    if (servers_[s].dead_until != 0) {
      continue;
    }
    any_alive = true;
    if (!p.tried[s] && (!best_priority || config_.servers[s].priority < *best_priority)) {
      best_priority = config_.servers[s].priority;
    }
  }
  if (best_priority) {
    // Among the alive, untried servers of the best priority, one chosen in proportion to its weight.
    std::uint64_t total = 0;
    for (std::size_t s = 0; s < servers_.size(); ++s) {
      if (servers_[s].dead_until == 0 && !p.tried[s] && config_.servers[s].priority == *best_priority) {
        total += config_.servers[s].weight;
      }
    }
    std::uint64_t pick = total == 0 ? 0 : random_u32() % total;
    std::optional<std::size_t> first;
    for (std::size_t s = 0; s < servers_.size(); ++s) {
      if (servers_[s].dead_until != 0 || p.tried[s] || config_.servers[s].priority != *best_priority) {
        continue;
      }
      if (!first) {
        first = s;
      }
      const std::uint32_t w = config_.servers[s].weight;
      if (w > pick) {
        return s;
      }
      pick -= w;
    }
    return first;  // every weight 0: the first
  }
  if (any_alive) {
    return std::nullopt;  // the alive servers have all had their tries
  }
  // Every server is dead: the one that failed least recently, if this request has not tried it.
  std::optional<std::size_t> oldest;
  for (std::size_t s = 0; s < servers_.size(); ++s) {
    if (!p.tried[s] && (!oldest || servers_[s].last_failure < servers_[*oldest].last_failure)) {
      oldest = s;
    }
  }
  return oldest;
}

void client::revive(std::uint64_t now) {
  for (std::size_t s = 0; s < servers_.size(); ++s) {
    server_state& st = servers_[s];
    if (st.dead_until != 0 && st.dead_until <= now) {
      // One chance: a single further failure marks it dead again.
      st.dead_until = 0;
      st.consecutive_failures = config_.dead_after > 0 ? config_.dead_after - 1 : 0;
      stats_[s].alive = true;
    }
  }
}

void client::place(request_id id, pending& p, std::uint64_t now) {
  const auto s = choose(p, now);
  if (!s) {
    finish(id, p, outcome::timeout, {}, authenticator{}, now);
    return;
  }
  p.server = *s;
  p.tried[*s] = true;
  p.started = false;
  if (!start(id, p, now)) {
    waiting_.push_back(id);
    rearm(id, p);
  }
}

bool client::start(request_id id, pending& p, std::uint64_t now) {
  p.sends = 0;
  if (!transmit(id, p, now)) {
    return false;
  }
  p.started = true;
  p.first_sent = now;
  ++stats_[p.server].requests;
  return true;
}

bool client::transmit(request_id id, pending& p, std::uint64_t now) {
  id_table& t = ids_[table_index(p.server, p.req.svc)];
  if (t.used == 256) {
    return false;
  }
  std::uint8_t identifier = t.cursor;
  while (t.owner[identifier] != 0) {
    ++identifier;
  }
  t.cursor = static_cast<std::uint8_t>(identifier + 1);
  authenticator auth{};
  if (p.req.packet_code != code::accounting_request) {
    random_(auth);  // RFC 2865 §3: unpredictable and unique over the secret's lifetime
  }
  auto bytes = build(p, p.server, identifier, now, auth);
  assert(bytes && "submit() checked that the request fits");
  t.owner[identifier] = id;
  ++t.used;
  p.held.push_back({identifier, auth});
  p.bytes = std::move(*bytes);
  datagrams_.push_back({config_.servers[p.server].address, port_of(p.server, p.req.svc), p.bytes});
  ++p.sends;
  p.next_retransmit = now + backoff(p.sends);
  rearm(id, p);
  return true;
}

void client::rearm(request_id id, pending& p) {
  if (p.armed) {
    timers_.erase({p.timer, id});
  }
  p.timer = p.started || p.sends > 0 ? std::min(p.next_retransmit, p.deadline) : p.deadline;
  timers_.insert({p.timer, id});
  p.armed = true;
}

void client::release(request_id id, pending& p) {
  id_table& t = ids_[table_index(p.server, p.req.svc)];
  for (const transmission& tx : p.held) {
    if (t.owner[tx.identifier] == id) {
      t.owner[tx.identifier] = 0;
      --t.used;
    }
  }
  p.held.clear();
}

void client::finish(request_id id, pending& p, outcome what, std::vector<std::uint8_t> reply, const authenticator& auth,
                    std::uint64_t now) {
  if (p.armed) {
    timers_.erase({p.timer, id});
  }
  release(id, p);
  result r;
  r.id = id;
  r.what = what;
  r.reply = std::move(reply);
  r.request_authenticator = auth;
  r.server = p.server;
  r.latency_ns = p.started ? now - p.first_sent : 0;
  results_.push_back(std::move(r));
  pending_.erase(id);  // `p` dies here; waiting_ drops the id lazily
}

void client::server_failed(std::size_t server, std::uint64_t now) {
  server_state& st = servers_[server];
  ++stats_[server].timeouts;
  ++st.consecutive_failures;
  st.last_failure = now;
  if (st.consecutive_failures >= config_.dead_after && st.dead_until == 0) {
    st.dead_until = std::max<std::uint64_t>(now + config_.dead_time_ns, 1);
    stats_[server].alive = false;
  }
}

void client::server_answered(std::size_t server) {
  servers_[server].consecutive_failures = 0;
  servers_[server].dead_until = 0;
  stats_[server].alive = true;
}

void client::pump(std::uint64_t now) {
  for (std::size_t n = waiting_.size(); n > 0; --n) {
    const request_id id = waiting_.front();
    waiting_.pop_front();
    const auto it = pending_.find(id);
    if (it == pending_.end() || it->second.started) {
      continue;  // finished or cancelled meanwhile
    }
    if (!start(id, it->second, now)) {
      waiting_.push_back(id);
    }
  }
}

void client::cancel(request_id id) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) {
    return;
  }
  if (it->second.armed) {
    timers_.erase({it->second.timer, id});
  }
  release(id, it->second);
  pending_.erase(it);
  pump(last_now_);
}

void client::tick(std::uint64_t now) {
  last_now_ = now;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    const request_id id = timers_.begin()->second;
    timers_.erase(timers_.begin());
    const auto it = pending_.find(id);
    if (it == pending_.end()) {
      continue;
    }
    pending& p = it->second;
    p.armed = false;
    if (now >= p.deadline) {
      const authenticator last = p.held.empty() ? authenticator{} : p.held.back().auth;
      finish(id, p, outcome::timeout, {}, last, now);
      continue;
    }
    if (!p.started || now < p.next_retransmit) {
      rearm(id, p);
      continue;
    }
    if (p.sends < config_.tries) {
      ++stats_[p.server].retransmissions;
      const bool delay_time = p.req.packet_code == code::accounting_request &&
                              std::any_of(p.req.attributes.begin(), p.req.attributes.end(), [](const attribute& a) {
                                return a.vendor == 0 && a.type == attr::acct_delay_time;
                              });
      // A changed Acct-Delay-Time is a new packet with a new identifier (RFC 2866 §5.2); without one,
      // or without a free identifier, the same packet again (RFC 2865 §2.5).
      if (!delay_time || !transmit(id, p, now)) {
        datagrams_.push_back({config_.servers[p.server].address, port_of(p.server, p.req.svc), p.bytes});
        ++p.sends;
        p.next_retransmit = now + backoff(p.sends);
        rearm(id, p);
      }
      continue;
    }
    // Every try to this server went unanswered: it failed once; the request moves on, rebuilt.
    server_failed(p.server, now);
    release(id, p);
    p.sends = 0;
    place(id, p, now);
  }
  pump(now);
}

void client::receive(std::uint32_t from_address, std::uint16_t from_port, std::span<const std::uint8_t> bytes,
                     std::uint64_t now) {
  last_now_ = now;
  std::optional<std::size_t> server;
  service svc = service::auth;
  for (std::size_t s = 0; s < config_.servers.size() && !server; ++s) {
    const server_config& c = config_.servers[s];
    if (c.address != from_address) {
      continue;
    }
    if (c.auth_port == from_port) {
      server = s;
      svc = service::auth;
    } else if (c.acct_port == from_port) {
      server = s;
      svc = service::acct;
    }
  }
  if (!server) {
    ++counters_.reply_unknown_source;
    return;
  }
  server_stats& st = stats_[*server];
  const auto v = parse(bytes);
  if (!v) {
    ++st.bad_replies;
    ++counters_.reply_malformed;
    return;
  }
  const request_id owner = ids_[table_index(*server, svc)].owner[v->identifier()];
  const auto it = owner == 0 ? pending_.end() : pending_.find(owner);
  if (it == pending_.end()) {
    ++st.bad_replies;
    ++counters_.reply_unknown_identifier;
    return;
  }
  pending& p = it->second;
  const bool expected =
      svc == service::acct ? v->packet_code() == code::accounting_response : is_auth_reply(v->packet_code());
  if (!expected) {
    ++st.bad_replies;
    ++counters_.reply_wrong_code;
    return;
  }
  const auto tx = std::find_if(p.held.begin(), p.held.end(),
                               [&](const transmission& t) { return t.identifier == v->identifier(); });
  assert(tx != p.held.end());
  const authenticator auth = tx->auth;
  switch (verify_response(*v, auth, config_.servers[*server].secret)) {
    case verdict::ok:
      break;
    case verdict::bad_authenticator:
      ++st.bad_replies;
      ++counters_.reply_bad_authenticator;
      return;
    case verdict::missing_message_authenticator:
      ++st.bad_replies;
      ++counters_.reply_missing_message_authenticator;
      return;
    case verdict::bad_message_authenticator:
      ++st.bad_replies;
      ++counters_.reply_bad_message_authenticator;
      return;
  }
  outcome what = outcome::accounting_ok;
  switch (v->packet_code()) {
    case code::access_accept:
      what = outcome::accept;
      break;
    case code::access_reject:
      what = outcome::reject;
      break;
    case code::access_challenge:
      what = outcome::challenge;
      break;
    default:
      break;
  }
  server_answered(*server);
  ++st.replies;
  st.latency_ns_sum += now - p.first_sent;
  finish(owner, p, what, std::vector<std::uint8_t>(v->bytes().begin(), v->bytes().end()), auth, now);
  pump(now);
}

bool client::poll_datagram(datagram& out) {
  if (datagrams_.empty()) {
    return false;
  }
  out = std::move(datagrams_.front());
  datagrams_.pop_front();
  return true;
}

bool client::poll_result(result& out) {
  if (results_.empty()) {
    return false;
  }
  out = std::move(results_.front());
  results_.pop_front();
  return true;
}

std::uint64_t client::next_deadline() const {
  return timers_.empty() ? std::numeric_limits<std::uint64_t>::max() : timers_.begin()->first;
}

}  // namespace pptpkit::radius
