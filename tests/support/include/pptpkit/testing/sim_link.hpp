// pptpkit/testing/sim_link.hpp — a deterministic, one-directional simulated network link.
//
// Two endpoints talk over two sim_links (one each way) in virtual time. Each packet sent is lost,
// duplicated or held back ("reordered") by seeded coin flips, and arrives after delay + jitter
// (+ reorder_delay when held back). Everything derives from the seed and the calls made, so a run is
// replayable: print the seed when a test fails and rerun it with PPTPKIT_SEED=<seed> (see
// seeds_from_env). Used by the GRE tests; meant for any component's tests (PPP, runtime) that need a
// lossy path.
//
//   sim_link ab({.loss = 0.01, .delay_ns = 10'000'000}, seed, host.pool());
//   ab.send(batch_polled_from_a, now);                  // takes the packets
//   ab.receive(batch_for_b, now);                       // the ones due by now, in arrival order
//   now = std::min(now_next, ab.next_arrival());        // advance virtual time
//
// Packets must come from `pool` (lost ones go back to it; duplicates are copies allocated from it).
// Threading: one thread. Not for production code: std::multimap allocates.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "pptpkit/core/pool.hpp"
#include "pptpkit/packet.h"

namespace pptpkit::testing {

struct sim_link_config {
  double loss = 0.0;                            // probability a packet is dropped
  double duplicate = 0.0;                       // probability a (kept) packet arrives twice
  double reorder = 0.0;                         // probability a packet is held back by reorder_delay_ns
  std::uint64_t delay_ns = 10'000'000;          // one-way propagation delay
  std::uint64_t jitter_ns = 0;                  // extra delay, uniform in [0, jitter_ns)
  std::uint64_t reorder_delay_ns = 20'000'000;  // extra delay of a reordered packet, uniform in [0, this)
};

struct sim_link_stats {
  std::uint64_t sent = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t delivered = 0;
};

class sim_link {
 public:
  sim_link(const sim_link_config& config, std::uint64_t seed, core::packet_pool& pool);
  ~sim_link();  // frees packets still in flight
  sim_link(const sim_link&) = delete;
  sim_link& operator=(const sim_link&) = delete;

  // Change the link's behaviour from now on (e.g. a burst of 100% loss); packets in flight keep theirs.
  void set_config(const sim_link_config& config) noexcept { config_ = config; }
  const sim_link_config& config() const noexcept { return config_; }

  // Takes the packet / every packet of the batch (leaves it empty), sent at `now`.
  void send(pptpkit_packet* p, std::uint64_t now);
  void send(pptpkit_batch& batch, std::uint64_t now);
  // Appends the packets that arrived by `now` to out, oldest first, up to PPTPKIT_BATCH_MAX in all.
  // Returns how many were appended.
  std::uint32_t receive(pptpkit_batch& out, std::uint64_t now);
  // The arrival time of the next packet in flight, or UINT64_MAX.
  std::uint64_t next_arrival() const noexcept;
  std::size_t in_flight() const noexcept { return flight_.size(); }
  const sim_link_stats& stats() const noexcept { return stats_; }

 private:
  double coin() noexcept;                           // uniform in [0, 1), same on every platform
  std::uint64_t uniform(std::uint64_t n) noexcept;  // uniform in [0, n)
  void schedule(pptpkit_packet* p, std::uint64_t now);

  sim_link_config config_;
  std::mt19937_64 rng_;
  core::packet_pool& pool_;
  std::multimap<std::uint64_t, pptpkit_packet*> flight_;  // by arrival time; ties keep send order
  sim_link_stats stats_;
};

// The seeds a simulation test runs: PPTPKIT_SEED=<n> in the environment replays just that one, else
// first .. first + count - 1.
std::vector<std::uint64_t> seeds_from_env(std::uint64_t count, std::uint64_t first = 1);

}  // namespace pptpkit::testing
