// "Beat the reference": resynchronisation under heavy loss.
//
// The reference stack (pptpd/pptp-linux over the kernel's ppp_mppe) loses key sync for good when a burst
// of lost frames in a stateless tunnel is long enough, and delivers what the wrong key produced. Here:
//   - stateless: 100,000 frames with bursts of thousands lost — one of 4096 exactly, longer ones, two
//     wraps' worth, bursts across the 12-bit wrap — plus scattered loss and reordering; every delivered
//     frame must be the very datagram that was sent, and delivery must resume right after each burst;
//   - stateful: 10% loss (and lost CCP messages), resynchronised through Reset-Request with no corrupt
//     frame delivered.
// Seeds are printed; set MPPE_SEED to replay one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <map>

#include "mppe_test_util.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;
using pptpkit::ppp::testing::frame;
using pptpkit::ppp::testing::ipv4_datagram;
using pptpkit::ppp::testing::ipv6_datagram;

std::uint64_t seed_for_test(std::uint64_t fallback) {
  if (const char* s = std::getenv("MPPE_SEED")) {
    return std::strtoull(s, nullptr, 0);
  }
  return fallback;
}

mppe_key start_key() {
  mppe_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(0xa5 ^ (i * 13));
  }
  return k;
}

std::vector<std::uint8_t> datagram(std::uint32_t n) {
  const std::uint32_t size = 40 + (n * 7919u) % 560;
  return n % 5 == 0 ? ipv6_datagram(n, size) : ipv4_datagram(n, size);
}
std::uint16_t protocol_of(std::uint32_t n) {
  return n % 5 == 0 ? ppp_protocol_ipv6 : ppp_protocol_ipv4;
}

TEST(mppe_resync, stateless_100k_frames_with_bursts_past_the_12_bit_count) {
  for (mppe_strength strength : {mppe_strength::bits_128, mppe_strength::bits_40}) {
    const std::uint64_t seed = seed_for_test(20261124);
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MPPE_SEED), strength " +
                 std::to_string(static_cast<int>(strength)));
    std::mt19937_64 rng(seed);
    const mppe_params params{strength, true};
    mppe_encryptor tx(start_key(), params);
    mppe_decryptor rx(start_key(), params);

    // Bursts: start frame -> frames lost. The fixed ones cover exactly 4096, more than one wrap, two
    // wraps and a burst across the 12-bit wrap (4090 -> past 4096·k); random ones fill in.
    std::map<std::uint32_t, std::uint32_t> bursts = {
        {5000, 1000},  {9000, 4096}, {16000, 4100}, {24000, 8192}, {36000, 3000},
        {44000, 9000}, {57340, 20},  {61400, 6000}, {70000, 4095}, {76000, 12289},
    };
    for (std::uint32_t i = 0; i < 6; ++i) {  // short ones that fit between each other and the end
      const std::uint32_t start = 90000 + i * 1500 + static_cast<std::uint32_t>(rng() % 500);
      const std::uint32_t length = 100 + static_cast<std::uint32_t>(rng() % 800);
      bursts.emplace(start, length);
    }
    constexpr std::uint32_t total = 100000;
    // A burst of more than three wraps needs a frame for each further two wraps of search.
    std::uint32_t allowed_misses = 0;
    for (const auto& [start, length] : bursts) {
      const std::uint32_t wraps = (length + 1) / mppe_ccount_space;
      allowed_misses += wraps > 2 ? (wraps - 1) / 2 : 0;
    }
    std::uint32_t lost = 0, delivered = 0, wrong = 0, after_burst_misses = 0;
    std::uint32_t frames_since_burst = UINT32_MAX;
    std::deque<std::pair<std::uint32_t, frame>> held;  // for reordering
    for (std::uint32_t n = 0; n < total; ++n) {
      frame f(datagram(n));
      ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
      if (auto b = bursts.find(n); b != bursts.end()) {
        const std::uint32_t end = n + b->second;
        ASSERT_LE(end, total);
        while (n + 1 < end) {
          frame dropped(datagram(++n));
          ASSERT_EQ(tx.encrypt(dropped.p, protocol_of(n)), PPTPKIT_OK);
        }
        lost += b->second + static_cast<std::uint32_t>(held.size());  // a frame held back is lost with it
        held.clear();
        frames_since_burst = 0;
        continue;  // the burst's first frame is lost too
      }
      if (rng() % 100 == 0) {  // scattered loss
        ++lost;
        continue;
      }
      std::vector<std::pair<std::uint32_t, frame>> arrive;
      if (rng() % 50 == 0 && frames_since_burst > 2) {  // hold this one back: it arrives after the next
        held.emplace_back(n, f);
        continue;
      }
      arrive.emplace_back(n, f);
      while (!held.empty()) {
        arrive.push_back(held.front());
        held.pop_front();
      }
      for (auto& [id, fr] : arrive) {
        const mppe_rx r = rx.decrypt(fr.p, 0);
        const bool right_after_burst = frames_since_burst < 4;
        if (r.verdict == mppe_verdict::deliver) {
          ++delivered;
          if (fr.bytes() != datagram(id) || r.protocol != protocol_of(id)) {
            ++wrong;
            ADD_FAILURE() << "frame " << id << " delivered with the wrong plaintext";
          }
        } else if (right_after_burst) {
          ++after_burst_misses;
        }
        ++frames_since_burst;
      }
    }
    EXPECT_EQ(wrong, 0u);
    // Delivery resumes with the first frame after each burst of up to three wraps (a frame more for
    // every two wraps beyond), and every other frame that arrived was delivered.
    EXPECT_LE(after_burst_misses, allowed_misses);
    EXPECT_EQ(delivered + lost + after_burst_misses, total) << "lost " << lost;
    EXPECT_GE(rx.counters().rx_wrap_resyncs, 6u);
    EXPECT_GT(rx.counters().rx_late_delivered, 500u);  // the reordering did happen
    EXPECT_EQ(rx.counters().reset_requests, 0u);       // never through CCP
  }
}

// The control: the reference algorithm (ppp_mppe's RFC 3078 §8.1 loop: change keys until the local
// count equals the frame's, then decrypt) on the same frames — after 4100 lost frames it decrypts
// every later frame with the wrong key, for good. Ours delivers every one of them right.
TEST(mppe_resync, reference_algorithm_loses_sync_where_we_do_not) {
  const mppe_params params{mppe_strength::bits_128, true};
  mppe_encryptor tx(start_key(), params);
  mppe_decryptor rx(start_key(), params);
  mppe_key_schedule reference(start_key(), mppe_strength::bits_128);
  std::uint32_t reference_count = mppe_ccount_mask, reference_wrong = 0, ours_right = 0;
  for (std::uint32_t n = 0; n < 6000; ++n) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
    if (n >= 1000 && n < 5100) {
      continue;  // lost
    }
    frame g = f;
    const std::uint32_t count = ((core::data(g.p)[0] & 0x0f) << 8) | core::data(g.p)[1];
    while (reference_count != count) {
      reference.change();
      reference_count = (reference_count + 1) & mppe_ccount_mask;
    }
    arcfour_ctx rc4;
    reference.key_rc4(rc4);
    arcfour_crypt(&rc4, g.p.length - 2, core::data(g.p) + 2, core::data(g.p) + 2);
    std::vector<std::uint8_t> plain = g.bytes();
    plain.erase(plain.begin(), plain.begin() + 4);
    reference_wrong += plain != datagram(n);
    const mppe_rx r = rx.decrypt(f.p, 0);
    ours_right += r.verdict == mppe_verdict::deliver && f.bytes() == datagram(n);
  }
  EXPECT_EQ(reference_wrong, 900u);  // every frame after the burst
  EXPECT_EQ(ours_right, 1000u + 900u);
}

// A burst longer than the search reaches in one frame (ten wraps): a few frames after it go undelivered
// while the search overtakes the sender, then everything decrypts — and nothing wrong is delivered.
TEST(mppe_resync, stateless_very_long_outage) {
  const mppe_params params{mppe_strength::bits_128, true};
  mppe_encryptor tx(start_key(), params);
  mppe_decryptor rx(start_key(), params);
  std::uint32_t n = 0;
  for (; n < 100; ++n) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
    ASSERT_EQ(rx.decrypt(f.p, 0).verdict, mppe_verdict::deliver);
  }
  for (std::uint32_t i = 0; i < 10 * 4096 + 1234; ++i, ++n) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
  }
  std::uint32_t first_delivered = 0;
  for (std::uint32_t i = 0; i < 40; ++i, ++n) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
    const mppe_rx r = rx.decrypt(f.p, 0);
    if (r.verdict == mppe_verdict::deliver) {
      ASSERT_EQ(f.bytes(), datagram(n));
      if (first_delivered == 0) {
        first_delivered = i + 1;
      }
    } else {
      ASSERT_EQ(first_delivered, 0u) << "a frame after resynchronisation was not delivered";
    }
  }
  EXPECT_GE(first_delivered, 1u);
  EXPECT_LE(first_delivered, 6u);  // two wraps of search a frame
}

// Stateful with 10% of the frames lost, and 10% of the CCP Reset-Requests and Reset-Acks lost too:
// the receiver asks for resets, delivers nothing wrong, and the tunnel keeps moving.
TEST(mppe_resync, stateful_ten_percent_loss_resyncs_through_reset_request) {
  for (mppe_strength strength : {mppe_strength::bits_128, mppe_strength::bits_40}) {
    const std::uint64_t seed = seed_for_test(77);
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MPPE_SEED)");
    std::mt19937_64 rng(seed);
    const mppe_params params{strength, false};
    mppe_limits limits;
    limits.reset_interval_ns = 20'000'000;  // 20 ms
    pptpkit::testing::test_host host;
    const core::host log(host.services());
    mppe_encryptor tx(start_key(), params);
    mppe_decryptor rx(start_key(), params, &log, limits);
    constexpr std::uint32_t total = 20000;
    constexpr std::uint64_t frame_gap_ns = 1'000'000;       // 1000 frames/s
    constexpr std::uint32_t control_delay = 3;              // frames' time for a CCP message to cross
    std::deque<std::pair<std::uint32_t, int>> to_sender;    // (arrival frame, reset id)
    std::deque<std::pair<std::uint32_t, int>> to_receiver;  // (arrival frame, ack id)
    std::uint32_t delivered = 0, lost = 0, longest_outage = 0, outage = 0;
    for (std::uint32_t n = 0; n < total; ++n) {
      const std::uint64_t now = n * frame_gap_ns;
      while (!to_sender.empty() && to_sender.front().first <= n) {
        tx.on_reset_request();  // the CCP layer answers with a Reset-Ack of the same id
        if (rng() % 10 != 0) {
          to_receiver.emplace_back(n + control_delay, to_sender.front().second);
        }
        to_sender.pop_front();
      }
      while (!to_receiver.empty() && to_receiver.front().first <= n) {
        rx.on_reset_ack(static_cast<std::uint8_t>(to_receiver.front().second));
        to_receiver.pop_front();
      }
      frame f(datagram(n));
      ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
      if (rng() % 10 == 0) {
        ++lost;
      } else {
        const mppe_rx r = rx.decrypt(f.p, now);
        if (r.verdict == mppe_verdict::deliver) {
          ASSERT_EQ(f.bytes(), datagram(n)) << "corrupt frame " << n << " delivered";
          ASSERT_EQ(r.protocol, protocol_of(n));
          ++delivered;
          outage = 0;
        } else {
          longest_outage = std::max(longest_outage, ++outage);
        }
      }
      if (auto id = rx.poll_reset_request(now); id && rng() % 10 != 0) {
        to_sender.emplace_back(n + control_delay, *id);
      }
      ASSERT_TRUE(!rx.discarding() || rx.next_deadline() <= now + limits.reset_interval_ns);
    }
    EXPECT_GT(rx.counters().reset_requests, 100u);
    EXPECT_GT(rx.counters().rx_resyncs, 100u);
    EXPECT_GT(delivered, total / 2) << "lost " << lost;
    // A lost request is repeated after 20 ms (20 frames): no outage lasts much longer than that.
    EXPECT_LT(longest_outage, 80u);
    // Thousands of losses and resyncs, a few dozen log lines (rate-limited per reason).
    EXPECT_TRUE(host.logged("resynchronised"));
    EXPECT_LT(host.logs().size(), 80u);
  }
}

}  // namespace
