// RFC 2759 §9.2 MS-CHAPv2 vectors and CHAP-MD5's RFC 1994 §4.1 formula over an RFC 1321 MD5 vector.
#include "pptpkit/ppp/crypto.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace pptpkit::ppp;

// RFC 2759 §9.2 "Hash and Response Computation".
const std::string user = "User";
const std::string password = "clientPass";
const challenge16 auth_challenge = {0x5B, 0x5D, 0x7C, 0x7D, 0x7B, 0x3F, 0x2F, 0x3E,
                                    0x3C, 0x2C, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28};
const challenge16 peer_challenge = {0x21, 0x40, 0x23, 0x24, 0x25, 0x5E, 0x26, 0x2A,
                                    0x28, 0x29, 0x5F, 0x2B, 0x3A, 0x33, 0x7C, 0x7E};

TEST(mschapv2_rfc2759_vectors, challenge_hash) {
  const std::array<std::uint8_t, 8> expected = {0xD0, 0x2E, 0x43, 0x86, 0xBC, 0xE9, 0x12, 0x26};
  EXPECT_EQ(mschapv2_challenge_hash(peer_challenge, auth_challenge, user), expected);
}

TEST(mschapv2_rfc2759_vectors, password_hash_and_hash_hash) {
  const nt_hash hash = {0x44, 0xEB, 0xBA, 0x8D, 0x53, 0x12, 0xB8, 0xD6, 0x11, 0x47, 0x44, 0x11, 0xF5, 0x69, 0x89, 0xAE};
  const nt_hash hash_hash = {0x41, 0xC0, 0x0C, 0x58, 0x4B, 0xD2, 0xD9, 0x1C,
                             0x40, 0x17, 0xA2, 0xA1, 0x2F, 0xA5, 0x9F, 0x3F};
  EXPECT_EQ(nt_password_hash(password), hash);
  EXPECT_EQ(hash_nt_password_hash(hash), hash_hash);
}

TEST(mschapv2_rfc2759_vectors, nt_response_t) {
  const nt_response_t expected = {0x82, 0x30, 0x9E, 0xCD, 0x8D, 0x70, 0x8B, 0x5E, 0xA0, 0x8F, 0xAA, 0x39,
                                  0x81, 0xCD, 0x83, 0x54, 0x42, 0x33, 0x11, 0x4A, 0x3D, 0x85, 0xD6, 0xDF};
  EXPECT_EQ(mschapv2_nt_response(auth_challenge, peer_challenge, user, password), expected);
}

TEST(mschapv2_rfc2759_vectors, authenticator_response) {
  const auto nt = mschapv2_nt_response(auth_challenge, peer_challenge, user, password);
  const auto s = mschapv2_authenticator_response(password, nt, peer_challenge, auth_challenge, user);
  EXPECT_EQ(std::string(s.data(), s.size()), "S=407A5589115FD0D6209F510FE9C04566932CDA56");
}

TEST(mschapv2, domain_prefix_is_stripped_for_the_challenge_hash) {
  EXPECT_EQ(mschap_bare_user_name("CORP\\User"), "User");
  EXPECT_EQ(mschap_bare_user_name("User"), "User");
}

TEST(chap_md5, response_is_md5_of_id_secret_challenge) {
  // RFC 1994 §4.1 concatenates Identifier, secret and Challenge; with id 'a', secret "bc" and an empty
  // challenge the input is "abc", whose MD5 is RFC 1321 §A.5's vector.
  const chap_digest expected = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
                                0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72};
  EXPECT_EQ(chap_md5_response('a', "bc", {}), expected);
  // Split differently: id 'a', secret "", challenge "bc" — the same bytes, the same digest.
  const std::uint8_t bc[] = {'b', 'c'};
  EXPECT_EQ(chap_md5_response('a', "", bc), expected);
}

}  // namespace
