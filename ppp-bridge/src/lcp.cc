#include "pptpkit/ppp/lcp.hpp"

#include <algorithm>

#include "pptpkit/ppp.h"

namespace pptpkit::ppp {

std::uint32_t decode_auth_option(std::span<const std::uint8_t> value) noexcept {
  if (value.size() < 2) {
    return 0;
  }
  const std::uint16_t proto = static_cast<std::uint16_t>((value[0] << 8) | value[1]);
  if (proto == proto_pap && value.size() == 2) {
    return PPTPKIT_PPP_AUTH_PAP;
  }
  if (proto == proto_eap && value.size() == 2) {
    return PPTPKIT_PPP_AUTH_EAP;
  }
  if (proto == proto_chap && value.size() == 3) {
    if (value[2] == 5) {  // RFC 1994 §3: MD5
      return PPTPKIT_PPP_AUTH_CHAP_MD5;
    }
    if (value[2] == 0x81) {  // RFC 2759 §2: MS-CHAPv2
      return PPTPKIT_PPP_AUTH_MSCHAP_V2;
    }
  }
  return 0;
}

void write_auth_option(core::wire_writer& out, std::uint32_t auth) noexcept {
  const bool chap = (auth >> 8) == proto_chap;
  out.u8(lcp_opt_auth);
  out.u8(chap ? 5 : 4);
  out.u16(static_cast<std::uint16_t>(chap ? auth >> 8 : auth));
  if (chap) {
    out.u8(static_cast<std::uint8_t>(auth));
  }
}

const char* auth_name(std::uint32_t auth) noexcept {
  switch (auth) {
    case PPTPKIT_PPP_AUTH_PAP:
      return "pap";
    case PPTPKIT_PPP_AUTH_CHAP_MD5:
      return "chap";
    case PPTPKIT_PPP_AUTH_MSCHAP_V2:
      return "mschapv2";
    case PPTPKIT_PPP_AUTH_EAP:
      return "eap";
    default:
      return "none";
  }
}

std::uint32_t lcp_handler::new_magic() noexcept {
  std::uint32_t m = 0;
  while (m == 0) {  // RFC 1661 §6.4: zero is not a valid magic number
    m = random_.random_u32();
  }
  return m;
}

void lcp_handler::reset_options() noexcept {
  want_mru_ = config_.mru;
  want_magic_ = true;
  want_pfc_ = true;
  want_acfc_ = true;
  auth_index_ = 0;
  peer_refused_auth_ = false;
  we_refused_auth_ = 0;
  loopbacks_ = 0;
  result_.our_magic = new_magic();
  result_.our_auth = config_.authenticate_with.empty() ? 0 : config_.authenticate_with[0];
}

void lcp_handler::build_request(core::wire_writer& out) noexcept {
  // Order as pppd sends it: mru, auth, magic, pcomp, accomp.
  if (want_mru_ != 0) {
    out.u8(lcp_opt_mru);
    out.u8(4);
    out.u16(want_mru_);
  }
  if (auth_index_ < config_.authenticate_with.size()) {
    write_auth_option(out, config_.authenticate_with[auth_index_]);
  }
  if (want_magic_) {
    out.u8(lcp_opt_magic);
    out.u8(6);
    out.u32(result_.our_magic);
  }
  if (want_pfc_) {
    out.u8(lcp_opt_pfc);
    out.u8(2);
  }
  if (want_acfc_) {
    out.u8(lcp_opt_acfc);
    out.u8(2);
  }
}

void lcp_handler::judge_begin() noexcept {
  result_.peer_mru = lcp_default_mru;
  result_.peer_auth = 0;
  result_.peer_magic = 0;
  result_.pfc_tx = false;
  result_.acfc_tx = false;
}

verdict lcp_handler::judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                                  core::wire_writer& nak_out) noexcept {
  switch (type) {
    case lcp_opt_mru: {  // RFC 1661 §6.1
      if (value.size() != 2) {
        return verdict::reject;
      }
      const std::uint16_t mru = static_cast<std::uint16_t>((value[0] << 8) | value[1]);
      if (mru < lcp_min_mru) {
        nak_out.u8(lcp_opt_mru);
        nak_out.u8(4);
        nak_out.u16(lcp_min_mru);
        return verdict::nak;
      }
      result_.peer_mru = mru;
      return verdict::ack;
    }
    case lcp_opt_accm:  // RFC 1662 §7.1: meaningless on a synchronous link, harmless to accept
      return value.size() == 4 ? verdict::ack : verdict::reject;
    case lcp_opt_auth: {  // RFC 1661 §6.2: the peer wants to authenticate us
      const std::uint32_t wanted = decode_auth_option(value);
      const auto& ok = config_.accept_auth;
      if (ok.empty()) {
        we_refused_auth_ = wanted != 0 ? wanted : 1;
        return verdict::reject;
      }
      if (wanted != 0 && std::find(ok.begin(), ok.end(), wanted) != ok.end()) {
        result_.peer_auth = wanted;
        we_refused_auth_ = 0;
        return verdict::ack;
      }
      we_refused_auth_ = wanted != 0 ? wanted : 1;
      write_auth_option(nak_out, ok[0]);  // §6.2: Nak with the protocol we prefer
      return verdict::nak;
    }
    case lcp_opt_magic: {  // RFC 1661 §6.4
      if (value.size() != 4) {
        return verdict::reject;
      }
      const std::uint32_t magic =
          (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) | (std::uint32_t{value[2]} << 8) | value[3];
      if (magic == 0 || (want_magic_ && magic == result_.our_magic)) {
        // Zero is illegal; our own number back suggests a looped-back link: Nak with a fresh one.
        if (magic != 0) {
          ++loopbacks_;
        }
        nak_out.u8(lcp_opt_magic);
        nak_out.u8(6);
        nak_out.u32(new_magic());
        return verdict::nak;
      }
      result_.peer_magic = magic;
      return verdict::ack;
    }
    case lcp_opt_pfc:  // RFC 1661 §6.5
      if (!value.empty()) {
        return verdict::reject;
      }
      result_.pfc_tx = true;
      return verdict::ack;
    case lcp_opt_acfc:  // RFC 1661 §6.6
      if (!value.empty()) {
        return verdict::reject;
      }
      result_.acfc_tx = true;
      return verdict::ack;
    default:  // §5.4: options we do not implement are rejected
      return verdict::reject;
  }
}

void lcp_handler::on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept {
  switch (type) {
    case lcp_opt_mru:
      if (value.size() == 2) {
        const std::uint16_t mru = static_cast<std::uint16_t>((value[0] << 8) | value[1]);
        // Take a smaller or larger suggestion within reason; else stop asking (the default 1500).
        want_mru_ = (mru >= lcp_min_mru && mru <= lcp_default_mru) ? mru : 0;
      }
      break;
    case lcp_opt_auth: {  // RFC 1661 §6.2: the peer suggests a protocol
      const auto& prefs = config_.authenticate_with;
      const std::uint32_t suggested = decode_auth_option(value);
      const auto it = std::find(prefs.begin(), prefs.end(), suggested);
      if (suggested != 0 && it != prefs.end()) {
        auth_index_ = static_cast<std::size_t>(it - prefs.begin());
      } else {
        ++auth_index_;  // not one we accept: offer our next one
      }
      if (auth_index_ >= prefs.size()) {
        peer_refused_auth_ = true;
        result_.our_auth = 0;
      } else {
        result_.our_auth = prefs[auth_index_];
      }
      break;
    }
    case lcp_opt_magic:  // RFC 1661 §6.4: pick another number
      ++loopbacks_;
      result_.our_magic = new_magic();
      break;
    default:  // Naks of PFC/ACFC or of options we did not send: nothing to adopt
      break;
  }
}

void lcp_handler::on_reject_option(std::uint8_t type) noexcept {
  switch (type) {
    case lcp_opt_mru:
      want_mru_ = 0;
      break;
    case lcp_opt_auth:
      auth_index_ = config_.authenticate_with.size();
      peer_refused_auth_ = !config_.authenticate_with.empty();
      result_.our_auth = 0;
      break;
    case lcp_opt_magic:
      want_magic_ = false;
      result_.our_magic = 0;
      break;
    case lcp_opt_pfc:
      want_pfc_ = false;
      break;
    case lcp_opt_acfc:
      want_acfc_ = false;
      break;
    default:
      break;
  }
}

}  // namespace pptpkit::ppp
