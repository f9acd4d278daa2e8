// Fuzzes the CCP MPPE option decoder, the negotiation functions under several policies, and the
// Reset-Request/Reset-Ack decoder. Invariants: an Ack only ever accepts one strength without C or D, a
// Nak only suggests what the policy allows, encode/decode round-trips.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pptpkit/ppp/mppe_ccp.hpp"

namespace {

using namespace pptpkit::ppp;

const std::array<mppe_policy, 5>& policies() {
  static const std::array<mppe_policy, 5> p = [] {
    std::array<mppe_policy, 5> out{};
    out[1].requirement = mppe_requirement::required;
    out[1].allow_40 = false;
    out[2].allow_stateful = true;
    out[2].allow_56 = true;
    out[3].requirement = mppe_requirement::refused;
    out[4].requirement = mppe_requirement::required;
    out[4].allow_128 = false;
    return out;
  }();
  return p;
}

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  if (const auto reset = ccp_decode_reset(in)) {
    check(reset->code == ccp_code_reset_request || reset->code == ccp_code_reset_ack);
  }
  // Walk the input as a CCP option list (RFC 1661 §6: type, length >= 2, value).
  std::size_t pos = 0;
  while (pos + 2 <= size) {
    const std::size_t len = data[pos + 1];
    if (len < 2 || pos + len > size) {
      break;
    }
    const auto option = in.subspan(pos, len);
    if (const auto bits = mppe_decode_option(option)) {
      std::array<std::uint8_t, 6> again{};
      check(mppe_encode_option(*bits, again) == 6 && mppe_decode_option(again) == bits);
      (void)mppe_describe(*bits);
      for (const mppe_policy& p : policies()) {
        const mppe_judgement j = mppe_judge_peer_request(p, *bits);
        if (j.verdict == ccp_verdict::ack) {
          check(mppe_agreed(j.bits, j.bits).has_value());
          check((j.bits & p.strength_bits()) != 0 && p.requirement != mppe_requirement::refused);
        } else if (j.verdict == ccp_verdict::nak) {
          check(mppe_judge_peer_request(p, j.bits).verdict == ccp_verdict::ack);  // a Nak converges
        }
        if (const auto next = mppe_handle_nak(p, *bits)) {
          check((*next & ~p.strength_bits() & mppe_opt_strengths) == 0);
          check((*next & (mppe_opt_c | mppe_opt_d)) == 0);
        }
      }
    }
    pos += len;
  }
  return 0;
}
