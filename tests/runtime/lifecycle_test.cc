// The daemon's lifecycle on the simulated platform (engine_fixture.hpp): signals (reload, status,
// stop), the stop bound, the client's reconnects, start-up errors and the command line.
#include "engine_fixture.hpp"
#include "pptpkit/runtime/cli.hpp"

namespace {

using lifecycle_test = engine_test;

TEST_F(lifecycle_test, sighup_rereads_the_secrets) {
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

TEST_F(lifecycle_test, sigusr1_logs_statistics_and_status_answers_on_the_socket) {
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

TEST_F(lifecycle_test, sigterm_on_the_server_clears_every_call_and_clients_exit_cleanly) {
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

TEST_F(lifecycle_test, stop_is_bounded_when_the_peer_never_answers) {
  node& server = start_server();
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return up(a) && up(server); }));
  a.frozen = true;  // the client hangs: never steps again
  server.host->raise(signal_stop);
  ASSERT_TRUE(run_until([&] { return server.daemon->finished(); }, 20 * s));
  EXPECT_TRUE(server.host->logged("calls did not clear within the stop bound"));
}

TEST_F(lifecycle_test, persist_reconnects_after_the_server_restarts_and_maxfail_gives_up) {
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

TEST_F(lifecycle_test, a_client_without_a_server_exits_non_zero) {
  node& a = start_client("alice", 0xc6336401, "alice", "alice-pw");
  ASSERT_TRUE(run_until([&] { return a.daemon->finished(); }));
  EXPECT_EQ(a.daemon->exit_status(), 1);
  EXPECT_TRUE(a.host->logged("connect to 192.0.2.1:1723 failed"));
}

TEST_F(lifecycle_test, missing_plugins_and_a_taken_port_are_reported) {
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

TEST_F(lifecycle_test, cli_reports_usage_errors_with_status_2) {
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

TEST_F(lifecycle_test, cli_runs_a_server_that_drops_privileges_after_binding) {
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
