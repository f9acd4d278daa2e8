// The name the host looks up is the name the server hashes and reports (issue row 8). The host gets the
// peer's name as an event's text, which ends at a NUL and holds 255 bytes: a name with a NUL byte, or a
// longer one, would be looked up as another user than the one authenticated. Every method refuses it,
// counted; every other name reaches the host and the AUTH_SUCCESS event byte for byte.
#include <gtest/gtest.h>

#include <string>

#include "harness.hpp"

namespace {

using namespace pptpkit::ppp;
using namespace pptpkit::ppp::testing;

struct auth_case {
  const char* name;
  std::uint32_t protocol;
};

void PrintTo(const auth_case& c, std::ostream* os) {
  *os << c.name;
}

// The client's answer that names it — PAP Authenticate-Request (RFC 1334 §2.2.1), CHAP Response (RFC
// 1994 §4.1, MS-CHAPv2 RFC 2759 §4), EAP Response/Identity (RFC 3748 §5.1) — rebuilt with `name`.
bytes with_peer_name(const bytes& frame, const std::string& name) {
  const std::size_t at = frame.size() >= 2 && frame[0] == 0xff && frame[1] == 0x03 ? 2 : 0;
  if (frame.size() < at + 6) {
    return frame;
  }
  const std::uint16_t protocol = static_cast<std::uint16_t>((frame[at] << 8) | frame[at + 1]);
  const std::uint8_t code = frame[at + 2];
  const bytes data(frame.begin() + static_cast<std::ptrdiff_t>(at + 6), frame.end());
  bytes out_data;
  if (protocol == proto_pap && code == 1 && !data.empty() && data.size() >= 1u + data[0]) {
    out_data.push_back(static_cast<std::uint8_t>(name.size()));
    out_data.insert(out_data.end(), name.begin(), name.end());
    out_data.insert(out_data.end(), data.begin() + 1 + data[0], data.end());  // Passwd-Length, Password
  } else if (protocol == proto_chap && code == 2 && !data.empty() && data.size() >= 1u + data[0]) {
    out_data.assign(data.begin(), data.begin() + 1 + data[0]);  // Value-Size, Value
    out_data.insert(out_data.end(), name.begin(), name.end());
  } else if (protocol == proto_eap && code == 2 && !data.empty() && data[0] == eap_identity) {
    out_data.push_back(eap_identity);
    out_data.insert(out_data.end(), name.begin(), name.end());
  } else {
    return frame;
  }
  bytes out(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(at + 4));
  const std::size_t length = 4 + out_data.size();
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length));
  out.insert(out.end(), out_data.begin(), out_data.end());
  return out;
}

class peer_name : public ::testing::TestWithParam<auth_case> {
 protected:
  // Our client (user alice, the right password) whose answer carries `name` instead.
  void run_with(const std::string& name) {
    l.a.secrets["alice"] = {"s3cret", ""};
    l.a.secrets[name] = {"s3cret", ""};
    l.rewrite = [name](bool a_to_b, const bytes& f) { return a_to_b ? f : with_peer_name(f, name); };
    ASSERT_EQ(l.a.open(server_params(GetParam().name)), PPTPKIT_OK);
    ASSERT_EQ(l.b.open(client_params(GetParam().name)), PPTPKIT_OK);
    l.run([&] {
      return l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE) != nullptr || l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP) != nullptr;
    });
  }
  void expect_refused(const std::string& why) {
    const auto* failure = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
    ASSERT_NE(failure, nullptr);
    EXPECT_EQ(failure->text.rfind(why, 0), 0u) << failure->text;
    EXPECT_EQ(failure->values[0], GetParam().protocol);
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED), nullptr) << "the host was asked";
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS), nullptr);
    EXPECT_EQ(l.a.stat("auth_bad_peer_name"), 1u);
    EXPECT_TRUE(l.host.logged(why));
    ASSERT_TRUE(l.run([&] { return l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN) != nullptr; }));
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_LINK_DOWN)->values[0], PPTPKIT_PPP_REASON_AUTH_FAILED);
    EXPECT_EQ(l.a.find(PPTPKIT_PPP_EVENT_IPV4_UP), nullptr);
    if (GetParam().protocol == PPTPKIT_PPP_AUTH_MSCHAP_V2) {
      EXPECT_EQ(failure->values[2], 691u);
    }
  }

  link_pair l;
};

TEST_P(peer_name, a_name_with_a_nul_byte_is_refused_not_cut) {
  // Regression: "alice\0admin" was looked up as "alice" (the event's text ends at the NUL) and then
  // reported as "alice?admin": with alice's password the peer logged in under another name.
  run_with(std::string("alice\0admin", 11));
  expect_refused("peer name refused: it contains a NUL byte");
  const auto* failure = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(failure, nullptr);
  EXPECT_NE(failure->text.find("(user 'alice?admin')"), std::string::npos) << failure->text;
}

// PAP's Peer-ID Length is one octet (RFC 1334 §2.2.1): a PAP name always fits, so this one runs for the
// methods whose names can be longer.
class long_peer_name : public peer_name {};

TEST_P(long_peer_name, a_name_longer_than_the_event_text_is_refused_not_cut) {
  // Regression: the host looked up the first 255 bytes of a 300-byte name.
  run_with(std::string(300, 'a'));
  expect_refused("peer name refused: longer than 255 bytes");
  const auto* failure = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
  ASSERT_NE(failure, nullptr);
  EXPECT_NE(failure->text.find("...')"), std::string::npos) << failure->text;  // the quoted name is cut, and says so
}

TEST_P(peer_name, the_longest_name_and_hostile_bytes_reach_the_host_exactly) {
  // 255 bytes with a newline and a forged log line in them: looked up whole, reported whole (escaping
  // for logs is the host's), and — for MS-CHAPv2, which hashes the name — hashed whole.
  std::string name = "bob\nsession up: user=admin auth=mschapv2\t";
  name.resize(max_peer_name, 'x');
  run_with(name);
  const auto* asked = l.a.find(PPTPKIT_PPP_EVENT_AUTH_SECRET_NEEDED);
  ASSERT_NE(asked, nullptr);
  EXPECT_EQ(asked->text, name);
  if (GetParam().protocol == PPTPKIT_PPP_AUTH_MSCHAP_V2) {
    // Our client hashed "alice" into its NT-Response; the server hashes the name it received.
    const auto* failure = l.a.find(PPTPKIT_PPP_EVENT_AUTH_FAILURE);
    ASSERT_NE(failure, nullptr);
    EXPECT_EQ(failure->text.rfind("wrong password", 0), 0u) << failure->text;
  } else {
    const auto* success = l.a.find(PPTPKIT_PPP_EVENT_AUTH_SUCCESS);
    ASSERT_NE(success, nullptr);
    EXPECT_EQ(success->text, name);
  }
  EXPECT_EQ(l.a.stat("auth_bad_peer_name"), 0u);
}

INSTANTIATE_TEST_SUITE_P(every_method, peer_name,
                         ::testing::Values(auth_case{"pap", PPTPKIT_PPP_AUTH_PAP},
                                           auth_case{"chap", PPTPKIT_PPP_AUTH_CHAP_MD5},
                                           auth_case{"mschapv2", PPTPKIT_PPP_AUTH_MSCHAP_V2},
                                           auth_case{"eap", PPTPKIT_PPP_AUTH_EAP}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });
INSTANTIATE_TEST_SUITE_P(methods_with_long_names, long_peer_name,
                         ::testing::Values(auth_case{"chap", PPTPKIT_PPP_AUTH_CHAP_MD5},
                                           auth_case{"mschapv2", PPTPKIT_PPP_AUTH_MSCHAP_V2},
                                           auth_case{"eap", PPTPKIT_PPP_AUTH_EAP}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
