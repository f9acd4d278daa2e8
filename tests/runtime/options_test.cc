#include "pptpkit/runtime/options.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace pptpkit::runtime;

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/pptpkit_options_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
  std::ofstream(path) << text;
  return path;
}

const std::vector<std::string> server_minimum{"--localip",      "10.0.0.1",  "--remoteip",
                                              "10.0.0.100-149", "--secrets", "chap-secrets"};

std::string error_of(daemon_mode mode, const std::vector<std::string>& args, const char* env = nullptr) {
  try {
    parse_daemon_options(mode, args, env, "plugins");
  } catch (const option_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(options, server_defaults_follow_pptpd_and_pppd) {
  const auto o = parse_daemon_options(daemon_mode::server, server_minimum, nullptr, "/opt/plugins");
  EXPECT_EQ(o.listen, (endpoint{0, 1723}));
  EXPECT_EQ(o.localip, 0x0a000001u);
  EXPECT_EQ(o.remoteip.size(), 1u);
  EXPECT_EQ(o.auth, std::vector<std::string>{"mschapv2"});
  EXPECT_EQ(o.mppe, "required");  // Debian pptpd: require-mppe-128
  EXPECT_EQ(o.mppe_bits, "128");
  EXPECT_EQ(o.ifname, "pptp");
  EXPECT_EQ(o.plugin_dir, "/opt/plugins");
  EXPECT_EQ(o.echo_interval_s, 30u);
  EXPECT_EQ(o.echo_failure, 4u);
}

TEST(options, every_server_option_and_the_equals_form) {
  auto args = server_minimum;
  for (const char* a : {"--listen=192.0.2.1:1724",
                        "--dns",
                        "10.0.0.53,10.0.0.54",
                        "--auth",
                        "chap,mschapv2",
                        "--mppe",
                        "required",
                        "--mppe-bits",
                        "128",
                        "--mppe-stateful",
                        "--echo-interval",
                        "10",
                        "--echo-failure",
                        "3",
                        "--max-connections",
                        "5",
                        "--ifname",
                        "vpn",
                        "--ip-up",
                        "/up",
                        "--ip-down",
                        "/down",
                        "--user",
                        "nobody",
                        "--status-socket",
                        "/run/pptpkit-test.sock",
                        "--log-level",
                        "debug",
                        "--plugin-dir",
                        "/p"}) {
    args.emplace_back(a);
  }
  const auto o = parse_daemon_options(daemon_mode::server, args, nullptr, "plugins");
  EXPECT_EQ(o.listen, (endpoint{0xc0000201u, 1724}));
  EXPECT_EQ(o.dns, (std::vector<std::uint32_t>{0x0a000035u, 0x0a000036u}));
  EXPECT_EQ(o.auth, (std::vector<std::string>{"chap", "mschapv2"}));
  EXPECT_EQ(o.mppe, "required");
  EXPECT_TRUE(o.mppe_stateful);
  EXPECT_EQ(o.max_connections, 5u);
  EXPECT_EQ(o.ifname, "vpn");
  EXPECT_EQ(o.run_as_user, "nobody");
  EXPECT_EQ(o.status_socket, "/run/pptpkit-test.sock");
  EXPECT_EQ(o.log_level, 7u);
  EXPECT_EQ(o.plugin_dir, "/p");
}

TEST(options, errors_name_the_option_and_the_value) {
  auto with = [](std::vector<std::string> extra) {
    auto a = server_minimum;
    a.insert(a.end(), extra.begin(), extra.end());
    return error_of(daemon_mode::server, a);
  };
  EXPECT_EQ(with({"--listen", "1.2.3:99"}), "--listen '1.2.3:99': expected ADDR[:PORT] with an IPv4 address");
  EXPECT_EQ(with({"--listen", "1.2.3.4:70000"}), "--listen '70000': expected a number from 1 to 65535");
  EXPECT_NE(with({"--remoteip", "10.0.0.300-5"}).find("--remoteip '10.0.0.300-5': "), std::string::npos);
  EXPECT_EQ(with({"--auth", "mschapv2,ntlm"}),
            "--auth 'mschapv2,ntlm': unknown protocol 'ntlm' (choose from mschapv2,chap,pap,eap)");
  EXPECT_EQ(with({"--mppe", "yes"}), "--mppe 'yes': expected required, optional or refused");
  EXPECT_EQ(with({"--echo-interval", "-1"}), "--echo-interval '-1': expected a number from 0 to 3600");
  EXPECT_EQ(with({"--dns", "1.1.1.1,2.2.2.2,3.3.3.3"}).substr(0, 30), "--dns '1.1.1.1,2.2.2.2,3.3.3.3");
  EXPECT_EQ(with({"--bogus"}), "unknown option --bogus (see pptpkit server --help)");
  EXPECT_EQ(with({"--persist"}), "--persist is not an option of pptpkit server");
  EXPECT_EQ(with({"--max-connections"}), "--max-connections needs a value");
  EXPECT_EQ(with({"--mppe-stateful=1"}), "--mppe-stateful takes no value (given '1')");
  EXPECT_EQ(with({"--localip", "10.0.0.120"}), "--localip 10.0.0.120 lies inside --remoteip: a client would get it");
  EXPECT_EQ(error_of(daemon_mode::server, {"--localip", "10.0.0.1"}).substr(0, 19), "--secrets FILE is r");
}

TEST(options, the_password_never_comes_from_the_command_line) {
  const std::vector<std::string> base{"--server", "192.0.2.1", "--user", "alice"};
  auto args = base;
  args.emplace_back("--password");
  args.emplace_back("x");
  EXPECT_NE(error_of(daemon_mode::client, args, "env").find("visible to every user in ps"), std::string::npos);
  EXPECT_EQ(error_of(daemon_mode::client, base), "no password: give --password-file FILE or set PPTPKIT_PASSWORD");
  EXPECT_EQ(parse_daemon_options(daemon_mode::client, base, "from-env", "p").password, "from-env");
  args = base;
  args.emplace_back("--password-file");
  args.emplace_back(temp_file("pw", "from-file\nsecond line\n"));
  EXPECT_EQ(parse_daemon_options(daemon_mode::client, args, "from-env", "p").password, "from-file");
  args.back() = "/nonexistent/pw";
  EXPECT_NE(error_of(daemon_mode::client, args).find("--password-file '/nonexistent/pw': /nonexistent/pw: cannot open"),
            std::string::npos);
}

TEST(options, client_routes_and_reconnect_like_pppd) {
  const auto o =
      parse_daemon_options(daemon_mode::client,
                           {"--server", "192.0.2.1:1724", "--user", "alice", "--defaultroute", "--route", "10.1.0.0/16",
                            "--route", "10.2.0.0/16", "--persist", "--maxfail", "0", "--holdoff", "5"},
                           "pw", "p");
  EXPECT_EQ(o.server, (endpoint{0xc0000201u, 1724}));
  EXPECT_TRUE(o.defaultroute);
  ASSERT_EQ(o.routes.size(), 2u);
  EXPECT_EQ(o.routes[1], (cidr{0x0a020000u, 16}));
  EXPECT_TRUE(o.persist);
  EXPECT_EQ(o.maxfail, 0u);
  EXPECT_EQ(o.holdoff_s, 5u);
  EXPECT_EQ(o.ifname, "pptp0");
  EXPECT_EQ(error_of(daemon_mode::client, {"--server", "192.0.2.1", "--user", "a", "--route", "10.1.2.3/8"}, "pw")
                .substr(0, 22),
            "--route '10.1.2.3/8': ");
}

TEST(options, config_file_fills_in_and_the_command_line_wins) {
  const std::string conf = temp_file("conf",
                                     "# a client\n"
                                     "server 192.0.2.1\n"
                                     "user alice\n"
                                     "route 10.1.0.0/16\n"
                                     "route 10.2.0.0/16\n"
                                     "holdoff 7\n"
                                     "persist\n");
  const auto from_file = parse_daemon_options(daemon_mode::client, {"--config", conf}, "pw", "p");
  EXPECT_EQ(from_file.user, "alice");
  EXPECT_EQ(from_file.routes.size(), 2u);
  EXPECT_EQ(from_file.holdoff_s, 7u);
  EXPECT_TRUE(from_file.persist);
  const auto overridden = parse_daemon_options(
      daemon_mode::client, {"--holdoff", "1", "--config", conf, "--user", "bob", "--route", "10.9.0.0/16"}, "pw", "p");
  EXPECT_EQ(overridden.user, "bob");
  EXPECT_EQ(overridden.holdoff_s, 1u);
  ASSERT_EQ(overridden.routes.size(), 1u);  // a repeatable option on the command line replaces the file's
  EXPECT_EQ(overridden.routes[0], (cidr{0x0a090000u, 16}));

  const std::string bad = temp_file("bad", "server 192.0.2.1\nuser alice\nholdoff soon\n");
  EXPECT_EQ(error_of(daemon_mode::client, {"--config", bad}, "pw"),
            bad + ": --holdoff 'soon': expected a number from 0 to 86400");
  const std::string unknown = temp_file("unknown", "sever 192.0.2.1\n");
  EXPECT_EQ(error_of(daemon_mode::client, {"--config", unknown}, "pw"),
            unknown + ": unknown option --sever (see pptpkit client --help)");
  const std::string secret = temp_file("secret", "password hunter2\n");
  EXPECT_NE(error_of(daemon_mode::client, {"--config", secret}, "pw").find("not a config key"), std::string::npos);
}

TEST(options, config_files_accept_pptpd_and_pppd_names) {
  const std::string conf = temp_file("pptpd",
                                     "localip 10.0.0.1\nremoteip 10.0.0.100-149\nsecrets s\nconnections 7\n"
                                     "ms-dns 10.0.0.53\nms-dns 10.0.0.54\nlcp-echo-interval 10\n"
                                     "lcp-echo-failure 3\n");
  const auto o = parse_daemon_options(daemon_mode::server, {"--config", conf}, nullptr, "p");
  EXPECT_EQ(o.max_connections, 7u);
  EXPECT_EQ(o.dns, (std::vector<std::uint32_t>{0x0a000035u, 0x0a000036u}));
  EXPECT_EQ(o.echo_interval_s, 10u);
  EXPECT_EQ(o.echo_failure, 3u);
  const std::string three = temp_file("three", "ms-dns 1.1.1.1\nms-dns 2.2.2.2\nms-dns 3.3.3.3\n");
  EXPECT_NE(error_of(daemon_mode::server, {"--config", three}).find(three + ": ms-dns: --dns"), std::string::npos);
}

TEST(options, help_speaks_pptpd_and_pppd) {
  const std::string s = server_help_text();
  for (const char* word : {"pptpd", "localip", "remoteip", "chap-secrets", "ms-dns", "lcp-echo-interval", "ip-up",
                           "PEERNAME", "SIGHUP", "--config"}) {
    EXPECT_NE(s.find(word), std::string::npos) << word;
  }
  const std::string c = client_help_text();
  for (const char* word : {"pptp-linux", "PPTPKIT_PASSWORD", "defaultroute", "persist", "maxfail", "holdoff", "ps"}) {
    EXPECT_NE(c.find(word), std::string::npos) << word;
  }
}

// Issue row 11: MPPE keys come from MS-CHAPv2, so the secure default cannot meet PAP or CHAP-MD5; a
// configuration that asks for both is refused at start with the way out, never run in cleartext.
TEST(options, mppe_required_by_default_and_refused_without_mschapv2) {
  auto args = server_minimum;
  args.insert(args.end(), {"--auth", "pap"});
  try {
    parse_daemon_options(daemon_mode::server, args, nullptr, "/opt/plugins");
    FAIL() << "accepted --auth pap with MPPE required";
  } catch (const option_error& e) {
    EXPECT_NE(std::string(e.what()).find("--mppe refused"), std::string::npos) << e.what();
  }
  args.insert(args.end(), {"--mppe", "refused"});
  EXPECT_EQ(parse_daemon_options(daemon_mode::server, args, nullptr, "/opt/plugins").mppe, "refused");
}

TEST(options, radius_replaces_the_secrets_file_and_names_what_it_needs) {
  const std::vector<std::string> radius{"--localip",        "10.0.0.1",        "--radius-server",
                                        "10.9.0.1",         "--radius-server", "10.9.0.2:11812:11813",
                                        "--radius-secrets", "radius"};
  const auto o = parse_daemon_options(daemon_mode::server, radius, nullptr, "plugins");
  ASSERT_EQ(o.radius_servers.size(), 2u);
  EXPECT_EQ(o.radius_servers[0].address, 0x0a090001u);
  EXPECT_EQ(o.radius_servers[0].auth_port, 1812u);
  EXPECT_EQ(o.radius_servers[0].acct_port, 1813u);
  EXPECT_EQ(o.radius_servers[1].auth_port, 11812u);
  EXPECT_EQ(o.radius_servers[1].acct_port, 11813u);
  EXPECT_TRUE(o.remoteip.empty());  // addresses may all come from RADIUS
  EXPECT_TRUE(o.radius_accounting);
  EXPECT_FALSE(o.dae_listen);

  auto more = radius;
  more.insert(more.end(), {"--radius-dae-client", "10.9.0.1", "--pool", "staff=10.1.0.10-19", "--radius-timeout", "2",
                           "--radius-tries", "2", "--radius-interim", "300", "--nas-identifier", "pptp-a",
                           "--radius-accounting", "no"});
  const auto m = parse_daemon_options(daemon_mode::server, more, nullptr, "plugins");
  ASSERT_TRUE(m.dae_listen);
  EXPECT_EQ(m.dae_listen->port, 3799u);  // RFC 5176 §3
  EXPECT_EQ(m.dae_clients, std::vector<std::uint32_t>{0x0a090001});
  EXPECT_EQ(m.pools.at("staff").size(), 1u);
  EXPECT_EQ(m.radius_timeout_s, 2u);
  EXPECT_EQ(m.radius_interim_s, 300u);
  EXPECT_EQ(m.nas_identifier, "pptp-a");
  EXPECT_FALSE(m.radius_accounting);

  EXPECT_NE(
      error_of(daemon_mode::server, {"--localip", "10.0.0.1", "--radius-server", "10.9.0.1"}).find("--radius-secrets"),
      std::string::npos);
  auto dae_alone = radius;
  dae_alone.insert(dae_alone.end(), {"--radius-dae", "0.0.0.0"});
  EXPECT_NE(error_of(daemon_mode::server, dae_alone).find("--radius-dae-client"), std::string::npos);
  auto bad_pool = radius;
  bad_pool.insert(bad_pool.end(), {"--pool", "10.1.0.1-5"});
  EXPECT_NE(error_of(daemon_mode::server, bad_pool).find("NAME=RANGE"), std::string::npos);
  EXPECT_NE(error_of(daemon_mode::server, {"--localip", "10.0.0.1", "--remoteip", "10.0.0.100-149"}).find("--secrets"),
            std::string::npos);
}

}  // namespace
