#include "pptpkit/runtime/log_limiter.hpp"

#include <algorithm>

namespace pptpkit::runtime {

log_limiter::verdict log_limiter::admit(std::string_view key, std::uint64_t now_ns) {
  const std::uint64_t capacity = std::uint64_t{limits_.burst} * 1000;
  bucket* found = nullptr;
  if (auto it = buckets_.find(std::string(key)); it != buckets_.end()) {
    found = &it->second;
  } else if (buckets_.size() < limits_.max_keys) {
    found = &buckets_.emplace(std::string(key), bucket{capacity, now_ns, 0}).first->second;
  } else {
    if (!overflow_started_) {
      overflow_ = {capacity, now_ns, 0};
      overflow_started_ = true;
    }
    found = &overflow_;
  }
  bucket& b = *found;
  if (now_ns > b.refilled_ns) {
    // per_second lines per 1e9 ns = per_second thousandths of a line per 1e6 ns.
    const std::uint64_t elapsed_ms = (now_ns - b.refilled_ns) / 1'000'000;
    const std::uint64_t refill = elapsed_ms * limits_.per_second;
    if (refill > 0) {
      b.tokens_milli = std::min(capacity, b.tokens_milli + refill);
      b.refilled_ns += elapsed_ms * 1'000'000;
    }
  }
  if (b.tokens_milli < 1000) {
    ++b.suppressed;
    ++total_suppressed_;
    return {false, 0};
  }
  b.tokens_milli -= 1000;
  const verdict v{true, b.suppressed};
  b.suppressed = 0;
  return v;
}

}  // namespace pptpkit::runtime
