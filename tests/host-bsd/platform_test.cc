// bsd_platform over the fake system-call layer: what the runtime sees through platform.hpp.
#include <gtest/gtest.h>

#include <limits>

#include "fake_sys.hpp"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/host_bsd/bsd_platform.hpp"

namespace pptpkit::host_bsd {
namespace {

using testing::fake_sys;

class platform_test : public ::testing::Test {
 protected:
  void SetUp() override { make({}); }
  void make(const platform_options& options) {
    auto owned = std::make_unique<fake_sys>(freebsd);
    sys = owned.get();
    platform = bsd_platform::create(std::move(owned), options);
    sys->changes.clear();
  }
  fake_sys* sys = nullptr;
  std::unique_ptr<bsd_platform> platform;
};

TEST_F(platform_test, create_fails_with_the_kqueue_error) {
  auto owned = std::make_unique<fake_sys>(freebsd);
  owned->fail("kqueue", 24);
  EXPECT_THROW(bsd_platform::create(std::move(owned), {}), std::runtime_error);
}

TEST_F(platform_test, tcp_listen_reports_errors_with_the_address) {
  sys->fail("bind", 48, 12);  // fd 10 is the kqueue, 11 the reserve descriptor
  std::string error;
  EXPECT_EQ(platform->tcp_listen({0, 1723}, error), runtime::invalid_handle);
  EXPECT_EQ(error, "listen 0.0.0.0:1723: error 48");
  EXPECT_TRUE(sys->is_closed(12));
  const runtime::handle h = platform->tcp_listen({0x7f000001, 1723}, error);
  EXPECT_NE(h, runtime::invalid_handle);
  EXPECT_NE(sys->fd_flags[h] & freebsd.o_nonblock, 0);
}

TEST_F(platform_test, tcp_accept_fills_both_endpoints) {
  const runtime::accept_result a = platform->tcp_accept(3);
  EXPECT_EQ(a.status, runtime::io_status::ok);
  EXPECT_NE(a.h, runtime::invalid_handle);
  EXPECT_EQ(a.peer, (runtime::endpoint{0xc0000202, 40000}));
  EXPECT_EQ(a.local, (runtime::endpoint{0xc0000201, 1723}));
  sys->fail("accept", freebsd.eagain);
  EXPECT_EQ(platform->tcp_accept(3).status, runtime::io_status::would_block);
  sys->fail("accept", freebsd.econnaborted);  // that one was reset: the next one is taken
  EXPECT_EQ(platform->tcp_accept(3).status, runtime::io_status::ok);
}

// Row 6 of issue 14: EMFILE leaves the connection queued and the listener readable. The reserve
// descriptor (fd 11, opened by create) is given up for one accept, that connection closed at once, and
// /dev/null opened again.
TEST_F(platform_test, accept_out_of_descriptors_spends_the_reserve_on_the_pending_connection) {
  ASSERT_EQ(sys->opened, (std::vector<std::string>{"/dev/null"}));
  sys->fail("accept", freebsd.emfile);
  const runtime::accept_result a = platform->tcp_accept(3);
  EXPECT_EQ(a.status, runtime::io_status::error);
  EXPECT_EQ(a.error, "accept: error 24");
  EXPECT_TRUE(a.shed);
  EXPECT_EQ(sys->closed, (std::vector<fd_t>{11, 12}));  // the reserve, then the connection taken with it
  EXPECT_EQ(sys->opened, (std::vector<std::string>{"/dev/null", "/dev/null"}));
  EXPECT_EQ(platform->counters().accept_shed, 1u);

  // Nothing was waiting after all (accept takes a descriptor before it looks at the queue).
  sys->fail("accept", freebsd.enfile);
  sys->fail("accept", freebsd.eagain);
  EXPECT_EQ(platform->local_accept(3).status, runtime::io_status::would_block);
  EXPECT_EQ(platform->counters().accept_exhausted, 1u);

  // ENOBUFS has no reserve to spend: reported, nothing closed.
  sys->closed.clear();
  sys->fail("accept", freebsd.enobufs);
  const runtime::accept_result b = platform->tcp_accept(3);
  EXPECT_EQ(b.status, runtime::io_status::error);
  EXPECT_FALSE(b.shed);
  EXPECT_TRUE(sys->closed.empty());
}

TEST_F(platform_test, tcp_connect_in_progress_is_not_an_error_and_so_error_decides) {
  sys->fail("connect", freebsd.einprogress);
  std::string error;
  const runtime::handle h = platform->tcp_connect({0xc0000201, 1723}, error);
  ASSERT_NE(h, runtime::invalid_handle) << error;
  sys->fail("so_error", 61, h);
  runtime::endpoint local;
  EXPECT_FALSE(platform->tcp_connected(h, local, error));
  EXPECT_EQ(error, "connect: error 61");
  EXPECT_TRUE(platform->tcp_connected(h, local, error));
  EXPECT_EQ(local.port, 1723);
}

// Row 13 of issue 14: the status socket's path is taken over only from a crashed daemon (a socket that
// refuses connections); a file, a directory, a symlink or a live daemon's socket is left alone.
TEST_F(platform_test, local_listen_replaces_only_a_stale_socket) {
  const std::string path = "/var/run/pptpkit.sock";
  const std::string refused = "listen " + path + ": " + path + " exists and is not a socket (refusing to replace it)";
  std::string error;
  for (const file_type type : {file_type::regular, file_type::directory, file_type::symlink}) {
    sys->paths[path] = {.type = type, .mode = 0644, .size = 12, .device = 1, .inode = 7};
    EXPECT_EQ(platform->local_listen(path, error), runtime::invalid_handle);
    EXPECT_EQ(error, refused);
  }
  sys->paths[path] = {.type = file_type::socket, .mode = 0600, .size = 0, .device = 1, .inode = 8};
  EXPECT_EQ(platform->local_listen(path, error), runtime::invalid_handle);  // it accepts: alive
  EXPECT_EQ(error, "listen " + path + ": another process is listening there");
  sys->fail("connect", freebsd.eagain);  // alive, its queue full
  EXPECT_EQ(platform->local_listen(path, error), runtime::invalid_handle);
  EXPECT_EQ(error, "listen " + path + ": another process is listening there");
  sys->fail("connect", freebsd.eacces);
  EXPECT_EQ(platform->local_listen(path, error), runtime::invalid_handle);
  EXPECT_EQ(error, "listen " + path + ": cannot tell whether the socket is in use: error 13");
  EXPECT_TRUE(sys->unlinked.empty());

  sys->fail("connect", freebsd.econnrefused);  // nobody answers: a crashed daemon's leftover
  EXPECT_NE(platform->local_listen(path, error), runtime::invalid_handle) << error;
  EXPECT_EQ(sys->unlinked, (std::vector<std::string>{path}));
  EXPECT_NE(platform->local_listen("/var/run/other.sock", error), runtime::invalid_handle) << error;  // free
  EXPECT_EQ(sys->unlinked.size(), 1u);
}

TEST_F(platform_test, read_private_file_reads_a_regular_file_and_warns_about_its_mode) {
  const std::string path = "/usr/local/etc/ppp/chap-secrets";
  sys->paths[path] = {.type = file_type::regular, .mode = 0600, .size = 17, .device = 1, .inode = 9};
  sys->contents[path] = "alice * secret *\n";
  std::string content, warning, error;
  ASSERT_TRUE(platform->read_private_file(path, content, warning, error)) << error;
  EXPECT_EQ(content, "alice * secret *\n");
  EXPECT_EQ(warning, "");
  sys->paths[path].mode = 0664;
  ASSERT_TRUE(platform->read_private_file(path, content, warning, error)) << error;
  EXPECT_EQ(warning, path +
                         " is mode 0664 (readable by others, writable by its group): a secrets file should be 0600 "
                         "or 0640");

  sys->paths["/dev/tun0"] = {.type = file_type::other, .mode = 0600, .size = 0, .device = 1, .inode = 3};
  EXPECT_FALSE(platform->read_private_file("/dev/tun0", content, warning, error));
  EXPECT_EQ(error, "/dev/tun0: not a regular file");
  sys->fail_open("/nowhere", freebsd.enoent);
  EXPECT_FALSE(platform->read_private_file("/nowhere", content, warning, error));
  EXPECT_EQ(error, "/nowhere: cannot open: error 2");
  EXPECT_EQ(content, "alice * secret *\n");  // unchanged on failure
}

TEST_F(platform_test, stream_read_maps_eof_would_block_and_errors) {
  std::array<std::uint8_t, 16> buf{};
  EXPECT_EQ(platform->stream_read(20, buf).status, runtime::io_status::would_block);
  sys->inbox(20).push_back({{}});
  EXPECT_EQ(platform->stream_read(20, buf).status, runtime::io_status::closed);
  sys->inbox(20).push_back({{1, 2, 3}});
  const auto ok = platform->stream_read(20, buf);
  EXPECT_EQ(ok.status, runtime::io_status::ok);
  EXPECT_EQ(ok.bytes, 3u);
  sys->fail("read", 54, 20);
  const auto err = platform->stream_read(20, buf);
  EXPECT_EQ(err.status, runtime::io_status::error);
  EXPECT_EQ(err.error, "read: error 54");
}

TEST_F(platform_test, tun_close_destroys_the_cloned_interface_and_routes_go_via_the_peer) {
  std::string name, error;
  const runtime::handle h = platform->tun_open({.name = "pptp0", .local = 0x0a000001, .peer = 0x0a000002}, name, error);
  ASSERT_NE(h, runtime::invalid_handle) << error;
  EXPECT_EQ(name, "pptp0");
  ASSERT_TRUE(platform->tun_add_route(h, {.destination = 0xc0a80a07, .prefix_length = 24}, error)) << error;
  ASSERT_TRUE(platform->tun_add_route(h, {.destination = 0, .prefix_length = 0}, error)) << error;
  ASSERT_EQ(sys->routes.size(), 2u);
  EXPECT_EQ(sys->routes[0], std::make_tuple(0xc0a80a00u, 0xffffff00u, 0x0a000002u));
  EXPECT_EQ(sys->routes[1], std::make_tuple(0u, 0u, 0x0a000002u));
  sys->fail("route", 17);
  EXPECT_FALSE(platform->tun_add_route(h, {.destination = 0x0a0a0000, .prefix_length = 16}, error));
  EXPECT_EQ(error, "route add 10.10.0.0/16 via 10.0.0.2 (pptp0): error 17");
  platform->watch(h, true, false);
  platform->close(h);
  EXPECT_TRUE(sys->is_closed(h));
  EXPECT_EQ(sys->ioctls.back().request, freebsd.siocifdestroy);
  EXPECT_EQ(sys->ioctls.back().ifreq->name, "pptp0");
}

TEST_F(platform_test, gre_handles_close_both_sockets_in_divert_mode) {
  make({.capture = {.mode = capture_mode::divert, .divert_port = 8668}});
  std::string error;
  const runtime::handle h = platform->gre_open(0, error);
  ASSERT_NE(h, runtime::invalid_handle) << error;
  EXPECT_EQ(sys->binds.back().second.port, 8668);
  platform->close(h);
  EXPECT_EQ(sys->closed.size(), 2u);
}

TEST_F(platform_test, wait_turns_the_deadline_into_a_timeout) {
  std::vector<runtime::readiness> ready;
  sys->now = 1'000'000;
  platform->wait(std::numeric_limits<std::uint64_t>::max(), ready);
  EXPECT_EQ(sys->timeouts.back(), -1);
  platform->wait(500, ready);  // already passed
  EXPECT_EQ(sys->timeouts.back(), 0);
  platform->wait(4'000'000, ready);
  EXPECT_EQ(sys->timeouts.back(), 3'000'000);
}

TEST_F(platform_test, logs_one_line_per_event_on_stderr) {
  platform->log(PPTPKIT_LOG_NOTICE, "runtime", "[7] session up: user=alice");
  ASSERT_EQ(sys->logs.size(), 1u);
  EXPECT_EQ(sys->logs[0], "notice runtime: [7] session up: user=alice\n");
}

TEST_F(platform_test, hook_failures_are_logged) {
  sys->fail("spawn", 2);
  platform->run_hook("/etc/ppp/ip-up", {"pptp0"}, {});
  ASSERT_EQ(sys->logs.size(), 1u);
  EXPECT_NE(sys->logs[0].find("hook /etc/ppp/ip-up: error 2"), std::string::npos);
}

TEST_F(platform_test, switching_users_is_refused_with_the_reason) {
  std::string error;
  EXPECT_TRUE(platform->drop_privileges("", error));
  EXPECT_FALSE(platform->drop_privileges("nobody", error));
  EXPECT_NE(error.find("not supported on BSD"), std::string::npos);
}

}  // namespace
}  // namespace pptpkit::host_bsd
