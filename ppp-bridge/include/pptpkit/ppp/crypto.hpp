// pptpkit/ppp/crypto.hpp — the authentication computations of CHAP-MD5 (RFC 1994) and MS-CHAPv2
// (RFC 2759 §8), and the key material MPPE derives its keys from (RFC 3079 §3.4).
//
// Every primitive (MD4, MD5, SHA-1, DES) is Nettle's; this file only composes them as the RFCs say.
// Passwords are UTF-8 here and become UTF-16LE for the NT hash (ASCII passwords, which is what pppd
// and Windows exchange, convert exactly). Pure functions: no allocation, no state.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace pptpkit::ppp {

using chap_digest = std::array<std::uint8_t, 16>;
using nt_hash = std::array<std::uint8_t, 16>;
using nt_response_t = std::array<std::uint8_t, 24>;
using challenge16 = std::array<std::uint8_t, 16>;
using authenticator_response = std::array<char, 42>;  // "S=" + 40 upper-case hex digits (RFC 2759 §8.7)

// RFC 1994 §4.1: MD5(Identifier || secret || Challenge). EAP-MD5 (RFC 3748 §5.4) uses the same.
chap_digest chap_md5_response(std::uint8_t id, std::string_view secret,
                              std::span<const std::uint8_t> challenge) noexcept;

// RFC 2759 §8.2 ChallengeHash: the first 8 octets of SHA1(PeerChallenge || AuthenticatorChallenge ||
// UserName). The user name is the one without any domain prefix (§4).
std::array<std::uint8_t, 8> mschapv2_challenge_hash(const challenge16& peer_challenge,
                                                    const challenge16& authenticator_challenge,
                                                    std::string_view user_name) noexcept;
// RFC 2759 §8.3 NtPasswordHash: MD4 of the password in UTF-16LE.
nt_hash nt_password_hash(std::string_view password) noexcept;
// RFC 2759 §8.4 HashNtPasswordHash: MD4(PasswordHash).
nt_hash hash_nt_password_hash(const nt_hash& password_hash) noexcept;
// RFC 2759 §8.5 ChallengeResponse: three DES encryptions of the 8-octet challenge with 7-octet slices
// of the zero-padded 21-octet hash (each slice expanded to a DES key with parity, §8.6).
nt_response_t mschap_challenge_response(std::span<const std::uint8_t, 8> challenge,
                                        const nt_hash& password_hash) noexcept;
// RFC 2759 §8.1 GenerateNTResponse.
nt_response_t mschapv2_nt_response(const challenge16& authenticator_challenge, const challenge16& peer_challenge,
                                   std::string_view user_name, std::string_view password) noexcept;
// RFC 2759 §8.7 GenerateAuthenticatorResponse ("S=" and 40 hex digits).
authenticator_response mschapv2_authenticator_response(std::string_view password, const nt_response_t& response,
                                                       const challenge16& peer_challenge,
                                                       const challenge16& authenticator_challenge,
                                                       std::string_view user_name) noexcept;

// What MPPE needs from a successful MS-CHAPv2 exchange (RFC 3079 §3.4 GetMasterKey takes exactly
// these two); mppe_derive_start_keys (mppe_keys.hpp) turns them into one end's start keys.
struct mschapv2_key_material {
  nt_hash password_hash_hash;  // RFC 2759 §8.4 HashNtPasswordHash
  nt_response_t nt_response;   // the 24-octet NT-Response the peer sent
};

// Strips a Windows "DOMAIN\" prefix from a user name (RFC 2759 §4: the challenge hash uses the bare name).
std::string_view mschap_bare_user_name(std::string_view name) noexcept;

}  // namespace pptpkit::ppp
