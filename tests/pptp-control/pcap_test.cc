// Writes a pcap of a full PNS <-> PAC session (Ethernet, IPv4, TCP port 1723, one control message per
// segment, consistent sequence numbers) for tshark to decode (tshark_check.sh), and a file of the values
// the decode must show.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "harness.hpp"

namespace pptpkit::control::testing {
namespace {

std::uint16_t checksum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  }
  if ((n & 1) != 0) {
    sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  }
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

class pcap_writer {
 public:
  explicit pcap_writer(const char* path) : out_(path, std::ios::binary) {
    put32le(0xa1b2c3d4);  // pcap magic, microsecond timestamps
    put16le(2);
    put16le(4);
    put32le(0);
    put32le(0);
    put32le(65535);
    put32le(1);  // LINKTYPE_ETHERNET
  }
  // One TCP segment between the PNS (192.0.2.1:40000) and the PAC (192.0.2.2:1723).
  void segment(bool from_pns, std::uint8_t flags, const bytes& payload) {
    std::uint32_t& seq = from_pns ? pns_seq_ : pac_seq_;
    const std::uint32_t ack = from_pns ? pac_seq_ : pns_seq_;
    bytes f;
    const std::uint8_t pns_mac[6] = {0x02, 0, 0, 0, 0, 1};
    const std::uint8_t pac_mac[6] = {0x02, 0, 0, 0, 0, 2};
    f.insert(f.end(), from_pns ? pac_mac : pns_mac, (from_pns ? pac_mac : pns_mac) + 6);
    f.insert(f.end(), from_pns ? pns_mac : pac_mac, (from_pns ? pns_mac : pac_mac) + 6);
    f.push_back(0x08);
    f.push_back(0x00);
    const std::size_t ip = f.size();
    const auto total = static_cast<std::uint16_t>(20 + 20 + payload.size());
    const std::uint32_t src = from_pns ? pns_address : pac_address;
    const std::uint32_t dst = from_pns ? pac_address : pns_address;
    const std::uint8_t iphdr[20] = {0x45,
                                    0,
                                    static_cast<std::uint8_t>(total >> 8),
                                    static_cast<std::uint8_t>(total),
                                    static_cast<std::uint8_t>(ip_id_ >> 8),
                                    static_cast<std::uint8_t>(ip_id_),
                                    0x40,
                                    0,
                                    64,
                                    6,
                                    0,
                                    0,
                                    static_cast<std::uint8_t>(src >> 24),
                                    static_cast<std::uint8_t>(src >> 16),
                                    static_cast<std::uint8_t>(src >> 8),
                                    static_cast<std::uint8_t>(src),
                                    static_cast<std::uint8_t>(dst >> 24),
                                    static_cast<std::uint8_t>(dst >> 16),
                                    static_cast<std::uint8_t>(dst >> 8),
                                    static_cast<std::uint8_t>(dst)};
    ++ip_id_;
    f.insert(f.end(), iphdr, iphdr + 20);
    const std::uint16_t ipsum = checksum(&f[ip], 20);
    f[ip + 10] = static_cast<std::uint8_t>(ipsum >> 8);
    f[ip + 11] = static_cast<std::uint8_t>(ipsum);
    const std::size_t tcp = f.size();
    const std::uint16_t sport = from_pns ? 40000 : tcp_port;
    const std::uint16_t dport = from_pns ? tcp_port : 40000;
    const std::uint8_t has_ack = (flags & 0x02) != 0 && (flags & 0x10) == 0 ? 0 : 1;
    const std::uint32_t a = has_ack ? ack : 0;
    const std::uint8_t tcphdr[20] = {static_cast<std::uint8_t>(sport >> 8),
                                     static_cast<std::uint8_t>(sport),
                                     static_cast<std::uint8_t>(dport >> 8),
                                     static_cast<std::uint8_t>(dport),
                                     static_cast<std::uint8_t>(seq >> 24),
                                     static_cast<std::uint8_t>(seq >> 16),
                                     static_cast<std::uint8_t>(seq >> 8),
                                     static_cast<std::uint8_t>(seq),
                                     static_cast<std::uint8_t>(a >> 24),
                                     static_cast<std::uint8_t>(a >> 16),
                                     static_cast<std::uint8_t>(a >> 8),
                                     static_cast<std::uint8_t>(a),
                                     0x50,
                                     flags,
                                     0xff,
                                     0xff,
                                     0,
                                     0,
                                     0,
                                     0};
    f.insert(f.end(), tcphdr, tcphdr + 20);
    f.insert(f.end(), payload.begin(), payload.end());
    // TCP checksum over the pseudo-header and the segment.
    std::uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
                           static_cast<std::uint32_t>(20 + payload.size());
    const std::uint16_t tsum = checksum(&f[tcp], f.size() - tcp, pseudo);
    f[tcp + 16] = static_cast<std::uint8_t>(tsum >> 8);
    f[tcp + 17] = static_cast<std::uint8_t>(tsum);
    seq += static_cast<std::uint32_t>(payload.size()) + ((flags & 0x03) != 0 ? 1u : 0u);  // SYN, FIN take one
    usec_ += 1000;
    put32le(static_cast<std::uint32_t>(usec_ / 1000000));
    put32le(static_cast<std::uint32_t>(usec_ % 1000000));
    put32le(static_cast<std::uint32_t>(f.size()));
    put32le(static_cast<std::uint32_t>(f.size()));
    out_.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }
  bool ok() const { return out_.good(); }

 private:
  void put16le(std::uint16_t v) {
    const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
    out_.write(b, 2);
  }
  void put32le(std::uint32_t v) {
    put16le(static_cast<std::uint16_t>(v));
    put16le(static_cast<std::uint16_t>(v >> 16));
  }
  std::ofstream out_;
  std::uint32_t pns_seq_ = 1000;
  std::uint32_t pac_seq_ = 5000;
  std::uint16_t ip_id_ = 1;
  std::uint64_t usec_ = 1'700'000'000ull * 1000000;
};

// Where the pcap goes: PPTPKIT_PCAP_OUT when set (tshark_check.sh gives its own file, so a parallel
// ctest run of this test never writes under it), else the build directory.
std::string pcap_path() {
  const char* env = std::getenv("PPTPKIT_PCAP_OUT");
  return env != nullptr && *env != '\0' ? env : PPTP_CONTROL_PCAP;
}

TEST(pcap, writes_a_full_pns_pac_session) {
  const std::string path = pcap_path();
  session s;
  const full_session_result r = full_session(s);
  constexpr std::uint8_t syn = 0x02, ack = 0x10, psh = 0x08, fin = 0x01;
  {
    pcap_writer w(path.c_str());
    w.segment(true, syn, {});
    w.segment(false, syn | ack, {});
    w.segment(true, ack, {});
    for (const auto& m : s.wire) {
      w.segment(m.from_pns, psh | ack, m.data);
      w.segment(!m.from_pns, ack, {});
    }
    w.segment(true, fin | ack, {});
    w.segment(false, fin | ack, {});
    w.segment(true, ack, {});
    ASSERT_TRUE(w.ok());
  }
  // What tshark must decode: one line per message, "type call_id peer_call_id" ("-" when absent).
  std::ofstream expect(path + ".expect");
  for (const auto& m : s.wire) {
    const std::uint16_t t = type_of(m.data);
    auto u16 = [&](std::size_t at) { return std::to_string((m.data[at] << 8) | m.data[at + 1]); };
    std::string call = "-", peer = "-";
    switch (t) {
      case 7:
      case 9:
      case 12:
      case 13:
        call = u16(12);
        break;
      case 8:
      case 10:
        call = u16(12);
        peer = u16(14);
        break;
      case 11:
      case 14:
      case 15:
        peer = u16(12);
        break;
      default:
        break;
    }
    expect << t << ' ' << call << ' ' << peer << '\n';
  }
  EXPECT_NE(r.pns_outgoing, 0u);
  EXPECT_GE(s.wire.size(), 15u);
}

}  // namespace
}  // namespace pptpkit::control::testing
