// tests/runtime/engine_fixture.hpp — the daemon end to end on the simulated platform: a server and
// several clients, each a real engine loading the control/gre/ppp plugins (the fakes, or the real ones
// with PPTPKIT_REAL_PLUGINS) through the real loader, over a seeded simulated network in virtual time.
// Set PPTPKIT_SIM_LOG=1 to see every host's log; a failing test prints its seed (PPTPKIT_SIM_SEED=n
// replays it). Included by each engine test file (one translation unit each).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pptpkit/runtime/cli.hpp"
#include "pptpkit/runtime/engine.hpp"
#include "pptpkit/runtime/secrets.hpp"
#include "pptpkit/testing/alloc_counter.hpp"
#include "pptpkit/testing/ipv4_header.hpp"
#include "pptpkit/testing/sim_platform.hpp"

namespace {

using namespace pptpkit::runtime;
using pptpkit::testing::hook_call;
using pptpkit::testing::seeded_link;
using pptpkit::testing::sim_host;
using pptpkit::testing::sim_network;
using pptpkit::testing::sim_tun;

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t s = 1'000'000'000;
#ifdef PPTPKIT_REAL_PLUGINS
// Real plugins: PPTP, LCP, MS-CHAPv2, IPCP and CCP, with RFC 1661's 3 s restart timer on a lossy link.
constexpr std::uint64_t lossy_settle = 20 * s;
constexpr bool real_plugins = true;
#else
constexpr std::uint64_t lossy_settle = 1 * s;  // the fakes answer at once and never retransmit
constexpr bool real_plugins = false;
#endif
constexpr std::uint32_t server_ip = 0xc0000201;  // 192.0.2.1

std::uint64_t test_seed() {
  const char* env = std::getenv("PPTPKIT_SIM_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 20261124;
}

// Per test (ctest runs tests in parallel): <tmp>/pptpkit_<test>_<name>.
std::string write_file(const std::string& name, const std::string& text) {
  const std::string path =
      ::testing::TempDir() + "/pptpkit_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
  std::ofstream(path) << text;
  return path;
}

// A well-formed IPv4 datagram (RFC 791: header with total length and checksum) whose payload is a
// marker the test recognises. Well-formed because MPPE delivers only what decrypts to a valid datagram.
std::vector<std::uint8_t> ping(std::uint32_t from, std::uint32_t to, std::uint8_t marker, std::size_t size = 84) {
  std::vector<std::uint8_t> p(size, marker);
  p[0] = 0x45;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(size >> 8);
  p[3] = static_cast<std::uint8_t>(size);
  p[4] = p[5] = p[6] = p[7] = 0;
  p[8] = 64;  // TTL
  p[9] = 1;   // ICMP
  p[10] = p[11] = 0;
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = static_cast<std::uint8_t>(from >> (24 - 8 * i));
    p[16 + i] = static_cast<std::uint8_t>(to >> (24 - 8 * i));
  }
  pptpkit::testing::set_ipv4_checksum(p.data());
  return p;
}

struct node {
  sim_host* host = nullptr;
  std::unique_ptr<engine> daemon;
  bool frozen = false;  // a hung process: never stepped again
  bool running() const { return daemon && !daemon->finished() && !frozen; }
};

class engine_test : public ::testing::Test {
 protected:
  engine_test() : net_(test_seed()) {
    secrets_ = write_file("secrets",
                          "# client server secret IP addresses\n"
                          "alice * alice-pw *\n"
                          "bob * bob-pw *\n"
                          "carol * carol-pw *\n"
                          "dave pptpd dave-pw 10.0.0.200\n"
                          "erin * erin-pw -\n");
  }

  void TearDown() override {
    if (HasFailure()) {
      std::printf("seed %llu (replay with PPTPKIT_SIM_SEED=%llu)\n", static_cast<unsigned long long>(net_.seed()),
                  static_cast<unsigned long long>(net_.seed()));
    }
  }

  daemon_options server_options() {
    daemon_options o;
    o.mode = daemon_mode::server;
    o.ifname = "pptp";
    o.plugin_dir = PLUGIN_DIR;
    o.listen = {server_ip, 1723};
    o.localip = 0x0a000001;
    o.remoteip = parse_ranges("10.0.0.100-102");
    o.secrets_path = secrets_;
    o.dns = {0x0a000035, 0x0a000036};
    o.ip_up = "/etc/ppp/ip-up";
    o.ip_down = "/etc/ppp/ip-down";
    o.status_socket = "/run/pptpkit-test.sock";
    o.log_level = 7;
    return o;
  }

  daemon_options client_options(const std::string& user, const std::string& password) {
    daemon_options o;
    o.mode = daemon_mode::client;
    o.ifname = "pptp0";
    o.plugin_dir = PLUGIN_DIR;
    o.server = {server_ip, 1723};
    o.user = user;
    o.password = password;
    o.holdoff_s = 1;
    o.ip_up = "/etc/ppp/ip-up";
    o.ip_down = "/etc/ppp/ip-down";
    o.log_level = 7;
    return o;
  }

  node& start(const std::string& name, std::uint32_t address, const daemon_options& o) {
    nodes_.push_back(std::make_unique<node>());
    node& n = *nodes_.back();
    n.host = &net_.add_host(name, address);
    n.daemon = engine::create(*n.host, o);
    std::string error;
    EXPECT_TRUE(n.daemon->start(error)) << error;
    return n;
  }

  node& start_server() { return start("server", server_ip, server_options()); }
  // Another machine with a plain TCP connection to the server's port 1723, for scripted bytes.
  std::pair<sim_host*, handle> raw_control_connection(const std::string& name = "attacker",
                                                      std::uint32_t address = 0xcb007101) {
    sim_host& attacker = net_.add_host(name, address);
    std::string error;
    const handle h = attacker.tcp_connect({server_ip, 1723}, error);
    run_for(10 * ms);
    return {&attacker, h};
  }
  node& start_client(const std::string& name, std::uint32_t address, const std::string& user,
                     const std::string& password) {
    return start(name, address, client_options(user, password));
  }

  // Steps every running daemon, then moves virtual time to the next delivery or deadline. Returns
  // whether `done` became true before `limit` of virtual time passed.
  bool run_until(const std::function<bool()>& done, std::uint64_t limit = 30 * s) {
    const std::uint64_t end = net_.now() + limit;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      if (done()) {
        return true;
      }
      step_all();
      bool busy = false;
      std::uint64_t next = net_.next_event();
      for (auto& n : nodes_) {
        if (n->running()) {
          // Time passes only in a wait that would block: not while something the daemon watches is
          // ready (it may have watched a readable handle again after this step's wait).
          busy = busy || n->host->last_ready > 0 || n->host->would_wake();
          next = std::min(next, n->daemon->next_deadline());
        }
      }
      if (busy) {
        continue;
      }
      if (next > end) {
        net_.advance_to(end);
        step_all();
        return done();
      }
      net_.advance_to(std::max(next, net_.now()));
    }
    ADD_FAILURE() << "the simulation did not settle";
    return false;
  }
  void step_all() {
    for (auto& n : nodes_) {
      if (n->running()) {
        const std::uint64_t sim_before = n->host->own_allocations;
        const pptpkit::testing::allocation_scope scope;
        n->daemon->step();
        daemon_allocations_ += scope.allocations() - (n->host->own_allocations - sim_before);
      }
    }
  }
  void run_for(std::uint64_t t) {
    run_until([] { return false; }, t);
  }

  static bool up(const node& n, std::size_t sessions = 1) { return n.host->count_logs("session up:") >= sessions; }

  // Sends a ping from a client's tun to the server and back; returns whether both arrived intact.
  bool ping_through(node& client, node& server, std::uint8_t marker) {
    sim_tun* ct = client.host->tun("pptp0");
    if (ct == nullptr) {
      return false;
    }
    const std::uint32_t local = ct->config.local;
    sim_tun* st = nullptr;
    for (int i = 0; i < 8 && st == nullptr; ++i) {
      sim_tun* t = server.host->tun("pptp" + std::to_string(i));
      if (t != nullptr && t->open && t->config.peer == local) {
        st = t;
      }
    }
    if (st == nullptr) {
      return false;
    }
    const auto out = ping(local, 0x0a000001, marker);
    ct->from_stack.push_back(out);
    const std::size_t before = st->to_stack.size();
    if (!run_until([&] { return st->to_stack.size() > before; }, 2 * s) || st->to_stack.back() != out) {
      return false;
    }
    const auto back = ping(0x0a000001, local, static_cast<std::uint8_t>(marker + 1));
    st->from_stack.push_back(back);
    const std::size_t cbefore = ct->to_stack.size();
    return run_until([&] { return ct->to_stack.size() > cbefore; }, 2 * s) && ct->to_stack.back() == back;
  }

  sim_network net_;
  std::uint64_t daemon_allocations_ = 0;  // heap allocations inside step(), the simulator's excluded
  std::string secrets_;
  std::vector<std::unique_ptr<node>> nodes_;
};

}  // namespace
