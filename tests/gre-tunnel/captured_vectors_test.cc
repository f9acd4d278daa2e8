// The enhanced GRE packets pptp-linux 1.10.0 and pptpd 1.4.0 sent (tests/data, see its CAPTURES.md):
// each decodes with our header decoder, and a tunnel session facing either peer takes its packets in the
// captured order: data delivered, acknowledgements of what we sent processed.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gre_fixture.hpp"

namespace pptpkit::gre::testing {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes read_vector(const std::string& name) {
  const std::string path = std::string(PPTPKIT_TEST_DATA_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

header_info decoded(const bytes& b) {
  header_info h;
  EXPECT_EQ(decode(b, h), verdict::ok);
  return h;
}

// The OCRQ/OCRP Call ID fields (RFC 2637 §2.7, §2.8: bytes 12-13 and, in the reply, 14-15).
std::uint16_t u16_at(const bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}

struct peer_vectors {
  bytes first, data_ack, ack_only;
};
peer_vectors vectors_of(const std::string& dir) {
  return {read_vector(dir + "/gre-data-first.bin"), read_vector(dir + "/gre-data-ack.bin"),
          read_vector(dir + "/gre-ack-only.bin")};
}

TEST(captured_vectors, headers_decode_as_captured) {
  const bytes ocrq = read_vector("pptp-linux-1.10.0/ocrq.bin");
  const bytes ocrp = read_vector("pptpd-1.4.0/ocrp.bin");
  const std::uint16_t client_call = u16_at(ocrq, 12);  // pptp-linux's call id
  const std::uint16_t server_call = u16_at(ocrp, 12);  // pptpd's call id
  ASSERT_EQ(u16_at(ocrp, 14), client_call);

  // pptp-linux numbers from 1 and keys its packets with pptpd's call id.
  const peer_vectors c = vectors_of("pptp-linux-1.10.0");
  header_info h = decoded(c.first);
  EXPECT_EQ(h.call_id, server_call);
  EXPECT_TRUE(h.has_sequence);
  EXPECT_FALSE(h.has_ack);
  EXPECT_EQ(h.sequence, 1u);
  EXPECT_EQ(h.header_length + h.payload_length, c.first.size());
  h = decoded(c.data_ack);
  EXPECT_EQ(h.call_id, server_call);
  EXPECT_TRUE(h.has_sequence && h.has_ack);
  EXPECT_EQ(h.sequence, 2u);
  EXPECT_EQ(h.ack, 1u);
  EXPECT_EQ(h.header_length, 16u);
  h = decoded(c.ack_only);
  EXPECT_EQ(c.ack_only.size(), ack_only_length);
  EXPECT_EQ(h.call_id, server_call);
  EXPECT_FALSE(h.has_sequence);
  EXPECT_TRUE(h.has_ack);
  EXPECT_EQ(h.ack, 3u);
  EXPECT_EQ(h.payload_length, 0u);

  // pptpd numbers from 0 and keys its packets with pptp-linux's call id.
  const peer_vectors s = vectors_of("pptpd-1.4.0");
  h = decoded(s.first);
  EXPECT_EQ(h.call_id, client_call);
  EXPECT_TRUE(h.has_sequence);
  EXPECT_FALSE(h.has_ack);
  EXPECT_EQ(h.sequence, 0u);
  h = decoded(s.data_ack);
  EXPECT_EQ(h.call_id, client_call);
  EXPECT_EQ(h.sequence, 1u);
  EXPECT_EQ(h.ack, 1u);
  h = decoded(s.ack_only);
  EXPECT_EQ(s.ack_only.size(), ack_only_length);
  EXPECT_EQ(h.call_id, client_call);
  EXPECT_FALSE(h.has_sequence);
  EXPECT_EQ(h.ack, 5u);
}

class captured_session : public gre_test {
 protected:
  // Opens the session the peer's packets are keyed for, fed with them as the host would (p->aux = the
  // peer's address).
  void open_for(const peer_vectors& v, std::uint16_t peer_call, std::uint16_t peer_window) {
    make();
    const header_info h = decoded(v.first);
    call = h.call_id;
    session_params p;
    p.call_id = call;
    p.peer_call_id = peer_call;
    p.peer_window = peer_window;
    p.peer_address = peer_ip;
    ASSERT_EQ(t->open_session(p, host.now), PPTPKIT_OK);
  }
  void feed_captured(const bytes& b) {
    pptpkit_packet* p = host.make_packet(b);
    p->aux = peer_ip;
    feed_net(p);
  }
  // Sends n frames of our own (numbered from 0) and lets them go out.
  void send_frames(std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i) {
      send(next_id++, 0, call);
    }
    advance(ms);
    poll(PPTPKIT_GRE_PORT_NET);
  }
  // The captured payload of a data packet: what PPP must receive.
  static bytes payload_of(const bytes& b) {
    const header_info h = decoded(b);
    return bytes(b.begin() + h.header_length, b.end());
  }

  std::uint16_t call = 0;
  std::uint32_t next_id = 1;
};

TEST_F(captured_session, pac_takes_pptp_linux_packets) {
  // We stand where pptpd stood: pptp-linux's packets carry our call id; we key ours with its call id.
  const peer_vectors v = vectors_of("pptp-linux-1.10.0");
  const bytes ocrq = read_vector("pptp-linux-1.10.0/ocrq.bin");
  open_for(v, u16_at(ocrq, 12), u16_at(ocrq, 32));  // §2.7: Call ID, Packet Recv. Window Size

  feed_captured(v.first);  // seq 1: the first packet sets where the peer's numbering starts
  auto ppp = poll(PPTPKIT_GRE_PORT_PPP);
  ASSERT_EQ(ppp.size(), 1u);
  EXPECT_EQ(ppp[0], payload_of(v.first));

  // Our frames 0 and 1 go out; the peer's next data packet acknowledges them.
  send_frames(2);
  EXPECT_EQ(t->find(call)->outstanding(), 2u);
  feed_captured(v.data_ack);
  ppp = poll(PPTPKIT_GRE_PORT_PPP);
  ASSERT_EQ(ppp.size(), 1u);
  EXPECT_EQ(ppp[0], payload_of(v.data_ack));
  EXPECT_EQ(t->find(call)->outstanding(), 0u);

  // Frames 2 and 3; the ack-only packet (ack 3) acknowledges both.
  send_frames(2);
  feed_captured(v.ack_only);
  EXPECT_TRUE(poll(PPTPKIT_GRE_PORT_PPP).empty());
  EXPECT_EQ(t->find(call)->outstanding(), 0u);

  EXPECT_EQ(c(call).received, 3u);
  EXPECT_EQ(c(call).received_ack_only, 1u);
  EXPECT_EQ(c(call).delivered, 2u);
  EXPECT_EQ(c(call).bad_ack, 0u);
  EXPECT_EQ(c(call).lost, 0u);
}

TEST_F(captured_session, pns_takes_pptpd_packets) {
  // We stand where pptp-linux stood. pptpd acknowledged frames in between (on packets not kept as
  // vectors); without them, its advertised window (its OCRP) would hold back frames our side must have
  // sent before the captured ack 5, so the session is given room for all six.
  const peer_vectors v = vectors_of("pptpd-1.4.0");
  const bytes ocrp = read_vector("pptpd-1.4.0/ocrp.bin");
  open_for(v, u16_at(ocrp, 12), 64);
  EXPECT_EQ(t->find(call)->params().peer_call_id, 0u);  // pptpd's call id 0 is a valid key

  feed_captured(v.first);  // seq 0
  auto ppp = poll(PPTPKIT_GRE_PORT_PPP);
  ASSERT_EQ(ppp.size(), 1u);
  EXPECT_EQ(ppp[0], payload_of(v.first));

  send_frames(2);             // 0, 1
  feed_captured(v.data_ack);  // seq 1, ack 1
  ppp = poll(PPTPKIT_GRE_PORT_PPP);
  ASSERT_EQ(ppp.size(), 1u);
  EXPECT_EQ(ppp[0], payload_of(v.data_ack));
  EXPECT_EQ(t->find(call)->outstanding(), 0u);

  send_frames(4);             // 2..5
  feed_captured(v.ack_only);  // ack 5
  EXPECT_EQ(t->find(call)->outstanding(), 0u);

  EXPECT_EQ(c(call).received, 3u);
  EXPECT_EQ(c(call).received_ack_only, 1u);
  EXPECT_EQ(c(call).delivered, 2u);
  EXPECT_EQ(c(call).bad_ack, 0u);
}

}  // namespace
}  // namespace pptpkit::gre::testing
