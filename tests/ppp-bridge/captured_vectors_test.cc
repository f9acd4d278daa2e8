// The PPP frames pppd 2.4.9 sent on both ends of PPTP sessions (tests/data, see its README.md and
// CAPTURES.md): every frame parses with our frame and control-packet parsers, and the MS-CHAPv2 session
// checks end to end — the client's NT-Response and the server's authenticator response against our
// RFC 2759 code, then the RFC 3079 keys that decrypt the first datagrams the Linux kernel's ppp_mppe
// encrypted in each direction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/core/packet.hpp"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/mppe.hpp"
#include "pptpkit/ppp/mppe_keys.hpp"
#include "pptpkit/ppp/protocol.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace pptpkit::ppp {
namespace {

using bytes = std::vector<std::uint8_t>;

const std::string pppd_dir = std::string(PPTPKIT_TEST_DATA_DIR) + "/pppd-2.4.9";
// The sessions' secret, as tests/data/README.md gives it (the captures' server name and user name are
// read from the frames).
constexpr std::string_view password = "interop-Secret-1";
constexpr std::string_view session = "mschapv2-mppe128";

bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
bytes read_frame(std::string_view sender, std::string_view what) {
  return read_file(pppd_dir + "/" + std::string(session) + "-" + std::string(sender) + "-" + std::string(what) +
                   ".bin");
}

// A captured frame's control packet, after checking its PPP header says `protocol`.
control_packet control_of(const bytes& frame, std::uint16_t protocol) {
  const auto h = parse_frame_header(frame);
  EXPECT_TRUE(h.has_value());
  EXPECT_EQ(h->protocol, protocol);
  const auto c = parse_control(std::span<const std::uint8_t>(frame).subspan(h->size));
  EXPECT_TRUE(c.has_value());
  return c.value_or(control_packet{0, 0, {}});
}

TEST(captured_vectors, every_pppd_frame_parses) {
  // File names: <session>-<client|server>-<protocol>-<code>.bin (tests/data/README.md).
  const std::map<std::string, std::uint16_t> protocols = {
      {"lcp", proto_lcp},
      {"chap", proto_chap},
      {"pap", proto_pap},
      {"ccp", proto_ccp},
      {"ipcp", proto_ipcp},
      {"ipv6cp", proto_ipv6cp},
      {"mppe", ppp_protocol_compressed},
  };
  const std::map<std::string, std::uint8_t> codes = {
      {"configure-request", configure_request},
      {"configure-ack", configure_ack},
      {"configure-nak", configure_nak},
      {"terminate-request", terminate_request},
      {"terminate-ack", terminate_ack},
      {"echo-request", echo_request},
      {"echo-reply", echo_reply},
      {"challenge", 1},  // RFC 1994 §4
      {"response", 2},
      {"success", 3},
      {"authenticate-request", 1},  // RFC 1334 §2.2
      {"authenticate-ack", 2},
  };
  std::size_t frames = 0;
  for (const auto& entry : std::filesystem::directory_iterator(pppd_dir)) {
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    const bytes frame = read_file(entry.path().string());
    std::string rest;
    for (const char* prefix : {"mschapv2-mppe128-", "chap-md5-", "pap-"}) {
      if (name.rfind(prefix, 0) == 0) {
        rest = name.substr(std::strlen(prefix));
      }
    }
    ASSERT_FALSE(rest.empty());
    rest = rest.substr(rest.find('-') + 1);  // past client/server
    const std::string proto_name = rest.substr(0, rest.find('-'));
    const std::string code_name = rest.substr(rest.find('-') + 1);
    ASSERT_EQ(protocols.count(proto_name), 1u);
    const auto h = parse_frame_header(frame);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->protocol, protocols.at(proto_name));
    ++frames;
    if (proto_name == "mppe") {
      ASSERT_GT(frame.size(), h->size + 2);  // MPPE header (RFC 3078 §3) and ciphertext
      EXPECT_NE(frame[h->size] & 0x10, 0) << "D bit (encrypted)";
      continue;
    }
    ASSERT_EQ(codes.count(code_name), 1u);
    const auto c = parse_control(std::span<const std::uint8_t>(frame).subspan(h->size));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->code, codes.at(code_name));
    EXPECT_EQ(c->data.size() + control_header_size + h->size, frame.size()) << "pppd pads nothing";
    if (c->code <= configure_reject && proto_name != "chap" && proto_name != "pap") {
      EXPECT_TRUE(for_each_option(c->data, [](std::uint8_t, std::span<const std::uint8_t>) {}));
    }
  }
  EXPECT_GE(frames, 40u);
}

// The MS-CHAPv2 exchange as the files hold it (RFC 2759 §4, §5).
struct mschapv2_exchange {
  challenge16 authenticator_challenge{};
  challenge16 peer_challenge{};
  nt_response_t nt_response{};
  std::string user;
  std::string success_message;
};

mschapv2_exchange read_exchange() {
  mschapv2_exchange x;
  const bytes challenge = read_frame("server", "chap-challenge");
  const bytes response = read_frame("client", "chap-response");
  const bytes success = read_frame("server", "chap-success");
  const control_packet ch = control_of(challenge, proto_chap);
  const control_packet rs = control_of(response, proto_chap);
  const control_packet ok = control_of(success, proto_chap);
  EXPECT_EQ(ch.code, 1);
  EXPECT_EQ(rs.code, 2);
  EXPECT_EQ(ok.code, 3);
  EXPECT_EQ(rs.id, ch.id);
  EXPECT_EQ(ok.id, ch.id);
  // Challenge: Value-Size 16, the Authenticator Challenge, the server's name (RFC 2759 §4).
  EXPECT_GE(ch.data.size(), 17u);
  EXPECT_EQ(ch.data[0], 16);
  std::copy_n(ch.data.begin() + 1, 16, x.authenticator_challenge.begin());
  // Response: Value-Size 49: Peer-Challenge 16, Reserved 8 (zero), NT-Response 24, Flags 1, then Name.
  EXPECT_GE(rs.data.size(), 50u);
  EXPECT_EQ(rs.data[0], 49);
  std::copy_n(rs.data.begin() + 1, 16, x.peer_challenge.begin());
  EXPECT_TRUE(std::all_of(rs.data.begin() + 17, rs.data.begin() + 25, [](std::uint8_t b) { return b == 0; }));
  std::copy_n(rs.data.begin() + 25, 24, x.nt_response.begin());
  EXPECT_EQ(rs.data[49], 0);  // Flags
  x.user.assign(rs.data.begin() + 50, rs.data.end());
  x.success_message.assign(ok.data.begin(), ok.data.end());
  return x;
}

TEST(captured_vectors, mschapv2_response_and_authenticator_match_pppd) {
  const mschapv2_exchange x = read_exchange();
  EXPECT_EQ(x.user, "alice");
  // RFC 2759 §8.1: the client's NT-Response is what our code computes from the password.
  EXPECT_EQ(mschapv2_nt_response(x.authenticator_challenge, x.peer_challenge, mschap_bare_user_name(x.user), password),
            x.nt_response);
  // RFC 2759 §8.7: the server's Success message starts with our authenticator response.
  const authenticator_response expected = mschapv2_authenticator_response(
      password, x.nt_response, x.peer_challenge, x.authenticator_challenge, mschap_bare_user_name(x.user));
  ASSERT_GE(x.success_message.size(), expected.size());
  EXPECT_EQ(std::string_view(x.success_message).substr(0, expected.size()),
            std::string_view(expected.data(), expected.size()));
  // A wrong password gives neither.
  EXPECT_NE(mschapv2_nt_response(x.authenticator_challenge, x.peer_challenge, x.user, "interop-Secret-2"),
            x.nt_response);
}

// The first MPPE datagrams of one direction, decrypted in order by a stateless 128-bit decryptor.
struct decrypted {
  std::size_t delivered = 0;
  std::vector<std::uint16_t> protocols;
  std::vector<bytes> payloads;
};
decrypted decrypt_direction(std::string_view sender, const mppe_key& key) {
  pptpkit::testing::test_host host(1);
  mppe_decryptor d(key, mppe_params{mppe_strength::bits_128, true});
  decrypted out;
  for (int n = 1; n <= 3; ++n) {
    const bytes frame = read_frame(sender, "mppe-" + std::to_string(n));
    const auto h = parse_frame_header(frame);
    EXPECT_TRUE(h.has_value());
    if (!h.has_value()) {
      continue;
    }
    EXPECT_EQ(h->protocol, ppp_protocol_compressed);
    pptpkit_packet* p = host.make_packet(bytes(frame.begin() + h->size, frame.end()));
    const mppe_rx rx = d.decrypt(*p, host.now);
    if (rx.verdict == mppe_verdict::deliver) {
      ++out.delivered;
      out.protocols.push_back(rx.protocol);
      const auto data = core::bytes(*p);
      out.payloads.emplace_back(data.begin(), data.end());
    }
    pptpkit_packet* done[] = {p};
    host.pool().free_bulk(done);
  }
  return out;
}

// Checks a datagram on its own: IPv4 (RFC 791: version, IHL, total length, header checksum) or IPv6
// (RFC 8200: version, payload length).
void expect_well_formed(std::uint16_t protocol, const bytes& d) {
  if (protocol == proto_ipv4) {
    ASSERT_GE(d.size(), 20u);
    EXPECT_EQ(d[0] >> 4, 4);
    const std::size_t ihl = (d[0] & 0x0fu) * 4u;
    ASSERT_GE(ihl, 20u);
    ASSERT_GE(d.size(), ihl);
    EXPECT_EQ(static_cast<std::size_t>(d[2] << 8 | d[3]), d.size());
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < ihl; i += 2) {
      sum += static_cast<std::uint32_t>(d[i] << 8 | d[i + 1]);
    }
    while (sum > 0xffff) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    EXPECT_EQ(sum, 0xffffu) << "IPv4 header checksum";
  } else if (protocol == proto_ipv6) {
    ASSERT_GE(d.size(), 40u);
    EXPECT_EQ(d[0] >> 4, 6);
    EXPECT_EQ(static_cast<std::size_t>(d[4] << 8 | d[5]) + 40, d.size());
  } else {
    ADD_FAILURE() << "inner protocol " << protocol << " is neither IPv4 nor IPv6";
  }
}

TEST(captured_vectors, mppe128_keys_decrypt_the_kernels_datagrams) {
  const mschapv2_exchange x = read_exchange();
  const nt_hash password_hash_hash = hash_nt_password_hash(nt_password_hash(password));
  const mppe_start_keys client = mppe_derive_start_keys(mppe_role::client, password_hash_hash, x.nt_response);
  const mppe_start_keys server = mppe_derive_start_keys(mppe_role::server, password_hash_hash, x.nt_response);
  EXPECT_EQ(client.send, server.receive);
  EXPECT_EQ(client.receive, server.send);
  EXPECT_NE(client.send, client.receive);

  struct direction {
    std::string_view sender;
    const mppe_key& key;  // the receiving end's receive key
  };
  for (const direction& dir : {direction{"client", server.receive}, direction{"server", client.receive}}) {
    SCOPED_TRACE(std::string(dir.sender) + " to peer");
    const decrypted d = decrypt_direction(dir.sender, dir.key);
    EXPECT_EQ(d.delivered, 3u);
    for (std::size_t i = 0; i < d.payloads.size(); ++i) {
      SCOPED_TRACE("mppe-" + std::to_string(i + 1));
      expect_well_formed(d.protocols[i], d.payloads[i]);
    }
    // The other direction's key finds nothing well formed: the check above can fail.
    const mppe_key& wrong = &dir.key == &server.receive ? client.receive : server.receive;
    EXPECT_EQ(decrypt_direction(dir.sender, wrong).delivered, 0u);
  }
}

}  // namespace
}  // namespace pptpkit::ppp
