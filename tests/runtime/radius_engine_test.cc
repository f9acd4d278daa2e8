// The server as a RADIUS NAS, end to end on the simulated platform with the real plugins: logins
// verified by a RADIUS server (a small one written here with the radius codec, on a simulated host),
// MPPE keys from the Access-Accept, accounting, a server that never answers, failover, Session-Timeout,
// and Disconnect/CoA. The real FreeRADIUS runs in the end-to-end tests (tests/e2e/radius_*.sh).
#include <map>

#include "engine_fixture.hpp"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/mppe_keys.hpp"
#include "pptpkit/radius/codec.hpp"

namespace {

namespace radius = pptpkit::radius;
namespace ppp = pptpkit::ppp;

constexpr std::uint32_t radius_a = 0xc0000211;  // 192.0.2.17
constexpr std::uint32_t radius_b = 0xc0000212;
constexpr std::uint32_t dae_client = 0xc0000213;
const std::string shared_secret = "s3cr3t-shared";

std::uint32_t u32_of(std::span<const std::uint8_t> v) {
  return v.size() == 4 ? (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) | v[3]
                       : 0;
}

// A RADIUS server on a simulated host: users with passwords and reply attributes; every accounting
// record kept.
class test_radius_server {
 public:
  struct user {
    std::string password;
    std::optional<std::uint32_t> framed_ip;
    std::optional<std::uint32_t> session_timeout;
    std::string klass;
  };
  struct record {
    std::uint32_t status = 0;
    std::string session_id;
    std::string user;
    std::uint32_t input_octets = 0;
    std::uint32_t output_octets = 0;
    std::uint32_t cause = 0;
    std::string klass;
  };

  test_radius_server(sim_host& host) : host_(host) {
    std::string error;
    auth_ = host.udp_open({host.address(), 1812}, error);
    acct_ = host.udp_open({host.address(), 1813}, error);
  }

  void pump() {
    for (handle h : {auth_, acct_}) {
      std::array<std::uint8_t, 4096> in;
      for (;;) {
        endpoint from;
        const io_result r = host_.udp_receive(h, in, from);
        if (r.status != io_status::ok) {
          break;
        }
        answer(h, from, {in.data(), r.bytes});
      }
    }
  }

  std::map<std::string, user> users;
  std::vector<record> accounting;
  std::uint64_t access_requests = 0;

 private:
  void answer(handle h, endpoint from, std::span<const std::uint8_t> bytes) {
    const auto q = radius::parse(bytes);
    ASSERT_TRUE(q);
    // Blast-RADIUS: every request we are sent carries a Message-Authenticator.
    ASSERT_TRUE(q->find(radius::attr::message_authenticator));
    const radius::authenticator auth = q->header_authenticator();
    if (q->packet_code() == radius::code::accounting_request) {
      ASSERT_EQ(radius::verify_request(*q, shared_secret), radius::verdict::ok);
      record rec;
      const auto get = [&](std::uint8_t t) { return q->find(t) ? u32_of(q->find(t)->value) : 0u; };
      rec.status = get(radius::attr::acct_status_type);
      rec.input_octets = get(radius::attr::acct_input_octets);
      rec.output_octets = get(radius::attr::acct_output_octets);
      rec.cause = get(radius::attr::acct_terminate_cause);
      if (auto a = q->find(radius::attr::acct_session_id)) {
        rec.session_id = radius::value_string(a->value);
      }
      if (auto a = q->find(radius::attr::user_name)) {
        rec.user = radius::value_string(a->value);
      }
      if (auto a = q->find(radius::attr::class_)) {
        rec.klass = radius::value_string(a->value);
      }
      accounting.push_back(rec);
      radius::packet_builder reply(radius::code::accounting_response, q->identifier());
      send(h, from, reply.finish_response(shared_secret, auth));
      return;
    }
    ASSERT_EQ(q->packet_code(), radius::code::access_request);
    ++access_requests;
    const std::string name = radius::value_string(q->find(radius::attr::user_name)->value);
    const auto it = users.find(name);
    bool ok = false;
    radius::packet_builder accept(radius::code::access_accept, q->identifier());
    if (it != users.end()) {
      const user& u = it->second;
      if (auto pw = q->find(radius::attr::user_password)) {
        ok = radius::unhide_user_password(pw->value, shared_secret, auth) == u.password;
      } else if (auto resp = q->find_vendor(radius::ms::vendor_id, radius::ms::chap2_response)) {
        const auto challenge = q->find_vendor(radius::ms::vendor_id, radius::ms::chap_challenge);
        ppp::challenge16 authenticator_challenge{};
        ppp::challenge16 peer_challenge{};
        ppp::nt_response_t nt{};
        std::copy_n(challenge->value.begin(), 16, authenticator_challenge.begin());
        std::copy_n(resp->value.begin() + 2, 16, peer_challenge.begin());
        std::copy_n(resp->value.begin() + 26, 24, nt.begin());
        ok = ppp::mschapv2_nt_response(authenticator_challenge, peer_challenge, name, u.password) == nt;
        if (ok) {
          const auto success =
              ppp::mschapv2_authenticator_response(u.password, nt, peer_challenge, authenticator_challenge, name);
          std::vector<std::uint8_t> value{resp->value[0]};
          value.insert(value.end(), success.begin(), success.end());
          accept.add_vendor(radius::ms::vendor_id, radius::ms::chap2_success, value);
          const auto hash_hash = ppp::hash_nt_password_hash(ppp::nt_password_hash(u.password));
          const auto keys = ppp::mppe_derive_start_keys(ppp::mppe_role::server, hash_hash, nt);
          accept.add_vendor(radius::ms::vendor_id, radius::ms::mppe_send_key,
                            radius::salt_encrypt(std::span(keys.send).first(16), 0x8001, shared_secret, auth));
          accept.add_vendor(radius::ms::vendor_id, radius::ms::mppe_recv_key,
                            radius::salt_encrypt(std::span(keys.receive).first(16), 0x8002, shared_secret, auth));
        }
      }
      if (ok) {
        if (u.framed_ip) {
          accept.add_ipv4(radius::attr::framed_ip_address, *u.framed_ip);
        }
        if (u.session_timeout) {
          accept.add_u32(radius::attr::session_timeout, *u.session_timeout);
        }
        if (!u.klass.empty()) {
          accept.add_string(radius::attr::class_, u.klass);
        }
      }
    }
    if (ok) {
      send(h, from, accept.finish_response(shared_secret, auth));
    } else {
      radius::packet_builder reject(radius::code::access_reject, q->identifier());
      reject.add_string(radius::attr::reply_message, "wrong password");
      send(h, from, reject.finish_response(shared_secret, auth));
    }
  }
  void send(handle h, endpoint to, const std::vector<std::uint8_t>& bytes) { host_.udp_send(h, to, bytes); }

  sim_host& host_;
  handle auth_ = invalid_handle;
  handle acct_ = invalid_handle;
};

class radius_engine_test : public engine_test {
 protected:
  radius_engine_test() { radius_secrets_ = write_file("radius", shared_secret + "\n"); }

  // Pumped whenever the NAS waits, so its requests are answered in virtual time.
  test_radius_server& add_radius(const std::string& name, std::uint32_t address) {
    servers_.push_back(std::make_unique<test_radius_server>(net_.add_host(name, address)));
    return *servers_.back();
  }

  node& start_nas(daemon_options o) {
    node& n = start("server", server_ip, o);
    n.host->on_wait = [this] {
      for (auto& srv : servers_) {
        srv->pump();
      }
    };
    return n;
  }

  daemon_options nas_options() {
    daemon_options o = server_options();
    o.secrets_path.clear();
    o.radius_servers = {{radius_a, 1812, 1813}};
    o.radius_secrets_path = radius_secrets_;
    o.radius_timeout_s = 1;
    o.radius_tries = 2;
    return o;
  }

  std::string radius_secrets_;
  std::vector<std::unique_ptr<test_radius_server>> servers_;
};

#ifdef PPTPKIT_REAL_PLUGINS

TEST_F(radius_engine_test, mschapv2_keys_from_the_accept_carry_encrypted_traffic_and_it_is_accounted) {
  test_radius_server& rad = add_radius("radius", radius_a);
  rad.users["alice"] = {"alice-pw", 0x0a000096, std::nullopt, "gold"};
  node& server = start_nas(nas_options());
  node& client = start_client("client", 0xcb007101, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(client) && up(server); }));
  EXPECT_TRUE(server.host->logged("mppe=128-bit-stateless local=10.0.0.1 remote=10.0.0.150"));
  ASSERT_TRUE(ping_through(client, server, 0x31));
  ASSERT_FALSE(rad.accounting.empty());
  EXPECT_EQ(rad.accounting.front().status, 7u);  // Accounting-On at start
  ASSERT_TRUE(run_until([&] { return rad.accounting.size() >= 2; }));
  EXPECT_EQ(rad.accounting[1].status, 1u);  // Start
  EXPECT_EQ(rad.accounting[1].user, "alice");
  EXPECT_EQ(rad.accounting[1].klass, "gold");

  client.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return server.daemon->session_count() == 0 && rad.accounting.size() >= 3; }));
  const auto& stop = rad.accounting[2];
  EXPECT_EQ(stop.status, 2u);
  EXPECT_EQ(stop.session_id, rad.accounting[1].session_id);
  EXPECT_EQ(stop.klass, "gold");
  EXPECT_EQ(stop.cause, 1u);           // User-Request: the client ended PPP
  EXPECT_GE(stop.input_octets, 84u);   // the ping the client sent
  EXPECT_GE(stop.output_octets, 84u);  // and the answer
}

TEST_F(radius_engine_test, a_wrong_password_is_rejected_and_no_address_is_held) {
  test_radius_server& rad = add_radius("radius", radius_a);
  rad.users["alice"] = {"alice-pw", std::nullopt, std::nullopt, ""};
  node& server = start_nas(nas_options());
  start_client("client", 0xcb007101, "alice", "wrong");
  ASSERT_TRUE(run_until([&] { return server.host->logged("RADIUS rejected user alice"); }));
  run_for(2 * s);
  EXPECT_FALSE(server.host->logged("session up:"));
  EXPECT_EQ(rad.access_requests, 1u);
}

TEST_F(radius_engine_test, a_server_that_never_answers_costs_the_login_its_time_and_nothing_else) {
  test_radius_server& rad = add_radius("radius", radius_a);
  rad.users["alice"] = {"alice-pw", std::nullopt, std::nullopt, ""};
  rad.users["bob"] = {"bob-pw", std::nullopt, std::nullopt, ""};
  node& server = start_nas(nas_options());
  node& alice = start_client("alice", 0xcb007101, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(alice) && up(server); }));

  net_.host_at(radius_a)->udp_deaf = true;
  const std::uint64_t asked = net_.now();
  start_client("bob", 0xcb007102, "bob", "bob-pw");
  // Meanwhile alice's session keeps passing traffic.
  ASSERT_TRUE(ping_through(alice, server, 0x41));
  ASSERT_TRUE(run_until([&] { return server.host->logged("no RADIUS server answered for user bob"); }, 20 * s));
  // --radius-timeout 1, --radius-tries 2: 1 s, then 2 s more.
  EXPECT_LE(net_.now() - asked, 5 * s);
  EXPECT_TRUE(ping_through(alice, server, 0x43));
  EXPECT_EQ(server.host->count_logs("session up:"), 1u);
}

TEST_F(radius_engine_test, a_dead_server_is_skipped_for_the_next_one) {
  add_radius("radius-a", radius_a);
  test_radius_server& b = add_radius("radius-b", radius_b);
  b.users["alice"] = {"alice-pw", std::nullopt, std::nullopt, ""};
  net_.host_at(radius_a)->udp_deaf = true;
  daemon_options o = nas_options();
  o.radius_servers.push_back({radius_b, 1812, 1813});
  node& server = start_nas(o);
  node& client = start_client("client", 0xcb007101, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(client) && up(server); }));
  EXPECT_GE(b.access_requests, 1u);
  const std::string status = server.daemon->status_report();
  EXPECT_NE(status.find("radius 192.0.2.18:1812/1813 alive"), std::string::npos) << status;
}

TEST_F(radius_engine_test, session_timeout_from_the_accept_ends_the_session_with_its_cause) {
  test_radius_server& rad = add_radius("radius", radius_a);
  rad.users["alice"] = {"alice-pw", std::nullopt, 5, ""};
  node& server = start_nas(nas_options());
  node& client = start_client("client", 0xcb007101, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(client) && up(server); }));
  ASSERT_TRUE(run_until([&] { return server.host->logged("Session-Timeout of 5 s reached"); }, 10 * s));
  ASSERT_TRUE(run_until([&] {
    return std::any_of(rad.accounting.begin(), rad.accounting.end(), [](const auto& r) { return r.status == 2; });
  }));
  const auto stop =
      std::find_if(rad.accounting.begin(), rad.accounting.end(), [](const auto& r) { return r.status == 2; });
  EXPECT_EQ(stop->cause, 5u);  // Session-Timeout
}

TEST_F(radius_engine_test, disconnect_request_from_a_configured_client_ends_the_right_session) {
  test_radius_server& rad = add_radius("radius", radius_a);
  rad.users["alice"] = {"alice-pw", std::nullopt, std::nullopt, ""};
  rad.users["bob"] = {"bob-pw", std::nullopt, std::nullopt, ""};
  daemon_options o = nas_options();
  o.dae_listen = endpoint{server_ip, 3799};
  o.dae_clients = {dae_client};
  node& server = start_nas(o);
  node& alice = start_client("alice", 0xcb007101, "alice", "alice-pw");
  node& bob = start_client("bob", 0xcb007102, "bob", "bob-pw");
  ASSERT_TRUE(run_until([&] { return up(alice) && up(bob) && up(server, 2); }));

  sim_host& admin = net_.add_host("admin", dae_client);
  sim_host& stranger = net_.add_host("stranger", 0xc0000299);
  std::string error;
  const handle h = admin.udp_open({0, 0}, error);
  const handle hs = stranger.udp_open({0, 0}, error);
  const auto request = [](radius::code c, const std::string& user, std::optional<std::uint32_t> timeout) {
    radius::packet_builder b(c, 9);
    b.add_string(radius::attr::user_name, user);
    if (timeout) {
      b.add_u32(radius::attr::session_timeout, *timeout);
    }
    return b.finish_dae_request(shared_secret);
  };
  const auto reply_code = [&](sim_host& host, handle from) -> int {
    std::array<std::uint8_t, 4096> in;
    endpoint sender;
    if (!run_until([&] { return host.udp_receive(from, in, sender).status == io_status::ok; }, 2 * s)) {
      return -1;
    }
    return in[0];
  };

  // Not a configured client: dropped without an answer.
  stranger.udp_send(hs, {server_ip, 3799}, request(radius::code::disconnect_request, "bob", std::nullopt));
  EXPECT_EQ(reply_code(stranger, hs), -1);
  EXPECT_TRUE(server.host->logged("dynamic authorization request from 192.0.2.153 dropped"));

  // CoA: a Session-Timeout for alice.
  admin.udp_send(h, {server_ip, 3799}, request(radius::code::coa_request, "alice", 3600));
  EXPECT_EQ(reply_code(admin, h), 44);  // CoA-ACK
  EXPECT_TRUE(server.host->logged("CoA-Request from 192.0.2.19: Session-Timeout 3600 s"));

  // Nobody by that name: NAK.
  admin.udp_send(h, {server_ip, 3799}, request(radius::code::disconnect_request, "mallory", std::nullopt));
  EXPECT_EQ(reply_code(admin, h), 42);  // Disconnect-NAK

  admin.udp_send(h, {server_ip, 3799}, request(radius::code::disconnect_request, "bob", std::nullopt));
  EXPECT_EQ(reply_code(admin, h), 41);  // Disconnect-ACK
  ASSERT_TRUE(run_until([&] { return server.daemon->session_count() == 1; }));
  EXPECT_TRUE(ping_through(alice, server, 0x51));
  ASSERT_TRUE(run_until([&] {
    return std::any_of(rad.accounting.begin(), rad.accounting.end(), [](const auto& r) { return r.status == 2; });
  }));
  const auto stop =
      std::find_if(rad.accounting.begin(), rad.accounting.end(), [](const auto& r) { return r.status == 2; });
  EXPECT_EQ(stop->user, "bob");
  EXPECT_EQ(stop->cause, 6u);  // Admin-Reset
}

TEST_F(radius_engine_test, a_clean_stop_sends_accounting_off_at_once_and_waits_for_its_answer) {
  test_radius_server& rad = add_radius("radius", radius_a);
  daemon_options o = nas_options();
  o.radius_timeout_s = 3;
  node& server = start_nas(o);
  ASSERT_TRUE(run_until([&] { return rad.accounting.size() == 1; }));
  EXPECT_EQ(rad.accounting[0].status, 7u);  // Accounting-On
  const std::uint64_t asked = net_.now();
  server.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return rad.accounting.size() == 2; }, 10 * s));
  EXPECT_EQ(rad.accounting[1].status, 8u);  // Accounting-Off
  EXPECT_LT(net_.now() - asked, 100 * ms);  // not held until the first retransmission (3 s)
  ASSERT_TRUE(run_until([&] { return server.daemon->finished(); }, 10 * s));
  EXPECT_EQ(rad.accounting.size(), 2u);  // sent once: answered, never retransmitted
  EXPECT_FALSE(server.host->logged("within the stop bound"));
}

#endif  // PPTPKIT_REAL_PLUGINS

}  // namespace
