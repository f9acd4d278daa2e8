// The runtime's wiring, end to end on the simulated platform (engine_fixture.hpp): sessions, the data
// path, hooks, loss and reordering. What a hostile peer may do is in hostile_test.cc; signals, stop,
// reconnects and the command line in lifecycle_test.cc.
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

}  // namespace
