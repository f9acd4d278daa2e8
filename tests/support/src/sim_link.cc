#include "pptpkit/testing/sim_link.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "pptpkit/core/batch.hpp"

namespace pptpkit::testing {

sim_link::sim_link(const sim_link_config& config, std::uint64_t seed, core::packet_pool& pool)
    : config_(config), rng_(seed), pool_(pool) {}

sim_link::~sim_link() {
  for (auto& [at, p] : flight_) {
    pool_.free(p);
  }
}

double sim_link::coin() noexcept {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

std::uint64_t sim_link::uniform(std::uint64_t n) noexcept {
  return n == 0 ? 0 : rng_() % n;
}

void sim_link::schedule(pptpkit_packet* p, std::uint64_t now) {
  std::uint64_t at = now + config_.delay_ns + uniform(config_.jitter_ns);
  if (config_.reorder > 0 && coin() < config_.reorder) {
    ++stats_.reordered;
    at += uniform(config_.reorder_delay_ns);
  }
  p->link.next = nullptr;
  flight_.emplace(at, p);
}

void sim_link::send(pptpkit_packet* p, std::uint64_t now) {
  ++stats_.sent;
  if (config_.loss > 0 && coin() < config_.loss) {
    ++stats_.lost;
    pool_.free(p);
    return;
  }
  if (config_.duplicate > 0 && coin() < config_.duplicate) {
    if (pptpkit_packet* copy = pool_.alloc()) {
      ++stats_.duplicated;
      copy->offset = p->offset;
      copy->length = p->length;
      copy->channel = p->channel;
      copy->flags = p->flags;
      copy->aux = p->aux;
      std::memcpy(copy->base + copy->offset, p->base + p->offset, p->length);
      schedule(copy, now);
    }
  }
  schedule(p, now);
}

void sim_link::send(pptpkit_batch& batch, std::uint64_t now) {
  core::packet_list list;
  list.adopt(batch);
  while (pptpkit_packet* p = list.pop_front()) {
    send(p, now);
  }
}

std::uint32_t sim_link::receive(pptpkit_batch& out, std::uint64_t now) {
  core::packet_list due;
  std::uint32_t n = 0;
  while (!flight_.empty() && flight_.begin()->first <= now && out.count + n < PPTPKIT_BATCH_MAX) {
    due.push_back(*flight_.begin()->second);
    flight_.erase(flight_.begin());
    ++n;
  }
  stats_.delivered += n;
  due.release(out);
  return n;
}

std::uint64_t sim_link::next_arrival() const noexcept {
  return flight_.empty() ? UINT64_MAX : flight_.begin()->first;
}

std::vector<std::uint64_t> seeds_from_env(std::uint64_t count, std::uint64_t first) {
  if (const char* env = std::getenv("PPTPKIT_SEED"); env != nullptr && *env != '\0') {
    return {std::stoull(env)};
  }
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t i = 0; i < count; ++i) {
    seeds.push_back(first + i);
  }
  return seeds;
}

}  // namespace pptpkit::testing
