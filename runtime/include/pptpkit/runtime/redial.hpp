// pptpkit/runtime/redial.hpp — the client's reconnect policy, pppd's persist / maxfail / holdoff.
//
// After each attempt ends (a connection that failed, or a session that went down) the client asks the
// policy what to do: exit (with pppd's status) or try again at a time. Without --persist the client
// exits after its first attempt: 0 when a session came up, 1 otherwise. With it, it reconnects after
// --holdoff seconds and gives up with 1 after --maxfail attempts in a row that never brought a session
// up (0 = never give up). A stopping client exits: 0 when a session was ever up.
//
// Pure: no clock, no I/O; times are the caller's.
#pragma once

#include <cstdint>

namespace pptpkit::runtime {

class redial_policy {
 public:
  struct settings {
    bool persist = false;
    std::uint32_t maxfail = 10;  // 0 = no limit
    std::uint32_t holdoff_s = 30;
  };

  struct decision {
    bool finish = false;             // exit now with `exit_status`
    int exit_status = 0;             // when finish
    std::uint64_t reconnect_at = 0;  // when !finish: the time (ns, never 0) to connect again
    bool gave_up = false;            // finish because --maxfail was reached
  };

  explicit redial_policy(settings s) noexcept : settings_(s) {}

  // A new attempt starts (a connection is being made).
  void attempt_started() noexcept { attempt_had_session_ = false; }
  // The attempt's session came up.
  void session_up() noexcept {
    attempt_had_session_ = true;
    ever_up_ = true;
  }
  // The attempt is over (no connection left): what now. `stopping`: the daemon was told to stop.
  decision attempt_ended(std::uint64_t now_ns, bool stopping) noexcept;

  bool ever_up() const noexcept { return ever_up_; }
  std::uint32_t failures() const noexcept { return failures_; }

 private:
  settings settings_;
  std::uint32_t failures_ = 0;
  bool attempt_had_session_ = false;
  bool ever_up_ = false;
};

}  // namespace pptpkit::runtime
