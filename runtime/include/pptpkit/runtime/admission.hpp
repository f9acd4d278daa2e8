// pptpkit/runtime/admission.hpp — what an unauthenticated peer may make the server hold, decided before
// any work is done for it.
//
// TCP 1723 and GRE carry no authentication: anyone can connect, and the budgets here keep one source
// from taking what legitimate users need.
//
//   connection_admission  on accept, before the control plugin sees a byte: at most `max_total`
//                         connections, `max_per_source` from one IPv4 address, and `max_pending` that
//                         have not finished the SCCRQ/SCCRP handshake (an idle connect holds a pending
//                         slot until the control plugin's handshake deadline closes it).
//   login_throttle        online password guessing: failures are counted per source address and per
//                         user name over a window. After `free_failures` a login's answer is delayed
//                         (1 s, doubling up to `max_delay`); a *source* past `max_failures` is refused
//                         until its window ends. A user name is only ever delayed, never refused: a
//                         refusal per user would let anyone lock that user out by guessing wrong on
//                         purpose. A successful login clears its source's and its user's record. Each
//                         table holds at most `max_entries` (the stalest entry goes first).
//
// Pure: no clock, no I/O; times are the caller's (ns, monotonic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pptpkit::runtime {

class connection_admission {
 public:
  struct limits {
    std::uint32_t max_total = 100;     // --max-connections (pptpd: connections)
    std::uint32_t max_per_source = 8;  // --max-connections-per-source
    std::uint32_t max_pending = 64;    // --max-pending-connections
  };
  enum class verdict { admit, total, per_source, pending };

  explicit connection_admission(limits l) noexcept : limits_(l) {}

  // A connection from `source` asks to be accepted; on admit it counts as pending from `source`.
  verdict admit(std::uint32_t source);
  // Its handshake finished (CONNECTION_UP): it no longer counts as pending.
  void established(std::uint32_t source);
  // It is gone. `pending`: it never finished its handshake.
  void closed(std::uint32_t source, bool pending);

  std::uint32_t total() const noexcept { return total_; }
  std::uint32_t pending() const noexcept { return pending_; }
  std::uint32_t from(std::uint32_t source) const;
  const limits& settings() const noexcept { return limits_; }

 private:
  limits limits_;
  std::uint32_t total_ = 0;
  std::uint32_t pending_ = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> per_source_;  // only sources with a connection
};

class login_throttle {
 public:
  struct limits {
    std::uint32_t free_failures = 3;               // failures in a window before delays start
    std::uint32_t max_failures = 10;               // a source past this is refused until its window ends
    std::uint64_t window_ns = 600'000'000'000;     // 10 min
    std::uint64_t first_delay_ns = 1'000'000'000;  // doubles per failure past free_failures
    std::uint64_t max_delay_ns = 8'000'000'000;    // below ppp-bridge's 30 s wait for an answer
    std::uint32_t max_entries = 4096;              // per table
  };
  struct verdict {
    bool refuse = false;         // answer "unknown user" at once
    std::uint64_t delay_ns = 0;  // else: answer after this long
  };

  explicit login_throttle(limits l) noexcept : limits_(l) {}

  verdict check(std::uint32_t source, std::string_view user, std::uint64_t now);
  void failed(std::uint32_t source, std::string_view user, std::uint64_t now);
  void succeeded(std::uint32_t source, std::string_view user);

  std::size_t tracked_sources() const noexcept { return sources_.size(); }
  std::size_t tracked_users() const noexcept { return users_.size(); }

 private:
  struct record {
    std::uint32_t failures = 0;
    std::uint64_t window_start = 0;
    std::uint64_t last = 0;
  };
  template <typename Map, typename Key>
  void count(Map& table, const Key& key, std::uint64_t now);
  template <typename Map, typename Key>
  std::uint32_t failures_of(const Map& table, const Key& key, std::uint64_t now) const;
  std::uint64_t delay_for(std::uint32_t failures) const;

  limits limits_;
  std::unordered_map<std::uint32_t, record> sources_;
  std::unordered_map<std::string, record> users_;
};

}  // namespace pptpkit::runtime
