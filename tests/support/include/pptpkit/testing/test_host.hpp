// pptpkit/testing/test_host.hpp — a fake host for plugin and core tests.
//
// Fills a pptpkit_host_services table backed by a packet_pool, captures log lines, gives seeded
// (replayable) random bytes and a fake clock. Tests create instances with services() and read logs().
// Threading: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pptpkit/core/pool.hpp"
#include "pptpkit/host.h"

namespace pptpkit::testing {

struct log_line {
  std::uint32_t level;
  std::string component;
  std::string text;
};

class test_host {
 public:
  explicit test_host(std::uint64_t seed = 1, core::pool_config pool = {});
  test_host(const test_host&) = delete;
  test_host& operator=(const test_host&) = delete;

  const pptpkit_host_services& services() const noexcept { return services_; }
  core::packet_pool& pool() noexcept { return *pool_; }

  // A packet from the pool holding `bytes`, at the pool's headroom.
  pptpkit_packet* make_packet(const std::vector<std::uint8_t>& bytes, std::uint32_t channel = 0);
  // Copies of every packet's data in a C batch; frees the packets and empties the batch.
  std::vector<std::vector<std::uint8_t>> drain(pptpkit_batch& batch);

  const std::vector<log_line>& logs() const noexcept { return logs_; }
  bool logged(const std::string& needle) const;
  void clear_logs() { logs_.clear(); }
  bool echo_logs = false;  // also print each line (for debugging a failing test)

  std::uint64_t now = 0;  // the fake clock, read by now_ns
  std::uint64_t seed() const noexcept { return seed_; }

 private:
  static void log(void* ctx, std::uint32_t level, const char* component, const char* text);
  static std::uint64_t now_ns(void* ctx);
  static std::int32_t random_bytes(void* ctx, std::uint8_t* out, std::uint32_t n);
  static std::uint32_t packet_alloc(void* ctx, pptpkit_packet** out, std::uint32_t n);
  static void packet_free(void* ctx, pptpkit_packet* const* pkts, std::uint32_t n);

  std::uint64_t seed_;
  std::mt19937_64 rng_;
  std::unique_ptr<core::packet_pool> pool_;
  std::vector<log_line> logs_;
  pptpkit_host_services services_;
};

}  // namespace pptpkit::testing
