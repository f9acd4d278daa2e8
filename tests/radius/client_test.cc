// The client in virtual time against scripted servers: back-off, failover, dead servers, priority and
// weight, identifiers, limits, bad replies, deadlines and Acct-Delay-Time.
#include "pptpkit/radius/client.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "radius_fixture.hpp"

namespace pptpkit::radius {
namespace {

constexpr std::uint64_t sec = 1'000'000'000;
constexpr std::uint32_t addr_a = 0x0a000001, addr_b = 0x0a000002, addr_c = 0x0a000003;

client::random_source seeded(std::uint32_t seed) {
  auto rng = std::make_shared<std::mt19937>(seed);
  return [rng](std::span<std::uint8_t> out) {
    for (auto& b : out) {
      b = static_cast<std::uint8_t>((*rng)());
    }
  };
}

server_config server(std::uint32_t address, std::string secret, std::uint32_t priority = 0, std::uint32_t weight = 1) {
  server_config s;
  s.address = address;
  s.secret = std::move(secret);
  s.priority = priority;
  s.weight = weight;
  return s;
}

request login(std::string user = "nemo", std::string password = "arctangent") {
  request r;
  r.attributes.push_back({0, attr::user_name, std::vector<std::uint8_t>(user.begin(), user.end())});
  r.user_password = password;
  return r;
}

request accounting(std::uint32_t delay) {
  request r;
  r.svc = service::acct;
  r.packet_code = code::accounting_request;
  r.attributes.push_back({0, attr::acct_status_type, {0, 0, 0, 1}});
  r.attributes.push_back({0, attr::acct_session_id, {'4', '2'}});
  r.attributes.push_back({0,
                          attr::acct_delay_time,
                          {static_cast<std::uint8_t>(delay >> 24), static_cast<std::uint8_t>(delay >> 16),
                           static_cast<std::uint8_t>(delay >> 8), static_cast<std::uint8_t>(delay)}});
  return r;
}

std::vector<datagram> drain(client& c) {
  std::vector<datagram> out;
  datagram d;
  while (c.poll_datagram(d)) {
    out.push_back(d);
  }
  return out;
}

std::vector<result> results(client& c) {
  std::vector<result> out;
  result r;
  while (c.poll_result(r)) {
    out.push_back(r);
  }
  return out;
}

// What a server answers: `c` for the request in `d`, signed with `secret`.
std::vector<std::uint8_t> answer(const datagram& d, std::string_view secret, code c, bool with_ma = true) {
  const auto v = parse(d.bytes);
  EXPECT_TRUE(v);
  packet_builder b(c, v->identifier());
  b.add_u32(attr::session_timeout, 3600);
  auto out = b.finish_response(secret, v->header_authenticator());
  if (!with_ma) {
    // As a server that predates RFC 3579 would answer: no Message-Authenticator.
    std::vector<std::uint8_t> plain(out.begin(), out.end() - 18);
    plain[3] = static_cast<std::uint8_t>(plain.size());
    return test::sign_response(plain, secret, v->header_authenticator());
  }
  return out;
}

client_config config(std::vector<server_config> servers) {
  client_config c;
  c.servers = std::move(servers);
  c.timeout_ns = 1 * sec;
  return c;
}

TEST(Client, RetransmitsWithBackoffThenTimesOut) {
  client c(config({server(addr_a, "a")}), seeded(1));
  const auto id = c.submit(login(), 0);
  ASSERT_TRUE(id);
  auto sent = drain(c);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].address, addr_a);
  EXPECT_EQ(sent[0].port, 1812);
  EXPECT_EQ(c.next_deadline(), 1 * sec);
  c.tick(1 * sec - 1);
  EXPECT_TRUE(drain(c).empty());
  c.tick(1 * sec);
  auto again = drain(c);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].bytes, sent[0].bytes);  // RFC 2865 §2.5: same identifier and authenticator
  EXPECT_EQ(c.next_deadline(), 3 * sec);     // doubled
  c.tick(3 * sec);
  ASSERT_EQ(drain(c).size(), 1u);
  EXPECT_EQ(c.next_deadline(), 7 * sec);
  c.tick(7 * sec - 1);
  EXPECT_TRUE(results(c).empty());
  c.tick(7 * sec);
  const auto r = results(c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, *id);
  EXPECT_EQ(r[0].what, outcome::timeout);
  EXPECT_EQ(c.stats()[0].retransmissions, 2u);
  EXPECT_EQ(c.stats()[0].timeouts, 1u);
  EXPECT_EQ(c.outstanding(), 0u);
  EXPECT_EQ(c.next_deadline(), UINT64_MAX);
}

TEST(Client, BackoffIsCappedAtEightTimes) {
  auto cfg = config({server(addr_a, "a")});
  cfg.tries = 6;
  client c(cfg, seeded(2));
  c.submit(login(), 0);
  std::uint64_t now = 0;
  std::vector<std::uint64_t> waits;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t next = c.next_deadline();
    waits.push_back(next - now);
    now = next;
    c.tick(now);
  }
  EXPECT_EQ(waits, (std::vector<std::uint64_t>{1 * sec, 2 * sec, 4 * sec, 8 * sec, 8 * sec}));
}

TEST(Client, FailsOverWithNewAuthenticatorAndRehiddenPassword) {
  client c(config({server(addr_a, "secret-a", 0), server(addr_b, "secret-b", 1)}), seeded(3));
  const auto id = c.submit(login("nemo", "arctangent"), 0);
  const auto first = drain(c);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].address, addr_a);
  c.tick(1 * sec);
  c.tick(3 * sec);
  EXPECT_EQ(drain(c).size(), 2u);
  c.tick(7 * sec);
  const auto moved = drain(c);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].address, addr_b);
  const auto va = parse(first[0].bytes);
  const auto vb = parse(moved[0].bytes);
  ASSERT_TRUE(va && vb);
  EXPECT_NE(va->header_authenticator(), vb->header_authenticator());
  EXPECT_EQ(unhide_user_password(va->find(attr::user_password)->value, "secret-a", va->header_authenticator()),
            "arctangent");
  EXPECT_EQ(unhide_user_password(vb->find(attr::user_password)->value, "secret-b", vb->header_authenticator()),
            "arctangent");
  EXPECT_NE(va->find(attr::user_password)->value[0], vb->find(attr::user_password)->value[0]);
  // A has failed once; B answers.
  EXPECT_EQ(c.stats()[0].timeouts, 1u);
  c.receive(addr_b, 1812, answer(moved[0], "secret-b", code::access_accept), 8 * sec);
  const auto r = results(c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, *id);
  EXPECT_EQ(r[0].what, outcome::accept);
  EXPECT_EQ(r[0].server, 1u);
  EXPECT_EQ(r[0].latency_ns, 1 * sec);
  EXPECT_EQ(r[0].request_authenticator, vb->header_authenticator());
  const auto reply = parse(r[0].reply);
  ASSERT_TRUE(reply);
  EXPECT_EQ(verify_response(*reply, r[0].request_authenticator, "secret-b"), verdict::ok);
}

TEST(Client, DeadServerIsSkippedThenRevived) {
  auto cfg = config({server(addr_a, "a", 0), server(addr_b, "b", 1)});
  cfg.tries = 1;
  cfg.dead_after = 2;
  cfg.dead_time_ns = 30 * sec;
  client c(cfg, seeded(4));
  std::uint64_t now = 0;
  for (int i = 0; i < 2; ++i) {  // two requests in a row fail on A
    c.submit(login(), now);
    auto s = drain(c);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].address, addr_a);
    now += 1 * sec;
    c.tick(now);
    s = drain(c);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].address, addr_b);
    c.receive(addr_b, 1812, answer(s[0], "b", code::access_reject), now);
    ASSERT_EQ(results(c).at(0).what, outcome::reject);
  }
  EXPECT_FALSE(c.stats()[0].alive);
  EXPECT_TRUE(c.stats()[1].alive);
  c.submit(login(), now);  // A is dead: straight to B
  auto s = drain(c);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].address, addr_b);
  c.receive(addr_b, 1812, answer(s[0], "b", code::access_accept), now);
  results(c);
  now = 1 * sec + 30 * sec + 1 * sec;  // past A's dead time (it died at 2 s)
  c.submit(login(), now);
  s = drain(c);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].address, addr_a);
  EXPECT_TRUE(c.stats()[0].alive);
  // One more failure kills it again at once.
  c.tick(now + 1 * sec);
  EXPECT_FALSE(c.stats()[0].alive);
}

TEST(Client, AllDeadTriesTheLeastRecentlyFailed) {
  auto cfg = config({server(addr_a, "a", 0), server(addr_b, "b", 0)});
  cfg.tries = 1;
  cfg.dead_after = 1;
  cfg.dead_time_ns = 100 * sec;
  client c(cfg, seeded(5));
  c.submit(login(), 0);
  const auto first = drain(c).at(0).address;
  c.tick(1 * sec);  // first fails (dead); the other is tried
  const auto second = drain(c).at(0).address;
  EXPECT_NE(first, second);
  c.tick(2 * sec);  // the other fails too: timeout
  EXPECT_EQ(results(c).at(0).what, outcome::timeout);
  EXPECT_FALSE(c.stats()[0].alive);
  EXPECT_FALSE(c.stats()[1].alive);
  c.submit(login(), 3 * sec);
  EXPECT_EQ(drain(c).at(0).address, first);  // failed at 1 s, before the other at 2 s
}

TEST(Client, PriorityThenWeight) {
  auto cfg = config({server(addr_a, "a", 1, 100), server(addr_b, "b", 0, 1), server(addr_c, "c", 0, 3)});
  cfg.max_outstanding = 4000;
  client c(cfg, seeded(6));
  std::map<std::uint32_t, int> count;
  for (int i = 0; i < 400; ++i) {
    const auto id = c.submit(login(), 0);
    ASSERT_TRUE(id);
    for (const auto& d : drain(c)) {
      ++count[d.address];
    }
    c.cancel(*id);
  }
  EXPECT_EQ(count[addr_a], 0);
  EXPECT_GT(count[addr_b], 60);
  EXPECT_LT(count[addr_b], 140);
  EXPECT_EQ(count[addr_b] + count[addr_c], 400);
}

TEST(Client, Only256IdentifiersPerServerThenQueued) {
  auto cfg = config({server(addr_a, "a")});
  cfg.timeout_ns = 10 * sec;
  client c(cfg, seeded(7));
  std::vector<request_id> ids;
  for (int i = 0; i < 300; ++i) {
    ids.push_back(*c.submit(login(), 0));
  }
  const auto sent = drain(c);
  ASSERT_EQ(sent.size(), 256u);
  std::set<std::uint8_t> identifiers;
  for (const auto& d : sent) {
    identifiers.insert(d.bytes[1]);
  }
  EXPECT_EQ(identifiers.size(), 256u);
  EXPECT_EQ(c.outstanding(), 300u);
  // One answer frees one identifier: the 257th request goes out with it.
  c.receive(addr_a, 1812, answer(sent[10], "a", code::access_accept), 1 * sec);
  ASSERT_EQ(results(c).size(), 1u);
  const auto next = drain(c);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].bytes[1], sent[10].bytes[1]);
  // Retransmissions of the 256 keep their identifiers; nothing else starts.
  c.tick(10 * sec);
  EXPECT_EQ(drain(c).size(), 255u);
  // Accounting has its own 256 on the accounting port.
  c.submit(accounting(0), 10 * sec);
  const auto acct = drain(c);
  ASSERT_EQ(acct.size(), 1u);
  EXPECT_EQ(acct[0].port, 1813);
}

TEST(Client, MaxOutstanding) {
  auto cfg = config({server(addr_a, "a")});
  cfg.max_outstanding = 4;
  client c(cfg, seeded(8));
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(c.submit(login(), 0));
  }
  EXPECT_FALSE(c.submit(login(), 0));
  EXPECT_EQ(c.counters().submit_full, 1u);
  request huge = login();
  huge.attributes.push_back({0, attr::eap_message, std::vector<std::uint8_t>(5000, 1)});
  cfg.max_outstanding = 10;
  client d(cfg, seeded(8));
  EXPECT_FALSE(d.submit(huge, 0));
  EXPECT_EQ(d.counters().submit_too_large, 1u);
}

TEST(Client, BadRepliesAreCountedAndIgnored) {
  client c(config({server(addr_a, "a"), server(addr_b, "b")}), seeded(9));
  c.submit(login(), 0);
  const auto d = drain(c).at(0);
  const std::size_t s = d.address == addr_a ? 0 : 1;
  const std::string secret = s == 0 ? "a" : "b";
  const std::uint32_t other = s == 0 ? addr_b : addr_a;
  const auto good = answer(d, secret, code::access_accept);
  c.receive(0x0b000001, 1812, good, 1);  // no such server
  EXPECT_EQ(c.counters().reply_unknown_source, 1u);
  c.receive(other, 1812, good, 1);      // the other server: not the one asked
  c.receive(d.address, 1813, good, 1);  // the accounting port
  c.receive(d.address, 1812, answer(d, "wrong", code::access_accept), 1);
  c.receive(d.address, 1812, answer(d, secret, code::access_accept, false), 1);
  auto bad_ma = good;
  bad_ma[bad_ma.size() - 1] ^= 1;  // also breaks the response authenticator
  c.receive(d.address, 1812, bad_ma, 1);
  c.receive(d.address, 1812, answer(d, secret, code::accounting_response), 1);
  c.receive(d.address, 1812, std::vector<std::uint8_t>(10, 0), 1);
  EXPECT_TRUE(results(c).empty());
  EXPECT_EQ(c.outstanding(), 1u);
  EXPECT_EQ(c.stats()[s].bad_replies, 6u);
  EXPECT_EQ(c.stats()[1 - s].bad_replies, 1u);
  EXPECT_EQ(c.counters().reply_unknown_identifier, 2u);
  EXPECT_EQ(c.counters().reply_bad_authenticator, 2u);
  EXPECT_EQ(c.counters().reply_missing_message_authenticator, 1u);
  EXPECT_EQ(c.counters().reply_wrong_code, 1u);
  EXPECT_EQ(c.counters().reply_malformed, 1u);
  c.receive(d.address, 1812, good, 2);
  const auto r = results(c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].what, outcome::accept);
  EXPECT_EQ(c.stats()[s].replies, 1u);
  EXPECT_EQ(c.stats()[s].latency_ns_sum, 2u);
  c.receive(d.address, 1812, good, 3);  // a duplicate after completion
  EXPECT_EQ(c.counters().reply_unknown_identifier, 3u);
}

TEST(Client, RequestDeadline) {
  auto cfg = config({server(addr_a, "a")});
  cfg.request_deadline_ns = 2 * sec + 500'000'000;
  client c(cfg, seeded(10));
  c.submit(login(), 0);
  c.tick(1 * sec);
  EXPECT_EQ(c.next_deadline(), 2 * sec + 500'000'000);
  c.tick(2 * sec + 500'000'000);
  const auto r = results(c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].what, outcome::timeout);
}

TEST(Client, AccountingUpdatesAcctDelayTime) {
  client c(config({server(addr_a, "a")}), seeded(11));
  const auto id = c.submit(accounting(5), 0);
  const auto first = drain(c).at(0);
  EXPECT_EQ(first.port, 1813);
  const auto v1 = parse(first.bytes);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->packet_code(), code::accounting_request);
  EXPECT_EQ(verify_request(*v1, "a"), verdict::ok);
  EXPECT_EQ(value_u32(v1->find(attr::acct_delay_time)->value), 5u);
  c.tick(1 * sec);
  const auto second = drain(c).at(0);
  const auto v2 = parse(second.bytes);
  ASSERT_TRUE(v2);
  EXPECT_EQ(verify_request(*v2, "a"), verdict::ok);
  EXPECT_EQ(value_u32(v2->find(attr::acct_delay_time)->value), 6u);
  EXPECT_NE(v2->identifier(), v1->identifier());  // RFC 2866 §5.2: a new packet
  // The late answer to the first transmission still completes the request.
  c.receive(addr_a, 1813, answer(first, "a", code::accounting_response), 1 * sec + 5);
  const auto r = results(c);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, *id);
  EXPECT_EQ(r[0].what, outcome::accounting_ok);
  EXPECT_EQ(r[0].request_authenticator, v1->header_authenticator());
  // Both identifiers were freed.
  c.receive(addr_a, 1813, answer(second, "a", code::accounting_response), 1 * sec + 6);
  EXPECT_EQ(c.counters().reply_unknown_identifier, 1u);
}

TEST(Client, DeterministicForASeed) {
  auto run = [] {
    client c(config({server(addr_a, "a", 0, 1), server(addr_b, "b", 0, 1)}), seeded(12));
    std::vector<std::uint8_t> all;
    for (int i = 0; i < 20; ++i) {
      c.submit(login(), 0);
    }
    for (const auto& d : drain(c)) {
      all.insert(all.end(), d.bytes.begin(), d.bytes.end());
    }
    return all;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace pptpkit::radius
