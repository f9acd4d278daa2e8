// MPPE data path: round trips in both modes and every strength, the wire format against the RFC 3078
// steps done by hand, malformed frames, reordering, and the data path's allocation count.
#include <gtest/gtest.h>

#include <array>

#include "mppe_test_util.hpp"
#include "pptpkit/core/pool.hpp"
#include "pptpkit/testing/alloc_counter.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;
using pptpkit::ppp::testing::frame;
using pptpkit::ppp::testing::ipv4_datagram;
using pptpkit::ppp::testing::ipv6_datagram;

mppe_key test_start_key(std::uint8_t seed) {
  mppe_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(seed * 31 + i * 7 + 1);
  }
  return k;
}

struct link_case {
  mppe_strength strength;
  bool stateless;
};

class round_trip : public ::testing::TestWithParam<link_case> {};

TEST_P(round_trip, every_frame_decrypts_to_what_was_sent) {
  const mppe_params params{GetParam().strength, GetParam().stateless};
  mppe_encryptor tx(test_start_key(1), params);
  mppe_decryptor rx(test_start_key(1), params);
  for (std::uint32_t n = 0; n < 1200; ++n) {  // past several flag frames and one rekey per frame
    const bool v6 = n % 3 == 0;
    const auto plain = v6 ? ipv6_datagram(n, 40 + n % 1400) : ipv4_datagram(n, 20 + n % 1400);
    frame f(plain);
    ASSERT_EQ(tx.encrypt(f.p, v6 ? ppp_protocol_ipv6 : ppp_protocol_ipv4), PPTPKIT_OK);
    ASSERT_EQ(f.p.length, plain.size() + 4);
    const std::uint8_t* h = core::data(f.p);
    EXPECT_EQ(h[0] & mppe_bit_encrypted, mppe_bit_encrypted);
    EXPECT_EQ(((h[0] & 0x0f) << 8 | h[1]), static_cast<int>(n & 0xfff));
    const bool flag = (n & 0xff) == 0xff;
    EXPECT_EQ((h[0] & mppe_bit_flushed) != 0, params.stateless || flag) << n;
    const mppe_rx r = rx.decrypt(f.p, 0);
    ASSERT_EQ(r.verdict, mppe_verdict::deliver) << "frame " << n;
    EXPECT_EQ(r.protocol, v6 ? ppp_protocol_ipv6 : ppp_protocol_ipv4);
    ASSERT_EQ(f.bytes(), plain) << "frame " << n;
  }
  EXPECT_EQ(rx.counters().rx_delivered, 1200u);
}

INSTANTIATE_TEST_SUITE_P(
    mppe, round_trip,
    ::testing::Values(link_case{mppe_strength::bits_40, true}, link_case{mppe_strength::bits_56, true},
                      link_case{mppe_strength::bits_128, true}, link_case{mppe_strength::bits_40, false},
                      link_case{mppe_strength::bits_56, false}, link_case{mppe_strength::bits_128, false}),
    [](const auto& param_info) {
      return std::to_string(static_cast<int>(param_info.param.strength)) +
             (param_info.param.stateless ? "_stateless" : "_stateful");
    });

// RFC 3078 §3, §7.1 by hand: the first stateless frame is count 0 with A and D, and protocol + payload
// are RC4 under the key after one change of the initial session key.
TEST(mppe_wire, first_stateless_frame_matches_the_rfc_steps) {
  const mppe_key start = test_start_key(2);
  mppe_encryptor tx(start, {mppe_strength::bits_128, true});
  const auto plain = ipv4_datagram(7, 60);
  frame f(plain);
  ASSERT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);

  mppe_key_schedule keys(start, mppe_strength::bits_128);
  keys.change();
  arcfour_ctx rc4;
  keys.key_rc4(rc4);
  std::vector<std::uint8_t> inner = {0x00, 0x21};
  inner.insert(inner.end(), plain.begin(), plain.end());
  std::vector<std::uint8_t> expect = {0x90, 0x00};  // A | D, count 0
  expect.resize(2 + inner.size());
  arcfour_crypt(&rc4, inner.size(), expect.data() + 2, inner.data());
  EXPECT_EQ(f.bytes(), expect);
}

// The sender against RFC 3078 §7 written out as a model, frame by frame for 1000 frames with CCP resets
// sprinkled in: counts from 0, A exactly on the frames that change the key (every one when stateless;
// flag frames and the first frame after a reset when stateful), one RC4 stream between them.
TEST(mppe_wire, sender_matches_the_rfc_model_with_resets) {
  for (bool stateless : {true, false}) {
    SCOPED_TRACE(stateless ? "stateless" : "stateful");
    const mppe_key start = test_start_key(14);
    mppe_encryptor tx(start, {mppe_strength::bits_56, stateless});
    mppe_key_schedule keys(start, mppe_strength::bits_56);
    arcfour_ctx rc4;
    keys.key_rc4(rc4);
    bool reset_pending = false;
    for (std::uint32_t n = 0; n < 1000; ++n) {
      if (n % 77 == 3) {
        tx.on_reset_request();
        if (n % 2 == 1) {
          tx.on_reset_request();  // a repeated request before the next frame: still one key change
        }
        reset_pending = true;
      }
      const auto plain = ipv4_datagram(n, 30 + n % 200);
      frame f(plain);
      ASSERT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
      const std::uint32_t count = n & 0xfff;
      const bool change = stateless || (count & 0xff) == 0xff || reset_pending;
      if (change) {
        keys.change();
        keys.key_rc4(rc4);
        reset_pending = false;
      }
      std::vector<std::uint8_t> inner = {0x00, 0x21};
      inner.insert(inner.end(), plain.begin(), plain.end());
      std::vector<std::uint8_t> expect = {static_cast<std::uint8_t>((change ? 0x80 : 0) | 0x10 | (count >> 8)),
                                          static_cast<std::uint8_t>(count)};
      expect.resize(2 + inner.size());
      arcfour_crypt(&rc4, inner.size(), expect.data() + 2, inner.data());
      ASSERT_EQ(f.bytes(), expect) << "frame " << n;
    }
  }
}

// A peer that compresses the inner protocol field (RFC 1661 §6.5) is understood.
TEST(mppe_wire, compressed_inner_protocol_field) {
  const mppe_key start = test_start_key(3);
  mppe_key_schedule keys(start, mppe_strength::bits_40);
  keys.change();
  arcfour_ctx rc4;
  keys.key_rc4(rc4);
  const auto plain = ipv4_datagram(1, 100);
  std::vector<std::uint8_t> inner = {0x21};
  inner.insert(inner.end(), plain.begin(), plain.end());
  std::vector<std::uint8_t> wire = {0x90, 0x00};
  wire.resize(2 + inner.size());
  arcfour_crypt(&rc4, inner.size(), wire.data() + 2, inner.data());
  mppe_decryptor rx(start, {mppe_strength::bits_40, true});
  frame f(wire);
  const mppe_rx r = rx.decrypt(f.p, 0);
  ASSERT_EQ(r.verdict, mppe_verdict::deliver);
  EXPECT_EQ(r.protocol, ppp_protocol_ipv4);
  EXPECT_EQ(f.bytes(), plain);
}

// The check that stands between a wrong key and the network.
TEST(mppe_plaintext, only_well_formed_ip_passes) {
  auto check = [](std::vector<std::uint8_t> frame_bytes) {
    return mppe_check_plaintext(frame_bytes, static_cast<std::uint32_t>(frame_bytes.size()));
  };
  auto with_protocol = [](std::vector<std::uint8_t> proto, const std::vector<std::uint8_t>& ip) {
    proto.insert(proto.end(), ip.begin(), ip.end());
    return proto;
  };
  const auto v4 = ipv4_datagram(3, 80);
  const auto v6 = ipv6_datagram(3, 80);
  mppe_plaintext_check c = check(with_protocol({0x00, 0x21}, v4));
  EXPECT_TRUE(c.plausible);
  EXPECT_EQ(c.protocol, ppp_protocol_ipv4);
  EXPECT_EQ(c.protocol_size, 2u);
  c = check(with_protocol({0x21}, v4));  // PFC
  EXPECT_TRUE(c.plausible);
  EXPECT_EQ(c.protocol_size, 1u);
  EXPECT_TRUE(check(with_protocol({0x00, 0x57}, v6)).plausible);
  EXPECT_TRUE(check(with_protocol({0x57}, v6)).plausible);

  auto broken = v4;
  broken[10] ^= 1;  // header checksum
  EXPECT_FALSE(check(with_protocol({0x00, 0x21}, broken)).plausible);
  broken = v4;
  broken[3] += 1;  // total length
  EXPECT_FALSE(check(with_protocol({0x00, 0x21}, broken)).plausible);
  broken = v4;
  broken[0] = 0x44;  // IHL 4
  EXPECT_FALSE(check(with_protocol({0x00, 0x21}, broken)).plausible);
  EXPECT_FALSE(check(with_protocol({0x00, 0x57}, v4)).plausible);  // protocol and version disagree
  EXPECT_FALSE(check(with_protocol({0x00, 0x21}, v6)).plausible);
  broken = v6;
  broken[5] += 1;  // payload length
  EXPECT_FALSE(check(with_protocol({0x00, 0x57}, broken)).plausible);
  EXPECT_FALSE(check(with_protocol({0x00, 0x2b}, v4)).plausible);  // IPX: not carried here
  EXPECT_FALSE(check(with_protocol({0x00, 0x21}, std::vector<std::uint8_t>(v4.begin(), v4.begin() + 19))).plausible);
  EXPECT_FALSE(check({}).plausible);
  EXPECT_FALSE(check({0x00}).plausible);
  // A prefix longer than the frame is a caller error the check refuses rather than reads past.
  EXPECT_FALSE(mppe_check_plaintext(with_protocol({0x00, 0x21}, v4), 10).plausible);
}

// Stateful, while a reset is outstanding: nothing is buffered or delivered, and the Reset-Requests are
// paced by the interval however many frames arrive.
TEST(mppe_rx, stateful_discard_keeps_flow_bounded) {
  const mppe_params params{mppe_strength::bits_128, false};
  mppe_limits limits;
  limits.reset_interval_ns = 100;
  mppe_encryptor tx(test_start_key(12), params);
  mppe_decryptor rx(test_start_key(12), params, nullptr, limits);
  frame lost(ipv4_datagram(0, 64));
  ASSERT_EQ(tx.encrypt(lost.p, ppp_protocol_ipv4), PPTPKIT_OK);
  int requests = 0;
  for (std::uint32_t n = 1; n <= 1000; ++n) {  // the peer never hears us: no flushed frame comes
    frame f(ipv4_datagram(n, 64));
    ASSERT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
    if ((core::data(f.p)[0] & mppe_bit_flushed) != 0) {
      continue;  // a flag frame would resynchronise; this test is about the wait
    }
    EXPECT_EQ(rx.decrypt(f.p, n).verdict, mppe_verdict::drop);
    requests += rx.poll_reset_request(n).has_value();
  }
  EXPECT_TRUE(rx.discarding());
  EXPECT_EQ(requests, 10);  // at 1, then every 100 ns of the 1000
  EXPECT_GE(rx.counters().drop_discarding, 990u);
  EXPECT_EQ(rx.counters().rx_delivered, 0u);
}

TEST(mppe_wire, short_headroom_fails_cleanly) {
  mppe_encryptor tx(test_start_key(4), {});
  const auto plain = ipv4_datagram(1, 40);
  frame f(plain, 3);
  const pptpkit_packet before = f.p;
  EXPECT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_ERR_NO_SPACE);
  EXPECT_EQ(f.p.offset, before.offset);
  EXPECT_EQ(f.bytes(), plain);
  EXPECT_EQ(tx.counters().tx_no_headroom, 1u);
  EXPECT_EQ(tx.coherency_count(), 0xfff);  // no count used
}

// Malformed frames from the peer are counted and dropped, and the next good frame still decrypts.
TEST(mppe_rx, malformed_frames_are_counted_and_leave_the_state_alone) {
  for (bool stateless : {true, false}) {
    SCOPED_TRACE(stateless ? "stateless" : "stateful");
    const mppe_params params{mppe_strength::bits_128, stateless};
    pptpkit::testing::test_host host;
    core::host h(host.services());
    mppe_encryptor tx(test_start_key(5), params);
    mppe_decryptor rx(test_start_key(5), params, &h);
    auto send = [&](std::uint32_t n) {
      frame f(ipv4_datagram(n, 200));
      EXPECT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
      return f;
    };
    frame first = send(0);
    ASSERT_EQ(rx.decrypt(first.p, 0).verdict, mppe_verdict::deliver);

    frame good = send(1);
    frame bad;
    bad.assign({0x90});  // truncated: header only partly there
    EXPECT_EQ(rx.decrypt(bad.p, 0).verdict, mppe_verdict::drop);
    bad.assign({0x90, 0x01});  // header without a protocol octet
    EXPECT_EQ(rx.decrypt(bad.p, 0).verdict, mppe_verdict::drop);
    EXPECT_EQ(rx.counters().drop_short, 2u);
    bad = good;
    core::data(bad.p)[0] &= static_cast<std::uint8_t>(~mppe_bit_encrypted);
    EXPECT_EQ(rx.decrypt(bad.p, 0).verdict, mppe_verdict::drop);
    EXPECT_EQ(rx.counters().drop_not_encrypted, 1u);
    bad = good;
    core::data(bad.p)[0] |= mppe_bit_compressed;
    EXPECT_EQ(rx.decrypt(bad.p, 0).verdict, mppe_verdict::drop);
    EXPECT_EQ(rx.counters().drop_compressed, 1u);
    if (stateless) {
      bad = good;
      core::data(bad.p)[0] &= static_cast<std::uint8_t>(~mppe_bit_flushed);
      EXPECT_EQ(rx.decrypt(bad.p, 0).verdict, mppe_verdict::drop);
      EXPECT_EQ(rx.counters().drop_not_flushed, 1u);
    }
    const mppe_rx r = rx.decrypt(good.p, 0);
    ASSERT_EQ(r.verdict, mppe_verdict::deliver);
    EXPECT_EQ(good.bytes(), ipv4_datagram(1, 200));
    EXPECT_FALSE(rx.discarding());
    EXPECT_TRUE(host.logged("D bit clear"));
  }
}

// Frames of random bytes under a valid header are never delivered, in either mode, and a good frame
// after them still decrypts (stateless: at once; stateful: after the flushed frame of a reset).
TEST(mppe_rx, garbage_is_never_delivered) {
  for (bool stateless : {true, false}) {
    SCOPED_TRACE(stateless ? "stateless" : "stateful");
    const mppe_params params{mppe_strength::bits_128, stateless};
    mppe_encryptor tx(test_start_key(6), params);
    mppe_decryptor rx(test_start_key(6), params);
    std::mt19937 rng(42);
    std::uint32_t n = 0;
    for (int round = 0; round < 40; ++round) {
      std::vector<std::uint8_t> junk(2 + rng() % 300);
      for (auto& b : junk) {
        b = static_cast<std::uint8_t>(rng());
      }
      junk[0] = static_cast<std::uint8_t>((junk[0] & 0x0f) | mppe_bit_encrypted | mppe_bit_flushed);
      junk.push_back(0);
      frame j(junk);
      ASSERT_EQ(rx.decrypt(j.p, 0).verdict, mppe_verdict::drop);
      if (auto id = rx.poll_reset_request(0)) {
        tx.on_reset_request();
        rx.on_reset_ack(*id);
      }
      frame f(ipv4_datagram(n, 300));
      ASSERT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
      if (!stateless && (core::data(f.p)[0] & mppe_bit_flushed) == 0) {
        EXPECT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver) << "not disturbed";
      } else {
        ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver) << round;
        EXPECT_EQ(f.bytes(), ipv4_datagram(n, 300));
      }
      ++n;
    }
  }
}

// Stateless, GRE reordering in front of MPPE: late frames inside the window decrypt with their kept key,
// duplicates are dropped, and neither moves the state.
TEST(mppe_rx, stateless_late_and_duplicate_frames) {
  const mppe_params params{mppe_strength::bits_128, true};
  mppe_encryptor tx(test_start_key(7), params);
  mppe_decryptor rx(test_start_key(7), params);
  std::vector<frame> sent;
  for (std::uint32_t n = 0; n < 100; ++n) {
    sent.emplace_back(ipv4_datagram(n, 120));
    ASSERT_EQ(tx.encrypt(sent.back().p, ppp_protocol_ipv4), PPTPKIT_OK);
  }
  auto deliver = [&](std::uint32_t n) {
    frame f = sent[n];
    const mppe_rx r = rx.decrypt(f.p, 0);
    if (r.verdict == mppe_verdict::deliver) {
      EXPECT_EQ(f.bytes(), ipv4_datagram(n, 120)) << "frame " << n;
    }
    return r.verdict == mppe_verdict::deliver;
  };
  EXPECT_TRUE(deliver(0));
  EXPECT_TRUE(deliver(2));   // 1 is late
  EXPECT_TRUE(deliver(1));   // arrives late: kept key
  EXPECT_FALSE(deliver(1));  // duplicate
  EXPECT_TRUE(deliver(50));
  EXPECT_TRUE(deliver(10));  // 40 behind, inside the window
  EXPECT_FALSE(deliver(10));
  EXPECT_TRUE(deliver(51));
  EXPECT_TRUE(deliver(99));
  EXPECT_FALSE(deliver(20));  // 79 behind: its key is gone
  EXPECT_TRUE(deliver(98));
  EXPECT_EQ(rx.counters().rx_late_delivered, 3u);
  EXPECT_EQ(rx.counters().drop_duplicate, 2u);
  EXPECT_EQ(rx.counters().drop_stale, 1u);
}

// Stateful: a stale count (a reordered frame) is dropped and never desynchronises the stream.
TEST(mppe_rx, stateful_stale_frame_does_not_desynchronise) {
  const mppe_params params{mppe_strength::bits_128, false};
  mppe_encryptor tx(test_start_key(8), params);
  mppe_decryptor rx(test_start_key(8), params);
  std::vector<frame> sent;
  for (std::uint32_t n = 0; n < 20; ++n) {
    sent.emplace_back(ipv4_datagram(n, 500));
    ASSERT_EQ(tx.encrypt(sent.back().p, ppp_protocol_ipv4), PPTPKIT_OK);
  }
  for (std::uint32_t n = 0; n < 10; ++n) {
    frame f = sent[n];
    ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver);
  }
  frame stale = sent[5];
  EXPECT_EQ(rx.decrypt(stale.p, 0).verdict, mppe_verdict::drop);
  frame dup = sent[9];
  EXPECT_EQ(rx.decrypt(dup.p, 0).verdict, mppe_verdict::drop);
  EXPECT_FALSE(rx.discarding());
  EXPECT_FALSE(rx.poll_reset_request(0).has_value());
  for (std::uint32_t n = 10; n < 20; ++n) {
    frame f = sent[n];
    ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver);
    EXPECT_EQ(f.bytes(), ipv4_datagram(n, 500));
  }
  EXPECT_EQ(rx.counters().drop_stale, 2u);
}

// Stateful: one lost frame stops delivery, asks for one Reset-Request (repeated only after the
// interval), and the flushed frame that answers it resumes the stream.
TEST(mppe_rx, stateful_gap_asks_for_a_reset_and_resumes_on_the_flushed_frame) {
  const mppe_params params{mppe_strength::bits_56, false};
  mppe_encryptor tx(test_start_key(9), params);
  mppe_decryptor rx(test_start_key(9), params);
  auto send = [&](std::uint32_t n) {
    frame f(ipv4_datagram(n, 300));
    EXPECT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
    return f;
  };
  frame f0 = send(0);
  ASSERT_EQ(rx.decrypt(f0.p, 0).verdict, mppe_verdict::deliver);
  EXPECT_EQ(rx.next_deadline(), UINT64_MAX);
  send(1);  // lost
  frame f2 = send(2);
  EXPECT_EQ(rx.decrypt(f2.p, 10).verdict, mppe_verdict::drop);
  EXPECT_TRUE(rx.discarding());
  const auto id = rx.poll_reset_request(10);
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(rx.poll_reset_request(20).has_value());  // one outstanding
  EXPECT_EQ(rx.next_deadline(), 10 + mppe_limits{}.reset_interval_ns);
  frame f3 = send(3);  // still before the peer saw the request: not flushed, dropped
  EXPECT_EQ(rx.decrypt(f3.p, 30).verdict, mppe_verdict::drop);
  tx.on_reset_request();
  rx.on_reset_ack(*id);
  frame f4 = send(4);
  EXPECT_NE(core::data(f4.p)[0] & mppe_bit_flushed, 0);
  ASSERT_EQ(rx.decrypt(f4.p, 40).verdict, mppe_verdict::deliver);
  EXPECT_EQ(f4.bytes(), ipv4_datagram(4, 300));
  EXPECT_FALSE(rx.discarding());
  EXPECT_EQ(rx.counters().reset_requests, 1u);
  EXPECT_EQ(rx.counters().reset_acks, 1u);
  for (std::uint32_t n = 5; n < 600; ++n) {  // across flag frames
    frame f = send(n);
    ASSERT_EQ(rx.decrypt(f.p, 50).verdict, mppe_verdict::deliver) << n;
  }
}

// Stateful: the flushed frames of two Reset-Requests were lost (the peer rekeyed twice more), and a
// flag frame was missed too: the third flushed frame still resynchronises, with the right key.
TEST(mppe_rx, stateful_resync_after_lost_flushed_frames) {
  const mppe_params params{mppe_strength::bits_128, false};
  mppe_encryptor tx(test_start_key(10), params);
  mppe_decryptor rx(test_start_key(10), params);
  std::uint32_t n = 0;
  auto send = [&] {
    frame f(ipv4_datagram(n, 400));
    EXPECT_EQ(tx.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
    ++n;
    return f;
  };
  for (int i = 0; i < 200; ++i) {
    frame f = send();
    ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver);
  }
  for (int i = 0; i < 100; ++i) {
    send();  // lost, across the flag frame 255
  }
  tx.on_reset_request();
  send();  // flushed, lost
  send();
  tx.on_reset_request();
  send();  // flushed, lost
  frame late = send();
  EXPECT_EQ(rx.decrypt(late.p, 0).verdict, mppe_verdict::drop);
  tx.on_reset_request();
  frame f = send();
  const std::uint32_t expect = n - 1;
  ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver);
  EXPECT_EQ(f.bytes(), ipv4_datagram(expect, 400));
  frame g = send();
  ASSERT_EQ(rx.decrypt(g.p, 0).verdict, mppe_verdict::deliver);
}

// RFC 3078 §3.1 read literally: a peer that sets A on its first stateful frame to say "tables
// initialised", without changing the key (ppp_mppe does not set it). Both readings are understood.
TEST(mppe_rx, stateful_peer_flushing_without_a_key_change) {
  const mppe_key start = test_start_key(13);
  mppe_key_schedule keys(start, mppe_strength::bits_128);
  arcfour_ctx rc4;
  keys.key_rc4(rc4);
  mppe_decryptor rx(start, {mppe_strength::bits_128, false});
  for (std::uint32_t n = 0; n < 5; ++n) {
    const auto plain = ipv4_datagram(n, 90);
    std::vector<std::uint8_t> inner = {0x00, 0x21};
    inner.insert(inner.end(), plain.begin(), plain.end());
    std::vector<std::uint8_t> wire = {static_cast<std::uint8_t>(n == 0 ? 0x90 : 0x10), static_cast<std::uint8_t>(n)};
    wire.resize(2 + inner.size());
    arcfour_crypt(&rc4, inner.size(), wire.data() + 2, inner.data());
    frame f(wire);
    ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver) << n;
    EXPECT_EQ(f.bytes(), plain);
  }
  EXPECT_EQ(rx.counters().rx_resyncs, 0u);
}

// The data path allocates nothing: pool packets, encrypt, decrypt (with losses, so that the
// resynchronisation paths run too), in both modes.
TEST(mppe_data_path, no_heap_allocation) {
  auto pool = core::packet_pool::create({.packets = 8});
  for (bool stateless : {true, false}) {
    const mppe_params params{mppe_strength::bits_128, stateless};
    mppe_encryptor tx(test_start_key(11), params);
    mppe_decryptor rx(test_start_key(11), params);
    const auto plain = ipv4_datagram(1, 1400);
    pptpkit::testing::allocation_scope scope;
    std::uint32_t delivered = 0;
    for (std::uint32_t n = 0; n < 3000; ++n) {
      pptpkit_packet* p = pool->alloc();
      ASSERT_NE(p, nullptr);
      std::memcpy(core::put(*p, 1400), plain.data(), plain.size());
      ASSERT_EQ(tx.encrypt(*p, ppp_protocol_ipv4), PPTPKIT_OK);
      if (n % 97 != 5) {
        delivered += rx.decrypt(*p, n).verdict == mppe_verdict::deliver;
      }
      if (auto id = rx.poll_reset_request(n)) {
        tx.on_reset_request();
        rx.on_reset_ack(*id);
      }
      pool->free(p);
    }
    EXPECT_EQ(scope.allocations(), 0u);
    EXPECT_GT(delivered, 2900u);
  }
}

}  // namespace
