#include "pptpkit/control/call_ids.hpp"

#include <cassert>
#include <utility>

namespace pptpkit::control {

// fresh_ starts zeroed, 0 standing for "the id of this slot" (slot i: id i + 1), so nothing is written
// per id up front; ring_ is written before it is read.
call_id_allocator::call_id_allocator(const keyed_random::key_type& key)
    : random_(key), fresh_(new std::uint16_t[id_count]()), ring_(new std::uint16_t[id_count]) {}

// One Fisher-Yates step: the pick-th fresh id is taken and the first fresh id moves into its slot.
std::uint16_t call_id_allocator::take_fresh(std::uint32_t pick) noexcept {
  const auto at = [this](std::uint32_t slot) {
    return fresh_[slot] != 0 ? fresh_[slot] : static_cast<std::uint16_t>(slot + 1);
  };
  const std::uint16_t id = at(fresh_begin_ + pick);
  fresh_[fresh_begin_ + pick] = at(fresh_begin_);
  ++fresh_begin_;
  return id;
}

// The pick-th oldest released id is taken; the oldest takes its place, so nothing jumps the queue.
std::uint16_t call_id_allocator::take_released(std::uint32_t pick) noexcept {
  std::uint32_t at = head_ + pick;
  if (at >= id_count) {
    at -= id_count;
  }
  std::swap(ring_[head_], ring_[at]);
  const std::uint16_t id = ring_[head_];
  head_ = head_ + 1 == id_count ? 0 : head_ + 1;
  --released_;
  return id;
}

std::uint16_t call_id_allocator::allocate() noexcept {
  const std::uint32_t fresh = fresh_count();
  const std::uint32_t free = fresh + released_;
  if (free == 0) {
    return 0;
  }
  const auto r = static_cast<std::uint32_t>(random_.next());
  std::uint16_t id = 0;
  if (fresh >= pick_window) {
    id = take_fresh(keyed_random::below(r, fresh));  // the window holds only fresh ids: any of them
  } else {
    const std::uint32_t pick = keyed_random::below(r, free < pick_window ? free : pick_window);
    id = pick < fresh ? take_fresh(pick) : take_released(pick - fresh);
  }
  assert(id != 0 && !live_.test(id));
  live_.set(id);
  return id;
}

void call_id_allocator::release(std::uint16_t id) noexcept {
  assert(id != 0 && live_.test(id) && "releasing a call id that is not live");
  live_.reset(id);
  std::uint32_t tail = head_ + released_;
  if (tail >= id_count) {
    tail -= id_count;
  }
  ring_[tail] = id;
  ++released_;
}

}  // namespace pptpkit::control
