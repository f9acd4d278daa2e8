#include "pptpkit/core/pool.hpp"

#include <cassert>
#include <stdexcept>

namespace pptpkit::core {

std::unique_ptr<packet_pool> packet_pool::create(const pool_config& config) {
  if (config.packets == 0) {
    throw std::invalid_argument("packet pool: packets must be at least 1");
  }
  if (config.headroom < PPTPKIT_HEADROOM_MIN || config.headroom >= config.buffer_size) {
    throw std::invalid_argument("packet pool: headroom must be at least PPTPKIT_HEADROOM_MIN and below buffer_size");
  }
  return std::unique_ptr<packet_pool>(new packet_pool(config));
}

packet_pool::packet_pool(const pool_config& config)
    : config_(config),
      packets_(new pptpkit_packet[config.packets]),
      buffers_(new std::uint8_t[static_cast<std::size_t>(config.packets) * config.buffer_size]) {
  for (std::uint32_t i = 0; i < config_.packets; ++i) {
    pptpkit_packet& p = packets_[i];
    p.base = buffers_.get() + static_cast<std::size_t>(i) * config_.buffer_size;
    p.capacity = config_.buffer_size;
    p.pool = this;
    reset(p);
    free_.push_back(p);
  }
}

packet_pool::~packet_pool() {
  assert(free_.size() == config_.packets && "packet pool destroyed while packets are out");
  // Unlink without touching the packets' owners: the slabs go away with us.
  while (free_.pop_front() != nullptr) {
  }
}

void packet_pool::reset(pptpkit_packet& p) noexcept {
  p.link.next = nullptr;
  p.offset = config_.headroom;
  p.length = 0;
  p.channel = 0;
  p.flags = 0;
  p.aux = 0;
  p.user = 0;
  p.reserved[0] = 0;
  p.reserved[1] = 0;
}

std::uint32_t packet_pool::alloc_bulk(std::span<pptpkit_packet*> out) noexcept {
  std::uint32_t n = 0;
  for (; n < out.size(); ++n) {
    pptpkit_packet* p = free_.pop_front();
    if (p == nullptr) {
      stats_.exhausted += out.size() - n;
      break;
    }
    out[n] = p;
  }
  stats_.allocated += n;
  return n;
}

pptpkit_packet* packet_pool::alloc() noexcept {
  pptpkit_packet* p = nullptr;
  alloc_bulk({&p, 1});
  return p;
}

void packet_pool::give_back(pptpkit_packet* p) noexcept {
  if (p == nullptr) {
    return;
  }
  if (p->pool != this) {
    ++stats_.foreign_free;
    assert(false && "packet freed to a pool that did not make it");
    return;
  }
  reset(*p);
  free_.push_front(*p);  // LIFO: the most recently used buffer is the warmest in cache
  ++stats_.freed;
}

void packet_pool::free_bulk(std::span<pptpkit_packet* const> packets) noexcept {
  for (pptpkit_packet* p : packets) {
    give_back(p);
  }
}

void packet_pool::free(pptpkit_packet* p) noexcept {
  give_back(p);
}

void packet_pool::free_list(packet_list& list) noexcept {
  while (pptpkit_packet* p = list.pop_front()) {
    give_back(p);
  }
}

void packet_pool::free_batch(pptpkit_batch& batch) noexcept {
  pptpkit_packet_link* l = batch.head;
  while (l != nullptr) {
    pptpkit_packet_link* next = l->next;
    give_back(PPTPKIT_PACKET_OF(l));
    l = next;
  }
  batch = pptpkit_batch PPTPKIT_BATCH_INIT;
}

std::uint32_t packet_pool::host_alloc(void* host_ctx, pptpkit_packet** out, std::uint32_t count) noexcept {
  return static_cast<packet_pool*>(host_ctx)->alloc_bulk({out, count});
}

void packet_pool::host_free(void* host_ctx, pptpkit_packet* const* packets, std::uint32_t count) noexcept {
  static_cast<packet_pool*>(host_ctx)->free_bulk({packets, count});
}

}  // namespace pptpkit::core
