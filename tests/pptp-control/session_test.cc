// A PNS and a PAC drive each other through a whole session, with the stream cut every way.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "harness.hpp"

namespace pptpkit::control::testing {
namespace {

std::set<std::uint16_t> types_seen(const session& s) {
  std::set<std::uint16_t> t;
  for (const auto& m : s.wire) {
    t.insert(type_of(m.data));
  }
  return t;
}

TEST(session, full_session_exchanges_every_message_type) {
  session s;
  full_session(s);
  std::set<std::uint16_t> all;
  for (std::uint16_t t = 1; t <= 15; ++t) {
    all.insert(t);
  }
  EXPECT_EQ(types_seen(s), all);
  // Each polled packet was exactly one message of its own Length.
  for (const auto& m : s.wire) {
    ASSERT_GE(m.data.size(), 12u);
    EXPECT_EQ(m.data.size(), static_cast<std::size_t>((m.data[0] << 8) | m.data[1]));
  }
}

// Every split point at once (byte by byte), and bursts cut into packets of many sizes, including
// sizes around the message lengths: the same events on both sides every time.
TEST(session, full_session_is_identical_under_every_split) {
  session reference;
  full_session(reference);
  for (std::size_t chunk : {1u,  2u,  3u,   5u,   7u,   11u,  12u,  13u,  15u,  16u,  17u,  20u,
                            23u, 64u, 155u, 156u, 157u, 168u, 219u, 220u, 221u, 333u, 4096u}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    session s(chunk);
    full_session(s);
    ASSERT_EQ(s.wire.size(), reference.wire.size());
    for (std::size_t i = 0; i < s.wire.size(); ++i) {
      EXPECT_EQ(s.wire[i].data, reference.wire[i].data) << "message " << i;
    }
    ASSERT_EQ(s.pns.events.size(), reference.pns.events.size());
    ASSERT_EQ(s.pac.events.size(), reference.pac.events.size());
    for (std::size_t i = 0; i < s.pns.events.size(); ++i) {
      EXPECT_EQ(s.pns.events[i].type, reference.pns.events[i].type);
    }
  }
}

TEST(session, pptp_linux_clears_and_closes_at_once) {
  // pptp-linux sends CCRQ and closes TCP without waiting for the CDN: the PAC sends the CDN, reports
  // CALL_DOWN on the CCRQ itself, and takes CONNECTION_CLOSED right after.
  session s;
  s.open();
  const std::int32_t id = s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pump();
  ASSERT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP).size(), 1u);
  EXPECT_EQ(s.pns.command(PPTPKIT_CONTROL_CMD_CALL_CLEAR, s.ch, {static_cast<std::uint64_t>(id)}), PPTPKIT_OK);
  auto ccrq = s.pns.poll();
  ASSERT_EQ(ccrq.size(), 1u);
  s.pac.feed(s.ch, ccrq[0].second);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 1u);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN)[0].values[2], cdn_result::request);
  EXPECT_EQ(s.pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, s.ch), PPTPKIT_OK);
  auto down = s.pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].values[0], PPTPKIT_CONTROL_REASON_PEER_CLOSED);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 1u);  // not reported twice
  EXPECT_TRUE(s.pac.poll().empty());                                     // the CDN is dropped with the TCP connection
  EXPECT_FALSE(s.pac.connection_exists(s.ch));
  EXPECT_EQ(s.pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, s.ch), PPTPKIT_OK);  // idempotent
}

TEST(session, cdn_is_matched_by_either_call_id) {
  for (bool use_pns_id : {false, true}) {
    session s;
    s.open();
    const auto id = static_cast<std::uint16_t>(s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch));
    s.pump();
    const auto pac_id = static_cast<std::uint16_t>(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP)[0].values[0]);
    bytes cdn(sizeof(call_disconnect_notify));
    auto& m = start_message<call_disconnect_notify>(cdn);
    m.call_id = use_pns_id ? id : pac_id;
    m.result_code = cdn_result::admin_shutdown;
    s.pns.feed(s.ch, cdn);
    auto down = s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN);
    ASSERT_EQ(down.size(), 1u) << "matched by " << (use_pns_id ? "the PNS's" : "the PAC's") << " id";
    EXPECT_EQ(down[0].values[0], id);
    EXPECT_EQ(down[0].values[2], cdn_result::admin_shutdown);
  }
}

TEST(session, call_ids_keep_their_byte_order) {
  // A well-known server sent call ids byte-swapped for years: each id must cross as big-endian and come
  // back as the same number on the other side, including ids whose two bytes differ.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    session s(0, seed);
    s.open();
    const auto id = static_cast<std::uint16_t>(s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch));
    auto ocrq = s.pns.poll();
    ASSERT_EQ(ocrq.size(), 1u);
    const bytes& w = ocrq[0].second;
    EXPECT_EQ(w[12], id >> 8);
    EXPECT_EQ(w[13], id & 0xff);
    s.pac.feed(s.ch, w);
    auto ocrp = s.pac.poll();
    ASSERT_EQ(ocrp.size(), 1u);
    const auto pac_id = static_cast<std::uint16_t>(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP)[0].values[0]);
    EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP)[0].values[1], id);
    EXPECT_EQ(ocrp[0].second[12], pac_id >> 8);
    EXPECT_EQ(ocrp[0].second[13], pac_id & 0xff);
    EXPECT_EQ(ocrp[0].second[14], id >> 8);
    EXPECT_EQ(ocrp[0].second[15], id & 0xff);
    s.pns.feed(s.ch, ocrp[0].second);
    EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP)[0].values[1], pac_id);
  }
}

TEST(session, pptpd_quirks_are_accepted) {
  // pptpd: SCCRP with framing and bearer capabilities 0 and Maximum Channels 1; OCRP with Call ID 0.
  side pns("pns", 3);
  ASSERT_EQ(pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address}), PPTPKIT_OK);
  ASSERT_EQ(pns.poll().size(), 1u);
  bytes sccrp(sizeof(start_control_connection_reply));
  auto& r = start_message<start_control_connection_reply>(sccrp);
  r.protocol_version = protocol_version_1_0;
  r.result_code = sccrp_result::success;
  r.maximum_channels = 1;
  set_text(r.host_name, "local");
  set_text(r.vendor_string, "linux");
  pns.feed(1, sccrp);
  ASSERT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).size(), 1u);
  EXPECT_STREQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP)[0].text, "local|linux");
  const auto id = static_cast<std::uint16_t>(pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, 1));
  ASSERT_EQ(pns.poll().size(), 1u);
  bytes ocrp(sizeof(outgoing_call_reply));
  auto& o = start_message<outgoing_call_reply>(ocrp);
  o.call_id = 0;
  o.peer_call_id = id;
  o.result_code = ocrp_result::connected;
  pns.feed(1, ocrp);
  auto up = pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].values[1], 0u);
  // Set-Link-Info is never required: the call stays up without one.
  pns.host.now += 10 * second;
  pns.tick();
  EXPECT_TRUE(pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).empty());
}

TEST(session, call_cleared_before_its_reply_still_ends_on_the_cdn) {
  // The PNS clears an outgoing call while its OCRQ is in flight; the OCRP, then the CDN (carrying the
  // PAC's id, which the PNS only learns from that OCRP) still end it cleanly, and nothing is left over.
  session s;
  s.open();
  const std::int32_t id = s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  EXPECT_EQ(s.pns.command(PPTPKIT_CONTROL_CMD_CALL_CLEAR, s.ch, {static_cast<std::uint64_t>(id)}), PPTPKIT_OK);
  s.pump();
  auto down = s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].values[0], static_cast<std::uint64_t>(id));
  EXPECT_EQ(down[0].values[2], cdn_result::request);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 1u);
  EXPECT_EQ(s.pns.stat("drop_unknown_call"), 0);
  EXPECT_EQ(s.pns.next_deadline(), s.pns.host.now + 60 * second);  // only the keepalive is left
}

TEST(session, sli_from_windows_is_accepted_and_reported) {
  session s;
  s.open();
  s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pump();
  const auto pac_id = static_cast<std::uint16_t>(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP)[0].values[0]);
  bytes sli(sizeof(set_link_info));
  auto& m = start_message<set_link_info>(sli);
  m.peer_call_id = pac_id;
  m.send_accm = 0xffffffff;
  m.receive_accm = 0xffffffff;
  s.pac.feed(s.ch, sli);
  auto ev = s.pac.of_type(PPTPKIT_CONTROL_EVENT_SET_LINK_INFO);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].values[0], pac_id);
  EXPECT_EQ(ev[0].values[1], 0xffffffffu);
  EXPECT_EQ(s.pac.stat("set_link_info_received"), 1);
}

TEST(session, stop_from_the_pac_tears_down_every_call) {
  session s;
  s.open();
  s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pac.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pump();
  ASSERT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP).size(), 2u);
  EXPECT_EQ(s.pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_STOP, s.ch, {3}), PPTPKIT_OK);
  s.pump();
  EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 2u);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN).size(), 2u);
  EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_STOPPED);
  EXPECT_EQ(s.pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_STOPPED);
}

TEST(session, keepalive_declares_a_silent_peer_dead) {
  session s(0, 1, {{"echo_interval_ms", "1000"}, {"echo_timeout_ms", "500"}});
  s.open();
  EXPECT_EQ(s.pns.next_deadline(), s.pns.host.now + 1 * second);
  s.pns.host.now += 1 * second;
  s.pns.tick();
  auto echo = s.pns.poll();
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_EQ(type_of(echo[0].second), 5u);
  EXPECT_EQ(s.pns.next_deadline(), s.pns.host.now + second / 2);
  s.pns.host.now += second / 2;
  s.pns.tick();  // the PAC never saw the request
  auto down = s.pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].values[0], PPTPKIT_CONTROL_REASON_TIMEOUT);
  EXPECT_EQ(s.pns.stat("timeout_echo"), 1);
}

TEST(session, handshake_and_call_setup_time_out) {
  side pns("pns", 5, {{"handshake_timeout_ms", "2000"}});
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  EXPECT_EQ(pns.next_deadline(), 2 * second);
  pns.host.now = 2 * second;
  pns.tick();
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_TIMEOUT);
  EXPECT_EQ(pns.stat("timeout_handshake"), 1);

  session s(0, 1, {{"call_setup_timeout_ms", "3000"}});
  s.open();
  s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pns.poll();  // the OCRQ is lost
  s.pns.host.now += 3 * second;
  s.pns.tick();
  auto down = s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(s.pns.stat("timeout_call_setup"), 1);
  EXPECT_EQ(type_of(s.pns.poll().at(0).second), 12u);  // a CCRQ tells the PAC to forget it
}

TEST(session, stop_reply_times_out) {
  session s(0, 1, {{"stop_reply_timeout_ms", "1000"}});
  s.open();
  s.pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_STOP, s.ch, {3});
  s.pns.poll();  // lost
  s.pns.host.now += second;
  s.pns.tick();
  EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_TIMEOUT);
  EXPECT_EQ(s.pns.stat("timeout_stop_reply"), 1);
}

TEST(session, sccrq_collision_higher_address_wins) {
  // Both open a connection to the other at once (RFC 2637 §3.1.3). PAC 192.0.2.2 > PNS 192.0.2.1.
  side pns("pns", 1);
  side pac("pac", 2);
  // Connection 1: opened by the PNS; connection 2: opened by the PAC.
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {0, pns_address, pac_address});
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 2, {1, pns_address, pac_address});
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 2, {0, pac_address, pns_address});
  auto from_pns = pns.poll();
  auto from_pac = pac.poll();
  ASSERT_EQ(from_pns.size(), 1u);
  ASSERT_EQ(from_pac.size(), 1u);
  pac.feed(1, from_pns[0].second);  // the PAC wins: it stays silent on connection 1
  pns.feed(2, from_pac[0].second);  // the PNS loses: closes connection 1, answers on connection 2
  EXPECT_TRUE(pac.poll().empty());
  EXPECT_EQ(pac.stat("sccrq_collisions_won"), 1);
  EXPECT_EQ(pns.stat("sccrq_collisions_lost"), 1);
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).channel, 1u);
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).at(0).values[0], PPTPKIT_CONTROL_REASON_COLLISION);
  auto reply = pns.poll();
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].first, 2u);
  EXPECT_EQ(type_of(reply[0].second), 2u);
  pac.feed(2, reply[0].second);
  EXPECT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).at(0).channel, 2u);
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).at(0).channel, 2u);
}

TEST(session, call_limits_are_enforced_and_counted) {
  session s(0, 1, {}, {{"max_calls_per_connection", "1"}});
  s.open();
  s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
  s.pump();
  EXPECT_EQ(s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP).size(), 1u);
  auto down = s.pns.of_type(PPTPKIT_CONTROL_EVENT_CALL_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].values[2], ocrp_result::general_error);
  EXPECT_EQ(down[0].values[3], error_code::no_resource);
  EXPECT_EQ(s.pac.stat("rejected_call_limit"), 1);
  EXPECT_EQ(s.pns.stat("calls_refused_by_peer"), 1);
  EXPECT_EQ(s.pac.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch), PPTPKIT_ERR_LIMIT);
}

TEST(session, connection_limit_is_enforced_and_counted) {
  side pac("pac", 1, {{"max_connections", "2"}});
  EXPECT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {0, 1}), PPTPKIT_OK);
  EXPECT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 2, {0, 2}), PPTPKIT_OK);
  EXPECT_EQ(pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 3, {0, 3}), PPTPKIT_ERR_LIMIT);
  auto down = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].channel, 3u);
  EXPECT_EQ(down[0].values[0], PPTPKIT_CONTROL_REASON_LIMIT);
  EXPECT_EQ(pac.stat("rejected_connection_limit"), 1);
  EXPECT_TRUE(pac.connection_exists(1));
}

TEST(session, a_peer_that_stops_reading_loses_no_message) {
  // The PNS never reads: Echo-Requests from the PAC pile up, whole, until max_output_bytes, then the PAC
  // ends that connection with OUTPUT_FULL. Another connection goes on.
  side pac("pac", 1, {{"max_output_bytes", "400"}});
  side pns("pns", 2);
  for (std::uint32_t ch : {1u, 2u}) {
    pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {0, pns_address, pac_address});
  }
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  pac.feed(1, pns.poll().at(0).second);
  pac.feed(2, [&] {
    side other("pns", 3);
    other.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
    return other.poll().at(0).second;
  }());
  // Channel 1's SCCRP (156 bytes) stays queued; echo requests (16) from the peer make replies (20).
  bytes echo(sizeof(echo_request));
  auto& e = start_message<echo_request>(echo);
  int fed = 0;
  while (pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN).empty() && fed < 100) {
    e.identifier = static_cast<std::uint32_t>(fed++);
    pac.feed(1, echo);
  }
  auto down = pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_DOWN);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].channel, 1u);
  EXPECT_EQ(down[0].values[0], PPTPKIT_CONTROL_REASON_OUTPUT_FULL);
  EXPECT_EQ(fed, 13);  // 156 + 12 * 20 = 396 <= 400; the 13th reply would pass the bound
  EXPECT_EQ(pac.stat("output_full"), 1);
  // Connection 2 still answers, and every packet polled is one whole message.
  e.identifier = 999;
  pac.feed(2, echo);
  auto out = pac.poll();
  ASSERT_EQ(out.size(), 2u);  // channel 2's SCCRP and Echo-Reply; channel 1's output went with it
  for (const auto& [ch, m] : out) {
    EXPECT_EQ(ch, 2u);
    EXPECT_EQ(m.size(), static_cast<std::size_t>((m[0] << 8) | m[1]));
  }
}

TEST(session, call_ids_are_unique_across_every_connection_of_an_instance) {
  // The GRE demultiplexer finds a call by its id alone: one PAC, three PNS peers, 40 calls each.
  side pac("pac", 31, {{"max_calls_per_connection", "40"}});
  std::vector<std::unique_ptr<side>> peers;
  std::set<std::uint64_t> ids;
  for (std::uint32_t ch = 1; ch <= 3; ++ch) {
    peers.push_back(std::make_unique<side>("pns", 100 + ch));
    side& pns = *peers.back();
    pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, ch, {0, pns_address + ch, pac_address});
    pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address + ch});
    pac.feed(ch, pns.poll().at(0).second);
    pns.feed(1, pac.poll().at(0).second);
    for (int i = 0; i < 40; ++i) {
      pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, 1);
      pac.feed(ch, pns.poll().at(0).second);
      pns.feed(1, pac.poll().at(0).second);
    }
  }
  for (const auto& e : pac.of_type(PPTPKIT_CONTROL_EVENT_CALL_UP)) {
    EXPECT_NE(e.values[0], 0u);
    EXPECT_TRUE(ids.insert(e.values[0]).second) << "call id " << e.values[0] << " used twice";
  }
  EXPECT_EQ(ids.size(), 120u);
}

TEST(session, sccrq_on_the_same_connection_is_resolved_by_address) {
  // Both ends opened as originators on one connection: the lower address answers, the higher waits.
  side pns("pns", 1);
  side pac("pac", 2);
  pns.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pac_address, pns_address});
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {1, pns_address, pac_address});
  auto a = pns.poll();
  auto b = pac.poll();
  pac.feed(1, a.at(0).second);  // higher address: ignores it
  pns.feed(1, b.at(0).second);  // lower address: answers SCCRP and is established
  EXPECT_TRUE(pac.poll().empty());
  auto reply = pns.poll();
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(type_of(reply[0].second), 2u);
  pac.feed(1, reply[0].second);
  EXPECT_EQ(pns.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).size(), 1u);
  EXPECT_EQ(pac.of_type(PPTPKIT_CONTROL_EVENT_CONNECTION_UP).size(), 1u);
}

TEST(session, echo_is_answered_before_the_handshake_and_counters_outlive_connections) {
  side pac("pac", 8);
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_OPEN, 1, {0, pns_address, pac_address});
  bytes echo(sizeof(echo_request));
  start_message<echo_request>(echo).identifier = 0x01020304;
  pac.feed(1, echo);
  auto out = pac.poll();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(type_of(out[0].second), 6u);
  EXPECT_EQ(out[0].second[12], 0x01);  // the request's identifier, in order
  EXPECT_EQ(out[0].second[15], 0x04);
  EXPECT_EQ(pac.stat("echo_requests_answered", 1), 1);
  pac.command(PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED, 1);
  EXPECT_FALSE(pac.connection_exists(1));
  EXPECT_EQ(pac.stat("echo_requests_answered"), 1);  // kept in the instance totals
  EXPECT_EQ(pac.stat("rx_messages"), 1);
  EXPECT_EQ(pac.stat("connections_down"), 1);
}

TEST(session, released_call_ids_are_not_reused_soon) {
  session s(0, 9);
  s.open();
  std::set<std::int32_t> seen;
  for (int i = 0; i < 200; ++i) {
    const std::int32_t id = s.pns.command(PPTPKIT_CONTROL_CMD_CALL_OPEN, s.ch);
    ASSERT_GT(id, 0);
    EXPECT_TRUE(seen.insert(id).second) << "call id " << id << " reused";
    s.pump();
    s.pns.command(PPTPKIT_CONTROL_CMD_CALL_CLEAR, s.ch, {static_cast<std::uint64_t>(id)});
    s.pump();
  }
}

}  // namespace
}  // namespace pptpkit::control::testing
