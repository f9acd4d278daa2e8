// The simulated platform's fault injection, which the runtime's tests rely on: accepts that fail with
// EMFILE (with and without shedding), a tun whose interface is deleted, and a tiny packet pool. Each
// fault must look to the runtime as it does on host-linux (see tests/host-linux for the real kernel).
#include "pptpkit/testing/sim_platform.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"

namespace pptpkit::testing {
namespace {

using runtime::batch_status;
using runtime::handle;
using runtime::io_status;

constexpr std::uint32_t kServer = 0xc0000201;  // 192.0.2.1
constexpr std::uint32_t kClient = 0xc0000202;

class sim_faults : public ::testing::Test {
 protected:
  sim_faults() : net(1), server(net.add_host("server", kServer)), client(net.add_host("client", kClient)) {}
  void settle() { net.advance_to(net.now() + 10 * net.tcp_delay_ns); }
  bool ready(sim_host& host, handle h, bool want_failed) {
    std::vector<runtime::readiness> r;
    host.wait(net.now(), r);
    for (const auto& x : r) {
      if (x.h == h) {
        return want_failed ? x.failed : x.readable;
      }
    }
    return false;
  }

  sim_network net;
  sim_host& server;
  sim_host& client;
  std::unique_ptr<core::packet_pool> pool = core::packet_pool::create({.packets = 8});
};

TEST_F(sim_faults, accept_out_of_descriptors_keeps_the_connection_queued_or_sheds_it) {
  std::string error;
  const handle listener = server.tcp_listen({kServer, 1723}, error);
  server.watch(listener, true, false);
  const handle a = client.tcp_connect({kServer, 1723}, error);
  const handle b = client.tcp_connect({kServer, 1723}, error);
  settle();

  server.accept_emfile = true;
  runtime::accept_result r = server.tcp_accept(listener);
  EXPECT_EQ(r.status, io_status::error);
  EXPECT_EQ(r.error, "accept: Too many open files");
  EXPECT_FALSE(r.shed);
  EXPECT_TRUE(ready(server, listener, false));  // still queued: a loop that keeps watching spins

  server.accept_sheds = true;
  r = server.tcp_accept(listener);
  EXPECT_EQ(r.status, io_status::error);
  EXPECT_TRUE(r.shed);
  settle();
  std::uint8_t buf[4];
  EXPECT_EQ(client.stream_read(a, buf).status, io_status::closed);  // the first one was closed cleanly

  server.accept_emfile = false;
  r = server.tcp_accept(listener);
  EXPECT_EQ(r.status, io_status::ok);
  EXPECT_EQ(r.peer.address, kClient);
  EXPECT_EQ(server.tcp_accept(listener).status, io_status::would_block);
  EXPECT_EQ(server.accept_calls, 4u);
  server.close(r.h);
  client.close(a);
  client.close(b);
}

TEST_F(sim_faults, datagrams_reach_the_bound_port_unless_the_host_is_deaf) {
  std::string error;
  const handle radius = server.udp_open({kServer, 1812}, error);
  ASSERT_NE(radius, runtime::invalid_handle) << error;
  EXPECT_EQ(server.udp_open({0, 1812}, error), runtime::invalid_handle);  // the port is taken
  const handle nas = client.udp_open({0, 0}, error);
  ASSERT_NE(nas, runtime::invalid_handle) << error;
  server.watch(radius, true, false);

  const std::uint8_t request[] = {1, 2, 3};
  ASSERT_EQ(client.udp_send(nas, {kServer, 1812}, request).status, io_status::ok);
  EXPECT_FALSE(ready(server, radius, false));  // in flight
  settle();
  ASSERT_TRUE(ready(server, radius, false));
  std::array<std::uint8_t, 8> in{};
  runtime::endpoint from;
  const auto r = server.udp_receive(radius, in, from);
  ASSERT_EQ(r.status, io_status::ok);
  EXPECT_EQ(r.bytes, 3u);
  EXPECT_EQ(from.address, kClient);
  EXPECT_NE(from.port, 0u);

  server.udp_deaf = true;
  ASSERT_EQ(client.udp_send(nas, {kServer, 1812}, request).status, io_status::ok);
  settle();
  EXPECT_FALSE(ready(server, radius, false));
  EXPECT_EQ(server.udp_received, 1u);
  server.close(radius);
  client.close(nas);
}

TEST_F(sim_faults, a_deleted_tun_fails_every_read_and_write_and_wait_reports_it) {
  std::string name, error;
  const handle tun = server.tun_open({"pptp0", 1400, 1, 2}, name, error);
  server.watch(tun, true, false);
  sim_tun* t = server.tun("pptp0");
  t->from_stack.push_back({0x45, 0, 0, 20});
  t->gone = true;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(ready(server, tun, true));
    EXPECT_FALSE(ready(server, tun, false));
    core::packet_list in;
    const runtime::batch_result r = server.tun_read(tun, *pool, in, 64);
    EXPECT_EQ(r.status, batch_status::failed);
    EXPECT_EQ(r.error, "TUN read: File descriptor in bad state");
    core::packet_list out;
    out.push_back(*pool->alloc());
    const runtime::batch_result w = server.tun_write(tun, out);
    EXPECT_EQ(w.status, batch_status::failed);
    EXPECT_EQ(w.packets, 0u);
  }
  EXPECT_EQ(t->reads, 3u);
  EXPECT_TRUE(t->to_stack.empty());
  EXPECT_EQ(pool->available(), pool->capacity());
  server.close(tun);
}

TEST_F(sim_faults, a_tiny_pool_leaves_packets_queued_and_says_pool_empty) {
  std::string error;
  const handle gre_server = server.gre_open(kServer, error);
  const handle gre_client = client.gre_open(kClient, error);
  server.watch(gre_server, true, false);
  auto sender_pool = core::packet_pool::create({.packets = 8});
  core::packet_list out;
  for (int i = 0; i < 3; ++i) {
    pptpkit_packet* p = sender_pool->alloc();
    std::memset(core::put(*p, 16), i, 16);
    p->aux = kServer;
    out.push_back(*p);
  }
  client.gre_send(gre_client, out);
  settle();

  server.pool_cap = 0;
  core::packet_list in;
  runtime::batch_result r = server.gre_receive(gre_server, *pool, in, 64);
  EXPECT_EQ(r.packets, 0u);
  EXPECT_EQ(r.status, batch_status::pool_empty);
  EXPECT_EQ(pool->available(), 0u);               // the daemon's own allocations fail too
  EXPECT_TRUE(ready(server, gre_server, false));  // the datagrams wait

  server.pool_cap = 2;
  r = server.gre_receive(gre_server, *pool, in, 64);
  EXPECT_EQ(r.packets, 2u);
  EXPECT_EQ(r.status, batch_status::pool_empty);
  pool->free_list(in);
  server.release_pool();
  r = server.gre_receive(gre_server, *pool, in, 64);
  EXPECT_EQ(r.packets, 1u);
  EXPECT_EQ(r.status, batch_status::ok);
  pool->free_list(in);
  EXPECT_EQ(pool->available(), pool->capacity());
  EXPECT_EQ(server.gre_receive_calls, 3u);
}

TEST_F(sim_faults, local_listen_refuses_a_file_and_a_live_socket) {
  server.files["/run/status"] = {"not a socket", 0644};
  std::string error;
  EXPECT_EQ(server.local_listen("/run/status", error), runtime::invalid_handle);
  EXPECT_EQ(error, "listen on /run/status: /run/status exists and is not a socket (refusing to replace it)");
  const handle live = server.local_listen("/run/live", error);
  ASSERT_NE(live, runtime::invalid_handle);
  EXPECT_EQ(server.local_listen("/run/live", error), runtime::invalid_handle);
  server.close(live);
}

TEST_F(sim_faults, private_files_are_read_with_a_warning_about_their_mode_or_refused) {
  server.files["/etc/ppp/chap-secrets"] = {"alice * pw *\n", 0644, true};
  std::string content, warning, error;
  ASSERT_TRUE(server.read_private_file("/etc/ppp/chap-secrets", content, warning, error)) << error;
  EXPECT_EQ(content, "alice * pw *\n");
  EXPECT_EQ(warning, "/etc/ppp/chap-secrets is mode 0644 (readable by others): a secrets file should be 0600 or 0640");
  server.files["/etc/ppp/chap-secrets"].readable = false;
  EXPECT_FALSE(server.read_private_file("/etc/ppp/chap-secrets", content, warning, error));
  EXPECT_EQ(error, "/etc/ppp/chap-secrets: cannot open: Permission denied");
  EXPECT_EQ(server.private_reads, 2u);
}

}  // namespace
}  // namespace pptpkit::testing
