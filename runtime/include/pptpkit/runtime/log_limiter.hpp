// pptpkit/runtime/log_limiter.hpp — keeps what a peer can make the plugins log from flooding the log.
//
// A hostile or broken peer can trigger a log line per packet (an unknown call id in every
// Call-Clear-Request, a message in the wrong state). Every such rejection is still counted in the
// plugins' statistics; only the lines are limited: a token bucket per key lets `burst` lines through at
// once and `per_second` lines a second after that. The engine keys lines by the peer they are about
// (its IPv4 address; lines about no peer share one key), so one flooding peer cannot hide another's
// lines. The first line let through after a suppression says how many were left out, so nothing
// disappears silently. At most `max_keys` keys have buckets of their own; lines for keys beyond that
// share one overflow bucket (a peer with many addresses gets one bucket, not thousands).
//
// Threading: one instance per engine, used from the engine's thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pptpkit::runtime {

class log_limiter {
 public:
  struct limits {
    std::uint32_t burst = 50;       // lines a component may log at once
    std::uint32_t per_second = 10;  // sustained lines a second after the burst
    std::uint32_t max_keys = 256;   // keys with a bucket of their own
  };

  struct verdict {
    bool emit = false;             // write this line
    std::uint64_t suppressed = 0;  // lines of this key left out before it (report them first)
  };

  log_limiter() = default;
  explicit log_limiter(limits l) noexcept : limits_(l) {}

  // One line for `key` at `now_ns` (monotonic).
  verdict admit(std::string_view key, std::uint64_t now_ns);

  // Lines left out so far, all keys together (for statistics).
  std::uint64_t total_suppressed() const noexcept { return total_suppressed_; }

 private:
  struct bucket {
    std::uint64_t tokens_milli = 0;  // thousandths of a line, so slow refill rates stay exact
    std::uint64_t refilled_ns = 0;
    std::uint64_t suppressed = 0;
  };

  limits limits_;
  std::unordered_map<std::string, bucket> buckets_;
  bucket overflow_;
  bool overflow_started_ = false;
  std::uint64_t total_suppressed_ = 0;
};

}  // namespace pptpkit::runtime
