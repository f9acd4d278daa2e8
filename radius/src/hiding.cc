// User-Password hiding (RFC 2865 §5.2) and the salt encryption of RFC 2548 §2.4.2 and RFC 2868 §3.5.
// Both XOR the value, in blocks of 16, with a chain of MD5(secret | previous block) started from the
// request authenticator (and, for salt encryption, the salt).
#include <cassert>
#include <cstring>

#include "hash.hpp"
#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {

namespace {

constexpr std::size_t block = 16;

// RFC 2865 §5.2: b1 = MD5(S + RA), c(1) = p1 xor b1; bi = MD5(S + c(i-1)). `seed` is RA, or RA | salt.
// The cipher text is always the chain input, so encrypt and decrypt differ only in which side that is.
void crypt_blocks(std::span<std::uint8_t> data, std::string_view secret, std::span<const std::uint8_t> seed,
                  bool decrypt) {
  assert(data.size() % block == 0);
  std::uint8_t previous[block];
  for (std::size_t at = 0; at < data.size(); at += block) {
    detail::md5 h;
    h.update(secret);
    if (at == 0) {
      h.update(seed);
    } else {
      h.update(std::span<const std::uint8_t>(previous, block));
    }
    const authenticator b = h.digest();
    std::uint8_t* p = data.data() + at;
    if (decrypt) {
      std::memcpy(previous, p, block);
    }
    for (std::size_t i = 0; i < block; ++i) {
      p[i] = static_cast<std::uint8_t>(p[i] ^ b[i]);
    }
    if (!decrypt) {
      std::memcpy(previous, p, block);
    }
  }
}

}  // namespace

std::optional<std::vector<std::uint8_t>> hide_user_password(std::string_view password, std::string_view secret,
                                                            const authenticator& request_auth) {
  if (password.size() > max_password_length) {
    return std::nullopt;
  }
  // RFC 2865 §5.2: padded with nulls to a multiple of 16 octets; an empty password is one block.
  const std::size_t padded = password.empty() ? block : (password.size() + block - 1) / block * block;
  std::vector<std::uint8_t> out(padded, 0);
  if (!password.empty()) {
    std::memcpy(out.data(), password.data(), password.size());
  }
  crypt_blocks(out, secret, request_auth, false);
  return out;
}

std::optional<std::string> unhide_user_password(std::span<const std::uint8_t> hidden, std::string_view secret,
                                                const authenticator& request_auth) {
  if (hidden.empty() || hidden.size() % block != 0 || hidden.size() > max_password_length) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> plain(hidden.begin(), hidden.end());
  crypt_blocks(plain, secret, request_auth, true);
  std::size_t n = plain.size();
  while (n > 0 && plain[n - 1] == 0) {
    --n;
  }
  return std::string(reinterpret_cast<const char*>(plain.data()), n);
}

std::optional<std::vector<std::uint8_t>> salt_decrypt(std::span<const std::uint8_t> value, std::string_view secret,
                                                      const authenticator& request_auth) {
  // RFC 2548 §2.4.2: Salt (2 octets, most significant bit set) then the String, a multiple of 16.
  if (value.size() < 2 + block || (value.size() - 2) % block != 0 || (value[0] & 0x80) == 0) {
    return std::nullopt;
  }
  std::uint8_t seed[16 + 2];
  std::memcpy(seed, request_auth.data(), 16);
  seed[16] = value[0];
  seed[17] = value[1];
  std::vector<std::uint8_t> plain(value.begin() + 2, value.end());
  crypt_blocks(plain, secret, seed, true);
  // The first octet is the key (or password) length; what follows it beyond that is padding, which
  // only rounds up to a whole block.
  const std::size_t length = plain[0];
  if (length + 1 > plain.size() || (length + 1 + block - 1) / block * block != plain.size()) {
    return std::nullopt;
  }
  return std::vector<std::uint8_t>(plain.begin() + 1, plain.begin() + 1 + static_cast<std::ptrdiff_t>(length));
}

std::vector<std::uint8_t> salt_encrypt(std::span<const std::uint8_t> plain, std::uint16_t salt, std::string_view secret,
                                       const authenticator& request_auth) {
  assert(plain.size() <= 239);
  const std::size_t padded = (plain.size() + 1 + block - 1) / block * block;
  std::vector<std::uint8_t> out(2 + padded, 0);
  out[0] = static_cast<std::uint8_t>((salt >> 8) | 0x80);  // RFC 2548 §2.4.2: the high bit MUST be set
  out[1] = static_cast<std::uint8_t>(salt);
  out[2] = static_cast<std::uint8_t>(plain.size());
  if (!plain.empty()) {
    std::memcpy(out.data() + 3, plain.data(), plain.size());
  }
  std::uint8_t seed[16 + 2];
  std::memcpy(seed, request_auth.data(), 16);
  seed[16] = out[0];
  seed[17] = out[1];
  crypt_blocks(std::span<std::uint8_t>(out).subspan(2), secret, seed, false);
  return out;
}

}  // namespace pptpkit::radius
