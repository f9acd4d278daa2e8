#include "pptpkit/host_bsd/kqueue_poller.hpp"

#include <algorithm>
#include <utility>

namespace pptpkit::host_bsd {

std::uint32_t signal_flag(const os_constants& c, std::int64_t signal) noexcept {
  if (signal == c.sigterm || signal == c.sigint) {
    return runtime::signal_stop;
  }
  if (signal == c.sighup) {
    return runtime::signal_reload;
  }
  if (signal == c.sigusr1) {
    return runtime::signal_status;
  }
  return 0;
}

void translate_events(const os_constants& c, std::span<const kevent_record> events,
                      std::vector<runtime::readiness>& ready, std::size_t first, std::uint32_t& signals) {
  for (const kevent_record& e : events) {
    if (e.filter == c.evfilt_signal) {
      signals |= signal_flag(c, static_cast<std::int64_t>(e.ident));
      continue;
    }
    const auto h = static_cast<runtime::handle>(e.ident);
    auto it = std::find_if(ready.begin() + static_cast<std::ptrdiff_t>(first), ready.end(),
                           [h](const runtime::readiness& r) { return r.h == h; });
    if (it == ready.end()) {
      ready.push_back(runtime::readiness{.h = h, .readable = false, .writable = false, .failed = false});
      it = ready.end() - 1;
    }
    if ((e.flags & c.ev_error) != 0) {
      // A change that failed for this descriptor (data = errno), or an error condition.
      it->failed = true;
      continue;
    }
    if (e.filter == c.evfilt_read) {
      it->readable = true;
    } else if (e.filter == c.evfilt_write) {
      it->writable = true;
    }
    if ((e.flags & c.ev_eof) != 0) {
      it->failed = true;  // peer closed or device gone; a reader still drains what is queued
    }
  }
}

kqueue_poller::~kqueue_poller() {
  if (kq_ >= 0) {
    sys_.close(kq_);
  }
}

bool kqueue_poller::open(std::string& error) {
  const os_constants& c = sys_.constants();
  const sys_result kq = sys_.kqueue();
  if (!kq.ok()) {
    error = "kqueue: " + sys_.error_text(kq.err);
    return false;
  }
  kq_ = static_cast<fd_t>(kq.value);
  sys_.ignore_signal(c.sigpipe);
  sys_.ignore_signal(c.sigchld);  // hooks are not waited for; the kernel reaps them
  for (const std::int32_t s : {c.sigterm, c.sigint, c.sighup, c.sigusr1}) {
    sys_.ignore_signal(s);
    const kevent_record change{.ident = static_cast<std::uint64_t>(s),
                               .filter = c.evfilt_signal,
                               .flags = static_cast<std::uint16_t>(c.ev_add | c.ev_enable),
                               .fflags = 0,
                               .data = 0};
    const sys_result r = sys_.kevent(kq_, {&change, 1}, {}, 0);
    if (!r.ok()) {
      error = "kevent(EVFILT_SIGNAL " + std::to_string(s) + "): " + sys_.error_text(r.err);
      return false;
    }
  }
  return true;
}

bool kqueue_poller::apply(fd_t h, bool want, bool have, std::int16_t filter) {
  if (want == have) {
    return true;
  }
  const os_constants& c = sys_.constants();
  const kevent_record change{.ident = static_cast<std::uint64_t>(h),
                             .filter = filter,
                             .flags = want ? static_cast<std::uint16_t>(c.ev_add | c.ev_enable) : c.ev_delete,
                             .fflags = 0,
                             .data = 0};
  return sys_.kevent(kq_, {&change, 1}, {}, 0).ok();
}

void kqueue_poller::watch(fd_t h, bool readable, bool writable) {
  const os_constants& c = sys_.constants();
  interest& i = interest_[h];
  const bool ok = apply(h, readable, i.readable, c.evfilt_read) && apply(h, writable, i.writable, c.evfilt_write);
  i = {readable, writable};
  if (!ok && std::find(failed_.begin(), failed_.end(), h) == failed_.end()) {
    failed_.push_back(h);
  }
}

void kqueue_poller::unwatch(fd_t h) {
  auto it = interest_.find(h);
  if (it == interest_.end()) {
    return;
  }
  const os_constants& c = sys_.constants();
  apply(h, false, it->second.readable, c.evfilt_read);
  apply(h, false, it->second.writable, c.evfilt_write);
  interest_.erase(it);
  std::erase(failed_, h);
}

void kqueue_poller::forget(fd_t h) {
  interest_.erase(h);
  std::erase(failed_, h);
}

void kqueue_poller::wait(std::int64_t timeout_ns, std::vector<runtime::readiness>& ready) {
  const std::size_t first = ready.size();
  for (const fd_t h : failed_) {
    ready.push_back(runtime::readiness{.h = h, .readable = false, .writable = false, .failed = true});
  }
  if (!failed_.empty()) {
    failed_.clear();
    timeout_ns = 0;
  }
  if (signals_ != 0) {
    timeout_ns = 0;  // a signal is pending: report it now
  }
  const sys_result r = sys_.kevent(kq_, {}, events_, timeout_ns);
  if (!r.ok()) {
    return;  // EINTR or a transient failure: the caller loops
  }
  const auto n = std::min<std::size_t>(static_cast<std::size_t>(r.value), events_.size());
  translate_events(sys_.constants(), {events_.data(), n}, ready, first, signals_);
}

std::uint32_t kqueue_poller::take_signals() noexcept {
  return std::exchange(signals_, 0u);
}

}  // namespace pptpkit::host_bsd
