#include "pptpkit/control/call_ids.hpp"

#include <cassert>
#include <utility>

namespace pptpkit::control {

call_id_allocator::call_id_allocator(const keyed_random::key_type& key) : random_(key), ring_(id_count) {
  for (std::uint32_t i = 0; i < id_count; ++i) {
    ring_[i] = static_cast<std::uint16_t>(i + 1);
  }
  // Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm 3.4.2P), two 32-bit draws from each 64-bit output.
  std::uint64_t bits = 0;
  bool second_half = false;
  for (std::uint32_t i = id_count - 1; i > 0; --i) {
    bits = second_half ? bits >> 32 : random_.next();
    second_half = !second_half;
    const std::uint32_t j = keyed_random::below(static_cast<std::uint32_t>(bits), i + 1);
    std::swap(ring_[i], ring_[j]);
  }
}

std::uint16_t call_id_allocator::allocate() noexcept {
  if (free_ == 0) {
    return 0;
  }
  const std::uint32_t window = free_ < pick_window ? free_ : pick_window;
  const std::uint32_t pick = keyed_random::below(static_cast<std::uint32_t>(random_.next()), window);
  std::uint32_t at = head_ + pick;
  if (at >= id_count) {
    at -= id_count;
  }
  // The front id takes the picked one's place: it stays among the oldest, so nothing jumps the queue.
  std::swap(ring_[head_], ring_[at]);
  const std::uint16_t id = ring_[head_];
  head_ = head_ + 1 == id_count ? 0 : head_ + 1;
  --free_;
  assert(id != 0 && !live_.test(id));
  live_.set(id);
  return id;
}

void call_id_allocator::release(std::uint16_t id) noexcept {
  assert(id != 0 && live_.test(id) && "releasing a call id that is not live");
  live_.reset(id);
  std::uint32_t tail = head_ + free_;
  if (tail >= id_count) {
    tail -= id_count;
  }
  ring_[tail] = id;
  ++free_;
}

}  // namespace pptpkit::control
