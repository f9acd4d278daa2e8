// "Beat the reference": resynchronisation under heavy loss.
//
// The reference stack (pptpd/pptp-linux over the kernel's ppp_mppe) loses key sync for good when a burst
// of lost frames in a stateless tunnel is long enough, and delivers what the wrong key produced. Here:
//   - stateless: 170,000 frames at 10,000 a second with bursts of thousands lost — one of 4096 exactly,
//     longer ones, two and three wraps' worth, bursts across the 12-bit wrap, bursts whose count looks
//     behind — plus scattered loss and reordering; every delivered frame must be the very datagram that
//     was sent, and delivery must resume after each burst as soon as the key-change budget allows
//     (MPPE.md): on the next frame when the burst fits one frame's budget;
//   - stateful: 10% loss (and lost CCP messages), resynchronised through Reset-Request with no corrupt
//     frame delivered.
// Seeds are printed; set MPPE_SEED to replay one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
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

constexpr std::uint64_t frame_gap_ns = 100'000;  // 10,000 frames/s

// The frames after a burst of `lost` that may go undelivered while the search catches up, by the budget's
// arithmetic (MPPE.md, "Key-change budget"): the search walks lost + 1 key changes (plus one per frame
// the sender moves on meanwhile); a count that looks behind first waits out late_run_limit frames; each
// frame gives frame_rekeys changes while the per-second bucket (full: bursts here are > 1 s apart)
// lasts, and what it refills in a frame's time after that. Slack: two frames, and 3 % for the scattered
// loss meanwhile (a lost frame moves the sender on without giving the search its allowance).
std::uint64_t frames_to_resume(std::uint32_t lost, const mppe_limits& l) {
  std::uint32_t ahead = (lost + 1) % mppe_ccount_space;
  const bool looks_behind = ahead == 0 || ahead > mppe_ccount_space / 2;
  std::uint64_t frames = looks_behind ? l.late_run_limit : 0;
  double work = lost + 1.0 + static_cast<double>(frames);
  double bucket = l.second_rekeys;
  const double refill = l.second_rekeys * (static_cast<double>(frame_gap_ns) / 1e9);
  for (;;) {
    ++frames;
    const double allowed = std::min(static_cast<double>(l.frame_rekeys), 1 + std::floor(bucket));
    if (allowed >= work) {
      break;
    }
    work = work - allowed + 1;  // the sender moved on by one
    bucket = std::min<double>(l.second_rekeys, bucket - (allowed - 1) + refill);
  }
  return frames + 2 + frames * 3 / 100;
}

TEST(mppe_resync, stateless_170k_frames_with_bursts_past_the_12_bit_count) {
  for (mppe_strength strength : {mppe_strength::bits_128, mppe_strength::bits_40}) {
    const std::uint64_t seed = seed_for_test(20261124);
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MPPE_SEED), strength " +
                 std::to_string(static_cast<int>(strength)));
    std::mt19937_64 rng(seed);
    const mppe_params params{strength, true};
    const mppe_limits limits;
    mppe_encryptor tx(start_key(), params);
    mppe_decryptor rx(start_key(), params);

    // Bursts: start frame -> frames lost, each more than a second after the recovery from the last. The fixed ones
    // cover exactly 4096, more than one wrap, two and three wraps, a burst across the 12-bit wrap (57340 -> past
    // 4096·14), and ones whose count looks behind (3000, 4095); random short ones fill in at the end.
    std::map<std::uint32_t, std::uint32_t> bursts = {
        {5000, 1000},  {16000, 4096}, {31000, 4100}, {46000, 8192},  {57340, 20},
        {65000, 3000}, {78000, 9000}, {99000, 6000}, {115000, 4095}, {128000, 12289},
    };
    for (std::uint32_t i = 0; i < 6; ++i) {  // short ones that fit between each other and the end
      const std::uint32_t start = 160000 + i * 1300 + static_cast<std::uint32_t>(rng() % 300);
      const std::uint32_t length = 100 + static_cast<std::uint32_t>(rng() % 800);
      bursts.emplace(start, length);
    }
    constexpr std::uint32_t total = 170000;
    std::uint32_t lost = 0, delivered = 0, wrong = 0, misses = 0, allowed_misses = 0;
    std::uint64_t resume_by = 0;                       // frames up to this one may go undelivered after a burst
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
        const std::uint64_t resume = frames_to_resume(b->second, limits);
        resume_by = end + resume;
        allowed_misses += static_cast<std::uint32_t>(resume);
        continue;  // the burst's first frame is lost too
      }
      if (rng() % 100 == 0) {  // scattered loss
        ++lost;
        continue;
      }
      std::vector<std::pair<std::uint32_t, frame>> arrive;
      if (rng() % 50 == 0 && n > resume_by) {  // hold this one back: it arrives after the next
        held.emplace_back(n, f);
        continue;
      }
      arrive.emplace_back(n, f);
      while (!held.empty()) {
        arrive.push_back(held.front());
        held.pop_front();
      }
      for (auto& [id, fr] : arrive) {
        const std::uint64_t rekeys = rx.counters().rx_rekeys;
        const mppe_rx r = rx.decrypt(fr.p, n * frame_gap_ns);
        ASSERT_LE(rx.counters().rx_rekeys - rekeys, limits.frame_rekeys) << "frame " << id;
        if (r.verdict == mppe_verdict::deliver) {
          ++delivered;
          if (fr.bytes() != datagram(id) || r.protocol != protocol_of(id)) {
            ++wrong;
            ADD_FAILURE() << "frame " << id << " delivered with the wrong plaintext";
          }
        } else {
          ASSERT_LE(id, resume_by) << "frame " << id << " not delivered, outside any burst's recovery";
          ++misses;
        }
      }
    }
    std::printf("[ mppe     ] %zu bursts, %u frames lost: %u more undelivered while searching (budget allows %u)\n",
                bursts.size(), lost, misses, allowed_misses);
    EXPECT_EQ(wrong, 0u);
    EXPECT_LE(misses, allowed_misses);
    EXPECT_EQ(delivered + lost + misses, total) << "lost " << lost;
    EXPECT_GE(rx.counters().rx_wrap_resyncs, 6u);
    EXPECT_GT(rx.counters().rx_late_delivered, 1000u);  // the reordering did happen
    EXPECT_EQ(rx.counters().reset_requests, 0u);        // never through CCP
  }
}

// The control: the reference algorithm (ppp_mppe's RFC 3078 §8.1 loop: change keys until the local
// count equals the frame's, then decrypt) on the same frames — after 4100 lost frames it decrypts
// every later frame with the wrong key, for good. Ours delivers every one of them right once its search
// has caught up (four frames: a frame's budget of key changes each).
TEST(mppe_resync, reference_algorithm_loses_sync_where_we_do_not) {
  const mppe_params params{mppe_strength::bits_128, true};
  mppe_encryptor tx(start_key(), params);
  mppe_decryptor rx(start_key(), params);
  mppe_key_schedule reference(start_key(), mppe_strength::bits_128);
  std::uint32_t reference_count = mppe_ccount_mask, reference_wrong = 0, ours_right = 0, ours_wrong = 0;
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
    if (rx.decrypt(f.p, n * frame_gap_ns).verdict == mppe_verdict::deliver) {
      ours_right += f.bytes() == datagram(n);
      ours_wrong += f.bytes() != datagram(n);
    }
  }
  EXPECT_EQ(reference_wrong, 900u);  // every frame after the burst
  EXPECT_EQ(ours_wrong, 0u);
  EXPECT_EQ(ours_right, 1000u + 900u - 4u);
}

// A burst of ten wraps and more: far past what the per-second budget walks at once. Frames after it go
// undelivered while the search overtakes the sender at the budget's pace (frame_rekeys a frame while the
// bucket lasts, then what it refills), then everything decrypts — and nothing wrong is delivered, and no
// frame costs more than its budget.
TEST(mppe_resync, stateless_very_long_outage) {
  const mppe_params params{mppe_strength::bits_128, true};
  const mppe_limits limits;
  mppe_encryptor tx(start_key(), params);
  mppe_decryptor rx(start_key(), params);
  std::uint32_t n = 0;
  std::uint64_t now = 0;
  for (; n < 100; ++n, now += frame_gap_ns) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
    ASSERT_EQ(rx.decrypt(f.p, now).verdict, mppe_verdict::deliver);
  }
  constexpr std::uint32_t outage = 10 * 4096 + 1234;
  for (std::uint32_t i = 0; i < outage; ++i, ++n, now += frame_gap_ns) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
  }
  const std::uint64_t bound = frames_to_resume(outage, limits);
  std::uint64_t first_delivered = 0;
  for (std::uint32_t i = 0; i < bound + 100; ++i, ++n, now += frame_gap_ns) {
    frame f(datagram(n));
    ASSERT_EQ(tx.encrypt(f.p, protocol_of(n)), PPTPKIT_OK);
    const std::uint64_t rekeys = rx.counters().rx_rekeys;
    const mppe_rx r = rx.decrypt(f.p, now);
    ASSERT_LE(rx.counters().rx_rekeys - rekeys, limits.frame_rekeys);
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
  EXPECT_LE(first_delivered, bound);
  std::printf("[ mppe     ] %u frames lost: delivery resumed %llu frames (%.2f s) later\n", outage,
              static_cast<unsigned long long>(first_delivered), first_delivered * frame_gap_ns / 1e9);
  EXPECT_EQ(rx.counters().rx_wrap_resyncs, 1u);
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
    constexpr std::uint64_t frame_gap = 1'000'000;          // 1000 frames/s
    constexpr std::uint32_t control_delay = 3;              // frames' time for a CCP message to cross
    std::deque<std::pair<std::uint32_t, int>> to_sender;    // (arrival frame, reset id)
    std::deque<std::pair<std::uint32_t, int>> to_receiver;  // (arrival frame, ack id)
    std::uint32_t delivered = 0, lost = 0, longest_outage = 0, outage = 0;
    for (std::uint32_t n = 0; n < total; ++n) {
      const std::uint64_t now = n * frame_gap;
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
