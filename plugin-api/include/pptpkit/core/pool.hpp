// pptpkit/core/pool.hpp — a preallocated packet pool.
//
// All packet descriptors and buffers are allocated once, in two slabs, when the pool is made; alloc and
// free only move packets on and off an intrusive free list. Exhaustion is a counted, normal result
// (alloc returns fewer packets than asked), never a crash. A freed packet is put back in its canonical
// state (offset = headroom, length 0, metadata zero), so the next holder sees a clean packet.
//
// Ownership: the pool owns every packet it made; a packet must come back to the pool that made it
// (checked by its `pool` field) before the pool is destroyed. Packets still out at destruction are a
// programming error (asserted).
// Threading: one thread at a time; hosts with several threads give each its own pool.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/host.h"
#include "pptpkit/packet.h"

namespace pptpkit::core {

struct pool_config {
  std::uint32_t packets = 4096;
  std::uint32_t buffer_size = PPTPKIT_BUFFER_SIZE_DEFAULT;
  std::uint32_t headroom = PPTPKIT_HEADROOM_DEFAULT;
};

struct pool_stats {
  std::uint64_t allocated = 0;  // packets handed out, over the pool's life
  std::uint64_t freed = 0;
  std::uint64_t exhausted = 0;     // packets asked for but not available
  std::uint64_t foreign_free = 0;  // packets given back that this pool did not make (dropped)
};

class packet_pool {
 public:
  // Throws std::invalid_argument for a headroom that does not fit the buffer, std::bad_alloc.
  static std::unique_ptr<packet_pool> create(const pool_config& config);
  ~packet_pool();
  packet_pool(const packet_pool&) = delete;
  packet_pool& operator=(const packet_pool&) = delete;

  // Up to out.size() packets into out; returns how many.
  std::uint32_t alloc_bulk(std::span<pptpkit_packet*> out) noexcept;
  // One packet, or nullptr when exhausted.
  pptpkit_packet* alloc() noexcept;
  // Takes every packet.
  void free_bulk(std::span<pptpkit_packet* const> packets) noexcept;
  void free(pptpkit_packet* p) noexcept;
  // Takes every packet of the list (or C batch) and leaves it empty.
  void free_list(packet_list& list) noexcept;
  void free_batch(pptpkit_batch& batch) noexcept;

  std::uint32_t capacity() const noexcept { return config_.packets; }
  std::uint32_t available() const noexcept { return free_.size(); }
  std::uint32_t headroom() const noexcept { return config_.headroom; }
  std::uint32_t buffer_size() const noexcept { return config_.buffer_size; }
  const pool_stats& stats() const noexcept { return stats_; }

  // Fills the packet_alloc/packet_free services of `services` (host_ctx must point at this pool).
  static std::uint32_t host_alloc(void* host_ctx, pptpkit_packet** out, std::uint32_t count) noexcept;
  static void host_free(void* host_ctx, pptpkit_packet* const* packets, std::uint32_t count) noexcept;

 private:
  explicit packet_pool(const pool_config& config);
  void reset(pptpkit_packet& p) noexcept;
  void give_back(pptpkit_packet* p) noexcept;

  pool_config config_;
  std::unique_ptr<pptpkit_packet[]> packets_;
  std::unique_ptr<std::uint8_t[]> buffers_;
  packet_list free_;
  pool_stats stats_;
};

}  // namespace pptpkit::core
