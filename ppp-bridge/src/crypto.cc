#include "pptpkit/ppp/crypto.hpp"

#include <nettle/des.h>
#include <nettle/md4.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>

#include <cstring>

namespace pptpkit::ppp {

namespace {

// RFC 2759 §8.7 Magic1 and Magic2.
constexpr std::string_view magic1 = "Magic server to client signing constant";
constexpr std::string_view magic2 = "Pad to make it do more than one iteration";

const std::uint8_t* u8(std::string_view s) noexcept {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

// RFC 2759 §8.6 DesEncrypt: the 7-octet key becomes 8 octets of 7 key bits each, the low bit being
// parity (set by Nettle's des_fix_parity).
void des_encrypt(const std::uint8_t* clear8, const std::uint8_t* key7, std::uint8_t* out8) noexcept {
  std::uint8_t key[8];
  key[0] = key7[0];
  key[1] = static_cast<std::uint8_t>((key7[0] << 7) | (key7[1] >> 1));
  key[2] = static_cast<std::uint8_t>((key7[1] << 6) | (key7[2] >> 2));
  key[3] = static_cast<std::uint8_t>((key7[2] << 5) | (key7[3] >> 3));
  key[4] = static_cast<std::uint8_t>((key7[3] << 4) | (key7[4] >> 4));
  key[5] = static_cast<std::uint8_t>((key7[4] << 3) | (key7[5] >> 5));
  key[6] = static_cast<std::uint8_t>((key7[5] << 2) | (key7[6] >> 6));
  key[7] = static_cast<std::uint8_t>(key7[6] << 1);
  des_fix_parity(8, key, key);
  des_ctx ctx;
  des_set_key(&ctx, key);  // returns 0 for the (harmless here) weak keys; the schedule is set either way
  des_encrypt(&ctx, 8, out8, clear8);
}

}  // namespace

chap_digest chap_md5_response(std::uint8_t id, std::string_view secret,
                              std::span<const std::uint8_t> challenge) noexcept {
  md5_ctx ctx;
  md5_init(&ctx);
  md5_update(&ctx, 1, &id);
  md5_update(&ctx, secret.size(), u8(secret));
  md5_update(&ctx, challenge.size(), challenge.data());
  chap_digest d;
  md5_digest(&ctx, d.size(), d.data());
  return d;
}

std::array<std::uint8_t, 8> mschapv2_challenge_hash(const challenge16& peer_challenge,
                                                    const challenge16& authenticator_challenge,
                                                    std::string_view user_name) noexcept {
  sha1_ctx ctx;
  sha1_init(&ctx);
  sha1_update(&ctx, peer_challenge.size(), peer_challenge.data());
  sha1_update(&ctx, authenticator_challenge.size(), authenticator_challenge.data());
  sha1_update(&ctx, user_name.size(), u8(user_name));
  std::uint8_t digest[SHA1_DIGEST_SIZE];
  sha1_digest(&ctx, sizeof(digest), digest);
  std::array<std::uint8_t, 8> out;
  std::memcpy(out.data(), digest, out.size());
  return out;
}

nt_hash nt_password_hash(std::string_view password) noexcept {
  // UTF-8 to UTF-16LE, one code unit per character of the Basic Multilingual Plane (RFC 2759 §8.3
  // says "Unicode"); a password longer than 256 characters is truncated as Windows does.
  md4_ctx ctx;
  md4_init(&ctx);
  std::size_t i = 0;
  unsigned chars = 0;
  while (i < password.size() && chars < 256) {
    std::uint32_t cp = static_cast<std::uint8_t>(password[i]);
    std::size_t n = 1;
    if (cp >= 0xe0 && i + 2 < password.size()) {
      cp = ((cp & 0x0fu) << 12) | ((static_cast<std::uint8_t>(password[i + 1]) & 0x3fu) << 6) |
           (static_cast<std::uint8_t>(password[i + 2]) & 0x3fu);
      n = 3;
    } else if (cp >= 0xc0 && i + 1 < password.size()) {
      cp = ((cp & 0x1fu) << 6) | (static_cast<std::uint8_t>(password[i + 1]) & 0x3fu);
      n = 2;
    }
    const std::uint8_t unit[2] = {static_cast<std::uint8_t>(cp), static_cast<std::uint8_t>(cp >> 8)};
    md4_update(&ctx, 2, unit);
    i += n;
    ++chars;
  }
  nt_hash h;
  md4_digest(&ctx, h.size(), h.data());
  return h;
}

nt_hash hash_nt_password_hash(const nt_hash& password_hash) noexcept {
  md4_ctx ctx;
  md4_init(&ctx);
  md4_update(&ctx, password_hash.size(), password_hash.data());
  nt_hash h;
  md4_digest(&ctx, h.size(), h.data());
  return h;
}

nt_response_t mschap_challenge_response(std::span<const std::uint8_t, 8> challenge,
                                        const nt_hash& password_hash) noexcept {
  std::uint8_t z[21] = {};
  std::memcpy(z, password_hash.data(), password_hash.size());
  nt_response_t r;
  des_encrypt(challenge.data(), z, r.data());
  des_encrypt(challenge.data(), z + 7, r.data() + 8);
  des_encrypt(challenge.data(), z + 14, r.data() + 16);
  return r;
}

nt_response_t mschapv2_nt_response(const challenge16& authenticator_challenge, const challenge16& peer_challenge,
                                   std::string_view user_name, std::string_view password) noexcept {
  const auto challenge = mschapv2_challenge_hash(peer_challenge, authenticator_challenge, user_name);
  return mschap_challenge_response(std::span<const std::uint8_t, 8>(challenge), nt_password_hash(password));
}

authenticator_response mschapv2_authenticator_response(std::string_view password, const nt_response_t& response,
                                                       const challenge16& peer_challenge,
                                                       const challenge16& authenticator_challenge,
                                                       std::string_view user_name) noexcept {
  const nt_hash hh = hash_nt_password_hash(nt_password_hash(password));
  std::uint8_t digest[SHA1_DIGEST_SIZE];
  sha1_ctx ctx;
  sha1_init(&ctx);
  sha1_update(&ctx, hh.size(), hh.data());
  sha1_update(&ctx, response.size(), response.data());
  sha1_update(&ctx, magic1.size(), u8(magic1));
  sha1_digest(&ctx, sizeof(digest), digest);
  const auto challenge = mschapv2_challenge_hash(peer_challenge, authenticator_challenge, user_name);
  sha1_init(&ctx);
  sha1_update(&ctx, sizeof(digest), digest);
  sha1_update(&ctx, challenge.size(), challenge.data());
  sha1_update(&ctx, magic2.size(), u8(magic2));
  sha1_digest(&ctx, sizeof(digest), digest);
  static constexpr char hex[] = "0123456789ABCDEF";
  authenticator_response out;
  out[0] = 'S';
  out[1] = '=';
  for (std::size_t i = 0; i < sizeof(digest); ++i) {
    out[2 + 2 * i] = hex[digest[i] >> 4];
    out[3 + 2 * i] = hex[digest[i] & 0xf];
  }
  return out;
}

std::string_view mschap_bare_user_name(std::string_view name) noexcept {
  const auto slash = name.rfind('\\');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

}  // namespace pptpkit::ppp
