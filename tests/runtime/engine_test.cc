// The runtime's wiring, end to end on the simulated platform (engine_fixture.hpp): sessions, the data
// path, hooks, signals, stop and reconnects. What a hostile peer may do is in hostile_test.cc.
#include "engine_fixture.hpp"

namespace {

TEST_F(engine_test, server_and_three_clients_come_up_and_ping_both_ways) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  node& b = start_client("bob", 0xc6336402, "bob", "bob-pw");
  node& c = start_client("carol", 0xc6336403, "carol", "carol-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(b) && up(c) && up(server, 3); }));
  EXPECT_EQ(server.daemon->session_count(), 3u);
  // The contract's line, one per session on each side.
  EXPECT_TRUE(
      server.host->logged("session up: user=alice auth=MS-CHAPv2 mppe=128-bit-stateless local=10.0.0.1 "
                          "remote=10.0.0.100 ifname=pptp0"));
  EXPECT_TRUE(
      a.host->logged("session up: user=alice auth=MS-CHAPv2 mppe=128-bit-stateless local=10.0.0.100 "
                     "remote=10.0.0.1 ifname=pptp0"));
  EXPECT_EQ(a.host->count_logs("session up:"), 1u);
  EXPECT_TRUE(a.host->logged("DNS servers from the peer: 10.0.0.53 10.0.0.54"));
  if (real_plugins) {
    // Call ids (and so session ids) are random, and interface ids come from the host's randomness.
    EXPECT_TRUE(ping_through(a, server, 1));
    EXPECT_TRUE(ping_through(b, server, 3));
    EXPECT_TRUE(ping_through(c, server, 5));
    return;
  }
  // Interfaces: pptpN with the negotiated MTU, addresses and the IPv6 link-local ids.
  for (int i = 0; i < 3; ++i) {
    sim_tun* t = server.host->tun("pptp" + std::to_string(i));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->config.mtu, real_plugins ? 1396u : 1400u);  // MRU 1400, less MPPE's 4 octets
    EXPECT_EQ(t->config.local, 0x0a000001u);
    EXPECT_EQ(t->config.peer, 0x0a000064u + static_cast<std::uint32_t>(i));
    EXPECT_EQ(t->ipv6_peer, 0x0200000000000000ull | t->config.peer);
  }
  EXPECT_TRUE(ping_through(a, server, 1));
  EXPECT_TRUE(ping_through(b, server, 3));
  EXPECT_TRUE(ping_through(c, server, 5));
  // Plugin logs carry the session they were about; the runtime's own lines too.
  EXPECT_TRUE(server.host->logged("[c1 s1] session up:"));
}

TEST_F(engine_test, fifty_clients_at_once_each_through_its_own_tunnel) {
  auto o = server_options();
  o.secrets_path = write_file("many", "# every user with this password, any address\n* * shared-pw *\n");
  o.remoteip = parse_ranges("10.0.0.100-149");
  node& server = start("server", server_ip, o);
  std::vector<node*> clients;
  for (std::uint32_t i = 0; i < 50; ++i) {
    std::string name = "user";
    name += std::to_string(i);
    clients.push_back(&start_client(name, 0xc6336401 + i, name, "shared-pw"));
  }
  ASSERT_TRUE(run_until(
      [&] { return up(server, 50) && std::all_of(clients.begin(), clients.end(), [](node* c) { return up(*c); }); }));
  EXPECT_EQ(server.daemon->session_count(), 50u);
  for (node* c : clients) {
    ASSERT_TRUE(up(*c)) << c->host->name();
    sim_tun* t = c->host->tun("pptp0");
    t->from_stack.push_back(ping(t->config.local, 0x0a000001, static_cast<std::uint8_t>(t->config.local)));
  }
  // Every server interface receives exactly its own client's packet.
  ASSERT_TRUE(run_until(
      [&] {
        for (int i = 0; i < 50; ++i) {
          sim_tun* t = server.host->tun("pptp" + std::to_string(i));
          if (t == nullptr || t->to_stack.size() != 1) {
            return false;
          }
        }
        return true;
      },
      2 * s));
  for (int i = 0; i < 50; ++i) {
    sim_tun* t = server.host->tun("pptp" + std::to_string(i));
    EXPECT_EQ(t->to_stack[0][30], static_cast<std::uint8_t>(t->config.peer)) << t->name;
  }
}

TEST_F(engine_test, a_burst_of_packets_crosses_in_order_in_batches) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  sim_tun* ct = a.host->tun("pptp0");
  sim_tun* st = server.host->tun("pptp0");
  for (int i = 0; i < 300; ++i) {
    ct->from_stack.push_back(ping(0x0a000064, 0x0a000001, static_cast<std::uint8_t>(i), ct->config.mtu));
  }
  ASSERT_TRUE(run_until([&] { return st->to_stack.size() == 300; }, 5 * s));
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(st->to_stack[i][30], static_cast<std::uint8_t>(i));
    EXPECT_EQ(st->to_stack[i].size(), ct->config.mtu);
  }
  const std::string status = server.daemon->status_report();
  EXPECT_NE(status.find("rx_bytes=" + std::to_string(300 * ct->config.mtu)), std::string::npos) << status;
  EXPECT_NE(status.find("rx_packets=300"), std::string::npos) << status;
}

TEST_F(engine_test, the_forwarding_path_does_not_allocate) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  for (node* n : {&server, &a}) {
    n->host->allocation_probe = &pptpkit::testing::allocations_on_this_thread;
  }
  sim_tun* ct = a.host->tun("pptp0");
  sim_tun* st = server.host->tun("pptp0");
  const auto burst = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      ct->from_stack.push_back(ping(0x0a000064, 0x0a000001, static_cast<std::uint8_t>(i), ct->config.mtu));
      st->from_stack.push_back(ping(0x0a000001, 0x0a000064, static_cast<std::uint8_t>(i), st->config.mtu));
    }
  };
  burst(200);  // warm-up: containers of the loop reach their working size
  ASSERT_TRUE(run_until([&] { return st->to_stack.size() == 200 && ct->to_stack.size() == 200; }, 5 * s));
  daemon_allocations_ = 0;
  burst(500);
  ASSERT_TRUE(run_until([&] { return st->to_stack.size() == 700 && ct->to_stack.size() == 700; }, 5 * s));
  EXPECT_EQ(daemon_allocations_, 0u);
  EXPECT_GT(server.host->own_allocations, 0u);  // the probe works: the simulator does allocate
}

// The server's first packet rides in the same GRE batch as its IPCP-completing frame, so PPP hands
// it over before the runtime has handled IPV4_UP and opened the client's interface: it must be held
// for the interface, not dropped.
TEST_F(engine_test, a_packet_racing_ipv4_up_reaches_the_new_interface) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(server); }));
  ASSERT_FALSE(up(a));
  const auto first = ping(0x0a000001, 0x0a000064, 0x42);
  server.host->tun("pptp0")->from_stack.push_back(first);
  ASSERT_TRUE(
      run_until([&] { return a.host->tun("pptp0") != nullptr && !a.host->tun("pptp0")->to_stack.empty(); }, 1 * s));
  EXPECT_EQ(a.host->tun("pptp0")->to_stack.front(), first);
  EXPECT_NE(a.daemon->status_report().find("drop_no_interface=0"), std::string::npos);
}

TEST_F(engine_test, hooks_get_pppds_arguments_and_environment) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  ASSERT_EQ(server.host->hooks().size(), 1u);
  const hook_call& h = server.host->hooks()[0];
  EXPECT_EQ(h.path, "/etc/ppp/ip-up");
  // interface, device, speed, local IP, remote IP, ipparam
  EXPECT_EQ(h.args, (std::vector<std::string>{"pptp0", "pptp0", "0", "10.0.0.1", "10.0.0.100", "198.51.100.1"}));
  EXPECT_EQ(h.env_value("PEERNAME"), "alice");
  EXPECT_EQ(h.env_value("IPLOCAL"), "10.0.0.1");
  EXPECT_EQ(h.env_value("IPREMOTE"), "10.0.0.100");
  // pppd sets DNS1/DNS2 from what the peer gave us (usepeerdns): the client's hook has them; the real
  // server's, like pppd's, does not (the fake reports its own).
  const hook_call& dns_hook = real_plugins ? a.host->hooks().at(0) : h;
  EXPECT_EQ(dns_hook.env_value("DNS1"), "10.0.0.53");
  EXPECT_EQ(dns_hook.env_value("DNS2"), "10.0.0.54");
  ASSERT_EQ(a.host->hooks().size(), 1u);
  EXPECT_EQ(a.host->hooks()[0].args[3], "10.0.0.100");
  EXPECT_EQ(a.host->hooks()[0].env_value("PEERNAME"), "alice");

  // The client stops (SIGTERM): ip-down on both sides, after the interface is gone.
  a.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return a.daemon->finished() && server.daemon->session_count() == 0; }));
  EXPECT_EQ(a.daemon->exit_status(), 0);
  ASSERT_EQ(server.host->hooks().size(), 2u);
  const hook_call& down = server.host->hooks()[1];
  EXPECT_EQ(down.path, "/etc/ppp/ip-down");
  EXPECT_EQ(down.args[0], "pptp0");
  EXPECT_EQ(down.env_value("IPREMOTE"), "10.0.0.100");
  EXPECT_FALSE(down.env_value("CONNECT_TIME").empty());
  EXPECT_FALSE(server.host->tun("pptp0")->open);
  ASSERT_EQ(a.host->hooks().size(), 2u);
  EXPECT_EQ(a.host->hooks()[1].path, "/etc/ppp/ip-down");
}

TEST_F(engine_test, wrong_password_and_unknown_user_fail_alone) {
  node& server = start_server();
  node& good = start_client("alice", 0xc6336401, "alice", "alice-pw");
  node& wrong = start_client("bob", 0xc6336402, "bob", "not-bobs");
  node& unknown = start_client("mallory", 0xc6336403, "mallory", "x");
  ASSERT_TRUE(run_until([&] { return up(good) && wrong.daemon->finished() && unknown.daemon->finished(); }));
  EXPECT_TRUE(server.host->logged("authentication failed: wrong password"));
  EXPECT_TRUE(wrong.host->logged("authentication failed: wrong password"));
  EXPECT_TRUE(server.host->logged("authentication failed: unknown user"));
  // MS-CHAPv2 gives the client one failure code (691) for both; only the server knows which it was.
  EXPECT_TRUE(unknown.host->logged(real_plugins ? "authentication failed:" : "authentication failed: unknown user"));
  EXPECT_TRUE(server.host->logged("no chap-secrets entry for user 'mallory'"));
  // Without --persist a client that never got a session exits non-zero.
  EXPECT_NE(wrong.daemon->exit_status(), 0);
  EXPECT_NE(unknown.daemon->exit_status(), 0);
  ASSERT_TRUE(run_until([&] { return server.daemon->session_count() == 1; }));
  EXPECT_TRUE(ping_through(good, server, 7));
  // The failed sessions gave their addresses back: a new client gets the next free one.
  node& carol = start_client("carol", 0xc6336404, "carol", "carol-pw");
  ASSERT_TRUE(run_until([&] { return up(carol); }));
  EXPECT_TRUE(carol.host->logged("local=10.0.0.101"));
}

TEST_F(engine_test, chap_secrets_addresses_pin_or_refuse) {
  node& server = start_server();
  node& dave = start_client("dave", 0xc6336401, "dave", "dave-pw");
  node& erin = start_client("erin", 0xc6336402, "erin", "erin-pw");
  ASSERT_TRUE(run_until([&] { return up(dave) && erin.daemon->finished(); }));
  EXPECT_TRUE(dave.host->logged("local=10.0.0.200 remote=10.0.0.1"));  // "dave pptpd dave-pw 10.0.0.200"
  EXPECT_TRUE(server.host->logged("chap-secrets allows user 'erin' no IP address"));
  // A second login of dave cannot take the same address.
  node& dave2 = start_client("dave2", 0xc6336403, "dave", "dave-pw");
  ASSERT_TRUE(run_until([&] { return dave2.daemon->finished(); }));
  EXPECT_TRUE(server.host->logged("address 10.0.0.200 of user 'dave' is in use"));
  EXPECT_TRUE(ping_through(dave, server, 9));
}

TEST_F(engine_test, a_crashed_client_frees_its_session_and_others_keep_going) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  node& b = start_client("bob", 0xc6336402, "bob", "bob-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(b) && up(server, 2); }));
  a.host->crash();
  a.daemon->step();  // its last breath: nothing it does reaches the network any more
  a.frozen = true;
  ASSERT_TRUE(run_until([&] { return server.daemon->session_count() == 1; }));
  EXPECT_TRUE(server.host->logged("Connection reset by peer"));
  EXPECT_EQ(server.host->hooks().back().path, "/etc/ppp/ip-down");
  EXPECT_TRUE(ping_through(b, server, 11));
}

TEST_F(engine_test, garbage_on_one_control_connection_does_not_disturb_another) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  const auto [attacker, h] = raw_control_connection();
  if (real_plugins) {
    // A whole PPTP header with a wrong magic cookie (RFC 2637 §2: 0x1A2B3C4D).
    const std::uint8_t junk[] = {0x00, 0x10, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
                                 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
    EXPECT_EQ(attacker->stream_write(h, junk).status, io_status::ok);
    ASSERT_TRUE(run_until([&] { return server.host->logged("[c2] control connection down:"); }));
  } else {
    const std::uint8_t junk[] = {0x00, 0x05, 0xee, 0x00, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(attacker->stream_write(h, junk).status, io_status::ok);
    ASSERT_TRUE(run_until([&] { return server.host->logged("control connection down: malformed message"); }));
    // The plugin's own log line carries the connection the runtime was feeding it for.
    EXPECT_TRUE(server.host->logged("[c2] bad message length 5"));
  }
  EXPECT_EQ(server.daemon->session_count(), 1u);
  EXPECT_TRUE(ping_through(a, server, 13));
}

#ifdef PPTPKIT_REAL_PLUGINS
// A peer that makes the control plugin log a line per message (Call-Clear-Request for calls that do not
// exist) gets its lines rate-limited, not its connection closed, and the other session is untouched.
TEST_F(engine_test, a_peer_that_floods_rejections_cannot_flood_the_log) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  const auto [attacker, h] = raw_control_connection();
  // RFC 2637 §2.1 SCCRQ: 156 bytes, protocol version 1.0, host name and vendor left empty.
  std::vector<std::uint8_t> sccrq(156, 0);
  const std::uint8_t sccrq_head[] = {0x00, 0x9c, 0x00, 0x01, 0x1a, 0x2b, 0x3c,
                                     0x4d, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00};
  std::copy(std::begin(sccrq_head), std::end(sccrq_head), sccrq.begin());
  ASSERT_EQ(attacker->stream_write(h, sccrq).status, io_status::ok);
  run_for(50 * ms);
  // RFC 2637 §2.12 Call-Clear-Request (16 bytes) for call 0x7777, which this connection never opened.
  const std::uint8_t ccrq[] = {0x00, 0x10, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d,
                               0x00, 0x0c, 0x00, 0x00, 0x77, 0x77, 0x00, 0x00};
  constexpr std::size_t flood = 2000;
  for (std::size_t i = 0; i < flood; i += 100) {
    std::vector<std::uint8_t> burst;
    for (std::size_t j = 0; j < 100; ++j) {
      burst.insert(burst.end(), std::begin(ccrq), std::end(ccrq));
    }
    ASSERT_EQ(attacker->stream_write(h, burst).status, io_status::ok);
    run_for(1 * ms);
  }
  run_for(100 * ms);
  const std::size_t lines = server.host->count_logs("CCRQ for unknown call");
  EXPECT_GE(lines, 10u);
  EXPECT_LE(lines, 60u);  // the burst (50) and what refilled in the ~0.4 s the flood took
  const std::string report = server.daemon->status_report();
  EXPECT_NE(report.find("log_lines_suppressed=" + std::to_string(flood - lines)), std::string::npos) << report;
  // After a quiet spell the next line gets through, preceded by how many were left out.
  run_for(10 * s);
  ASSERT_EQ(attacker->stream_write(h, ccrq).status, io_status::ok);
  run_for(10 * ms);
  EXPECT_TRUE(server.host->logged(std::to_string(flood - lines) + " log lines about "));
  EXPECT_TRUE(server.host->logged(" suppressed (rate limit"));
  EXPECT_EQ(server.host->count_logs("CCRQ for unknown call"), lines + 1);
  EXPECT_EQ(server.daemon->session_count(), 1u);
  EXPECT_TRUE(ping_through(a, server, 14));
}
#endif

#ifndef PPTPKIT_REAL_PLUGINS
// A plugin whose deadline stays due after tick() (a plugin bug) is polled every 10 ms instead of making
// the loop spin: virtual time still advances, sessions still come up, and the fault is logged once.
TEST_F(engine_test, a_plugin_with_a_stuck_deadline_does_not_make_the_loop_spin) {
  ::setenv("PPTPKIT_FAKE_GRE_STUCK_DEADLINE", "1", 1);
  node& server = start_server();
  ::unsetenv("PPTPKIT_FAKE_GRE_STUCK_DEADLINE");
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  const std::uint64_t start = net_.now();
  run_for(2 * s);
  EXPECT_GE(net_.now(), start + 2 * s);
  EXPECT_EQ(server.host->count_logs("gre plugin: its deadline is still due after tick()"), 1u);
  EXPECT_FALSE(a.host->logged("its deadline is still due"));
  const std::string report = server.daemon->status_report();
  const std::size_t at = report.find("plugin_stuck_deadlines=");
  ASSERT_NE(at, std::string::npos) << report;
  const unsigned long ticks = std::stoul(report.substr(at + std::strlen("plugin_stuck_deadlines=")));
  EXPECT_GE(ticks, 150u);  // about one every 10 ms over 2 s and the setup
  EXPECT_LE(ticks, 1000u);
  EXPECT_TRUE(ping_through(a, server, 15));
}
#endif

TEST_F(engine_test, a_peer_that_stops_reading_loses_only_its_own_connection) {
  auto o = server_options();
  o.log_level = 5;  // its calls' info lines would spend its share of the per-peer log limit
  node& server = start("server", server_ip, o);
  server.host->stream_window = 4096;
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  // A PNS that asks for call after call and never reads the replies.
  sim_host& greedy = net_.add_host("greedy", 0xcb007102);
  std::string error;
  const handle h = greedy.tcp_connect({server_ip, 1723}, error);
  run_for(10 * ms);
  if (real_plugins) {
    // RFC 2637 §2.1 SCCRQ (156 bytes), then Echo-Requests (§2.5) whose replies are never read.
    std::vector<std::uint8_t> sccrq(156, 0);
    const std::uint8_t head[] = {0x00, 0x9c, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00};
    std::copy(std::begin(head), std::end(head), sccrq.begin());
    sccrq[27] = 1;  // maximum channels
    ASSERT_EQ(greedy.stream_write(h, sccrq).status, io_status::ok);
    run_for(10 * ms);
    for (std::uint32_t i = 0; i < 20000 && !server.host->logged("stopped reading"); ++i) {
      const std::uint8_t echo[] = {0x00,
                                   0x10,
                                   0x00,
                                   0x01,
                                   0x1a,
                                   0x2b,
                                   0x3c,
                                   0x4d,
                                   0x00,
                                   0x05,
                                   0x00,
                                   0x00,
                                   0x00,
                                   0x00,
                                   static_cast<std::uint8_t>(i >> 8),
                                   static_cast<std::uint8_t>(i)};
      ASSERT_EQ(greedy.stream_write(h, echo).status, io_status::ok);
      run_for(1 * ms);
    }
  } else {
    const std::uint8_t sccrq[] = {0x00, 0x04, 0x01, 0x00};
    ASSERT_EQ(greedy.stream_write(h, sccrq).status, io_status::ok);
    run_for(10 * ms);
    for (std::uint32_t i = 0; i < 4000 && !server.host->logged("stopped reading"); ++i) {
      const std::uint8_t ocrq[] = {
          0x00, 0x08, 0x07, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
      ASSERT_EQ(greedy.stream_write(h, ocrq).status, io_status::ok);
      run_for(1 * ms);
    }
  }
  EXPECT_TRUE(server.host->logged("[c2] the peer stopped reading the control connection"));
  EXPECT_NE(server.daemon->status_report().find("control_output_overflow=1"), std::string::npos);
  EXPECT_EQ(server.daemon->session_count(), 1u);
  EXPECT_TRUE(ping_through(a, server, 25));
}

TEST_F(engine_test, max_connections_is_enforced) {
  auto o = server_options();
  o.max_connections = 1;
  node& server = start("server", server_ip, o);
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a); }));
  node& b = start_client("bob", 0xc6336402, "bob", "bob-pw");
  ASSERT_TRUE(run_until([&] { return b.daemon->finished(); }));
  EXPECT_NE(b.daemon->exit_status(), 0);
  EXPECT_TRUE(server.host->logged("1 connections (--max-connections) are in use"));
  EXPECT_TRUE(ping_through(a, server, 15));
}

TEST_F(engine_test, the_address_pool_runs_out_cleanly) {
  node& server = start_server();  // 10.0.0.100-102: three addresses
  std::vector<node*> clients;
  for (std::uint32_t i = 0; i < 4; ++i) {
    std::string name = "c";
    name += std::to_string(i);
    clients.push_back(
        &start_client(name, 0xc6336401 + i, i % 2 == 0 ? "alice" : "bob", i % 2 == 0 ? "alice-pw" : "bob-pw"));
  }
  ASSERT_TRUE(run_until([&] { return up(server, 3) && clients[3]->daemon->finished(); }));
  EXPECT_TRUE(server.host->logged("no free address in --remoteip"));
  EXPECT_EQ(server.daemon->session_count(), 3u);
}

TEST_F(engine_test, no_gre_from_the_peer_is_diagnosed_on_both_sides) {
  seeded_link::config dead;
  dead.loss = 1.0;
  net_.set_link(std::make_unique<seeded_link>(net_.seed(), dead));
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(
      run_until([&] { return server.host->logged("no GRE arrives") && a.host->logged("no GRE arrives"); }, 10 * s));
  for (node* n : {&server, &a}) {
    EXPECT_TRUE(n->host->logged("the control connection is up but no GRE arrives from"));
    EXPECT_TRUE(n->host->logged("firewall dropping IP protocol 47"));
    EXPECT_TRUE(n->host->logged("NAT router without the PPTP helper"));
  }
}

TEST_F(engine_test, seeded_loss_and_reordering_do_not_break_the_wiring) {
  seeded_link::config lossy;
  lossy.loss = 0.02;
  lossy.reorder = 0.1;
  net_.set_link(std::make_unique<seeded_link>(net_.seed(), lossy));
  node& server = start_server();
  std::vector<node*> clients;
  // Authentication frames may be lost (the fake PPP does not retransmit); persist brings them back.
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto o = client_options(i == 0   ? "alice"
                            : i == 1 ? "bob"
                                     : "carol",
                            i == 0   ? "alice-pw"
                            : i == 1 ? "bob-pw"
                                     : "carol-pw");
    o.persist = true;
    o.maxfail = 0;
    clients.push_back(&start("client" + std::to_string(i), 0xc6336401 + i, o));
  }
  // Without retransmission in the fakes a session may hang; the ones that come up must carry data. The
  // real plugins retransmit, so every session comes up.
  if (real_plugins) {
    ASSERT_TRUE(run_until([&] { return up(server, 3); }, 60 * s));
  }
  run_for(3 * s);
  std::size_t delivered = 0;
  for (node* c : clients) {
    sim_tun* ct = c->host->tun("pptp0");
    if (ct == nullptr || !ct->open) {
      continue;
    }
    for (int i = 0; i < 100; ++i) {
      ct->from_stack.push_back(ping(ct->config.local, 0x0a000001, static_cast<std::uint8_t>(i)));
    }
  }
  run_for(1 * s);
  for (int i = 0; i < 3; ++i) {
    if (sim_tun* t = server.host->tun("pptp" + std::to_string(i))) {
      delivered += t->to_stack.size();
    }
  }
  EXPECT_GT(delivered, 0u);
  EXPECT_GT(server.host->count_logs("session up:"), 0u);
}

// The whole simulation is a function of its seed: the same seed gives the same transcript (so a
// failing seed replays), another seed another one.
std::string lossy_transcript(std::uint64_t seed, const std::string& secrets) {
  sim_network net(seed);
  seeded_link::config lossy;
  lossy.loss = 0.05;
  lossy.reorder = 0.2;
  net.set_link(std::make_unique<seeded_link>(seed, lossy));
  std::vector<std::pair<sim_host*, std::unique_ptr<engine>>> nodes;
  daemon_options so;
  so.mode = daemon_mode::server;
  so.ifname = "pptp";
  so.plugin_dir = PLUGIN_DIR;
  so.listen = {server_ip, 1723};
  so.localip = 0x0a000001;
  so.remoteip = parse_ranges("10.0.0.100-109");
  so.secrets_path = secrets;
  so.status_socket.clear();
  so.log_level = 7;
  sim_host& server = net.add_host("server", server_ip);
  nodes.emplace_back(&server, engine::create(server, so));
  for (std::uint32_t i = 0; i < 3; ++i) {
    daemon_options co;
    co.mode = daemon_mode::client;
    co.ifname = "pptp0";
    co.plugin_dir = PLUGIN_DIR;
    co.server = {server_ip, 1723};
    co.user = "alice";
    co.password = "alice-pw";
    co.log_level = 7;
    sim_host& h = net.add_host("client" + std::to_string(i), 0xc6336401 + i);
    nodes.emplace_back(&h, engine::create(h, co));
  }
  for (auto& [h, e] : nodes) {
    std::string error;
    e->start(error);
  }
  const auto drive = [&](std::uint64_t until) {
    while (net.now() < until) {
      bool busy = false;
      std::uint64_t next = std::min(net.next_event(), until);
      for (auto& [h, e] : nodes) {
        if (!e->finished()) {
          e->step();
          busy = busy || h->last_ready > 0;
          next = std::min(next, e->next_deadline());
        }
      }
      if (!busy) {
        net.advance_to(std::max(next, net.now() + 1));
      }
    }
  };
  drive(net.now() + lossy_settle);
  for (auto& [h, e] : nodes) {
    if (sim_tun* t = h->tun("pptp0"); t != nullptr && h != &server) {
      for (int i = 0; i < 50; ++i) {
        t->from_stack.push_back(ping(t->config.local, 0x0a000001, static_cast<std::uint8_t>(i)));
      }
    }
  }
  drive(net.now() + 1 * s);
  std::string transcript;
  for (auto& [h, e] : nodes) {
    for (const auto& l : h->logs()) {
      transcript += h->name() + " " + l.text + "\n";
    }
    transcript += h->name() + " gre_sent=" + std::to_string(h->gre_sent) +
                  " dropped=" + std::to_string(h->gre_dropped_by_link) + "\n";
    for (int i = 0; i < 4; ++i) {
      if (sim_tun* t = h->tun("pptp" + std::to_string(i))) {
        transcript += t->name + " got " + std::to_string(t->to_stack.size()) + "\n";
      }
    }
  }
  return transcript;
}

TEST_F(engine_test, a_seed_replays_exactly) {
  const std::string secrets = write_file("alice", "alice * alice-pw *\n");
  const std::string first = lossy_transcript(net_.seed(), secrets);
  EXPECT_EQ(first, lossy_transcript(net_.seed(), secrets));
  EXPECT_NE(first, lossy_transcript(net_.seed() + 1, secrets));
  EXPECT_NE(first.find("session up:"), std::string::npos) << first;
}

TEST_F(engine_test, sighup_rereads_the_secrets) {
  node& server = start_server();
  node& frank = start_client("frank", 0xc6336401, "frank", "frank-pw");
  ASSERT_TRUE(run_until([&] { return frank.daemon->finished(); }));
  EXPECT_NE(frank.daemon->exit_status(), 0);
  write_file("secrets", "frank * frank-pw *\n");
  server.host->raise(signal_reload);
  ASSERT_TRUE(run_until([&] { return server.host->logged("1 secrets"); }));
  node& again = start_client("frank2", 0xc6336402, "frank", "frank-pw");
  ASSERT_TRUE(run_until([&] { return up(again); }));
  // A broken file keeps the old secrets.
  write_file("secrets", "frank *\n");
  server.host->raise(signal_reload);
  ASSERT_TRUE(run_until([&] { return server.host->logged("keeping the old secrets"); }));
  EXPECT_TRUE(server.host->logged("an entry needs at least client, server and secret"));
}

TEST_F(engine_test, sigusr1_logs_statistics_and_status_answers_on_the_socket) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  ASSERT_TRUE(ping_through(a, server, 17));
  run_for(2 * s);
  server.host->raise(signal_status);
  run_for(1 * ms);
  // Session ids are call ids: random with the real control plugin.
  EXPECT_TRUE(server.host->logged(real_plugins ? " connection 1: user=alice auth=MS-CHAPv2"
                                               : "status: session 1 connection 1: user=alice auth=MS-CHAPv2"));

  // `pptpkit status` on another "terminal" of the same machine: its wait() pumps the simulation.
  sim_host& terminal = net_.add_host("terminal", 0x7f000001);
  terminal.on_wait = [&] {
    step_all();
    net_.advance_to(net_.now() + ms);
  };
  const char* argv[] = {"pptpkit", "status", "--status-socket", "/run/pptpkit-test.sock"};
  ::testing::internal::CaptureStdout();
  const int rc = cli_main(4, const_cast<char**>(argv), terminal, PLUGIN_DIR);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  for (const char* field :
       {"pptpkit server: 1 session", "user=alice", "local=10.0.0.1", "remote=10.0.0.100", "rx_bytes=84", "tx_bytes=84",
        "rx_packets=1", "tx_packets=1", "drops=0", "reorders=0", "uptime=", "ifname=pptp0"}) {
    EXPECT_NE(out.find(field), std::string::npos) << field << " in\n" << out;
  }
  const char* wrong[] = {"pptpkit", "status", "--status-socket", "/run/nothing.sock"};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cli_main(4, const_cast<char**>(wrong), terminal, PLUGIN_DIR), 1);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("cannot reach the server at /run/nothing.sock"),
            std::string::npos);
}

TEST_F(engine_test, sigterm_on_the_server_clears_every_call_and_clients_exit_cleanly) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  node& b = start_client("bob", 0xc6336402, "bob", "bob-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(b) && up(server, 2); }));
  server.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return server.daemon->finished() && a.daemon->finished() && b.daemon->finished(); }));
  EXPECT_EQ(server.daemon->exit_status(), 0);
  EXPECT_EQ(a.daemon->exit_status(), 0);
  EXPECT_EQ(b.daemon->exit_status(), 0);
  EXPECT_TRUE(server.host->logged("stopping: clearing 2 calls"));
  EXPECT_EQ(server.host->count_logs("session down:"), 2u);
  EXPECT_FALSE(server.host->logged("within the stop bound"));  // clean, not forced
}

TEST_F(engine_test, stop_is_bounded_when_the_peer_never_answers) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  a.frozen = true;  // the client hangs: never steps again
  server.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return server.daemon->finished(); }, 20 * s));
  EXPECT_TRUE(server.host->logged("calls did not clear within the stop bound"));
}

TEST_F(engine_test, persist_reconnects_after_the_server_restarts_and_maxfail_gives_up) {
  node& server = start_server();
  auto o = client_options("alice", "alice-pw");
  o.persist = true;
  o.maxfail = 3;
  o.holdoff_s = 2;
  o.defaultroute = true;
  o.routes = {parse_cidr("10.9.0.0/16")};
  node& a = start("alice", 0xc6336401, o);
  ASSERT_TRUE(run_until([&] { return up(a); }));
  sim_tun* t = a.host->tun("pptp0");
  ASSERT_EQ(t->routes.size(), 2u);
  EXPECT_EQ(t->routes[0].prefix_length, 0u);
  EXPECT_EQ(t->routes[1].destination, 0x0a090000u);

  server.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return server.daemon->finished(); }));
  server.daemon.reset();  // the server process is gone; its host stays
  ASSERT_TRUE(run_until([&] { return a.host->logged("reconnecting in 2 s"); }));
  EXPECT_FALSE(a.daemon->finished());
  // Restart: a new server on the same host; the client comes back by itself.
  server.daemon = engine::create(*server.host, server_options());
  std::string error;
  ASSERT_TRUE(server.daemon->start(error)) << error;
  ASSERT_TRUE(run_until([&] { return a.host->count_logs("session up:") == 2; }));
  EXPECT_TRUE(ping_through(a, server, 19));

  // Server gone for good: three failed attempts in a row, then the client gives up with status 1.
  server.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return server.daemon->finished(); }));
  server.daemon.reset();
  ASSERT_TRUE(run_until([&] { return a.daemon->finished(); }, 60 * s));
  EXPECT_TRUE(a.host->logged("giving up after 3 failed attempts in a row (--maxfail)"));
  EXPECT_EQ(a.daemon->exit_status(), 1);
}

TEST_F(engine_test, a_client_without_a_server_exits_non_zero) {
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return a.daemon->finished(); }));
  EXPECT_EQ(a.daemon->exit_status(), 1);
  EXPECT_TRUE(a.host->logged("connect to 192.0.2.1:1723 failed"));
}

TEST_F(engine_test, tun_failure_ends_only_that_session) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  server.host->fail_tun_open = true;
  node& b = start_client("bob", 0xc6336402, "bob", "bob-pw");
  ASSERT_TRUE(run_until([&] { return b.daemon->finished(); }));
  EXPECT_TRUE(server.host->logged("cannot create interface pptp1: TUNSETIFF: Operation not permitted"));
  EXPECT_TRUE(ping_through(a, server, 21));
}

// Another program holds pptp0 on both machines (pppd, say): like pppd, each side warns and takes the next
// unit rather than failing the session.
TEST_F(engine_test, a_busy_interface_name_moves_on_to_the_next_unit) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  tun_config foreign;
  foreign.name = "pptp0";
  std::string actual, error;
  ASSERT_NE(server.host->tun_open(foreign, actual, error), invalid_handle);
  ASSERT_NE(a.host->tun_open(foreign, actual, error), invalid_handle);
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  for (const node* n : {&server, &a}) {
    EXPECT_TRUE(n->host->logged("cannot create interface pptp0: pptp0: Device or resource busy"));
    EXPECT_TRUE(n->host->logged("ifname=pptp1"));
    ASSERT_NE(n->host->tun("pptp1"), nullptr);
  }
  // The next session on the server gets the next free name, not the foreign one.
  node& b = start_client("bob", 0xc6336402, "bob", "bob-pw");
  ASSERT_TRUE(run_until([&] { return up(b) && up(server, 2); }));
  EXPECT_TRUE(server.host->logged("ifname=pptp2"));
}

TEST_F(engine_test, partial_control_writes_are_resumed) {
  node& server = start_server();
  server.host->stream_window = 3;  // every control message goes out in pieces
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  a.host->stream_window = 5;
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  EXPECT_TRUE(ping_through(a, server, 23));
}

TEST_F(engine_test, missing_plugins_and_a_taken_port_are_reported) {
  sim_host& h = net_.add_host("h", server_ip);
  auto o = server_options();
  o.plugin_dir = "/nonexistent";
  try {
    engine::create(h, o);
    FAIL() << "created without plugins";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("pptp-control.so"), std::string::npos) << e.what();
  }
  auto first = engine::create(h, server_options());
  std::string error;
  ASSERT_TRUE(first->start(error));
  auto second = engine::create(h, server_options());
  EXPECT_FALSE(second->start(error));
  EXPECT_EQ(error, "bind: Address already in use");
}

TEST_F(engine_test, cli_reports_usage_errors_with_status_2) {
  sim_host& h = net_.add_host("h", server_ip);
  const char* bad[] = {"pptpkit", "server", "--remoteip", "10.0.0.5-1"};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cli_main(4, const_cast<char**>(bad), h, PLUGIN_DIR), 2);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("pptpkit server: --remoteip '10.0.0.5-1'"),
            std::string::npos);
  const char* help[] = {"pptpkit", "client", "--help"};
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(cli_main(3, const_cast<char**>(help), h, PLUGIN_DIR), 0);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("pptp-linux"), std::string::npos);
  const char* unknown[] = {"pptpkit", "serve"};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cli_main(2, const_cast<char**>(unknown), h, PLUGIN_DIR), 2);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("unknown command 'serve'"), std::string::npos);
}

TEST_F(engine_test, cli_runs_a_server_that_drops_privileges_after_binding) {
  sim_host& h = net_.add_host("h", server_ip);
  h.raise(signal_stop);  // stop right away: we only check the start-up sequence
  const std::string secrets = secrets_;
  std::vector<std::string> args{"pptpkit",  "server",     "--listen",       "192.0.2.1", "--localip",
                                "10.0.0.1", "--remoteip", "10.0.0.100-102", "--secrets", secrets,
                                "--user",   "nobody",     "--plugin-dir",   PLUGIN_DIR};
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  EXPECT_EQ(cli_main(static_cast<int>(argv.size()), argv.data(), h, "unused"), 0);
  EXPECT_TRUE(h.privileges_dropped);
  EXPECT_EQ(h.dropped_privileges_to, "nobody");
  EXPECT_TRUE(h.logged("server listening on 192.0.2.1:1723"));
}

}  // namespace
