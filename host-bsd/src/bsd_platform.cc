#include "pptpkit/host_bsd/bsd_platform.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>

#include "pptpkit/abi.h"

namespace pptpkit::host_bsd {

namespace {

constexpr std::int32_t listen_backlog = 64;

std::string dotted(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." + std::to_string((a >> 8) & 0xff) +
         "." + std::to_string(a & 0xff);
}

std::string endpoint_text(runtime::endpoint e) {
  return dotted(e.address) + ":" + std::to_string(e.port);
}

}  // namespace

std::unique_ptr<bsd_platform> bsd_platform::create(std::unique_ptr<bsd_sys> sys, const platform_options& options) {
  std::unique_ptr<bsd_platform> p(new bsd_platform(std::move(sys), options));
  std::string error;
  if (!p->poller_.open(error)) {
    throw std::runtime_error(error);
  }
  p->open_reserve();
  return p;
}

bsd_platform::bsd_platform(std::unique_ptr<bsd_sys> sys, const platform_options& options)
    : sys_(std::move(sys)), options_(options), poller_(*sys_) {}

bsd_platform::~bsd_platform() {
  if (reserve_fd_ >= 0) {
    sys_->close(reserve_fd_);
  }
  for (const auto& [h, t] : tuns_) {
    tun_close(*sys_, h, t.state);
  }
  for (const auto& [h, g] : gres_) {
    gre_close(*sys_, g);
  }
}

std::string bsd_platform::text(const std::string& what, const sys_result& r) {
  return what + ": " + sys_->error_text(r.err);
}

// ---------------------------------------------------------------- time, randomness, logs

std::uint64_t bsd_platform::now_ns() {
  return sys_->monotonic_ns();
}

void bsd_platform::random_bytes(std::span<std::uint8_t> out) {
  sys_->random_bytes(out);
}

void bsd_platform::log(std::uint32_t level, std::string_view component, std::string_view text) {
  std::string line;
  line.reserve(component.size() + text.size() + 16);
  line.append(runtime::log_level_name(level)).append(" ").append(component).append(": ").append(text).append("\n");
  sys_->write(2, {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
}

// ---------------------------------------------------------------- stream sockets

runtime::handle bsd_platform::open_bound(std::int32_t type, runtime::endpoint local, std::int32_t backlog,
                                         const std::string& where, std::string& error) {
  const os_constants& c = sys_->constants();
  const sys_result s = sys_->socket(c.af_inet, type, 0);
  if (!s.ok()) {
    error = text(where, s);
    return runtime::invalid_handle;
  }
  const auto fd = static_cast<fd_t>(s.value);
  if (backlog > 0) {
    sys_->setsockopt_int(fd, c.sol_socket, c.so_reuseaddr, 1);
  }
  sys_result r = sys_->bind_inet(fd, {local.address, local.port});
  if (r.ok() && backlog > 0) {
    r = sys_->listen(fd, backlog);
  }
  if (r.ok()) {
    r = set_nonblocking(*sys_, fd);
  }
  if (!r.ok()) {
    error = text(where, r);
    sys_->close(fd);
    return runtime::invalid_handle;
  }
  return fd;
}

runtime::handle bsd_platform::tcp_listen(runtime::endpoint local, std::string& error) {
  return open_bound(sys_->constants().sock_stream, local, listen_backlog, "listen " + endpoint_text(local), error);
}

runtime::accept_result bsd_platform::tcp_accept(runtime::handle listener) {
  return accept_next(listener, true);
}

runtime::accept_result bsd_platform::accept_next(runtime::handle listener, bool tcp) {
  const os_constants& c = sys_->constants();
  // A connection reset before we took it concerns that one only; bounded, so a flood cannot hold us.
  for (int attempt = 0; attempt < 64; ++attempt) {
    raw_sockaddr from;
    const sys_result a = sys_->accept(listener, from);
    if (!a.ok()) {
      if (a.err == c.eagain) {
        return {};
      }
      if (a.err == c.eintr || a.err == c.econnaborted) {
        continue;
      }
      if (a.err == c.emfile || a.err == c.enfile) {
        return shed_pending(listener, a);
      }
      ++counters_.accept_exhausted;  // ENOBUFS, ENOMEM, or a bug: it will repeat
      return {.status = runtime::io_status::error,
              .h = runtime::invalid_handle,
              .peer = {},
              .local = {},
              .error = text("accept", a),
              .shed = false};
    }
    const auto fd = static_cast<fd_t>(a.value);
    set_nonblocking(*sys_, fd);
    runtime::accept_result r{
        .status = runtime::io_status::ok, .h = fd, .peer = {}, .local = {}, .error = {}, .shed = false};
    if (tcp) {
      r.peer = {from.inet.address, from.inet.port};
      raw_sockaddr ours;
      if (sys_->getsockname(fd, ours).ok()) {
        r.local = {ours.inet.address, ours.inet.port};
      }
    }
    return r;
  }
  return {};  // every one was a dead connection; the listener reports again if more are waiting
}

runtime::accept_result bsd_platform::shed_pending(runtime::handle listener, const sys_result& failed) {
  runtime::accept_result r{.status = runtime::io_status::error,
                           .h = runtime::invalid_handle,
                           .peer = {},
                           .local = {},
                           .error = text("accept", failed),
                           .shed = false};
  if (reserve_fd_ < 0) {
    open_reserve();  // spent and not regained: try again for next time
    ++counters_.accept_exhausted;
    return r;
  }
  sys_->close(reserve_fd_);
  reserve_fd_ = -1;
  raw_sockaddr from;
  const sys_result a = sys_->accept(listener, from);
  if (a.ok()) {
    sys_->close(static_cast<fd_t>(a.value));  // nothing was read: the peer gets a FIN, a clean close
  }
  open_reserve();
  if (!a.ok() && a.err == sys_->constants().eagain) {
    return {};  // accept takes a descriptor before it looks at the queue: nothing was waiting
  }
  ++counters_.accept_exhausted;
  if (a.ok()) {
    ++counters_.accept_shed;
    r.shed = true;
  }
  return r;
}

void bsd_platform::open_reserve() {
  const sys_result r = sys_->open("/dev/null", sys_->constants().o_rdonly);
  reserve_fd_ = r.ok() ? static_cast<fd_t>(r.value) : -1;
}

runtime::handle bsd_platform::tcp_connect(runtime::endpoint remote, std::string& error) {
  const os_constants& c = sys_->constants();
  const std::string where = "connect " + endpoint_text(remote);
  const sys_result s = sys_->socket(c.af_inet, c.sock_stream, 0);
  if (!s.ok()) {
    error = text(where, s);
    return runtime::invalid_handle;
  }
  const auto fd = static_cast<fd_t>(s.value);
  sys_result r = set_nonblocking(*sys_, fd);
  if (r.ok()) {
    r = sys_->connect_inet(fd, {remote.address, remote.port});
  }
  if (!r.ok() && r.err != c.einprogress) {
    error = text(where, r);
    sys_->close(fd);
    return runtime::invalid_handle;
  }
  return fd;
}

bool bsd_platform::tcp_connected(runtime::handle h, runtime::endpoint& local, std::string& error) {
  const os_constants& c = sys_->constants();
  const sys_result so = sys_->getsockopt_int(h, c.sol_socket, c.so_error);
  if (!so.ok() || so.value != 0) {
    error = "connect: " + sys_->error_text(so.ok() ? static_cast<std::int32_t>(so.value) : so.err);
    return false;
  }
  raw_sockaddr ours;
  if (sys_->getsockname(h, ours).ok()) {
    local = {ours.inet.address, ours.inet.port};
  }
  return true;
}

runtime::handle bsd_platform::local_listen(const std::string& path, std::string& error) {
  const os_constants& c = sys_->constants();
  if (!clear_stale_socket(path, error)) {
    return runtime::invalid_handle;
  }
  const sys_result s = sys_->socket(c.af_unix, c.sock_stream, 0);
  if (!s.ok()) {
    error = text("listen " + path, s);
    return runtime::invalid_handle;
  }
  const auto fd = static_cast<fd_t>(s.value);
  // bind() never replaces a file: whatever appeared since the check makes it fail with EADDRINUSE.
  sys_result r = sys_->bind_local(fd, path);
  if (r.ok()) {
    r = sys_->listen(fd, listen_backlog);
  }
  if (r.ok()) {
    r = set_nonblocking(*sys_, fd);
  }
  if (!r.ok()) {
    error = text("listen " + path, r);
    sys_->close(fd);
    return runtime::invalid_handle;
  }
  return fd;
}

bool bsd_platform::clear_stale_socket(const std::string& path, std::string& error) {
  const os_constants& c = sys_->constants();
  const std::string where = "listen " + path;
  file_status st;
  const sys_result l = sys_->lstat(path, st);
  if (!l.ok()) {
    if (l.err == c.enoent) {
      return true;
    }
    error = text(where, l);
    return false;
  }
  if (st.type != file_type::socket) {
    error = where + ": " + path + " exists and is not a socket (refusing to replace it)";
    return false;
  }
  const sys_result s = sys_->socket(c.af_unix, c.sock_stream, 0);
  if (!s.ok()) {
    error = text(where, s);
    return false;
  }
  const auto probe = static_cast<fd_t>(s.value);
  set_nonblocking(*sys_, probe);  // a live daemon with a full queue must not hold us
  const sys_result r = sys_->connect_local(probe, path);
  sys_->close(probe);
  if (r.ok() || r.err == c.eagain || r.err == c.einprogress) {
    error = where + ": another process is listening there";
    return false;
  }
  if (r.err != c.econnrefused) {
    error = text(where + ": cannot tell whether the socket is in use", r);
    return false;
  }
  // Stale (BSD also answers ECONNREFUSED when a live listener's queue overflows: see DESIGN.md).
  file_status again;
  if (!sys_->lstat(path, again).ok() || again.device != st.device || again.inode != st.inode) {
    error = where + ": " + path + " changed while it was checked";
    return false;
  }
  const sys_result u = sys_->unlink(path);
  if (!u.ok() && u.err != c.enoent) {
    error = text(where + ": remove the stale socket", u);
    return false;
  }
  return true;
}

runtime::handle bsd_platform::local_connect(const std::string& path, std::string& error) {
  const os_constants& c = sys_->constants();
  const sys_result s = sys_->socket(c.af_unix, c.sock_stream, 0);
  if (!s.ok()) {
    error = text("connect " + path, s);
    return runtime::invalid_handle;
  }
  const auto fd = static_cast<fd_t>(s.value);
  const sys_result r = sys_->connect_local(fd, path);
  if (!r.ok()) {
    error = text("connect " + path, r);
    sys_->close(fd);
    return runtime::invalid_handle;
  }
  return fd;
}

runtime::accept_result bsd_platform::local_accept(runtime::handle listener) {
  return accept_next(listener, false);
}

runtime::io_result bsd_platform::stream_read(runtime::handle h, std::span<std::uint8_t> out) {
  const os_constants& c = sys_->constants();
  const sys_result r = sys_->read(h, out);
  if (r.ok()) {
    if (r.value == 0 && !out.empty()) {
      return {.status = runtime::io_status::closed, .bytes = 0, .error = {}};
    }
    return {.status = runtime::io_status::ok, .bytes = static_cast<std::uint32_t>(r.value), .error = {}};
  }
  if (r.err == c.eagain || r.err == c.eintr) {
    return {.status = runtime::io_status::would_block, .bytes = 0, .error = {}};
  }
  return {.status = runtime::io_status::error, .bytes = 0, .error = text("read", r)};
}

runtime::io_result bsd_platform::stream_write(runtime::handle h, std::span<const std::uint8_t> in) {
  const os_constants& c = sys_->constants();
  const sys_result r = sys_->write(h, in);
  if (r.ok()) {
    return {.status = runtime::io_status::ok, .bytes = static_cast<std::uint32_t>(r.value), .error = {}};
  }
  if (r.err == c.eagain || r.err == c.eintr) {
    return {.status = runtime::io_status::would_block, .bytes = 0, .error = {}};
  }
  return {.status = runtime::io_status::error, .bytes = 0, .error = text("write", r)};
}

// ---------------------------------------------------------------- datagram sockets

runtime::handle bsd_platform::udp_open(runtime::endpoint local, std::string& error) {
  return open_bound(sys_->constants().sock_dgram, local, 0, "udp " + endpoint_text(local), error);
}

runtime::io_result bsd_platform::udp_receive(runtime::handle h, std::span<std::uint8_t> out, runtime::endpoint& from) {
  const os_constants& c = sys_->constants();
  raw_sockaddr sender;
  bool truncated = false;
  const sys_result r = sys_->recvfrom(h, out, sender, truncated);
  if (r.ok()) {
    from = {sender.inet.address, sender.inet.port};
    return {
        .status = runtime::io_status::ok, .bytes = truncated ? 0u : static_cast<std::uint32_t>(r.value), .error = {}};
  }
  if (r.err == c.eagain || r.err == c.eintr) {
    return {.status = runtime::io_status::would_block, .bytes = 0, .error = {}};
  }
  return {.status = runtime::io_status::error, .bytes = 0, .error = text("udp receive", r)};
}

runtime::io_result bsd_platform::udp_send(runtime::handle h, runtime::endpoint to,
                                          std::span<const std::uint8_t> bytes) {
  const os_constants& c = sys_->constants();
  const sys_result r = sys_->sendto_inet(h, bytes, {to.address, to.port});
  if (r.ok()) {
    return {.status = runtime::io_status::ok, .bytes = static_cast<std::uint32_t>(r.value), .error = {}};
  }
  if (r.err == c.eagain || r.err == c.eintr || r.err == c.enobufs) {
    return {.status = runtime::io_status::would_block, .bytes = 0, .error = {}};
  }
  return {.status = runtime::io_status::error, .bytes = 0, .error = text("udp send to " + endpoint_text(to), r)};
}

void bsd_platform::close(runtime::handle h) {
  if (h == runtime::invalid_handle) {
    return;
  }
  poller_.forget(h);
  if (auto t = tuns_.find(h); t != tuns_.end()) {
    tun_close(*sys_, h, t->second.state);
    tuns_.erase(t);
    return;
  }
  if (auto g = gres_.find(h); g != gres_.end()) {
    gre_close(*sys_, g->second);
    gres_.erase(g);
    return;
  }
  sys_->close(h);
}

// ---------------------------------------------------------------- GRE

runtime::handle bsd_platform::gre_open(std::uint32_t local_address, std::string& error) {
  gre_state state;
  if (!host_bsd::gre_open(*sys_, local_address, options_.capture, state, error)) {
    return runtime::invalid_handle;
  }
  gres_[state.receive_fd] = state;
  return state.receive_fd;
}

runtime::batch_result bsd_platform::gre_receive(runtime::handle h, core::packet_pool& pool, core::packet_list& out,
                                                std::uint32_t max) {
  const auto g = gres_.find(h);
  assert(g != gres_.end() && "gre_receive on a handle gre_open did not return");
  return host_bsd::gre_receive(*sys_, g->second, pool, out, max, counters_);
}

std::uint32_t bsd_platform::gre_send(runtime::handle h, core::packet_list& in) {
  const auto g = gres_.find(h);
  assert(g != gres_.end() && "gre_send on a handle gre_open did not return");
  return host_bsd::gre_send(*sys_, g->second, in, counters_);
}

// ---------------------------------------------------------------- tun

runtime::handle bsd_platform::tun_open(const runtime::tun_config& config, std::string& actual_name,
                                       std::string& error) {
  tun_entry entry{.state = {}, .peer = config.peer};
  const fd_t fd = host_bsd::tun_open(*sys_, config, entry.state, error);
  if (fd < 0) {
    return runtime::invalid_handle;
  }
  actual_name = entry.state.name;
  tuns_[fd] = std::move(entry);
  return fd;
}

bool bsd_platform::tun_set_ipv6(runtime::handle h, std::uint64_t local_interface_id, std::uint64_t peer_interface_id,
                                std::string& error) {
  const auto t = tuns_.find(h);
  assert(t != tuns_.end() && "tun_set_ipv6 on a handle tun_open did not return");
  return host_bsd::tun_set_ipv6(*sys_, t->second.state, local_interface_id, peer_interface_id, error);
}

bool bsd_platform::tun_add_route(runtime::handle h, const runtime::route& r, std::string& error) {
  const auto t = tuns_.find(h);
  assert(t != tuns_.end() && "tun_add_route on a handle tun_open did not return");
  assert(r.prefix_length <= 32);
  const std::uint32_t mask = r.prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix_length);
  const sys_result res = sys_->route_add(r.destination & mask, mask, t->second.peer);
  if (!res.ok()) {
    error = text("route add " + dotted(r.destination & mask) + "/" + std::to_string(r.prefix_length) + " via " +
                     dotted(t->second.peer) + " (" + t->second.state.name + ")",
                 res);
    return false;
  }
  return true;
}

runtime::batch_result bsd_platform::tun_read(runtime::handle h, core::packet_pool& pool, core::packet_list& out,
                                             std::uint32_t max) {
  return host_bsd::tun_read(*sys_, h, pool, out, max, counters_);
}

runtime::batch_result bsd_platform::tun_write(runtime::handle h, core::packet_list& in) {
  return host_bsd::tun_write(*sys_, h, in, counters_);
}

// ---------------------------------------------------------------- poller

void bsd_platform::watch(runtime::handle h, bool readable, bool writable) {
  poller_.watch(h, readable, writable);
}

void bsd_platform::unwatch(runtime::handle h) {
  poller_.unwatch(h);
}

void bsd_platform::wait(std::uint64_t deadline_ns, std::vector<runtime::readiness>& ready) {
  std::int64_t timeout = -1;
  if (deadline_ns != std::numeric_limits<std::uint64_t>::max()) {
    const std::uint64_t now = sys_->monotonic_ns();
    const std::uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
    timeout = static_cast<std::int64_t>(std::min<std::uint64_t>(left, std::numeric_limits<std::int64_t>::max()));
  }
  poller_.wait(timeout, ready);
}

std::uint32_t bsd_platform::take_signals() {
  return poller_.take_signals();
}

// ---------------------------------------------------------------- files

bool bsd_platform::read_private_file(const std::string& path, std::string& content, std::string& warning,
                                     std::string& error) {
  // No privilege to raise: BSD refuses --user (drop_privileges), so the daemon reads as it started.
  constexpr std::uint64_t max_size = 16u << 20;
  const os_constants& c = sys_->constants();
  warning.clear();
  const sys_result o = sys_->open(path, c.o_rdonly | c.o_nonblock);
  if (!o.ok()) {
    error = path + ": cannot open: " + sys_->error_text(o.err);
    return false;
  }
  const auto fd = static_cast<fd_t>(o.value);
  file_status st;
  if (!sys_->fstat(fd, st).ok() || st.type != file_type::regular) {
    error = path + ": not a regular file";
    sys_->close(fd);
    return false;
  }
  std::string text(static_cast<std::size_t>(std::min(st.size, max_size)), '\0');
  std::size_t done = 0;
  for (;;) {
    if (done == text.size()) {
      if (text.size() >= max_size) {
        error = path + ": larger than 16 MiB";
        sys_->close(fd);
        return false;
      }
      text.resize(std::min<std::size_t>(text.size() + 4096, max_size));  // to see the end, or growth
    }
    const sys_result r = sys_->read(fd, {reinterpret_cast<std::uint8_t*>(text.data()) + done, text.size() - done});
    if (!r.ok() && r.err == c.eintr) {
      continue;
    }
    if (!r.ok()) {
      error = path + ": read error: " + sys_->error_text(r.err);
      sys_->close(fd);
      return false;
    }
    if (r.value == 0) {
      break;
    }
    done += static_cast<std::size_t>(r.value);
  }
  sys_->close(fd);
  text.resize(done);
  content = std::move(text);
  warning = runtime::private_file_warning(path, st.mode);
  return true;
}

// ---------------------------------------------------------------- processes

void bsd_platform::run_hook(const std::string& path, const std::vector<std::string>& args,
                            const std::vector<std::string>& env) {
  const sys_result r = sys_->spawn(path, args, env);
  if (!r.ok()) {
    log(PPTPKIT_LOG_WARNING, "host", text("hook " + path, r));
  }
}

bool bsd_platform::drop_privileges(const std::string& user, std::string& error) {
  if (user.empty()) {
    return true;  // BSD has no capability sets to trim: without a user there is nothing to drop
  }
  // Every session creates a tun interface and sets its addresses (SIOCAIFADDR needs root on both
  // systems), and BSD has no CAP_NET_ADMIN to keep across setuid: a switched daemon would fail at its
  // first session. Refuse now, clearly, instead.
  error = "--user " + user +
          " is not supported on BSD: creating tun interfaces for new sessions needs root, and BSD has no "
          "capability to keep it after switching users";
  return false;
}

}  // namespace pptpkit::host_bsd
