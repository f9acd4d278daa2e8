#include "pptpkit/testing/sim_platform.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/core/pool.hpp"

namespace pptpkit::testing {

using runtime::endpoint;
using runtime::handle;
using runtime::invalid_handle;
using runtime::io_result;
using runtime::io_status;

namespace {

void free_packet(pptpkit_packet* p) {
  static_cast<core::packet_pool*>(p->pool)->free(p);
}

}  // namespace

link_model::verdict seeded_link::on_packet(std::uint32_t, std::uint32_t, std::size_t, std::uint64_t) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  verdict v;
  v.drop = config_.loss > 0 && u(rng_) < config_.loss;
  v.delay_ns = config_.delay_ns;
  if (config_.reorder > 0 && u(rng_) < config_.reorder) {
    v.delay_ns += config_.reorder_extra_ns;
  }
  return v;
}

std::string hook_call::env_value(const std::string& key) const {
  for (const std::string& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
  }
  return {};
}

// ------------------------------------------------------------------------------------------ network
sim_network::sim_network(std::uint64_t seed)
    : seed_(seed), link_(std::make_unique<seeded_link>(seed ^ 0x9e3779b97f4a7c15ull, seeded_link::config{})) {}

sim_network::~sim_network() = default;

sim_host& sim_network::add_host(const std::string& name, std::uint32_t address) {
  hosts_.push_back(std::make_unique<sim_host>(*this, name, address, seed_ + address));
  return *hosts_.back();
}

sim_host* sim_network::host_at(std::uint32_t address) {
  for (auto& h : hosts_) {
    if (h->address() == address) {
      return h.get();
    }
  }
  return nullptr;
}

void sim_network::schedule(std::uint64_t at, std::function<void()> fn) {
  schedule_.push({at, seq_++, std::move(fn)});
}

std::uint64_t sim_network::next_event() const {
  return schedule_.empty() ? UINT64_MAX : schedule_.top().at;
}

void sim_network::advance_to(std::uint64_t t) {
  while (!schedule_.empty() && schedule_.top().at <= t) {
    scheduled s = schedule_.top();
    schedule_.pop();
    now_ = std::max(now_, s.at);
    s.fn();
  }
  now_ = std::max(now_, t);
}

sim_network::stream* sim_network::find_stream(handle h) {
  const auto it = streams_.find(h);
  return it == streams_.end() ? nullptr : &it->second;
}

const sim_network::stream* sim_network::find_stream(handle h) const {
  const auto it = streams_.find(h);
  return it == streams_.end() ? nullptr : &it->second;
}

// ------------------------------------------------------------------------------------------ host
sim_host::sim_host(sim_network& net, std::string name, std::uint32_t address, std::uint64_t seed)
    : net_(net), name_(std::move(name)), address_(address), rng_(seed) {
  echo_logs = std::getenv("PPTPKIT_SIM_LOG") != nullptr;
}

std::uint64_t sim_host::now_ns() {
  return net_.now();
}

void sim_host::random_bytes(std::span<std::uint8_t> out) {
  for (std::uint8_t& b : out) {
    b = static_cast<std::uint8_t>(rng_());
  }
}

void sim_host::log(std::uint32_t level, std::string_view component, std::string_view text) {
  probe_scope probe(*this);
  logs_.push_back({level, std::string(component), std::string(text)});
  if (echo_logs) {
    std::fprintf(stderr, "%10.3f %-8s %s: %.*s\n", static_cast<double>(net_.now()) / 1e9, name_.c_str(),
                 logs_.back().component.c_str(), static_cast<int>(text.size()), text.data());
  }
}

std::size_t sim_host::count_logs(const std::string& needle) const {
  return static_cast<std::size_t>(std::count_if(
      logs_.begin(), logs_.end(), [&](const sim_log_line& l) { return l.text.find(needle) != std::string::npos; }));
}

sim_tun* sim_host::tun(const std::string& name) {
  sim_tun* found = nullptr;
  for (auto& [h, t] : tuns_) {
    if (t->name == name) {
      found = t.get();
    }
  }
  return found;
}

void sim_host::crash() {
  for (handle h : std::set<handle>(handles_)) {
    if (auto* s = net_.find_stream(h); s != nullptr && !s->closed) {
      s->closed = true;
      const handle peer = s->peer;
      net_.schedule(net_.now() + net_.tcp_delay_ns, [this, peer] {
        if (auto* p = net_.find_stream(peer)) {
          p->reset = true;
        }
      });
    }
    if (net_.listeners_.erase(h) != 0) {
      continue;
    }
  }
  if (gre_ != invalid_handle) {
    handles_.erase(gre_);
    gre_ = invalid_handle;
  }
}

handle sim_host::tcp_listen(endpoint local, std::string& error) {
  for (auto& [h, l] : net_.listeners_) {
    if (l.host == this && l.path.empty() && l.local.port == local.port) {
      error = "bind: Address already in use";
      return invalid_handle;
    }
  }
  const handle h = net_.new_handle();
  net_.listeners_[h] = {this, local, {}, {}};
  handles_.insert(h);
  return h;
}

runtime::accept_result sim_host::tcp_accept(handle listener) {
  ++accept_calls;
  auto it = net_.listeners_.find(listener);
  if (it == net_.listeners_.end() || it->second.pending.empty()) {
    return {};
  }
  if (accept_emfile) {
    runtime::accept_result r{io_status::error, invalid_handle, {}, {}, "accept: Too many open files", false};
    if (accept_sheds) {
      const handle shed = it->second.pending.front();
      it->second.pending.pop_front();
      close(shed);
      r.shed = true;
    }
    return r;
  }
  const handle h = it->second.pending.front();
  it->second.pending.pop_front();
  auto* s = net_.find_stream(h);
  return {io_status::ok, h, s->remote, s->local, {}, false};
}

handle sim_host::tcp_connect(endpoint remote, std::string& error) {
  (void)error;
  const handle h = net_.new_handle();
  handles_.insert(h);
  sim_network::stream& s = net_.streams_[h];
  s.host = this;
  s.connecting = true;
  s.local = {address_, static_cast<std::uint16_t>(40000 + (h % 20000))};
  s.remote = remote;
  // SYN: after one delay the server side exists (or the connection is refused); after another the
  // client learns it.
  net_.schedule(net_.now() + net_.tcp_delay_ns, [this, h, remote] {
    sim_network::stream* c = net_.find_stream(h);
    if (c == nullptr || c->closed) {
      return;
    }
    sim_host* server = net_.host_at(remote.address);
    sim_network::listener* l = nullptr;
    handle listener_handle = invalid_handle;
    if (server != nullptr) {
      for (auto& [lh, cand] : net_.listeners_) {
        if (cand.host == server && cand.path.empty() && cand.local.port == remote.port) {
          l = &cand;
          listener_handle = lh;
        }
      }
    }
    if (l == nullptr || l->pending.size() >= 128) {
      net_.schedule(net_.now() + net_.tcp_delay_ns, [this, h] {
        if (auto* cc = net_.find_stream(h)) {
          cc->connecting = false;
          cc->connect_failed = true;
        }
      });
      return;
    }
    const handle sh = net_.new_handle();
    server->handles_.insert(sh);
    sim_network::stream& ss = net_.streams_[sh];
    ss.host = server;
    ss.connected = true;
    ss.peer = h;
    ss.local = remote;
    ss.remote = c->local;
    c->peer = sh;
    net_.listeners_[listener_handle].pending.push_back(sh);
    net_.schedule(net_.now() + net_.tcp_delay_ns, [this, h] {
      if (auto* cc = net_.find_stream(h)) {
        cc->connecting = false;
        cc->connected = true;
      }
    });
  });
  return h;
}

bool sim_host::tcp_connected(handle h, endpoint& local, std::string& error) {
  auto* s = net_.find_stream(h);
  if (s == nullptr || !s->connected) {
    error = "Connection refused";
    return false;
  }
  local = s->local;
  return true;
}

handle sim_host::local_listen(const std::string& path, std::string& error) {
  if (files.contains(path)) {
    error = "listen on " + path + ": " + path + " exists and is not a socket (refusing to replace it)";
    return invalid_handle;
  }
  for (auto& [h, l] : net_.listeners_) {
    if (l.path == path) {
      error = path + ": Address already in use";
      return invalid_handle;
    }
  }
  const handle h = net_.new_handle();
  net_.listeners_[h] = {this, {}, path, {}};
  handles_.insert(h);
  return h;
}

handle sim_host::local_connect(const std::string& path, std::string& error) {
  for (auto& [lh, l] : net_.listeners_) {
    if (l.path == path) {
      const handle c = net_.new_handle();
      const handle s = net_.new_handle();
      handles_.insert(c);
      l.host->handles_.insert(s);
      sim_network::stream& cs = net_.streams_[c];
      cs.host = this;
      cs.connected = true;
      cs.peer = s;
      sim_network::stream& ss = net_.streams_[s];
      ss.host = l.host;
      ss.connected = true;
      ss.peer = c;
      l.pending.push_back(s);
      return c;
    }
  }
  error = path + ": No such file or directory";
  return invalid_handle;
}

runtime::accept_result sim_host::local_accept(handle listener) {
  runtime::accept_result r = tcp_accept(listener);
  r.peer = {};
  r.local = {};
  return r;
}

io_result sim_host::stream_read(handle h, std::span<std::uint8_t> out) {
  probe_scope probe(*this);
  auto* s = net_.find_stream(h);
  if (s == nullptr || s->closed) {
    return {io_status::error, 0, "Bad file descriptor"};
  }
  if (!s->rx.empty()) {
    const std::size_t n = std::min(out.size(), s->rx.size());
    std::copy_n(s->rx.begin(), n, out.begin());
    s->rx.erase(s->rx.begin(), s->rx.begin() + static_cast<std::ptrdiff_t>(n));
    return {io_status::ok, static_cast<std::uint32_t>(n), {}};
  }
  if (s->reset) {
    return {io_status::error, 0, "Connection reset by peer"};
  }
  if (s->eof) {
    return {io_status::closed, 0, {}};
  }
  return {io_status::would_block, 0, {}};
}

io_result sim_host::stream_write(handle h, std::span<const std::uint8_t> in) {
  probe_scope probe(*this);
  auto* s = net_.find_stream(h);
  if (s == nullptr || s->closed) {
    return {io_status::error, 0, "Bad file descriptor"};
  }
  if (s->reset || s->eof) {
    return {io_status::error, 0, "Broken pipe"};
  }
  if (!s->connected) {
    return {io_status::would_block, 0, {}};
  }
  // Bytes in flight plus what the peer has not read yet fill the window (a receiver that stops
  // reading stops the sender, as TCP's window does).
  std::size_t unread = s->in_flight;
  if (auto* peer = net_.find_stream(s->peer)) {
    unread += peer->rx.size();
  }
  const std::size_t room = stream_window > unread ? stream_window - unread : 0;
  const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(room, in.size()));
  if (n == 0) {
    return {io_status::would_block, 0, {}};
  }
  s->in_flight += n;
  std::vector<std::uint8_t> bytes(in.begin(), in.begin() + n);
  const std::uint64_t at = std::max(net_.now() + net_.tcp_delay_ns, s->last_delivery);
  s->last_delivery = at;
  const handle peer = s->peer;
  net_.schedule(at, [this, h, peer, bytes = std::move(bytes)]() mutable {
    if (auto* from = net_.find_stream(h)) {
      from->in_flight -= static_cast<std::uint32_t>(bytes.size());
    }
    if (auto* to = net_.find_stream(peer); to != nullptr && !to->closed) {
      to->rx.insert(to->rx.end(), bytes.begin(), bytes.end());
    }
  });
  return {io_status::ok, n, {}};
}

void sim_host::close(handle h) {
  watched_.erase(h);
  handles_.erase(h);
  if (auto* s = net_.find_stream(h)) {
    if (!s->closed) {
      s->closed = true;
      const handle peer = s->peer;
      const std::uint64_t at = std::max(net_.now() + net_.tcp_delay_ns, s->last_delivery);
      net_.schedule(at, [this, peer] {
        if (auto* p = net_.find_stream(peer)) {
          p->eof = true;
        }
      });
    }
    return;
  }
  if (net_.listeners_.erase(h) != 0) {
    return;
  }
  if (net_.datagrams_.erase(h) != 0) {
    return;
  }
  if (h == gre_) {
    gre_ = invalid_handle;
    return;
  }
  if (auto it = tuns_.find(h); it != tuns_.end()) {
    it->second->open = false;
  }
}

handle sim_host::udp_open(endpoint local, std::string& error) {
  probe_scope probe(*this);
  if (local.address != 0 && local.address != address_) {
    error = "udp: cannot bind to an address this host does not have";
    return invalid_handle;
  }
  if (local.port == 0) {
    local.port = net_.next_ephemeral_port_++;
  }
  for (const auto& [h, d] : net_.datagrams_) {
    if (d.host == this && d.local.port == local.port) {
      error = "udp: bind: Address already in use";
      return invalid_handle;
    }
  }
  const handle h = net_.new_handle();
  net_.datagrams_[h] = {this, local, {}};
  handles_.insert(h);
  return h;
}

io_result sim_host::udp_receive(handle h, std::span<std::uint8_t> out, endpoint& from) {
  probe_scope probe(*this);
  auto it = net_.datagrams_.find(h);
  if (it == net_.datagrams_.end() || it->second.rx.empty()) {
    return {io_status::would_block, 0, {}};
  }
  auto [sender, bytes] = std::move(it->second.rx.front());
  it->second.rx.pop_front();
  from = sender;
  if (bytes.size() > out.size()) {
    return {io_status::ok, 0, {}};
  }
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {io_status::ok, static_cast<std::uint32_t>(bytes.size()), {}};
}

io_result sim_host::udp_send(handle h, endpoint to, std::span<const std::uint8_t> bytes) {
  probe_scope probe(*this);
  auto it = net_.datagrams_.find(h);
  if (it == net_.datagrams_.end()) {
    return {io_status::error, 0, "udp send: not a datagram socket"};
  }
  const endpoint sender{address_, it->second.local.port};
  net_.schedule(net_.now() + net_.tcp_delay_ns,
                [net = &net_, to, sender, data = std::vector<std::uint8_t>(bytes.begin(), bytes.end())]() mutable {
                  for (auto& [dh, d] : net->datagrams_) {
                    if (d.host->address() == to.address && d.local.port == to.port) {
                      if (!d.host->udp_deaf) {
                        ++d.host->udp_received;
                        d.rx.emplace_back(sender, std::move(data));
                      }
                      return;
                    }
                  }
                });
  return {io_status::ok, static_cast<std::uint32_t>(bytes.size()), {}};
}

handle sim_host::gre_open(std::uint32_t, std::string& error) {
  if (gre_ != invalid_handle) {
    error = "gre socket already open";
    return invalid_handle;
  }
  gre_ = net_.new_handle();
  handles_.insert(gre_);
  return gre_;
}

void sim_host::apply_pool_cap(core::packet_pool& pool) {
  while (pool.available() > pool_cap) {
    held_.push_back(*pool.alloc());
  }
  while (pool.available() < pool_cap && !held_.empty()) {
    pool.free(held_.pop_front());
  }
}

void sim_host::release_pool() {
  pool_cap = UINT32_MAX;
  while (pptpkit_packet* p = held_.pop_front()) {
    free_packet(p);
  }
}

runtime::batch_result sim_host::gre_receive(handle h, core::packet_pool& pool, core::packet_list& out,
                                            std::uint32_t max) {
  probe_scope probe(*this);
  ++gre_receive_calls;
  apply_pool_cap(pool);
  runtime::batch_result r;
  while (h == gre_ && r.packets < max && !gre_rx_.empty()) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      r.status = runtime::batch_status::pool_empty;
      break;
    }
    auto& [from, bytes] = gre_rx_.front();
    const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), core::tailroom(*p)));
    std::memcpy(core::put(*p, len), bytes.data(), len);
    p->aux = from;
    out.push_back(*p);
    gre_rx_.pop_front();
    ++r.packets;
  }
  return r;
}

std::uint32_t sim_host::gre_send(handle h, core::packet_list& in) {
  probe_scope probe(*this);
  std::uint32_t sent = 0;
  while (pptpkit_packet* p = in.pop_front()) {
    if (h == gre_ && h != invalid_handle) {
      const std::uint32_t to = p->aux;
      const link_model::verdict v = net_.link().on_packet(address_, to, p->length, net_.now());
      ++gre_sent;
      ++sent;
      if (v.drop) {
        ++gre_dropped_by_link;
      } else {
        std::vector<std::uint8_t> bytes(core::data(*p), core::data(*p) + p->length);
        const std::uint32_t from = address_;
        net_.schedule(net_.now() + v.delay_ns, [this, to, from, bytes = std::move(bytes)]() mutable {
          sim_host* dest = net_.host_at(to);
          if (dest != nullptr && dest->gre_ != invalid_handle) {
            dest->gre_rx_.emplace_back(from, std::move(bytes));
          }
        });
      }
    }
    free_packet(p);
  }
  return sent;
}

handle sim_host::tun_open(const runtime::tun_config& config, std::string& actual_name, std::string& error) {
  if (fail_tun_open) {
    error = "TUNSETIFF: Operation not permitted";
    return invalid_handle;
  }
  for (auto& [h, t] : tuns_) {
    if (t->open && t->name == config.name) {
      error = config.name + ": Device or resource busy";
      return invalid_handle;
    }
  }
  const handle h = net_.new_handle();
  auto t = std::make_unique<sim_tun>();
  t->config = config;
  t->name = config.name.empty() ? "tun" + std::to_string(tuns_.size()) : config.name;
  actual_name = t->name;
  tuns_[h] = std::move(t);
  handles_.insert(h);
  return h;
}

bool sim_host::tun_set_ipv6(handle h, std::uint64_t local_id, std::uint64_t peer_id, std::string& error) {
  auto it = tuns_.find(h);
  if (it == tuns_.end()) {
    error = "no such device";
    return false;
  }
  it->second->ipv6_local = local_id;
  it->second->ipv6_peer = peer_id;
  return true;
}

bool sim_host::tun_add_route(handle h, const runtime::route& r, std::string& error) {
  auto it = tuns_.find(h);
  if (it == tuns_.end()) {
    error = "no such device";
    return false;
  }
  it->second->routes.push_back(r);
  return true;
}

runtime::batch_result sim_host::tun_read(handle h, core::packet_pool& pool, core::packet_list& out, std::uint32_t max) {
  probe_scope probe(*this);
  auto it = tuns_.find(h);
  if (it == tuns_.end() || !it->second->open) {
    return {};
  }
  ++it->second->reads;
  if (it->second->gone) {
    return {0, runtime::batch_status::failed, "TUN read: File descriptor in bad state"};
  }
  apply_pool_cap(pool);
  runtime::batch_result r;
  auto& q = it->second->from_stack;
  while (r.packets < max && !q.empty()) {
    pptpkit_packet* p = pool.alloc();
    if (p == nullptr) {
      r.status = runtime::batch_status::pool_empty;
      break;
    }
    const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(q.front().size(), core::tailroom(*p)));
    std::memcpy(core::put(*p, len), q.front().data(), len);
    if (len > 0 && (q.front()[0] >> 4) == 6) {
      p->flags |= PPTPKIT_PACKET_F_IPV6;
    }
    out.push_back(*p);
    q.pop_front();
    ++r.packets;
  }
  return r;
}

runtime::batch_result sim_host::tun_write(handle h, core::packet_list& in) {
  probe_scope probe(*this);
  auto it = tuns_.find(h);
  runtime::batch_result r;
  const bool gone = it != tuns_.end() && it->second->gone;
  if (gone) {
    r = {0, runtime::batch_status::failed, "TUN write: File descriptor in bad state"};
  }
  while (pptpkit_packet* p = in.pop_front()) {
    if (it != tuns_.end() && it->second->open && !gone) {
      it->second->to_stack.emplace_back(core::data(*p), core::data(*p) + p->length);
      ++r.packets;
    }
    free_packet(p);
  }
  return r;
}

void sim_host::watch(handle h, bool readable, bool writable) {
  watched_[h] = {readable, writable};
}

void sim_host::unwatch(handle h) {
  watched_.erase(h);
}

void sim_host::collect_ready(std::vector<runtime::readiness>& ready) const {
  for (const auto& [h, interest] : watched_) {
    runtime::readiness r{h, false, false, false};
    if (const auto* s = net_.find_stream(h)) {
      r.readable = interest.first && (!s->rx.empty() || s->eof || s->reset);
      const auto* peer = net_.find_stream(s->peer);
      const std::size_t unread = s->in_flight + (peer != nullptr ? peer->rx.size() : 0);
      r.writable = interest.second && s->connected && !s->reset && unread < stream_window;
      r.failed = s->connect_failed || s->reset;
    } else if (auto l = net_.listeners_.find(h); l != net_.listeners_.end()) {
      r.readable = interest.first && !l->second.pending.empty();
    } else if (auto d = net_.datagrams_.find(h); d != net_.datagrams_.end()) {
      r.readable = interest.first && !d->second.rx.empty();
    } else if (h == gre_) {
      r.readable = interest.first && !gre_rx_.empty();
    } else if (auto t = tuns_.find(h); t != tuns_.end()) {
      r.readable = interest.first && t->second->open && !t->second->gone && !t->second->from_stack.empty();
      r.failed = t->second->open && t->second->gone;  // EPOLLERR, whatever the interest
    }
    if (r.readable || r.writable || r.failed) {
      ready.push_back(r);
    }
  }
}

bool sim_host::would_wake() const {
  if (signals_ != 0) {
    return true;
  }
  std::vector<runtime::readiness> ready;
  collect_ready(ready);
  return !ready.empty();
}

void sim_host::wait(std::uint64_t deadline_ns, std::vector<runtime::readiness>& ready) {
  probe_scope probe(*this);
  if (on_wait) {
    on_wait();
  }
  last_deadline = deadline_ns;
  const std::size_t before = ready.size();
  collect_ready(ready);
  // A signal interrupts the wait like EINTR; the caller reads it with take_signals().
  last_ready = ready.size() - before + (signals_ != 0 ? 1 : 0);
}

std::uint32_t sim_host::take_signals() {
  const std::uint32_t s = signals_;
  signals_ = 0;
  return s;
}

bool sim_host::read_private_file(const std::string& path, std::string& content, std::string& warning,
                                 std::string& error) {
  probe_scope probe(*this);
  ++private_reads;
  warning.clear();
  if (const auto it = files.find(path); it != files.end()) {
    if (!it->second.readable) {
      error = path + ": cannot open: Permission denied";
      return false;
    }
    content = it->second.content;
    warning = runtime::private_file_warning(path, it->second.mode);
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  content = std::move(text).str();
  std::error_code ec;
  const auto perms = std::filesystem::status(path, ec).permissions();
  if (!ec) {
    warning = runtime::private_file_warning(path, static_cast<std::uint32_t>(perms) & 07777u);
  }
  return true;
}

void sim_host::run_hook(const std::string& path, const std::vector<std::string>& args,
                        const std::vector<std::string>& env) {
  probe_scope probe(*this);
  hooks_.push_back({path, args, env});
}

bool sim_host::drop_privileges(const std::string& user, std::string&) {
  privileges_dropped = true;
  dropped_privileges_to = user;
  return true;
}

}  // namespace pptpkit::testing
