// The receiver's key work is bounded (MPPE.md, "Key-change budget"): frames with random coherency counts
// (an attacker) and late frames (a peer whose sender displaced runs of frames) cost at most the
// per-frame budget each, late stateless frames cost no key change at all, the key changes beyond one a
// frame stay within the per-second budget, and legitimate loss still resynchronises.
// Seeds are printed; set MPPE_SEED to replay one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "mppe_test_util.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;
using pptpkit::ppp::testing::frame;
using pptpkit::ppp::testing::ipv4_datagram;

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t frame_gap = ms / 10;   // 10,000 frames/s
constexpr std::uint32_t frame_budget = 1024;   // MPPE.md: key changes one frame may cost
constexpr std::uint32_t second_budget = 8192;  // MPPE.md: key changes beyond one a frame, per second

std::uint64_t seed_for_test(std::uint64_t fallback) {
  if (const char* s = std::getenv("MPPE_SEED")) {
    return std::strtoull(s, nullptr, 0);
  }
  return fallback;
}

mppe_key start_key() {
  mppe_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(0x3c + i * 11);
  }
  return k;
}

// One direction: an encryptor, a decryptor, virtual time, and the key changes each frame cost.
class direction {
 public:
  explicit direction(bool stateless)
      : params_{mppe_strength::bits_128, stateless}, tx_(start_key(), params_), rx_(start_key(), params_) {}

  frame make(std::uint32_t n) {
    frame f(ipv4_datagram(n, 100 + n % 1200));
    EXPECT_EQ(tx_.encrypt(f.p, ppp_protocol_ipv4), PPTPKIT_OK);
    return f;
  }
  // Decrypts a copy of f; returns whether it was delivered, and checks the frame's key work.
  bool receive(const frame& f, std::uint32_t* n = nullptr) {
    frame g = f;
    const std::uint64_t before = rx_.counters().rx_rekeys;
    const mppe_rx r = rx_.decrypt(g.p, now);
    last_rekeys = rx_.counters().rx_rekeys - before;
    most_rekeys = std::max(most_rekeys, last_rekeys);
    extra_rekeys += last_rekeys > 0 ? last_rekeys - 1 : 0;
    if (r.verdict == mppe_verdict::deliver && n != nullptr) {
      EXPECT_EQ(g.bytes(), ipv4_datagram(*n, 100 + *n % 1200)) << "frame " << *n << " delivered wrong";
    }
    return r.verdict == mppe_verdict::deliver;
  }
  // A frame of random bytes under an MPPE header with a random coherency count (an attacker's).
  bool receive_forged(std::mt19937_64& rng) {
    std::vector<std::uint8_t> junk(3 + rng() % 1400);
    for (auto& b : junk) {
      b = static_cast<std::uint8_t>(rng());
    }
    junk[0] = static_cast<std::uint8_t>((junk[0] & 0x0f) | mppe_bit_encrypted | mppe_bit_flushed);
    return receive(frame(junk));
  }

  const mppe_counters& counters() const { return rx_.counters(); }
  mppe_decryptor& rx() { return rx_; }
  mppe_encryptor& tx() { return tx_; }

  std::uint64_t now = 0;
  std::uint64_t last_rekeys = 0;
  std::uint64_t most_rekeys = 0;
  std::uint64_t extra_rekeys = 0;  // key changes beyond one a frame: what the per-second budget bounds

 private:
  mppe_params params_;
  mppe_encryptor tx_;
  mppe_decryptor rx_;
};

TEST(mppe_budget, the_bucket_refills_with_time_up_to_one_second) {
  mppe_rekey_budget b(8192);
  b.refill(5 * ms);  // the first call only starts the clock
  EXPECT_EQ(b.available(), 8192u);
  b.spend(8192);
  EXPECT_EQ(b.available(), 0u);
  b.refill(5 * ms + 100'000);  // 100 µs: 0.8192 of a change, kept
  EXPECT_EQ(b.available(), 0u);
  b.refill(5 * ms + 200'000);
  EXPECT_EQ(b.available(), 1u);
  b.refill(4 * ms);  // time going backwards adds nothing
  EXPECT_EQ(b.available(), 1u);
  b.refill(255 * ms + 200'000);  // a quarter of a second later
  EXPECT_EQ(b.available(), 2049u);
  b.refill(10'000 * ms);  // full, never more
  EXPECT_EQ(b.available(), 8192u);
}

// The attack of issue row 10: stateless frames with random coherency counts between the real ones.
// Before the budget, one such frame cost up to ~16k key changes (SHA-1 + RC4 key setup each).
TEST(mppe_budget, random_coherency_counts_never_cost_more_than_the_frame_budget) {
  for (const bool stateless : {true, false}) {
    const std::uint64_t seed = seed_for_test(1402);
    SCOPED_TRACE(std::string(stateless ? "stateless" : "stateful") + ", seed " + std::to_string(seed) +
                 " (replay with MPPE_SEED)");
    std::mt19937_64 rng(seed);
    direction d(stateless);
    std::uint32_t delivered = 0, sent = 0;
    constexpr std::uint32_t total = 4000;  // 0.4 s
    for (std::uint32_t n = 0; n < total; ++n, d.now += frame_gap) {
      frame f = d.make(n);
      ++sent;
      delivered += d.receive(f, &n);
      ASSERT_LE(d.last_rekeys, frame_budget) << "frame " << n;
      for (int k = 0; k < 4; ++k) {  // four forged frames for every real one
        EXPECT_FALSE(d.receive_forged(rng));
        ASSERT_LE(d.last_rekeys, frame_budget) << "a forged frame after " << n;
      }
      if (auto id = d.rx().poll_reset_request(d.now)) {  // stateful: the peer answers at once
        d.tx().on_reset_request();
        d.rx().on_reset_ack(*id);
      }
    }
    // Every frame delivered or dropped for one named reason.
    EXPECT_EQ(d.counters().rx_packets, d.counters().rx_delivered + mppe_dropped(d.counters()));
    EXPECT_EQ(d.counters().rx_search_rekeys, d.extra_rekeys);
    // One second's budget plus what 0.4 s refill (the bucket starts full).
    EXPECT_LE(d.extra_rekeys, second_budget + second_budget * total / 10000 + 1);
    if (stateless) {
      EXPECT_EQ(delivered, sent);  // the next frame in sequence never waits for the budget
    } else {
      EXPECT_GT(delivered, sent / 2);  // stateful: a forged flushed frame breaks the stream until a reset
    }
  }
}

// Late stateless frames — a run the peer's sender displaced behind later ones, as the Linux kernel does
// under load — are dropped without a key change: the key of a count behind the current one is not
// ahead in the chain (the kernel discards counts more than half the 4096 space behind).
TEST(mppe_budget, late_stateless_frames_are_dropped_without_a_key_change) {
  direction d(true);
  std::vector<frame> sent;
  for (std::uint32_t n = 0; n < 1800; ++n) {
    sent.push_back(d.make(n));
  }
  for (std::uint32_t n = 0; n <= 1000; ++n, d.now += frame_gap) {
    ASSERT_TRUE(d.receive(sent[n], &n));
  }
  // 1001..1370 are displaced behind 1371..1740: the receiver sees a loss of 370, then them late.
  std::uint32_t n = 1371;
  ASSERT_TRUE(d.receive(sent[n], &n));
  EXPECT_EQ(d.last_rekeys, 371u);  // one frame, within the budget
  for (n = 1372; n <= 1740; ++n, d.now += frame_gap) {
    ASSERT_TRUE(d.receive(sent[n], &n));
  }
  std::uint32_t late_delivered = 0;
  for (n = 1001; n <= 1370; ++n, d.now += frame_gap) {
    late_delivered += d.receive(sent[n], &n);  // the last 63 skipped ones have their keys kept
    EXPECT_EQ(d.last_rekeys, 0u) << "late frame " << n;
  }
  EXPECT_EQ(late_delivered, 0u);  // 370 behind and more: no key kept for them
  for (n = 1741; n < 1800; ++n, d.now += frame_gap) {
    ASSERT_TRUE(d.receive(sent[n], &n));
    EXPECT_EQ(d.last_rekeys, 1u);
  }
  EXPECT_EQ(d.counters().drop_stale, 370u);
}

// Duplicates of the current frame and replays from further back cost nothing either.
TEST(mppe_budget, replayed_stateless_frames_cost_no_key_change) {
  direction d(true);
  std::vector<frame> sent;
  for (std::uint32_t n = 0; n < 3000; ++n) {
    sent.push_back(d.make(n));
    ASSERT_TRUE(d.receive(sent.back(), &n));
    d.now += frame_gap;
  }
  // 2048 ahead is still ahead by the kernel's rule (more than half the space is behind): not replayed here.
  for (std::uint32_t back : {0u, 1u, 63u, 64u, 100u, 2047u}) {
    EXPECT_FALSE(d.receive(sent[2999 - back])) << back << " behind";
    EXPECT_EQ(d.last_rekeys, 0u) << back << " behind";
  }
}

// Legitimate loss still resynchronises on its first frame when it fits the frame budget.
TEST(mppe_budget, a_loss_burst_within_the_frame_budget_resyncs_on_the_next_frame) {
  direction d(true);
  std::uint32_t n = 0;
  for (; n < 100; ++n, d.now += frame_gap) {
    ASSERT_TRUE(d.receive(d.make(n), &n));
  }
  for (std::uint32_t i = 0; i < frame_budget - 1; ++i, ++n) {
    d.make(n);  // lost
  }
  ASSERT_TRUE(d.receive(d.make(n), &n));
  EXPECT_EQ(d.last_rekeys, frame_budget);
}

// A flood of forged frames on an idle session (no real frame to reset anything): the key changes it
// causes beyond one a frame stay within the per-second budget, and once it stops a real frame after a
// loss resynchronises at once.
TEST(mppe_budget, a_flood_of_forged_frames_gets_the_per_second_budget_and_no_more) {
  const std::uint64_t seed = seed_for_test(77);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MPPE_SEED)");
  std::mt19937_64 rng(seed);
  direction d(true);
  std::uint32_t n = 0;
  for (; n < 10; ++n, d.now += frame_gap) {
    ASSERT_TRUE(d.receive(d.make(n), &n));
  }
  const std::uint64_t before = d.extra_rekeys;
  for (int i = 0; i < 20000; ++i, d.now += frame_gap) {  // 2 s at 10,000 frames/s
    EXPECT_FALSE(d.receive_forged(rng));
    ASSERT_LE(d.last_rekeys, frame_budget);
  }
  EXPECT_LE(d.extra_rekeys - before, 3u * second_budget);  // the full bucket, then two seconds of refill
  EXPECT_GT(d.counters().drop_over_budget, 0u);
  d.now += 1'000 * ms;  // the flood stops
  for (std::uint32_t i = 0; i < 500; ++i, ++n) {
    d.make(n);  // lost
  }
  ASSERT_TRUE(d.receive(d.make(n), &n));
  EXPECT_EQ(d.last_rekeys, 501u);
}

// Stateful: a flushed frame whose key lies beyond the budget (forged frames spent it) is dropped and
// counted; the decryptor asks for a reset (RFC 3078 §8.2), and the flushed frame that answers it, once
// the budget has refilled, resynchronises.
TEST(mppe_budget, stateful_frame_over_budget_resyncs_through_a_reset_request) {
  const std::uint64_t seed = seed_for_test(78);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MPPE_SEED)");
  std::mt19937_64 rng(seed);
  direction d(false);
  std::uint32_t n = 0;
  for (; n < 100; ++n, d.now += frame_gap) {
    ASSERT_TRUE(d.receive(d.make(n), &n));
  }
  // Forged flushed frames with the next count: each tries a key change and 48 more (MPPE.md).
  for (int i = 0; i < 400; ++i) {
    std::vector<std::uint8_t> junk(200);
    for (auto& b : junk) {
      b = static_cast<std::uint8_t>(rng());
    }
    junk[0] = static_cast<std::uint8_t>(mppe_bit_encrypted | mppe_bit_flushed | (n >> 8 & 0x0f));
    junk[1] = static_cast<std::uint8_t>(n);
    EXPECT_FALSE(d.receive(frame(junk)));
    ASSERT_LE(d.last_rekeys, frame_budget);
  }
  EXPECT_LE(d.extra_rekeys, second_budget);  // no time passed: the bucket, once
  EXPECT_GT(d.counters().drop_over_budget, 0u);
  EXPECT_TRUE(d.rx().discarding());
  const std::uint64_t over_budget = d.counters().drop_over_budget;
  // 1000 real frames are lost (four flag frames among them); the peer answers our Reset-Request.
  for (std::uint32_t i = 0; i < 1000; ++i, ++n) {
    d.make(n);
  }
  ASSERT_TRUE(d.rx().poll_reset_request(d.now).has_value());
  d.tx().on_reset_request();
  EXPECT_FALSE(d.receive(d.make(n), &n));  // flushed, but the changes it needs are not in the budget
  ++n;
  EXPECT_EQ(d.counters().drop_over_budget, over_budget + 1);
  EXPECT_TRUE(d.rx().discarding());
  d.now += 1'000 * ms;  // the budget refills; the Reset-Request goes out again
  ASSERT_TRUE(d.rx().poll_reset_request(d.now).has_value());
  d.tx().on_reset_request();
  ASSERT_TRUE(d.receive(d.make(n), &n));
  ++n;
  EXPECT_FALSE(d.rx().discarding());
  ASSERT_TRUE(d.receive(d.make(n), &n));
}

}  // namespace
