// pptpkit/control/call_ids.hpp — call id allocation for a whole control instance.
//
// A call id names a call on the control connection and keys its GRE packets (RFC 2637 §2.7 "Call ID",
// §4.1 "Key (Call ID)"); the GRE demultiplexer of a host finds a call by it alone, so an id is unique
// among the live calls of every connection of the instance, never 0, and hard to guess (an off-path
// attacker who knows the key of a call can inject into it).
//
// Ids that were never handed out are "fresh"; released ids wait in a FIFO ring behind them, so the free
// ids form one queue: every fresh id (equally old), then the released ones in release order. allocate()
// takes one of the `pick_window` oldest free ids at random — any fresh id while pick_window or more are
// left, drawn by one step of a Fisher-Yates shuffle (Knuth, TAOCP vol. 2, Algorithm 3.4.2P) done as ids
// are taken — and release() puts an id at the back. So:
//   - an id that was just released comes back only after at least (free ids - pick_window) other ids
//     were handed out (61,438 with one call live; over 57,000 while the default limits keep at most
//     4,096 calls live), which keeps late GRE packets and control messages of an old call away from a
//     new one. Unlike a time quarantine this holds no id back: a peer that opens and clears calls in a
//     loop only moves ids through the queue, and a new call is refused only when all 65,535 ids are live;
//   - the next id is one of pick_window (12 bits) even to a peer that watched every id go by, and any
//     free id to one that did not;
//   - allocate and release are O(1), construction shuffles nothing up front, and none of them calls the
//     host: the randomness is keyed_random's, whose key the owner draws from the host's source once.
//
// Memory: two 128 KiB arrays (one zeroed) and an 8 KiB bitmap, allocated at construction. Threading: one thread at
// a time.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>

#include "pptpkit/control/keyed_random.hpp"

namespace pptpkit::control {

class call_id_allocator {
 public:
  static constexpr std::uint32_t id_count = 65535;  // 1..65535; 0 is never a call id
  static constexpr std::uint32_t pick_window = 4096;

  // May throw std::bad_alloc.
  explicit call_id_allocator(const keyed_random::key_type& key);

  // A free id (1..65535), or 0 when every id is live. O(1), one draw from the keyed stream.
  std::uint16_t allocate() noexcept;
  // Puts a live id back at the end of the queue. O(1), no draw.
  void release(std::uint16_t id) noexcept;

  bool live(std::uint16_t id) const noexcept { return live_.test(id); }
  std::size_t live_count() const noexcept { return id_count - fresh_count() - released_; }
  std::size_t free_count() const noexcept { return fresh_count() + released_; }
  // 64-bit numbers drawn from the keyed stream so far (one per allocate).
  std::uint64_t random_draws() const noexcept { return random_.draws(); }

 private:
  std::uint32_t fresh_count() const noexcept { return id_count - fresh_begin_; }
  std::uint16_t take_fresh(std::uint32_t pick) noexcept;
  std::uint16_t take_released(std::uint32_t pick) noexcept;

  keyed_random random_;
  std::unique_ptr<std::uint16_t[]> fresh_;  // fresh_[fresh_begin_ .. id_count): never handed out (0: slot + 1)
  std::uint32_t fresh_begin_ = 0;
  std::unique_ptr<std::uint16_t[]> ring_;  // released ids: ring_[head_ .. head_ + released_), modulo id_count
  std::uint32_t head_ = 0;
  std::uint32_t released_ = 0;
  std::bitset<65536> live_;
};

}  // namespace pptpkit::control
