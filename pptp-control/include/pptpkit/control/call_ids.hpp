// pptpkit/control/call_ids.hpp — call id allocation for a whole control instance.
//
// A call id names a call on the control connection and keys its GRE packets (RFC 2637 §2.7 "Call ID",
// §4.1 "Key (Call ID)"); the GRE demultiplexer of a host finds a call by it alone, so an id is unique
// among the live calls of every connection of the instance, never 0, and unpredictable (drawn from the
// host's random source, so an off-path attacker cannot guess the key of a call). A released id sits in
// quarantine for a configured time before it can be chosen again, so late GRE packets and late control
// messages of an old call never reach a new one.
//
// Memory: two 8 KiB bitmaps and a FIFO of quarantined ids (release order is expiry order because the
// quarantine time is one constant). Threading: one thread at a time.
#pragma once

#include <bitset>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

namespace pptpkit::control {

class call_id_allocator {
 public:
  // random16 fills in a random 16-bit value; returns false when the random source failed.
  using random_source = std::function<bool(std::uint16_t&)>;

  call_id_allocator(std::uint64_t quarantine_ns, random_source random) noexcept
      : quarantine_ns_(quarantine_ns), random_(std::move(random)) {}

  // A fresh id (1..65535), or 0 when every id is live or in quarantine (or the random source failed
  // and no id could be found by the fallback scan).
  std::uint16_t allocate(std::uint64_t now_ns);
  // Releases a live id into quarantine.
  void release(std::uint16_t id, std::uint64_t now_ns);

  bool live(std::uint16_t id) const noexcept { return live_.test(id); }
  bool quarantined(std::uint16_t id) const noexcept { return quarantined_.test(id); }
  std::size_t live_count() const noexcept { return live_.count(); }
  std::size_t quarantined_count() const noexcept { return quarantine_.size(); }

 private:
  void expire(std::uint64_t now_ns);
  bool free_id(std::uint16_t id) const noexcept { return id != 0 && !live_.test(id) && !quarantined_.test(id); }

  struct entry {
    std::uint16_t id;
    std::uint64_t until_ns;
  };
  std::uint64_t quarantine_ns_;
  random_source random_;
  std::bitset<65536> live_;
  std::bitset<65536> quarantined_;
  std::deque<entry> quarantine_;
};

}  // namespace pptpkit::control
