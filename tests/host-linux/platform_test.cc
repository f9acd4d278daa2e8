// Tests of the Linux platform that need no privileges: IP header stripping, clock, randomness, logs,
// TCP and unix stream sockets over loopback, signals, deadlines, hooks, the plugin directory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pptpkit/abi.h"
#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/host_linux/linux_platform.hpp"

namespace pptpkit::host_linux {
namespace {

using runtime::endpoint;
using runtime::handle;
using runtime::io_status;

constexpr std::uint32_t kLoopback = 0x7f000001;
constexpr std::uint64_t kSecond = 1000000000u;

// A scratch directory removed at the end of the test.
struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/pptpkit-host-linux-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits (bounded) until `h` reports the wanted readiness; false on timeout.
bool wait_for(linux_platform& p, handle h, bool writable, std::uint64_t timeout_ns = 5 * kSecond) {
  const std::uint64_t end = p.now_ns() + timeout_ns;
  std::vector<runtime::readiness> ready;
  while (p.now_ns() < end) {
    ready.clear();
    p.wait(end, ready);
    for (const auto& r : ready) {
      if (r.h == h && (writable ? r.writable || r.failed : r.readable || r.failed)) {
        return true;
      }
    }
  }
  return false;
}

std::uint16_t port_of(handle h) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  ::getsockname(h, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// --- strip_ipv4_header ---

class strip_test : public ::testing::Test {
 protected:
  void SetUp() override { pool_ = core::packet_pool::create({.packets = 4}); }
  // A datagram as a raw socket delivers it: IPv4 header with IHL words, then `payload` bytes of 0xab.
  pptpkit_packet& datagram(std::uint8_t version_ihl, std::uint32_t payload, std::uint16_t ip_len = 0) {
    pptpkit_packet* p = pool_->alloc();
    std::uint8_t* b = core::data(*p);
    const std::uint32_t header = (version_ihl & 0x0f) * 4u;
    std::memset(b, 0, header);
    b[0] = version_ihl;
    b[2] = static_cast<std::uint8_t>(ip_len >> 8);
    b[3] = static_cast<std::uint8_t>(ip_len);
    std::memset(b + header, 0xab, payload);
    received_ = header + payload;
    packet_ = p;
    return *p;
  }
  void TearDown() override {
    if (packet_ != nullptr) {
      pool_->free(packet_);
    }
  }
  std::unique_ptr<core::packet_pool> pool_;
  pptpkit_packet* packet_ = nullptr;
  std::uint32_t received_ = 0;
};

TEST_F(strip_test, plain_header_is_pulled) {
  pptpkit_packet& p = datagram(0x45, 100);
  const std::uint32_t offset = p.offset;
  ASSERT_TRUE(strip_ipv4_header(p, received_));
  EXPECT_EQ(p.offset, offset + 20);
  EXPECT_EQ(p.length, 100u);
  EXPECT_EQ(core::data(p)[0], 0xab);
}

TEST_F(strip_test, options_are_pulled_with_the_header) {
  pptpkit_packet& p = datagram(0x47, 50);  // IHL 7: 8 bytes of options
  ASSERT_TRUE(strip_ipv4_header(p, received_));
  EXPECT_EQ(p.length, 50u);
  EXPECT_EQ(core::data(p)[0], 0xab);
}

TEST_F(strip_test, total_length_field_is_not_trusted) {
  pptpkit_packet& p = datagram(0x45, 30, 9000);  // ip_len claims 9000 bytes
  ASSERT_TRUE(strip_ipv4_header(p, received_));
  EXPECT_EQ(p.length, 30u);
  pptpkit_packet& q = datagram(0x45, 30, 4);  // and here fewer than the header
  ASSERT_TRUE(strip_ipv4_header(q, received_));
  EXPECT_EQ(q.length, 30u);
  pool_->free(&p);
}

TEST_F(strip_test, malformed_headers_are_refused_untouched) {
  struct bad {
    std::uint8_t version_ihl;
    std::uint32_t payload;
    std::int32_t received_delta;
  };
  for (const bad b : {bad{0x44, 40, 0}, bad{0x40, 40, 0}, bad{0x65, 40, 0}, bad{0x4f, 0, -1}, bad{0x45, 0, -1}}) {
    pptpkit_packet& p = datagram(b.version_ihl, b.payload);
    const std::uint32_t offset = p.offset;
    const auto received = static_cast<std::uint32_t>(static_cast<std::int32_t>(received_) + b.received_delta);
    EXPECT_FALSE(strip_ipv4_header(p, received)) << std::hex << int(b.version_ihl);
    EXPECT_EQ(p.offset, offset);
    pool_->free(packet_);
    packet_ = nullptr;
  }
  pptpkit_packet& p = datagram(0x45, 0);
  EXPECT_FALSE(strip_ipv4_header(p, 10));                         // shorter than any header
  EXPECT_FALSE(strip_ipv4_header(p, p.capacity - p.offset + 1));  // more than the buffer holds
}

// --- clock, randomness, logs ---

TEST(linux_platform, clock_is_monotonic_and_random_bytes_vary) {
  auto p = linux_platform::create();
  const std::uint64_t a = p->now_ns();
  const std::uint64_t b = p->now_ns();
  EXPECT_LE(a, b);
  std::array<std::uint8_t, 32> x{};
  std::array<std::uint8_t, 32> y{};
  p->random_bytes(x);
  p->random_bytes(y);
  EXPECT_NE(x, y);
}

TEST(linux_platform, log_lines_carry_level_and_component_and_respect_the_level) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  auto p = linux_platform::create({.log_level = PPTPKIT_LOG_INFO, .log_fd = fds[1]});
  p->log(PPTPKIT_LOG_WARNING, "s42", "no GRE from the peer");
  p->log(PPTPKIT_LOG_DEBUG, "s42", "not shown");
  char buf[512] = {};
  const ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ASSERT_GT(n, 0);
  const std::string text(buf, static_cast<std::size_t>(n));
  EXPECT_NE(text.find("warning s42: no GRE from the peer\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("not shown"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

// --- stream sockets ---

TEST(linux_platform, tcp_connect_accept_and_exchange_over_loopback) {
  auto p = linux_platform::create();
  std::string error;
  const handle listener = p->tcp_listen({kLoopback, 0}, error);
  ASSERT_GE(listener, 0) << error;
  const std::uint16_t port = port_of(listener);

  const handle client = p->tcp_connect({kLoopback, port}, error);
  ASSERT_GE(client, 0) << error;
  p->watch(client, false, true);
  ASSERT_TRUE(wait_for(*p, client, true));
  endpoint client_local;
  ASSERT_TRUE(p->tcp_connected(client, client_local, error)) << error;
  EXPECT_EQ(client_local.address, kLoopback);

  p->watch(listener, true, false);
  ASSERT_TRUE(wait_for(*p, listener, false));
  const runtime::accept_result accepted = p->tcp_accept(listener);
  ASSERT_EQ(accepted.status, io_status::ok) << accepted.error;
  const handle server = accepted.h;
  ASSERT_GE(server, 0);
  EXPECT_EQ(accepted.peer, client_local);
  EXPECT_EQ(accepted.local, (endpoint{kLoopback, port}));
  EXPECT_EQ(p->tcp_accept(listener).status, io_status::would_block);  // nothing else pending

  const std::uint8_t hello[] = {0x00, 0x9c, 0x00, 0x01};
  auto w = p->stream_write(client, hello);
  ASSERT_EQ(w.status, io_status::ok);
  EXPECT_EQ(w.bytes, sizeof(hello));
  p->watch(server, true, false);
  ASSERT_TRUE(wait_for(*p, server, false));
  std::array<std::uint8_t, 16> in{};
  auto r = p->stream_read(server, in);
  ASSERT_EQ(r.status, io_status::ok);
  ASSERT_EQ(r.bytes, sizeof(hello));
  EXPECT_EQ(std::memcmp(in.data(), hello, sizeof(hello)), 0);
  EXPECT_EQ(p->stream_read(server, in).status, io_status::would_block);

  p->close(client);
  ASSERT_TRUE(wait_for(*p, server, false));
  EXPECT_EQ(p->stream_read(server, in).status, io_status::closed);
  p->close(server);
  p->close(listener);
}

TEST(linux_platform, udp_datagrams_carry_their_sender_and_an_oversized_one_is_reported_empty) {
  auto p = linux_platform::create();
  std::string error;
  const handle a = p->udp_open({kLoopback, 0}, error);
  ASSERT_GE(a, 0) << error;
  const handle b = p->udp_open({kLoopback, 0}, error);
  ASSERT_GE(b, 0) << error;
  const endpoint to_b{kLoopback, port_of(b)};
  std::array<std::uint8_t, 32> in{};
  endpoint from;
  EXPECT_EQ(p->udp_receive(b, in, from).status, io_status::would_block);

  const std::uint8_t request[] = {1, 7, 0, 20};
  ASSERT_EQ(p->udp_send(a, to_b, request).status, io_status::ok);
  p->watch(b, true, false);
  ASSERT_TRUE(wait_for(*p, b, false));
  auto r = p->udp_receive(b, in, from);
  ASSERT_EQ(r.status, io_status::ok);
  ASSERT_EQ(r.bytes, sizeof(request));
  EXPECT_EQ(std::memcmp(in.data(), request, sizeof(request)), 0);
  EXPECT_EQ(from, (endpoint{kLoopback, port_of(a)}));

  const std::vector<std::uint8_t> big(64, 0xab);  // longer than `in`: discarded, not cut
  ASSERT_EQ(p->udp_send(a, to_b, big).status, io_status::ok);
  ASSERT_TRUE(wait_for(*p, b, false));
  r = p->udp_receive(b, in, from);
  EXPECT_EQ(r.status, io_status::ok);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_EQ(p->udp_receive(b, in, from).status, io_status::would_block);
  p->close(a);
  p->close(b);
}

TEST(linux_platform, refused_connect_is_reported_with_the_reason) {
  auto p = linux_platform::create();
  std::string error;
  const handle listener = p->tcp_listen({kLoopback, 0}, error);
  const std::uint16_t port = port_of(listener);
  p->close(listener);  // nobody listens there any more

  const handle client = p->tcp_connect({kLoopback, port}, error);
  ASSERT_GE(client, 0) << error;
  p->watch(client, false, true);
  ASSERT_TRUE(wait_for(*p, client, true));
  endpoint local;
  EXPECT_FALSE(p->tcp_connected(client, local, error));
  EXPECT_NE(error.find("Connection refused"), std::string::npos) << error;
  p->close(client);
}

// Row 6 of issue 14: with every descriptor in use, accept fails with EMFILE and the connection stays in
// the backlog, so a level-triggered listener stays readable. The host spends its reserve descriptor on the
// pending connection (the peer reads a clean end of stream), says so, and takes the reserve back.
TEST(linux_platform, accept_out_of_descriptors_sheds_the_connection_and_keeps_the_reserve) {
  auto p = linux_platform::create();
  std::string error;
  const handle listener = p->tcp_listen({kLoopback, 0}, error);
  ASSERT_GE(listener, 0) << error;
  const std::uint16_t port = port_of(listener);
  std::vector<handle> clients;
  for (int i = 0; i < 2; ++i) {
    clients.push_back(p->tcp_connect({kLoopback, port}, error));
    ASSERT_GE(clients.back(), 0) << error;
    p->watch(clients.back(), false, true);
    ASSERT_TRUE(wait_for(*p, clients.back(), true));  // established: both wait in the backlog
  }

  // Fill the descriptor table: lower the soft limit just above what is open, then take the rest.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int fd = 0; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
    filler.push_back(fd);
  }
  ASSERT_EQ(errno, EMFILE);

  std::vector<runtime::accept_result> results;
  for (int i = 0; i < 3; ++i) {
    results.push_back(p->tcp_accept(listener));
  }
  for (int fd : filler) {
    ::close(fd);
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);

  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(results[i].status, io_status::error) << i;
    EXPECT_EQ(results[i].error, "accept: Too many open files") << i;
    EXPECT_TRUE(results[i].shed) << i;
  }
  // The backlog is empty now: EMFILE from accept(2) says nothing about a waiting connection.
  EXPECT_EQ(results[2].status, io_status::would_block) << results[2].error;
  EXPECT_EQ(p->counters().accept_shed, 2u);
  EXPECT_EQ(p->counters().accept_exhausted, 2u);
  for (handle c : clients) {
    p->watch(c, true, false);
    ASSERT_TRUE(wait_for(*p, c, false));
    std::array<std::uint8_t, 4> in{};
    EXPECT_EQ(p->stream_read(c, in).status, io_status::closed);  // a FIN, not a reset or a hang
    p->close(c);
  }
  p->close(listener);
}

TEST(linux_platform, listening_on_a_taken_port_names_the_address) {
  auto p = linux_platform::create();
  std::string error;
  const handle first = p->tcp_listen({kLoopback, 0}, error);
  const std::uint16_t port = port_of(first);
  EXPECT_EQ(p->tcp_listen({kLoopback, port}, error), runtime::invalid_handle);
  EXPECT_EQ(error, "listen 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  p->close(first);
}

TEST(linux_platform, local_socket_round_trip_and_stale_file_replaced) {
  temp_dir dir;
  const std::string path = dir.path + "/status.sock";
  auto p = linux_platform::create();
  std::string error;
  handle listener = p->local_listen(path, error);
  ASSERT_GE(listener, 0) << error;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const handle client = p->local_connect(path, error);
  ASSERT_GE(client, 0) << error;
  p->watch(listener, true, false);
  ASSERT_TRUE(wait_for(*p, listener, false));
  const handle server = p->local_accept(listener).h;
  ASSERT_GE(server, 0);
  const std::uint8_t status[] = {'s', 't', 'a', 't', 'u', 's', '\n'};
  ASSERT_EQ(p->stream_write(client, status).bytes, sizeof(status));
  p->watch(server, true, false);
  ASSERT_TRUE(wait_for(*p, server, false));
  std::array<std::uint8_t, 16> in{};
  EXPECT_EQ(p->stream_read(server, in).bytes, sizeof(status));
  EXPECT_EQ(p->stream_read(client, in).status, io_status::would_block);  // non-blocking after connect
  p->close(server);
  p->close(client);
  EXPECT_EQ(p->local_listen(path, error), runtime::invalid_handle);  // a live daemon owns it
  EXPECT_NE(error.find("another process is listening"), std::string::npos) << error;
  p->close(listener);  // the file stays behind, as after a crash

  listener = p->local_listen(path, error);
  EXPECT_GE(listener, 0) << error;
  p->close(listener);
  EXPECT_EQ(p->local_connect(dir.path + "/absent.sock", error), runtime::invalid_handle);
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

// Row 13 of issue 14: `--status-socket` naming a regular file deleted it and put the socket there. Only a
// stale socket (nobody accepts on it) is replaced; a file, a directory or a symlink — even one that
// points at a stale socket — is refused and left as it was.
TEST(linux_platform, status_socket_never_replaces_what_is_not_a_stale_socket) {
  temp_dir dir;
  auto p = linux_platform::create();
  std::string error;
  const std::string file = dir.path + "/chap-secrets";
  { std::ofstream(file) << "alice * secret *\n"; }
  EXPECT_EQ(p->local_listen(file, error), runtime::invalid_handle);
  EXPECT_EQ(error, "listen on " + file + ": " + file + " exists and is not a socket (refusing to replace it)");
  EXPECT_EQ(read_file(file), "alice * secret *\n");

  const std::string subdir = dir.path + "/run";
  ASSERT_EQ(::mkdir(subdir.c_str(), 0700), 0);
  EXPECT_EQ(p->local_listen(subdir, error), runtime::invalid_handle);
  EXPECT_NE(error.find("is not a socket"), std::string::npos) << error;

  const std::string stale = dir.path + "/stale.sock";
  handle listener = p->local_listen(stale, error);
  ASSERT_GE(listener, 0) << error;
  p->close(listener);  // the file stays: a stale socket
  const std::string link = dir.path + "/link.sock";
  ASSERT_EQ(::symlink(stale.c_str(), link.c_str()), 0);
  EXPECT_EQ(p->local_listen(link, error), runtime::invalid_handle);
  EXPECT_NE(error.find("is not a socket"), std::string::npos) << error;
  struct stat st {};
  EXPECT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));

  listener = p->local_listen(stale, error);  // the stale socket itself is replaced
  EXPECT_GE(listener, 0) << error;
  p->close(listener);
}

// Row 12 and item 6 of issue 14: the secrets file is read through the platform, which says when its mode
// lets others read it or anyone but its owner write it; a FIFO is refused without blocking.
TEST(linux_platform, private_file_is_read_with_a_warning_about_its_mode) {
  temp_dir dir;
  auto p = linux_platform::create();
  const std::string path = dir.path + "/chap-secrets";
  { std::ofstream(path) << "alice * secret *\n"; }
  std::string content, warning, error;
  const std::pair<mode_t, std::string> cases[] = {
      {0600, ""},
      {0640, ""},
      {0644, "readable by others"},
      {0620, "writable by its group"},
      {0602, "writable by others"},
  };
  for (const auto& [mode, what] : cases) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    ASSERT_TRUE(p->read_private_file(path, content, warning, error)) << error;
    EXPECT_EQ(content, "alice * secret *\n");
    if (what.empty()) {
      EXPECT_EQ(warning, "") << std::oct << mode;
    } else {
      char octal[8];
      std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
      EXPECT_EQ(warning, path + " is mode " + octal + " (" + what + "): a secrets file should be 0600 or 0640");
    }
  }
  const std::string fifo = dir.path + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(p->read_private_file(fifo, content, warning, error));
  EXPECT_EQ(error, fifo + ": not a regular file");
  EXPECT_FALSE(p->read_private_file(dir.path + "/absent", content, warning, error));
  EXPECT_EQ(error, dir.path + "/absent: cannot open: No such file or directory");
  EXPECT_EQ(content, "alice * secret *\n");  // unchanged on failure
}

// --- signals and deadlines ---

TEST(linux_platform, signals_wake_the_wait_and_are_reported_once) {
  auto p = linux_platform::create();
  std::vector<runtime::readiness> ready;
  struct expectation {
    int signal;
    std::uint32_t flag;
  };
  for (const expectation e : {expectation{SIGUSR1, runtime::signal_status}, expectation{SIGHUP, runtime::signal_reload},
                              expectation{SIGTERM, runtime::signal_stop}, expectation{SIGINT, runtime::signal_stop}}) {
    ASSERT_EQ(::raise(e.signal), 0);
    const std::uint64_t start = p->now_ns();
    p->wait(start + 10 * kSecond, ready);
    EXPECT_LT(p->now_ns() - start, 5 * kSecond) << "signal " << e.signal << " did not wake wait()";
    EXPECT_EQ(p->take_signals(), e.flag) << "signal " << e.signal;
    EXPECT_EQ(p->take_signals(), 0u);
  }
  EXPECT_TRUE(ready.empty());
  ::raise(SIGHUP);  // also reported without a wait() in between
  ::raise(SIGUSR1);
  EXPECT_EQ(p->take_signals(), runtime::signal_reload | runtime::signal_status);
}

TEST(linux_platform, status_signal_also_logs_the_platform_counters) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  auto p = linux_platform::create({.log_level = PPTPKIT_LOG_INFO, .log_fd = fds[1]});
  ::raise(SIGHUP);
  EXPECT_EQ(p->take_signals(), runtime::signal_reload);
  char buf[2048] = {};
  EXPECT_LT(::read(fds[0], buf, sizeof(buf) - 1), 0) << "nothing logged for a reload";
  ::raise(SIGUSR1);
  EXPECT_EQ(p->take_signals(), runtime::signal_status);
  const ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ASSERT_GT(n, 0);
  const std::string text(buf, static_cast<std::size_t>(n));
  EXPECT_NE(text.find("notice host: host counters: gre_rx_packets=0 gre_rx_truncated=0"), std::string::npos) << text;
  EXPECT_NE(text.find(" hooks_failed=0\n"), std::string::npos) << text;
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(linux_platform, wait_returns_at_the_deadline_not_before) {
  auto p = linux_platform::create();
  std::vector<runtime::readiness> ready;
  const std::uint64_t start = p->now_ns();
  p->wait(start + 30000000u, ready);
  EXPECT_GE(p->now_ns() - start, 30000000u);
  EXPECT_TRUE(ready.empty());
  p->wait(0, ready);  // a deadline in the past polls once
  EXPECT_TRUE(ready.empty());
}

// --- hooks ---

// Runs the platform until every started hook was reaped (bounded).
void run_until_hooks_done(linux_platform& p, std::uint64_t expected_finished) {
  const std::uint64_t end = p.now_ns() + 10 * kSecond;
  std::vector<runtime::readiness> ready;
  while (p.now_ns() < end) {
    ready.clear();
    p.wait(p.now_ns() + 50000000u, ready);
    p.take_signals();
    if (p.running_hooks() == 0 && p.counters().hooks_started + p.counters().hooks_failed >= expected_finished) {
      return;
    }
  }
}

TEST(linux_platform, hook_runs_with_pppd_arguments_and_environment_and_is_reaped) {
  temp_dir dir;
  const std::string hook = dir.path + "/ip-up";
  const std::string out = dir.path + "/out";
  {
    std::ofstream s(hook);
    s << "#!/bin/sh\necho \"$*\" > " << out << ".tmp\necho \"$PEERNAME $IPLOCAL $IPREMOTE $DNS1\" >> " << out
      << ".tmp\n[ -n \"$PATH\" ] && echo path >> " << out << ".tmp\nmv " << out << ".tmp " << out << "\n";
  }
  ::chmod(hook.c_str(), 0755);
  auto p = linux_platform::create();
  p->run_hook(hook, {"pptp0", "", "0", "10.0.0.1", "10.0.0.100", "office"},
              {"PEERNAME=alice", "IPLOCAL=10.0.0.1", "IPREMOTE=10.0.0.100", "DNS1=192.0.2.53"});
  run_until_hooks_done(*p, 1);
  EXPECT_EQ(read_file(out), "pptp0  0 10.0.0.1 10.0.0.100 office\nalice 10.0.0.1 10.0.0.100 192.0.2.53\npath\n");
  EXPECT_EQ(p->counters().hooks_started, 1u);
  EXPECT_EQ(p->counters().hooks_failed, 0u);
}

TEST(linux_platform, failing_and_missing_hooks_are_counted) {
  temp_dir dir;
  const std::string hook = dir.path + "/ip-down";
  {
    std::ofstream s(hook);
    s << "#!/bin/sh\nexit 3\n";
  }
  ::chmod(hook.c_str(), 0755);
  auto p = linux_platform::create();
  p->run_hook(dir.path + "/missing", {}, {});
  EXPECT_EQ(p->counters().hooks_failed, 1u);
  p->run_hook(hook, {}, {});
  run_until_hooks_done(*p, 2);
  EXPECT_EQ(p->counters().hooks_started, 1u);
  EXPECT_EQ(p->counters().hooks_failed, 2u);
}

// --- plugin directory ---

TEST(linux_platform, default_plugin_dir_prefers_the_build_tree) {
  temp_dir dir;
  std::filesystem::create_directories(dir.path + "/bin");
  EXPECT_EQ(default_plugin_dir(dir.path + "/bin/pptpkit"), dir.path + "/bin/../lib/pptpkit");
  std::filesystem::create_directories(dir.path + "/plugins");
  EXPECT_EQ(default_plugin_dir(dir.path + "/bin/pptpkit"), dir.path + "/bin/../plugins");
}

}  // namespace
}  // namespace pptpkit::host_linux
