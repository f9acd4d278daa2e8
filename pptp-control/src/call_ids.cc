#include "pptpkit/control/call_ids.hpp"

#include <cassert>

namespace pptpkit::control {

namespace {
// Random draws before the allocator falls back to a scan: with a few thousand calls live nearly every
// draw hits; the scan only matters when the id space is nearly full.
constexpr int random_attempts = 32;
}  // namespace

void call_id_allocator::expire(std::uint64_t now_ns) {
  while (!quarantine_.empty() && quarantine_.front().until_ns <= now_ns) {
    quarantined_.reset(quarantine_.front().id);
    quarantine_.pop_front();
  }
}

std::uint16_t call_id_allocator::allocate(std::uint64_t now_ns) {
  expire(now_ns);
  std::uint16_t start = 1;
  for (int i = 0; i < random_attempts; ++i) {
    std::uint16_t candidate = 0;
    if (!random_(candidate)) {
      break;
    }
    start = candidate;
    if (free_id(candidate)) {
      live_.set(candidate);
      return candidate;
    }
  }
  // Scan from the last random draw, so even the fallback does not hand out ids in a fixed order.
  for (std::uint32_t k = 0; k < 65536; ++k) {
    const auto candidate = static_cast<std::uint16_t>(start + k);
    if (free_id(candidate)) {
      live_.set(candidate);
      return candidate;
    }
  }
  return 0;
}

void call_id_allocator::release(std::uint16_t id, std::uint64_t now_ns) {
  assert(id != 0 && live_.test(id) && "releasing a call id that is not live");
  live_.reset(id);
  if (quarantine_ns_ == 0) {
    return;
  }
  quarantined_.set(id);
  quarantine_.push_back({id, now_ns + quarantine_ns_});
}

}  // namespace pptpkit::control
