// pptpkit/runtime/platform.hpp — everything the runtime needs from an operating system, and nothing more.
//
// The runtime (plugin loading, wiring control -> GRE -> PPP -> IP, sessions, hooks) is platform-free: it
// reaches sockets, tun devices, the poller, the clock and randomness only through this interface.
// host-linux (epoll, TUN, raw GRE), host-bsd (kqueue, tun(4), raw GRE or divert) and the simulated
// platform of the tests (virtual time, seeded network) implement it.
//
// Conventions
//  - Every I/O call is non-blocking. Readiness comes from wait(); a call that cannot proceed returns
//    io_status::would_block.
//  - Addresses are IPv4 in host byte order (PPTP runs over IPv4, RFC 2637 §1).
//  - Packets: receive functions allocate from the runtime's pool and append to `out`; send/write
//    functions take every packet of `in` (sent or dropped, they are freed to their pool) and leave it
//    empty. A platform never copies payload between the pool buffer and the kernel except the kernel's
//    own copy.
//  - An empty pool: a receive function (gre_receive, tun_read) that finds no free packet stops reading,
//    keeps what it appended and returns batch_status::pool_empty — not an error; the platform counts
//    it. What it did not read stays queued in the kernel, so the handle stays readable: on a
//    level-triggered poller the caller must stop watching it for reading until packets are back in the
//    pool, or wait() reports it again at once.
//  - Transient errors (EAGAIN, EINTR, ENOBUFS, a packet the kernel refuses) end a batch call quietly
//    (counted by the platform). An error that will repeat on every call — a tun whose interface was
//    deleted — is batch_status::failed: the handle is dead, and the caller closes it once.
//  - Errors that the runtime should report carry text in `error` (e.g. "bind 0.0.0.0:1723: Address
//    already in use").
// Threading: one thread drives a platform and the runtime on it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/abi.h"
#include "pptpkit/core/batch.hpp"
#include "pptpkit/core/pool.hpp"

namespace pptpkit::runtime {

using handle = std::int32_t;  // platform-defined (a file descriptor on POSIX hosts)
inline constexpr handle invalid_handle = -1;

struct endpoint {
  std::uint32_t address = 0;  // IPv4, host order
  std::uint16_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

enum class io_status { ok, would_block, closed, error };

struct io_result {
  io_status status = io_status::ok;
  std::uint32_t bytes = 0;  // transferred, when ok
  std::string error;        // when error
};

// What tcp_accept / local_accept did.
//   ok           a new connection: `h`; tcp_accept also fills `peer` and `local`.
//   would_block  nothing is pending.
//   error        a pending connection could not be taken for want of a resource (EMFILE, ENFILE,
//                ENOBUFS, ENOMEM; `error` says which). Such an error repeats while the cause lasts and the
//                listener stays readable, so a caller that goes on watching it is woken at once, again and
//                again: it must stop watching the listener for a while (and log once per interval).
//                `shed` is true when the host took the connection anyway and closed it at once (host-linux
//                and host-bsd keep a reserve descriptor for this), so its peer saw a clean close instead of
//                waiting in the backlog; at most one connection is shed per call.
// Errors that concern only one pending connection (it was reset before we took it, a firewall refused
// it) are not reported: the host moves on to the next one, a bounded number of times per call.
struct accept_result {
  io_status status = io_status::would_block;
  handle h = invalid_handle;
  endpoint peer;   // tcp_accept: the remote address
  endpoint local;  // tcp_accept: our address
  std::string error;
  bool shed = false;
};

// How a batch call on a packet handle (gre_receive, tun_read, tun_write) ended.
enum class batch_status {
  ok,          // the batch is done: `max` packets, everything the kernel had, or a transient error
  pool_empty,  // receive: stopped for want of a free packet; the kernel may hold more (see above)
  failed,      // a persistent error: this handle will never carry packets again; `error` says why
};

struct batch_result {
  std::uint32_t packets = 0;  // receive: appended to `out` (whatever the status); write: written
  batch_status status = batch_status::ok;
  std::string error;  // when failed, e.g. "TUN read: File descriptor in bad state"
};

struct readiness {
  handle h = invalid_handle;
  bool readable = false;
  bool writable = false;
  bool failed = false;  // error or hang-up condition
};

// Signals a host delivers to the runtime (platform-neutral).
enum signal_flags : std::uint32_t {
  signal_stop = 1u << 0,    // SIGTERM / SIGINT: stop every call cleanly
  signal_reload = 1u << 1,  // SIGHUP: re-read secrets
  signal_status = 1u << 2,  // SIGUSR1: dump statistics to the log
};

struct tun_config {
  std::string name;  // requested name ("pptp0"); empty = platform's choice
  std::uint32_t mtu = 1400;
  std::uint32_t local = 0;  // our IPv4 address on the point-to-point link
  std::uint32_t peer = 0;   // the peer's
};

struct route {
  std::uint32_t destination = 0;   // network, host order
  std::uint8_t prefix_length = 0;  // 0 = default route
};

// The word a host prints for a PPTPKIT_LOG_* level (syslog's names; anything less severe is "debug").
constexpr const char* log_level_name(std::uint32_t level) noexcept {
  switch (level) {
    case PPTPKIT_LOG_ERROR:
      return "error";
    case PPTPKIT_LOG_WARNING:
      return "warning";
    case PPTPKIT_LOG_NOTICE:
      return "notice";
    case PPTPKIT_LOG_INFO:
      return "info";
    default:
      return "debug";
  }
}

// The warning read_private_file gives for a file with POSIX permission bits `mode`: empty when only its
// owner may write it and nobody but its owner and group may read it (0600, 0640); otherwise it names
// what is wrong, e.g. "/etc/ppp/chap-secrets is mode 0644 (readable by others): a secrets file should
// be 0600 or 0640".
inline std::string private_file_warning(const std::string& path, std::uint32_t mode) {
  std::string what;
  const auto add = [&what](const char* text) { what += what.empty() ? text : std::string(", ") + text; };
  if ((mode & 0004u) != 0) {
    add("readable by others");
  }
  if ((mode & 0002u) != 0) {
    add("writable by others");
  }
  if ((mode & 0020u) != 0) {
    add("writable by its group");
  }
  if (what.empty()) {
    return {};
  }
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o", mode & 07777u);
  return path + " is mode " + octal + " (" + what + "): a secrets file should be 0600 or 0640";
}

class platform {
 public:
  virtual ~platform() = default;

  // --- time, randomness, logs ---
  virtual std::uint64_t now_ns() = 0;  // monotonic
  virtual void random_bytes(std::span<std::uint8_t> out) = 0;
  virtual void log(std::uint32_t level, std::string_view component, std::string_view text) = 0;

  // --- stream sockets: TCP control connections and the local status socket ---
  virtual handle tcp_listen(endpoint local, std::string& error) = 0;
  // The next pending connection (see accept_result).
  virtual accept_result tcp_accept(handle listener) = 0;
  // Starts a connection; it is complete when the handle becomes writable (or failed).
  virtual handle tcp_connect(endpoint remote, std::string& error) = 0;
  // After a connect completed: whether it succeeded, and our local address.
  virtual bool tcp_connected(handle h, endpoint& local, std::string& error) = 0;
  virtual handle local_listen(const std::string& path, std::string& error) = 0;    // unix stream socket
  virtual handle local_connect(const std::string& path, std::string& error) = 0;   // blocking is fine here
  virtual accept_result local_accept(handle listener) = 0;                         // as tcp_accept; no addresses
  virtual io_result stream_read(handle h, std::span<std::uint8_t> out) = 0;        // closed = peer EOF
  virtual io_result stream_write(handle h, std::span<const std::uint8_t> in) = 0;  // may be partial
  virtual void close(handle h) = 0;                                                // any handle; unwatches it

  // --- datagram sockets: RADIUS requests and the dynamic-authorization listener (RFC 5176) ---
  // A UDP socket bound to `local` (address 0: any; port 0: a free one the kernel picks).
  virtual handle udp_open(endpoint local, std::string& error) = 0;
  // The next datagram into `out`, and who sent it; would_block when none is queued. A datagram longer
  // than `out` is discarded and reported as ok with bytes = 0 (a caller ignores empty datagrams).
  virtual io_result udp_receive(handle h, std::span<std::uint8_t> out, endpoint& from) = 0;
  // Sends one datagram; would_block when the socket's buffer is full (nothing was sent).
  virtual io_result udp_send(handle h, endpoint to, std::span<const std::uint8_t> bytes) = 0;

  // --- GRE: one raw socket carries every session (IPPROTO_GRE 47) ---
  virtual handle gre_open(std::uint32_t local_address, std::string& error) = 0;
  // Up to `max` packets. Each packet's data starts at the GRE header (the outer IP header is stripped,
  // its length taken from what was received, never from ip_len); aux = the sender's IPv4 address.
  // ok or pool_empty, never failed: a socket's pending error is reported once, so it cannot repeat.
  virtual batch_result gre_receive(handle h, core::packet_pool& pool, core::packet_list& out, std::uint32_t max) = 0;
  // Sends each packet (data = GRE header onward) to the IPv4 address in its aux. Takes `in`.
  // Returns how many were sent; the rest were dropped (and counted by the platform).
  virtual std::uint32_t gre_send(handle h, core::packet_list& in) = 0;

  // --- tunnel interfaces: one per session ---
  // Creates the interface, sets addresses, MTU and brings it up. `actual_name` gets its real name.
  virtual handle tun_open(const tun_config& config, std::string& actual_name, std::string& error) = 0;
  // Adds an IPv6 link-local address from our interface id (RFC 5072 §5); false + error on failure.
  virtual bool tun_set_ipv6(handle h, std::uint64_t local_interface_id, std::uint64_t peer_interface_id,
                            std::string& error) = 0;
  virtual bool tun_add_route(handle h, const route& r, std::string& error) = 0;
  // Up to `max` IP packets read from the interface; IPv6 ones carry PPTPKIT_PACKET_F_IPV6. failed when
  // the interface is gone (deleted by an administrator or a network manager): the session is over.
  virtual batch_result tun_read(handle h, core::packet_pool& pool, core::packet_list& out, std::uint32_t max) = 0;
  // Writes each IP packet to the interface. Takes `in`; `packets` = how many were written. A packet the
  // interface refuses (it is down, the packet is malformed) is dropped and counted; failed when the
  // interface is gone (the rest of `in` is dropped).
  virtual batch_result tun_write(handle h, core::packet_list& in) = 0;

  // --- poller ---
  virtual void watch(handle h, bool readable, bool writable) = 0;  // replaces the previous interest
  virtual void unwatch(handle h) = 0;
  // Waits until a watched handle is ready, a signal arrives or `deadline_ns` (now_ns's clock) passes;
  // appends what is ready to `ready` (which the caller clears).
  virtual void wait(std::uint64_t deadline_ns, std::vector<readiness>& ready) = 0;
  // Signals received since the last call (signal_flags), cleared by the call.
  virtual std::uint32_t take_signals() = 0;

  // --- files ---
  // Reads a small private file that the daemon needs again after drop_privileges() — the secrets file,
  // re-read on SIGHUP. A host may use a privilege it keeps for this alone (host-linux: CAP_DAC_READ_SEARCH,
  // permitted but not effective, raised only around the open() and only when a plain open is refused).
  // Only a regular file of less than 16 MiB is read (a FIFO or a device would stall the loop). `warning`
  // gets private_file_warning() of its mode (empty when the mode is fine). False + error ("PATH: cannot
  // open: Permission denied", "PATH: not a regular file") when it cannot be read; `content` is then
  // unchanged.
  virtual bool read_private_file(const std::string& path, std::string& content, std::string& warning,
                                 std::string& error) = 0;

  // --- processes ---
  // Runs a hook script (ip-up / ip-down) with pppd's arguments and environment; does not wait for it.
  virtual void run_hook(const std::string& path, const std::vector<std::string>& args,
                        const std::vector<std::string>& env) = 0;
  // Drops every privilege except what the data path needs (CAP_NET_ADMIN, CAP_NET_RAW on Linux) and what
  // read_private_file() needs, and, when `user` is not empty, switches to that user. False + error on
  // failure.
  virtual bool drop_privileges(const std::string& user, std::string& error) = 0;
};

}  // namespace pptpkit::runtime
