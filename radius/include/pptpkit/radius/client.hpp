// pptpkit/radius/client.hpp — the sans-IO RADIUS client: requests and `now` in; datagrams, results and
// deadlines out. No sockets, no clocks, no blocking (STYLE §11).
//
//   submit ──► pick a server (alive, lowest priority, weighted) ──► identifier free? ─ no ─► wait queue
//                                                                   │ yes
//                                                                   ▼
//      build (new authenticator, password hidden with that server's secret) ──► poll_datagram
//   tick: retransmit after timeout, 2×timeout, … (capped at 8×) ── `tries` sent ──► server failed once
//         ──► next untried alive server (rebuilt) ── none ──► result{timeout}
//   receive ──► (server, port, identifier) ──► verify_response ──► result{accept|reject|challenge|
//               accounting_ok} │ else bad_replies++ and the request keeps waiting
//
// Contracts:
// - Identifiers are per (server, port), never reused while a request holds them; a request that
//   finds all 256 taken waits (inside max_outstanding) and is started when one frees.
// - Every reply must come from the address and port its request went to, answer an identifier that
//   request holds, have the expected code and pass verify_response() with the Message-Authenticator
//   required. Anything else is counted (per server in bad_replies, and by reason in counters()) and
//   dropped; the request keeps waiting.
// - A server that fails `dead_after` requests in a row (every try timed out) is dead for
//   `dead_time_ns`; then it gets one chance (one more failure kills it again). When every server is
//   dead, the one that failed least recently is tried anyway: there are never zero servers.
// - Accounting-Requests carry an Acct-Delay-Time that is brought up to date on every retransmission,
//   which makes each one a new packet with a new identifier (RFC 2866 §5.2); a late reply to an
//   earlier identifier of the same request is still accepted.
// - request_ids are never reused. results are delivered once, in completion order; a cancelled
//   request yields none.
// Threading: one thread drives a client at a time; nothing here calls back into the host except the
// random source, which must not re-enter the client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pptpkit/core/counters.hpp"
#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {

struct server_config {
  std::uint32_t address = 0;  // IPv4, host order
  std::uint16_t auth_port = 1812, acct_port = 1813;
  std::string secret;
  std::uint32_t priority = 0;  // lower first
  std::uint32_t weight = 1;    // among equal priority
};

struct client_config {
  std::vector<server_config> servers;
  std::uint64_t timeout_ns = 3'000'000'000;     // first retransmission; doubled each time, capped at 8×
  std::uint32_t tries = 3;                      // transmissions to one server before the next is tried
  std::uint32_t dead_after = 3;                 // consecutive failed requests mark a server dead
  std::uint64_t dead_time_ns = 30'000'000'000;  // then it is tried again
  std::uint32_t max_outstanding = 1024;
  // 0: derived, the time every server's tries take; a request no server answered by then fails.
  std::uint64_t request_deadline_ns = 0;
};

enum class service : std::uint8_t { auth, acct };

struct attribute {
  std::uint32_t vendor = 0;  // 0: a standard attribute
  std::uint8_t type = 0;
  std::vector<std::uint8_t> value;
};

struct request {
  service svc = service::auth;
  code packet_code = code::access_request;   // access_request (auth) or accounting_request (acct)
  std::vector<attribute> attributes;         // never User-Password or Message-Authenticator
  std::optional<std::string> user_password;  // cleartext; hidden per transmission with that server's secret
};

using request_id = std::uint64_t;  // never reused; 0 is never issued

struct datagram {
  std::uint32_t address = 0;  // host order
  std::uint16_t port = 0;
  std::vector<std::uint8_t> bytes;
};

enum class outcome : std::uint8_t {
  accept,
  reject,
  challenge,
  accounting_ok,
  coa_ack_like,  // unused
  timeout,       // no server answered
};

struct result {
  request_id id = 0;
  outcome what = outcome::timeout;
  std::vector<std::uint8_t> reply;        // the verified reply, for parse() / parse_authorization()
  authenticator request_authenticator{};  // of the request this reply answers
  std::size_t server = 0;                 // index into config.servers (the last one tried, on timeout)
  std::uint64_t latency_ns = 0;           // from the first transmission to that server
};

struct server_stats {
  std::uint64_t requests = 0;  // requests started on this server
  std::uint64_t retransmissions = 0;
  std::uint64_t timeouts = 0;  // requests for which every try to this server went unanswered
  std::uint64_t replies = 0;
  std::uint64_t bad_replies = 0;  // malformed, unknown identifier, wrong code, bad or no authenticators
  std::uint64_t latency_ns_sum = 0;
  bool alive = true;
};

// Why a reply or a submission was refused: listed once (STYLE §15).
#define PPTPKIT_RADIUS_CLIENT_COUNTERS(X)                                                       \
  X(submit_full, "submit refused: max_outstanding requests already outstanding")                \
  X(submit_too_large, "submit refused: the request does not fit 4096 octets")                   \
  X(reply_unknown_source, "reply from an address and port that is no configured server")        \
  X(reply_malformed, "reply refused by the parser")                                             \
  X(reply_unknown_identifier, "reply to an identifier no outstanding request holds")            \
  X(reply_wrong_code, "reply code does not answer the request (e.g. Accept to accounting)")     \
  X(reply_bad_authenticator, "reply with a wrong response authenticator")                       \
  X(reply_missing_message_authenticator, "reply without Message-Authenticator (CVE-2024-3596)") \
  X(reply_bad_message_authenticator, "reply with a wrong Message-Authenticator")
PPTPKIT_DEFINE_COUNTERS(client_counters, PPTPKIT_RADIUS_CLIENT_COUNTERS);

class client {
 public:
  // Fills the span with unpredictable octets (request authenticators, identifiers, weighted choice).
  using random_source = std::function<void(std::span<std::uint8_t>)>;

  // Asserts at least one server, tries ≥ 1, timeout_ns > 0.
  client(client_config config, random_source random);

  // nullopt when max_outstanding requests are outstanding, or the request cannot fit one packet
  // (counted in counters()). Asserts a well-formed request (svc matches packet_code).
  std::optional<request_id> submit(request r, std::uint64_t now);
  // Forgets the request; no result. Unknown ids are ignored. A request waiting for the identifier it
  // freed starts at the time of the last call that carried `now`.
  void cancel(request_id id);
  void receive(std::uint32_t from_address, std::uint16_t from_port, std::span<const std::uint8_t> bytes,
               std::uint64_t now);
  // Drain loops end on false.
  bool poll_datagram(datagram& out);
  bool poll_result(result& out);
  std::uint64_t next_deadline() const;  // UINT64_MAX when none
  void tick(std::uint64_t now);

  std::span<const server_stats> stats() const { return stats_; }
  const client_counters& counters() const { return counters_; }
  std::size_t outstanding() const { return pending_.size(); }

 private:
  struct transmission {
    std::uint8_t identifier;
    authenticator auth;
  };
  struct pending {
    request req;
    std::uint64_t submitted = 0;
    std::uint64_t deadline = 0;
    std::vector<bool> tried;
    std::size_t server = 0;  // valid once started (or waiting)
    bool started = false;    // false: waiting for an identifier (or not yet placed)
    std::uint32_t sends = 0;
    std::uint64_t first_sent = 0;
    std::uint64_t next_retransmit = 0;
    std::vector<std::uint8_t> bytes;  // the last transmission
    std::vector<transmission> held;   // identifiers held on `server`, newest last
    std::uint64_t timer = 0;          // key in timers_, when armed
    bool armed = false;
  };
  struct server_state {
    std::uint32_t consecutive_failures = 0;
    std::uint64_t dead_until = 0;
    std::uint64_t last_failure = 0;
    bool ever_failed = false;
  };
  // 256 identifiers per (server, port).
  struct id_table {
    request_id owner[256] = {};
    std::uint8_t cursor = 0;
    std::uint32_t used = 0;
  };

  std::size_t table_index(std::size_t server, service svc) const { return server * 2 + (svc == service::acct); }
  std::uint16_t port_of(std::size_t server, service svc) const;
  std::optional<std::size_t> choose(const pending& p, std::uint64_t now);
  void place(request_id id, pending& p, std::uint64_t now);     // choose a server and start or queue
  bool start(request_id id, pending& p, std::uint64_t now);     // false: no identifier free
  bool transmit(request_id id, pending& p, std::uint64_t now);  // build with a new identifier and send
  void release(request_id id, pending& p);
  void finish(request_id id, pending& p, outcome what, std::vector<std::uint8_t> reply, const authenticator& auth,
              std::uint64_t now);
  void server_failed(std::size_t server, std::uint64_t now);
  void server_answered(std::size_t server);
  void revive(std::uint64_t now);
  void rearm(request_id id, pending& p);
  void pump(std::uint64_t now);
  std::optional<std::vector<std::uint8_t>> build(const pending& p, std::size_t server, std::uint8_t identifier,
                                                 std::uint64_t now, authenticator& auth_out);
  std::uint64_t backoff(std::uint32_t sends) const;
  std::uint32_t random_u32();

  client_config config_;
  random_source random_;
  std::vector<server_stats> stats_;
  std::vector<server_state> servers_;
  std::vector<id_table> ids_;
  std::unordered_map<request_id, pending> pending_;
  std::set<std::pair<std::uint64_t, request_id>> timers_;  // the deadline index
  std::deque<request_id> waiting_;                         // placed on a server whose identifiers are taken
  std::deque<datagram> datagrams_;
  std::deque<result> results_;
  client_counters counters_;
  request_id next_id_ = 1;
  std::uint64_t last_now_ = 0;
  std::uint64_t request_deadline_ns_ = 0;
};

}  // namespace pptpkit::radius
