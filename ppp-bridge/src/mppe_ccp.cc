#include "pptpkit/ppp/mppe_ccp.hpp"

#include <cassert>
#include <cstdio>

namespace pptpkit::ppp {
namespace {

// The strongest single strength bit among `bits` (S > M > L), or 0.
std::uint32_t strongest(std::uint32_t bits) noexcept {
  for (std::uint32_t b : {mppe_opt_s, mppe_opt_m, mppe_opt_l}) {
    if ((bits & b) != 0) {
      return b;
    }
  }
  return 0;
}

bool single_strength(std::uint32_t bits) noexcept {
  const std::uint32_t s = bits & mppe_opt_strengths;
  return s != 0 && (s & (s - 1)) == 0;
}

void apply_pppd_word(mppe_policy& p, std::string_view w) {
  auto require_only = [&](bool b40, bool b56, bool b128) {
    p.requirement = mppe_requirement::required;
    p.allow_40 = b40;
    p.allow_56 = b56;
    p.allow_128 = b128;
  };
  if (w == "require-mppe") {
    p.requirement = mppe_requirement::required;
  } else if (w == "require-mppe-40") {
    require_only(true, false, false);
  } else if (w == "require-mppe-56") {
    require_only(false, true, false);
  } else if (w == "require-mppe-128") {
    require_only(false, false, true);
  } else if (w == "nomppe-40") {
    p.allow_40 = false;
  } else if (w == "nomppe-56") {
    p.allow_56 = false;
  } else if (w == "nomppe-128") {
    p.allow_128 = false;
  } else if (w == "mppe-stateful") {
    p.allow_stateful = true;
  } else if (w == "nomppe-stateful") {
    p.allow_stateful = false;
  } else if (w == "refuse-mppe" || w == "nomppe") {
    p.requirement = mppe_requirement::refused;
  } else {
    throw core::config_error("mppe: unknown pppd option '" + std::string(w) + "'");
  }
}

// pppd's "mppe required,stateless,no40": a comma-separated list.
void apply_mppe_list(mppe_policy& p, std::string_view list) {
  p.requirement = mppe_requirement::optional;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    if (item == "required") {
      p.requirement = mppe_requirement::required;
    } else if (item == "stateless") {
      p.allow_stateful = false;
    } else if (item == "no40") {
      p.allow_40 = false;
    } else if (item == "no56") {
      p.allow_56 = false;
    } else if (item == "no128") {
      p.allow_128 = false;
    } else {
      throw core::config_error("mppe: unknown item '" + std::string(item) + "' in the mppe option");
    }
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
}

void check_usable(const mppe_policy& p) {
  if (p.requirement != mppe_requirement::refused && p.strength_bits() == 0) {
    throw core::config_error("mppe: no key length is allowed (all of 40, 56 and 128 excluded)");
  }
}

}  // namespace

std::optional<std::uint32_t> mppe_decode_option(std::span<const std::uint8_t> option) noexcept {
  if (option.size() < ccp_option_mppe_length || option[0] != ccp_option_mppe || option[1] != ccp_option_mppe_length) {
    return std::nullopt;
  }
  return (std::uint32_t{option[2]} << 24) | (std::uint32_t{option[3]} << 16) | (std::uint32_t{option[4]} << 8) |
         option[5];
}

std::size_t mppe_encode_option(std::uint32_t bits, std::span<std::uint8_t> out) noexcept {
  if (out.size() < ccp_option_mppe_length) {
    return 0;
  }
  out[0] = ccp_option_mppe;
  out[1] = ccp_option_mppe_length;
  out[2] = static_cast<std::uint8_t>(bits >> 24);
  out[3] = static_cast<std::uint8_t>(bits >> 16);
  out[4] = static_cast<std::uint8_t>(bits >> 8);
  out[5] = static_cast<std::uint8_t>(bits);
  return ccp_option_mppe_length;
}

std::string mppe_describe(std::uint32_t bits) {
  std::string s;
  auto flag = [&](std::uint32_t b, char name) {
    if (!s.empty()) {
      s += ' ';
    }
    s += (bits & b) != 0 ? '+' : '-';
    s += name;
  };
  flag(mppe_opt_h, 'H');
  flag(mppe_opt_m, 'M');
  flag(mppe_opt_s, 'S');
  flag(mppe_opt_l, 'L');
  flag(mppe_opt_d, 'D');
  flag(mppe_opt_c, 'C');
  if ((bits & ~mppe_opt_known) != 0) {
    char extra[24];
    std::snprintf(extra, sizeof extra, " +0x%08x", bits & ~mppe_opt_known);
    s += extra;
  }
  return s;
}

mppe_policy mppe_policy::from_pppd(std::span<const std::string_view> words) {
  mppe_policy p;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "mppe") {
      if (i + 1 >= words.size()) {
        throw core::config_error("mppe: the pppd option 'mppe' needs a list (e.g. required,stateless)");
      }
      apply_mppe_list(p, words[++i]);
    } else {
      apply_pppd_word(p, words[i]);
    }
  }
  check_usable(p);
  return p;
}

mppe_policy mppe_policy::from_config(const core::config_map& config) {
  mppe_policy p;
  const std::string mode = config.get("mppe", "optional");
  if (mode == "required") {
    p.requirement = mppe_requirement::required;
  } else if (mode == "optional") {
    p.requirement = mppe_requirement::optional;
  } else if (mode == "refused") {
    p.requirement = mppe_requirement::refused;
  } else {
    throw core::config_error("mppe: '" + mode + "' is not one of required, optional, refused");
  }
  if (config.has("mppe_bits")) {
    p.allow_40 = p.allow_56 = p.allow_128 = false;
    const std::string bits = config.get("mppe_bits");
    std::string_view rest = bits;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      if (item == "40") {
        p.allow_40 = true;
      } else if (item == "56") {
        p.allow_56 = true;
      } else if (item == "128") {
        p.allow_128 = true;
      } else {
        throw core::config_error("mppe_bits: '" + std::string(item) + "' is not 40, 56 or 128");
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  p.allow_stateful = config.get_bool("mppe_stateful", false);
  check_usable(p);
  return p;
}

std::uint32_t mppe_policy::strength_bits() const noexcept {
  return (allow_40 ? mppe_opt_l : 0) | (allow_56 ? mppe_opt_m : 0) | (allow_128 ? mppe_opt_s : 0);
}

std::optional<std::uint32_t> mppe_our_request(const mppe_policy& policy) noexcept {
  if (policy.requirement == mppe_requirement::refused || policy.strength_bits() == 0) {
    return std::nullopt;
  }
  return policy.strength_bits() | (policy.allow_stateful ? 0 : mppe_opt_h);
}

mppe_judgement mppe_judge_peer_request(const mppe_policy& policy, std::uint32_t peer_bits) noexcept {
  if (policy.requirement == mppe_requirement::refused) {
    return {ccp_verdict::reject, peer_bits};  // RFC 1661 §5.4: we do not do this option at all
  }
  const std::uint32_t common = strongest(peer_bits & policy.strength_bits());
  if (common == 0) {
    // No key length in common (an MPPC-only request included): nothing a Nak could fix. pppd does this.
    return {ccp_verdict::reject, peer_bits};
  }
  // RFC 3078 §2: exactly one strength, no MPPC, no D; stateless is always acceptable, stateful only when
  // allowed.
  const bool stateless = (peer_bits & mppe_opt_h) != 0 || !policy.allow_stateful;
  const std::uint32_t wanted = common | (stateless ? mppe_opt_h : 0);
  if (peer_bits == wanted) {
    return {ccp_verdict::ack, peer_bits};
  }
  return {ccp_verdict::nak, wanted};  // RFC 1661 §5.3: the value we would accept
}

std::optional<std::uint32_t> mppe_handle_nak(const mppe_policy& policy, std::uint32_t suggested) noexcept {
  if (policy.requirement == mppe_requirement::refused) {
    return std::nullopt;
  }
  const std::uint32_t common = strongest(suggested & policy.strength_bits());
  if (common == 0) {
    return std::nullopt;
  }
  if ((suggested & mppe_opt_h) != 0) {
    return common | mppe_opt_h;
  }
  if (!policy.allow_stateful) {
    return std::nullopt;  // the peer insists on stateful mode (nomppe-stateful)
  }
  return common;
}

bool mppe_reject_is_fatal(const mppe_policy& policy) noexcept {
  return policy.requirement == mppe_requirement::required;
}

std::optional<mppe_params> mppe_agreed(std::uint32_t ours_acked, std::uint32_t theirs_acked) noexcept {
  constexpr std::uint32_t meaningful = mppe_opt_h | mppe_opt_strengths | mppe_opt_d | mppe_opt_c;
  if ((ours_acked & meaningful) != (theirs_acked & meaningful) || !single_strength(ours_acked) ||
      (ours_acked & (mppe_opt_c | mppe_opt_d)) != 0) {
    return std::nullopt;
  }
  mppe_params p;
  p.stateless = (ours_acked & mppe_opt_h) != 0;
  p.strength = (ours_acked & mppe_opt_s) != 0   ? mppe_strength::bits_128
               : (ours_acked & mppe_opt_m) != 0 ? mppe_strength::bits_56
                                                : mppe_strength::bits_40;
  return p;
}

bool mppe_blocks_network(const mppe_policy& policy, bool mppe_up) noexcept {
  return policy.requirement == mppe_requirement::required && !mppe_up;
}

std::size_t ccp_encode_reset(std::uint8_t code, std::uint8_t id, std::span<std::uint8_t> out) noexcept {
  assert(code == ccp_code_reset_request || code == ccp_code_reset_ack);
  if (out.size() < 4) {
    return 0;
  }
  out[0] = code;
  out[1] = id;
  out[2] = 0;
  out[3] = 4;  // RFC 1962 §5.3: code, identifier, length; no data
  return 4;
}

std::optional<ccp_reset> ccp_decode_reset(std::span<const std::uint8_t> packet) noexcept {
  if (packet.size() < 4 || (packet[0] != ccp_code_reset_request && packet[0] != ccp_code_reset_ack)) {
    return std::nullopt;
  }
  const std::uint32_t length = (std::uint32_t{packet[2]} << 8) | packet[3];
  if (length < 4 || length > packet.size()) {
    return std::nullopt;  // RFC 1661 §5: a length beyond the frame is silently discarded
  }
  return ccp_reset{packet[0], packet[1]};
}

std::size_t mppe_on_ccp_reset(const ccp_reset& in, mppe_encryptor& tx, mppe_decryptor& rx,
                              std::span<std::uint8_t> reply) noexcept {
  if (in.code == ccp_code_reset_request) {
    tx.on_reset_request();  // RFC 3078 §8.2: the next frame is rekeyed and flushed
    return ccp_encode_reset(ccp_code_reset_ack, in.id, reply);
  }
  rx.on_reset_ack(in.id);
  return 0;
}

std::size_t mppe_poll_ccp_reset(mppe_decryptor& rx, std::uint64_t now_ns, std::span<std::uint8_t> out) noexcept {
  if (out.size() < 4) {
    return 0;
  }
  const std::optional<std::uint8_t> id = rx.poll_reset_request(now_ns);
  return id ? ccp_encode_reset(ccp_code_reset_request, *id, out) : 0;
}

}  // namespace pptpkit::ppp
