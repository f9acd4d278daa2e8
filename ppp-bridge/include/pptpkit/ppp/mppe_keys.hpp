// pptpkit/ppp/mppe_keys.hpp — MPPE key derivation (RFC 3079) and key changes (RFC 3078 §7.3).
//
// MS-CHAPv2 hands over two values once the peer is authenticated: PasswordHashHash (MD4 of the NT
// password hash, 16 bytes) and the peer's 24-byte NT-Response. From them:
//
//   master key      GetMasterKey: SHA-1(PasswordHashHash | NT-Response | Magic1), first 16 bytes
//   start keys      GetAsymmetricStartKey: SHA-1(master | pad1 | Magic2 or Magic3 | pad2); the client's
//                   send key is the server's receive key (Magic2) and vice versa (Magic3)
//   session key     GetNewKeyFromSHA(start, start), salted for 40/56 bits (RFC 3079 §3.1-3.3)
//   key change      GetNewKeyFromSHA(start, session), then RC4-encrypted with itself, salted (RFC 3078 §7.3)
//
// 40- and 56-bit keys are 8 bytes of which the first 3 (40-bit: D1 26 9E) or the first one (56-bit: D1)
// are fixed; 128-bit keys are 16 bytes. Crypto primitives are Nettle's SHA-1 and ARCFOUR.
//
// Everything here is a pure value computation: no allocation, no exception, safe on the data path.
// Threading: a key_schedule is a value; one thread at a time.
#pragma once

#include <nettle/arcfour.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace pptpkit::ppp {

// The negotiated key strength (RFC 3078 §2: the L, M and S bits).
enum class mppe_strength : std::uint8_t { bits_40 = 40, bits_56 = 56, bits_128 = 128 };

// Key length in bytes for a strength: 8 for 40 and 56 bits (RFC 3079 §3.1, §3.2), 16 for 128 (§3.3).
constexpr std::size_t mppe_key_length(mppe_strength s) noexcept {
  return s == mppe_strength::bits_128 ? 16 : 8;
}

inline constexpr std::size_t mppe_max_key_length = 16;
using mppe_key = std::array<std::uint8_t, mppe_max_key_length>;

inline constexpr std::size_t mschap_password_hash_size = 16;  // RFC 2759 §8.3
inline constexpr std::size_t mschap_nt_response_size = 24;    // RFC 2759 §8.5

enum class mppe_role : std::uint8_t { client, server };

// RFC 3079 §3.4 GetMasterKey.
mppe_key mppe_master_key(std::span<const std::uint8_t, mschap_password_hash_size> password_hash_hash,
                         std::span<const std::uint8_t, mschap_nt_response_size> nt_response) noexcept;

// RFC 3079 §3.4 GetAsymmetricStartKey, all 16 bytes (shorter keys are its prefix).
mppe_key mppe_asymmetric_start_key(const mppe_key& master_key, bool is_send, bool is_server) noexcept;

// RFC 3078 §7.3 / RFC 3079 §3.4 GetNewKeyFromSHA: SHA-1(start | pad1 | session | pad2), first `length`
// bytes into out (the rest of out zeroed). length is 8 or 16.
void mppe_new_key_from_sha(std::span<const std::uint8_t> start_key, std::span<const std::uint8_t> session_key,
                           mppe_key& out) noexcept;

// The two start keys of one end: what it sends with and what it receives with.
struct mppe_start_keys {
  mppe_key send{};
  mppe_key receive{};
};
mppe_start_keys mppe_derive_start_keys(mppe_role role,
                                       std::span<const std::uint8_t, mschap_password_hash_size> password_hash_hash,
                                       std::span<const std::uint8_t, mschap_nt_response_size> nt_response) noexcept;

// One direction's keys: the start key and the current session key, with the RC4 key change.
class mppe_key_schedule {
 public:
  mppe_key_schedule() noexcept = default;
  // Derives the initial session key from the start key (RFC 3079 §3.1-3.3).
  mppe_key_schedule(const mppe_key& start, mppe_strength strength) noexcept;

  // One key change (RFC 3078 §7.3): the session key becomes the next key of the chain.
  void change() noexcept;
  // Replaces the session key (one kept earlier from this schedule's chain).
  void set_session_key(const mppe_key& key) noexcept { session_ = key; }
  // Keys an RC4 context with the current session key.
  void key_rc4(arcfour_ctx& ctx) const noexcept;

  std::span<const std::uint8_t> session_key() const noexcept { return {session_.data(), length_}; }
  std::span<const std::uint8_t> start_key() const noexcept { return {start_.data(), length_}; }
  mppe_strength strength() const noexcept { return strength_; }

 private:
  void salt() noexcept;
  std::span<const std::uint8_t> start_key_span() const noexcept { return start_key(); }

  mppe_key start_{};
  mppe_key session_{};
  std::size_t length_ = 16;
  mppe_strength strength_ = mppe_strength::bits_128;
};

}  // namespace pptpkit::ppp
