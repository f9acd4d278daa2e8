#include "fake_sys.hpp"

#include <algorithm>
#include <cstring>

namespace pptpkit::host_bsd::testing {

std::int32_t fake_sys::failing(const std::string& name, std::int64_t key) {
  const auto it = std::find_if(failures_.begin(), failures_.end(),
                               [&](const failure& f) { return f.name == name && (f.match == -1 || f.match == key); });
  if (it == failures_.end()) {
    return 0;
  }
  const std::int32_t err = it->err;
  failures_.erase(it);
  return err;
}

sys_result fake_sys::new_fd() {
  return {.value = next_fd_++};
}

bool fake_sys::is_closed(fd_t fd) const {
  return std::find(closed.begin(), closed.end(), fd) != closed.end();
}

sys_result fake_sys::open(const std::string& path, std::int32_t) {
  opened.push_back(path);
  if (auto it = open_failures_.find(path); it != open_failures_.end() && !it->second.empty()) {
    const std::int32_t err = it->second.front();
    it->second.pop_front();
    return {.value = -1, .err = err};
  }
  const sys_result r = new_fd();
  if (paths.contains(path)) {
    open_files_[static_cast<fd_t>(r.value)] = {path, 0};
  }
  return r;
}

sys_result fake_sys::close(fd_t fd) {
  closed.push_back(fd);
  open_files_.erase(fd);
  return {};
}

sys_result fake_sys::read(fd_t fd, std::span<std::uint8_t> out) {
  if (const std::int32_t err = failing("read", fd)) {
    return {.value = -1, .err = err};
  }
  if (auto f = open_files_.find(fd); f != open_files_.end()) {
    const std::string& text = contents[f->second.first];
    const std::size_t n = std::min(out.size(), text.size() - f->second.second);
    std::copy_n(text.begin() + static_cast<std::ptrdiff_t>(f->second.second), n, out.begin());
    f->second.second += n;
    return {.value = static_cast<std::int64_t>(n)};
  }
  auto& q = inbox_[fd];
  if (q.empty()) {
    return {.value = -1, .err = c_.eagain};
  }
  const datagram& d = q.front();
  const std::size_t n = std::min(out.size(), d.bytes.size());  // a tun read truncates like the kernel
  std::copy_n(d.bytes.begin(), n, out.begin());
  q.pop_front();
  return {.value = static_cast<std::int64_t>(n)};
}

sys_result fake_sys::write(fd_t fd, std::span<const std::uint8_t> in) {
  if (fd == 2) {
    logs.emplace_back(reinterpret_cast<const char*>(in.data()), in.size());
    return {.value = static_cast<std::int64_t>(in.size())};
  }
  if (const std::int32_t err = failing("write", fd)) {
    return {.value = -1, .err = err};
  }
  if (record_payloads) {
    writes.push_back({.fd = fd, .data = in.data(), .bytes = {in.begin(), in.end()}});
  }
  return {.value = static_cast<std::int64_t>(in.size())};
}

sys_result fake_sys::fcntl(fd_t fd, std::int32_t command, std::int32_t argument) {
  if (command == c_.f_getfl) {
    return {.value = fd_flags[fd]};
  }
  if (const std::int32_t err = failing("fcntl", fd)) {
    return {.value = -1, .err = err};
  }
  fd_flags[fd] = argument;
  return {};
}

sys_result fake_sys::ioctl_int(fd_t fd, unsigned long request, std::int32_t value) {
  ioctls.push_back({.fd = fd, .request = request, .int_value = value});
  if (const std::int32_t err = failing("ioctl", static_cast<std::int64_t>(request))) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::ioctl_ifreq(fd_t fd, unsigned long request, ifreq_args& args) {
  if (args.field == ifreq_field::name_out) {
    args.name = tun_name;
  }
  ioctls.push_back({.fd = fd, .request = request, .ifreq = args});
  if (const std::int32_t err = failing("ioctl", static_cast<std::int64_t>(request))) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::ioctl_inet_alias(fd_t fd, unsigned long request, const inet_alias& alias) {
  ioctls.push_back({.fd = fd, .request = request, .alias = alias});
  if (const std::int32_t err = failing("ioctl", static_cast<std::int64_t>(request))) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::ioctl_inet6_alias(fd_t fd, unsigned long request, const inet6_alias& alias) {
  ioctls.push_back({.fd = fd, .request = request, .alias6 = alias});
  if (const std::int32_t err = failing("ioctl", static_cast<std::int64_t>(request))) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::socket(std::int32_t domain, std::int32_t type, std::int32_t protocol) {
  sockets.push_back({domain, type, protocol});
  if (const std::int32_t err = failing("socket", domain)) {
    return {.value = -1, .err = err};
  }
  return new_fd();
}

sys_result fake_sys::bind_inet(fd_t fd, inet_address local) {
  binds.emplace_back(fd, local);
  if (const std::int32_t err = failing("bind", fd)) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::bind_local(fd_t fd, const std::string&) {
  if (const std::int32_t err = failing("bind", fd)) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::connect_inet(fd_t fd, inet_address) {
  if (const std::int32_t err = failing("connect", fd)) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::connect_local(fd_t fd, const std::string&) {
  return connect_inet(fd, {});
}

sys_result fake_sys::listen(fd_t fd, std::int32_t) {
  if (const std::int32_t err = failing("listen", fd)) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::accept(fd_t fd, raw_sockaddr& peer) {
  if (const std::int32_t err = failing("accept", fd)) {
    return {.value = -1, .err = err};
  }
  peer.inet = {.address = 0xc0000202, .port = 40000};
  return new_fd();
}

sys_result fake_sys::getsockname(fd_t, raw_sockaddr& local) {
  local.inet = {.address = 0xc0000201, .port = 1723};
  return {};
}

sys_result fake_sys::getsockopt_int(fd_t fd, std::int32_t, std::int32_t) {
  return {.value = failing("so_error", fd)};
}

sys_result fake_sys::setsockopt_int(fd_t, std::int32_t, std::int32_t, std::int32_t) {
  return {};
}

sys_result fake_sys::shutdown(fd_t fd, std::int32_t how) {
  shutdowns.emplace_back(fd, how);
  return {};
}

sys_result fake_sys::recvfrom(fd_t fd, std::span<std::uint8_t> out, raw_sockaddr& from, bool& truncated) {
  if (const std::int32_t err = failing("recvfrom", fd)) {
    return {.value = -1, .err = err};
  }
  auto& q = inbox_[fd];
  if (q.empty()) {
    return {.value = -1, .err = c_.eagain};
  }
  const datagram& d = q.front();
  const std::size_t n = std::min(out.size(), d.bytes.size());
  std::copy_n(d.bytes.begin(), n, out.begin());
  from = d.from;
  truncated = d.bytes.size() > out.size();  // like MSG_TRUNC
  q.pop_front();
  return {.value = static_cast<std::int64_t>(n)};
}

sys_result fake_sys::sendto(fd_t fd, std::span<const std::uint8_t> in, const raw_sockaddr& to) {
  if (const std::int32_t err = failing("sendto", fd)) {
    return {.value = -1, .err = err};
  }
  if (record_payloads) {
    sends.push_back({.fd = fd, .data = in.data(), .bytes = {in.begin(), in.end()}, .to = to});
  }
  return {.value = static_cast<std::int64_t>(in.size())};
}

sys_result fake_sys::sendto_inet(fd_t fd, std::span<const std::uint8_t> in, inet_address to) {
  if (const std::int32_t err = failing("sendto", fd)) {
    return {.value = -1, .err = err};
  }
  if (record_payloads) {
    sends.push_back({.fd = fd, .data = in.data(), .bytes = {in.begin(), in.end()}, .to_inet = to});
  }
  return {.value = static_cast<std::int64_t>(in.size())};
}

sys_result fake_sys::unlink(const std::string& path) {
  unlinked.push_back(path);
  paths.erase(path);
  return {};
}

sys_result fake_sys::fstat(fd_t fd, file_status& out) {
  const auto f = open_files_.find(fd);
  if (f == open_files_.end()) {
    return {.value = -1, .err = c_.ebadf};
  }
  out = paths[f->second.first];
  return {};
}

sys_result fake_sys::lstat(const std::string& path, file_status& out) {
  const auto it = paths.find(path);
  if (it == paths.end()) {
    return {.value = -1, .err = c_.enoent};
  }
  out = it->second;
  return {};
}

sys_result fake_sys::route_add(std::uint32_t destination, std::uint32_t mask, std::uint32_t gateway) {
  routes.emplace_back(destination, mask, gateway);
  if (const std::int32_t err = failing("route", -1)) {
    return {.value = -1, .err = err};
  }
  return {};
}

sys_result fake_sys::kqueue() {
  if (const std::int32_t err = failing("kqueue", -1)) {
    return {.value = -1, .err = err};
  }
  return new_fd();
}

sys_result fake_sys::kevent(fd_t, std::span<const kevent_record> in, std::span<kevent_record> events,
                            std::int64_t timeout_ns) {
  changes.insert(changes.end(), in.begin(), in.end());
  if (const std::int32_t err = failing("kevent", -1)) {
    return {.value = -1, .err = err};
  }
  if (events.empty()) {
    return {};
  }
  timeouts.push_back(timeout_ns);
  if (kevent_batches.empty()) {
    return {};
  }
  const auto batch = kevent_batches.front();
  kevent_batches.pop_front();
  const std::size_t n = std::min(batch.size(), events.size());
  std::copy_n(batch.begin(), n, events.begin());
  return {.value = static_cast<std::int64_t>(n)};
}

sys_result fake_sys::ignore_signal(std::int32_t signal) {
  ignored_signals.push_back(signal);
  return {};
}

void fake_sys::random_bytes(std::span<std::uint8_t> out) {
  std::uint8_t v = 0x5a;
  for (auto& b : out) {
    b = v++;
  }
}

sys_result fake_sys::spawn(const std::string&, const std::vector<std::string>&, const std::vector<std::string>&) {
  if (const std::int32_t err = failing("spawn", -1)) {
    return {.value = -1, .err = err};
  }
  return {.value = 4242};
}

}  // namespace pptpkit::host_bsd::testing
