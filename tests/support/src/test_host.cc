#include "pptpkit/testing/test_host.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace pptpkit::testing {

test_host::test_host(std::uint64_t seed, core::pool_config pool)
    : seed_(seed), rng_(seed), pool_(core::packet_pool::create(pool)), services_(PPTPKIT_HOST_SERVICES_INIT) {
  services_.host_ctx = this;
  services_.log = &test_host::log;
  services_.now_ns = &test_host::now_ns;
  services_.random_bytes = &test_host::random_bytes;
  services_.packet_alloc = &test_host::packet_alloc;
  services_.packet_free = &test_host::packet_free;
}

pptpkit_packet* test_host::make_packet(const std::vector<std::uint8_t>& bytes, std::uint32_t channel) {
  pptpkit_packet* p = pool_->alloc();
  if (p == nullptr || bytes.size() > p->capacity - p->offset) {
    throw std::runtime_error("test_host: pool exhausted or packet too large");
  }
  if (!bytes.empty()) {
    std::memcpy(p->base + p->offset, bytes.data(), bytes.size());
  }
  p->length = static_cast<std::uint32_t>(bytes.size());
  p->channel = channel;
  return p;
}

std::vector<std::vector<std::uint8_t>> test_host::drain(pptpkit_batch& batch) {
  std::vector<std::vector<std::uint8_t>> out;
  pptpkit_packet_link* l = batch.head;
  while (l != nullptr) {
    pptpkit_packet_link* next = l->next;
    pptpkit_packet* p = PPTPKIT_PACKET_OF(l);
    out.emplace_back(p->base + p->offset, p->base + p->offset + p->length);
    pool_->free(p);
    l = next;
  }
  batch = pptpkit_batch PPTPKIT_BATCH_INIT;
  return out;
}

bool test_host::logged(const std::string& needle) const {
  for (const auto& l : logs_) {
    if (l.text.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

void test_host::log(void* ctx, std::uint32_t level, const char* component, const char* text) {
  auto* self = static_cast<test_host*>(ctx);
  self->logs_.push_back({level, component ? component : "", text ? text : ""});
  if (self->echo_logs) {
    std::fprintf(stderr, "[%u] %s: %s\n", level, component ? component : "", text ? text : "");
  }
}

std::uint64_t test_host::now_ns(void* ctx) {
  return static_cast<test_host*>(ctx)->now;
}

std::int32_t test_host::random_bytes(void* ctx, std::uint8_t* out, std::uint32_t n) {
  auto* self = static_cast<test_host*>(ctx);
  for (std::uint32_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::uint8_t>(self->rng_());
  }
  return PPTPKIT_OK;
}

std::uint32_t test_host::packet_alloc(void* ctx, pptpkit_packet** out, std::uint32_t n) {
  return static_cast<test_host*>(ctx)->pool_->alloc_bulk({out, n});
}

void test_host::packet_free(void* ctx, pptpkit_packet* const* pkts, std::uint32_t n) {
  static_cast<test_host*>(ctx)->pool_->free_bulk({pkts, n});
}

}  // namespace pptpkit::testing
