// RFC 3079 §3.5 test vectors for every key length, from the RFC's password: the vector inputs
// (PasswordHash, PasswordHashHash) are computed here with Nettle's MD4, which the library never uses.
#include "pptpkit/ppp/mppe_keys.hpp"

#include <gtest/gtest.h>
#include <nettle/md4.h>

#include <string>
#include <vector>

namespace {

using namespace pptpkit::ppp;

std::vector<std::uint8_t> hex(const std::string& s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  return out;
}

std::vector<std::uint8_t> md4(const std::vector<std::uint8_t>& in) {
  md4_ctx ctx;
  md4_init(&ctx);
  md4_update(&ctx, in.size(), in.data());
  std::vector<std::uint8_t> out(MD4_DIGEST_SIZE);
  md4_digest(&ctx, out.size(), out.data());
  return out;
}

// RFC 2759 §8.3 NtPasswordHash: MD4 of the password in UTF-16LE.
std::vector<std::uint8_t> nt_password_hash(const std::string& password) {
  std::vector<std::uint8_t> unicode;
  for (char c : password) {
    unicode.push_back(static_cast<std::uint8_t>(c));
    unicode.push_back(0);
  }
  return md4(unicode);
}

std::vector<std::uint8_t> bytes(std::span<const std::uint8_t> s) {
  return {s.begin(), s.end()};
}

// RFC 3079 §3.5 "Initial Values" and the steps every key length shares.
struct rfc3079 : ::testing::Test {
  const std::vector<std::uint8_t> password_hash = nt_password_hash("clientPass");
  const std::vector<std::uint8_t> password_hash_hash = md4(password_hash);
  const std::vector<std::uint8_t> nt_response =
      hex("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF");
  mppe_key master() const {
    return mppe_master_key(std::span<const std::uint8_t, 16>(password_hash_hash.data(), 16),
                           std::span<const std::uint8_t, 24>(nt_response.data(), 24));
  }
};

TEST_F(rfc3079, password_hashes_match_the_rfc) {
  EXPECT_EQ(password_hash, hex("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE"));
  EXPECT_EQ(password_hash_hash, hex("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F"));
}

TEST_F(rfc3079, master_key) {
  const mppe_key m = master();
  EXPECT_EQ(bytes(m), hex("FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31"));
}

// The RFC's "SendStartKey" is GetAsymmetricStartKey(MasterKey, ..., TRUE, TRUE): the server's send key,
// which is the client's receive key (Magic3).
TEST_F(rfc3079, start_keys_per_direction_and_role) {
  const mppe_key server_send = mppe_asymmetric_start_key(master(), true, true);
  EXPECT_EQ(bytes(server_send), hex("8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB"));
  const auto phh = std::span<const std::uint8_t, 16>(password_hash_hash.data(), 16);
  const auto ntr = std::span<const std::uint8_t, 24>(nt_response.data(), 24);
  const mppe_start_keys server = mppe_derive_start_keys(mppe_role::server, phh, ntr);
  const mppe_start_keys client = mppe_derive_start_keys(mppe_role::client, phh, ntr);
  EXPECT_EQ(server.send, server_send);
  EXPECT_EQ(client.receive, server.send);  // client receive = server send
  EXPECT_EQ(client.send, server.receive);  // client send = server receive
  EXPECT_NE(client.send, client.receive);
}

// RFC 3079 §3.5.1: SendStartKey40 is the first 8 bytes; the session key carries the D1 26 9E salt.
TEST_F(rfc3079, session_key_40) {
  const mppe_key start = mppe_asymmetric_start_key(master(), true, true);
  const mppe_key_schedule s(start, mppe_strength::bits_40);
  EXPECT_EQ(bytes(s.start_key()), hex("8B 7C DC 14 9B 99 3A 1B"));
  EXPECT_EQ(bytes(s.session_key()), hex("D1 26 9E C4 9F A6 2E 3E"));
}

// RFC 3079 §3.5.2: 56 bits, only the first octet salted.
TEST_F(rfc3079, session_key_56) {
  const mppe_key start = mppe_asymmetric_start_key(master(), true, true);
  const mppe_key_schedule s(start, mppe_strength::bits_56);
  EXPECT_EQ(bytes(s.start_key()), hex("8B 7C DC 14 9B 99 3A 1B"));
  EXPECT_EQ(bytes(s.session_key()), hex("D1 5C 00 C4 9F A6 2E 3E"));
}

// RFC 3079 §3.5.3: 128 bits, no salt.
TEST_F(rfc3079, session_key_128) {
  const mppe_key start = mppe_asymmetric_start_key(master(), true, true);
  const mppe_key_schedule s(start, mppe_strength::bits_128);
  EXPECT_EQ(bytes(s.start_key()), hex("8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB"));
  EXPECT_EQ(bytes(s.session_key()), hex("40 5C B2 24 7A 79 56 E6 E2 11 00 7A E2 7B 22 D4"));
}

// RFC 3078 §7.3 key change, written out by hand from its steps with the primitives, for each strength:
// the schedule must do exactly SHA-1(start|pad1|session|pad2) -> RC4 with itself -> salt.
TEST_F(rfc3079, key_change_follows_rfc3078_7_3) {
  for (mppe_strength st : {mppe_strength::bits_40, mppe_strength::bits_56, mppe_strength::bits_128}) {
    const mppe_key start = mppe_asymmetric_start_key(master(), true, true);
    mppe_key_schedule s(start, st);
    const std::size_t n = mppe_key_length(st);
    for (int round = 0; round < 300; ++round) {
      mppe_key interim;
      mppe_new_key_from_sha(s.start_key(), s.session_key(), interim);
      arcfour_ctx rc4;
      arcfour_set_key(&rc4, n, interim.data());
      std::vector<std::uint8_t> expect(n);
      arcfour_crypt(&rc4, n, expect.data(), interim.data());
      if (st == mppe_strength::bits_40) {
        expect[0] = 0xd1, expect[1] = 0x26, expect[2] = 0x9e;
      } else if (st == mppe_strength::bits_56) {
        expect[0] = 0xd1;
      }
      s.change();
      ASSERT_EQ(bytes(s.session_key()), expect) << "strength " << int(st) << " round " << round;
    }
  }
}

TEST(mppe_keys, key_lengths) {
  EXPECT_EQ(mppe_key_length(mppe_strength::bits_40), 8u);
  EXPECT_EQ(mppe_key_length(mppe_strength::bits_56), 8u);
  EXPECT_EQ(mppe_key_length(mppe_strength::bits_128), 16u);
}

}  // namespace
