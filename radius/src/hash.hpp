// radius/src/hash.hpp — the MD5 and HMAC-MD5 computations RADIUS is built from (Nettle), private.
#pragma once

#include <nettle/hmac.h>
#include <nettle/md5.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius::detail {

inline const std::uint8_t* u8(std::string_view s) noexcept {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

// MD5 over a sequence of pieces.
class md5 {
 public:
  md5() noexcept { md5_init(&ctx_); }
  md5& update(std::span<const std::uint8_t> bytes) noexcept {
    md5_update(&ctx_, bytes.size(), bytes.data());
    return *this;
  }
  md5& update(std::string_view s) noexcept {
    md5_update(&ctx_, s.size(), u8(s));
    return *this;
  }
  authenticator digest() noexcept {
    authenticator out;
    md5_digest(&ctx_, out.size(), out.data());
    return out;
  }

 private:
  md5_ctx ctx_;
};

inline authenticator hmac_md5(std::string_view key, std::span<const std::uint8_t> bytes) noexcept {
  hmac_md5_ctx ctx;
  hmac_md5_set_key(&ctx, key.size(), u8(key));
  hmac_md5_update(&ctx, bytes.size(), bytes.data());
  authenticator out;
  hmac_md5_digest(&ctx, out.size(), out.data());
  return out;
}

}  // namespace pptpkit::radius::detail
