#include "pptpkit/runtime/redial.hpp"

namespace pptpkit::runtime {

redial_policy::decision redial_policy::attempt_ended(std::uint64_t now_ns, bool stopping) noexcept {
  if (attempt_had_session_) {
    failures_ = 0;
  } else {
    ++failures_;
  }
  if (stopping) {
    return {true, ever_up_ ? 0 : 1, 0, false};
  }
  if (!settings_.persist) {
    return {true, attempt_had_session_ ? 0 : 1, 0, false};
  }
  if (settings_.maxfail != 0 && failures_ >= settings_.maxfail) {
    return {true, 1, 0, true};
  }
  const std::uint64_t at = now_ns + std::uint64_t{settings_.holdoff_s} * 1'000'000'000u;
  return {false, 0, at == 0 ? 1 : at, false};
}

}  // namespace pptpkit::runtime
