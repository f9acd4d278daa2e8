// pptpkit/host_bsd/kqueue_poller.hpp — the platform's poller on kqueue(2), above the system-call layer.
//
//   watch(h, r, w) --EV_ADD/EV_DELETE of EVFILT_READ / EVFILT_WRITE--> kqueue
//   wait(timeout)  <--kevent records-- kqueue  --translate()--> runtime::readiness (one per handle)
//                                              EVFILT_SIGNAL  --> signal_flags (take_signals)
// Timers are the runtime's deadlines: wait() turns the earliest into kevent's timeout (the runtime keeps
// one deadline, so a kernel EVFILT_TIMER per deadline would only add system calls).
// Signals arrive as EVFILT_SIGNAL events: the signals are set to SIG_IGN first and kqueue still records
// them (kqueue(2): "even if the signal has been marked as SIG_IGN"), so no handler runs, nothing races.
// Ownership: owns the kqueue descriptor. Threading: one thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pptpkit/host_bsd/bsd_sys.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::host_bsd {

// Turns kevent records into readiness entries (merged per handle, appended to `ready` after index
// `first`) and signal flags. EV_EOF and EV_ERROR mark the handle failed; a read filter stays readable
// so the runtime drains what is left and sees the close.
void translate_events(const os_constants& c, std::span<const kevent_record> events,
                      std::vector<runtime::readiness>& ready, std::size_t first, std::uint32_t& signals);

// signal_flags bit for an OS signal number, 0 for a signal the runtime does not take.
std::uint32_t signal_flag(const os_constants& c, std::int64_t signal) noexcept;

class kqueue_poller {
 public:
  explicit kqueue_poller(bsd_sys& sys) : sys_(sys) {}
  ~kqueue_poller();
  kqueue_poller(const kqueue_poller&) = delete;
  kqueue_poller& operator=(const kqueue_poller&) = delete;

  // Creates the kqueue and registers SIGTERM, SIGINT, SIGHUP, SIGUSR1 (ignoring SIGPIPE and SIGCHLD,
  // so hook processes are reaped by the kernel). False + error on failure.
  bool open(std::string& error);
  void watch(fd_t h, bool readable, bool writable);
  void unwatch(fd_t h);
  // The descriptor is about to be closed: forget it (closing removes its kernel events).
  void forget(fd_t h);
  // timeout_ns < 0: until something happens.
  void wait(std::int64_t timeout_ns, std::vector<runtime::readiness>& ready);
  std::uint32_t take_signals() noexcept;

 private:
  struct interest {
    bool readable = false;
    bool writable = false;
  };
  bool apply(fd_t h, bool want, bool have, std::int16_t filter);

  bsd_sys& sys_;
  fd_t kq_ = -1;
  std::unordered_map<fd_t, interest> interest_;
  std::vector<fd_t> failed_;  // handles whose registration failed: reported as failed on the next wait
  std::uint32_t signals_ = 0;
  std::array<kevent_record, 64> events_{};
};

}  // namespace pptpkit::host_bsd
