// The fuzz corpus: real-looking packets (an Access-Request, an Access-Accept with MPPE keys, an
// Access-Challenge with EAP, accounting, Disconnect/CoA and their replies). The test checks each still
// parses as committed; RADIUS_WRITE_CORPUS=<dir> rewrites the files
// (named after their kind). Signed with the secret "fuzz", as the fuzz target verifies them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {
namespace {

std::vector<std::pair<std::string, std::vector<std::uint8_t>>> corpus() {
  const authenticator ra = {0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
                            0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a};
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> out;
  {
    packet_builder b(code::access_request, 1);
    b.add_string(attr::user_name, "nemo");
    b.add(attr::user_password, *hide_user_password("arctangent", "fuzz", ra));
    b.add_ipv4(attr::nas_ip_address, 0xc0a80110);
    b.add_u32(attr::nas_port_type, nas_port_type_virtual);
    b.add_u32(attr::service_type, service_type_framed);
    b.add_u32(attr::framed_protocol, framed_protocol_ppp);
    b.add_u32(attr::tunnel_type, tunnel_type_pptp);
    b.add_string(attr::calling_station_id, "192.0.2.7");
    out.emplace_back("access-request", b.finish_access_request("fuzz", ra));
  }
  {
    packet_builder b(code::access_accept, 1);
    b.add_ipv4(attr::framed_ip_address, 0xc0a80a05);
    b.add_u32(attr::session_timeout, 3600);
    b.add_string(attr::class_, "class");
    const std::vector<std::uint8_t> key(16, 0x42);
    b.add_vendor(ms::vendor_id, ms::mppe_send_key, salt_encrypt(key, 0x8001, "fuzz", ra));
    b.add_vendor(ms::vendor_id, ms::mppe_recv_key, salt_encrypt(key, 0x8002, "fuzz", ra));
    const std::string s = "\x01S=0123456789ABCDEF0123456789ABCDEF01234567";
    b.add_vendor(ms::vendor_id, ms::chap2_success,
                 std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    b.add_vendor(ms::vendor_id, ms::mppe_encryption_policy, std::vector<std::uint8_t>{0, 0, 0, 1});
    out.emplace_back("access-accept", b.finish_response("fuzz", ra));
  }
  {
    packet_builder b(code::access_challenge, 2);
    b.add(attr::eap_message, std::vector<std::uint8_t>(300, 0x01));
    b.add_string(attr::state, "state");
    out.emplace_back("access-challenge", b.finish_response("fuzz", ra));
  }
  {
    packet_builder b(code::accounting_request, 3);
    b.add_u32(attr::acct_status_type, acct_status::stop);
    b.add_string(attr::acct_session_id, "0000002a");
    b.add_u32(attr::acct_terminate_cause, terminate_cause::user_request);
    b.add_u32(attr::acct_delay_time, 0);
    out.emplace_back("accounting-request", b.finish_accounting_request("fuzz"));
    packet_builder r(code::accounting_response, 3);
    out.emplace_back("accounting-response", r.finish_response("fuzz", ra));
  }
  {
    packet_builder b(code::disconnect_request, 4);
    b.add_string(attr::acct_session_id, "0000002a");
    b.add_string(attr::proxy_state, "p");
    out.emplace_back("disconnect-request", b.finish_dae_request("fuzz"));
    packet_builder c(code::coa_request, 5);
    c.add_string(attr::user_name, "nemo");
    c.add_u32(attr::session_timeout, 60);
    c.add_string(attr::filter_id, "f");
    out.emplace_back("coa-request", c.finish_dae_request("fuzz"));
    packet_builder n(code::disconnect_nak, 4);
    n.add_u32(attr::error_cause, error_cause::session_context_not_found);
    out.emplace_back("disconnect-nak", n.finish_response("fuzz", ra));
  }
  return out;
}

TEST(Corpus, CommittedFilesAreCurrent) {
  const char* dir = std::getenv("RADIUS_WRITE_CORPUS");
  for (const auto& [name, bytes] : corpus()) {
    ASSERT_TRUE(parse(bytes)) << name;
    if (dir != nullptr) {
      std::ofstream(std::filesystem::path(dir) / name, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      continue;
    }
    std::ifstream in(std::filesystem::path("fuzz/corpus/packet") / name, std::ios::binary);
    ASSERT_TRUE(in) << name << " is missing from the corpus";
    const std::vector<std::uint8_t> committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(committed, bytes) << name;
  }
}

}  // namespace
}  // namespace pptpkit::radius
