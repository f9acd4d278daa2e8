#include "pptpkit/ppp/mppe_keys.hpp"

#include <nettle/sha1.h>

#include <algorithm>
#include <cassert>
#include <string_view>

namespace pptpkit::ppp {
namespace {

// RFC 3079 §3.4: the constants of GetMasterKey and GetAsymmetricStartKey.
constexpr std::string_view magic1 = "This is the MPPE Master Key";
constexpr std::string_view magic2 =
    "On the client side, this is the send key; on the server side, it is the receive key.";
constexpr std::string_view magic3 =
    "On the client side, this is the receive key; on the server side, it is the send key.";
static_assert(magic1.size() == 27 && magic2.size() == 84 && magic3.size() == 84, "RFC 3079 §3.4 sizes");

constexpr std::size_t sha_pad_size = 40;  // RFC 3079 §3.4 SHSpad1 / SHSpad2
constexpr std::array<std::uint8_t, sha_pad_size> sha_pad1 = {};
constexpr std::array<std::uint8_t, sha_pad_size> sha_pad2 = [] {
  std::array<std::uint8_t, sha_pad_size> p{};
  p.fill(0xf2);
  return p;
}();

void update(sha1_ctx& ctx, std::span<const std::uint8_t> bytes) noexcept {
  sha1_update(&ctx, bytes.size(), bytes.data());
}
void update(sha1_ctx& ctx, std::string_view text) noexcept {
  sha1_update(&ctx, text.size(), reinterpret_cast<const std::uint8_t*>(text.data()));
}

}  // namespace

mppe_key mppe_master_key(std::span<const std::uint8_t, mschap_password_hash_size> password_hash_hash,
                         std::span<const std::uint8_t, mschap_nt_response_size> nt_response) noexcept {
  sha1_ctx ctx;
  sha1_init(&ctx);
  update(ctx, password_hash_hash);
  update(ctx, nt_response);
  update(ctx, magic1);
  std::array<std::uint8_t, SHA1_DIGEST_SIZE> digest;
  sha1_digest(&ctx, digest.size(), digest.data());
  mppe_key key{};
  std::copy_n(digest.begin(), key.size(), key.begin());
  return key;
}

mppe_key mppe_asymmetric_start_key(const mppe_key& master_key, bool is_send, bool is_server) noexcept {
  // RFC 3079 §3.4: send on the server and receive on the client use Magic3, the others Magic2.
  const std::string_view magic = (is_send == is_server) ? magic3 : magic2;
  sha1_ctx ctx;
  sha1_init(&ctx);
  update(ctx, master_key);
  update(ctx, sha_pad1);
  update(ctx, magic);
  update(ctx, sha_pad2);
  std::array<std::uint8_t, SHA1_DIGEST_SIZE> digest;
  sha1_digest(&ctx, digest.size(), digest.data());
  mppe_key key{};
  std::copy_n(digest.begin(), key.size(), key.begin());
  return key;
}

void mppe_new_key_from_sha(std::span<const std::uint8_t> start_key, std::span<const std::uint8_t> session_key,
                           mppe_key& out) noexcept {
  assert(start_key.size() == session_key.size() && start_key.size() <= mppe_max_key_length);
  sha1_ctx ctx;
  sha1_init(&ctx);
  update(ctx, start_key);
  update(ctx, sha_pad1);
  update(ctx, session_key);
  update(ctx, sha_pad2);
  std::array<std::uint8_t, SHA1_DIGEST_SIZE> digest;
  sha1_digest(&ctx, digest.size(), digest.data());
  out.fill(0);
  std::copy_n(digest.begin(), start_key.size(), out.begin());
}

mppe_start_keys mppe_derive_start_keys(mppe_role role,
                                       std::span<const std::uint8_t, mschap_password_hash_size> password_hash_hash,
                                       std::span<const std::uint8_t, mschap_nt_response_size> nt_response) noexcept {
  const mppe_key master = mppe_master_key(password_hash_hash, nt_response);
  const bool server = role == mppe_role::server;
  return {mppe_asymmetric_start_key(master, true, server), mppe_asymmetric_start_key(master, false, server)};
}

mppe_key_schedule::mppe_key_schedule(const mppe_key& start, mppe_strength strength) noexcept
    : length_(mppe_key_length(strength)), strength_(strength) {
  std::copy_n(start.begin(), length_, start_.begin());
  // RFC 3079 §3.1-3.3: the initial session key is GetNewKeyFromSHA(start, start), salted; it is not
  // passed through RC4 (that step belongs to the later key changes of RFC 3078 §7.3).
  mppe_new_key_from_sha(start_key_span(), start_key_span(), session_);
  salt();
}

void mppe_key_schedule::change() noexcept {
  // RFC 3078 §7.3: InterimKey = GetNewKeyFromSHA(StartKey, SessionKey); SessionKey = RC4(InterimKey,
  // InterimKey); then the 40/56-bit salt.
  mppe_key interim;
  mppe_new_key_from_sha(start_key_span(), session_key(), interim);
  arcfour_ctx rc4;
  arcfour_set_key(&rc4, length_, interim.data());
  arcfour_crypt(&rc4, length_, session_.data(), interim.data());
  salt();
}

void mppe_key_schedule::key_rc4(arcfour_ctx& ctx) const noexcept {
  arcfour_set_key(&ctx, length_, session_.data());
}

void mppe_key_schedule::salt() noexcept {
  // RFC 3078 §7.3 (and RFC 3079 §3.1, §3.2): weaken to the negotiated strength.
  if (strength_ == mppe_strength::bits_40) {
    session_[0] = 0xd1;
    session_[1] = 0x26;
    session_[2] = 0x9e;
  } else if (strength_ == mppe_strength::bits_56) {
    session_[0] = 0xd1;
  }
}

}  // namespace pptpkit::ppp
