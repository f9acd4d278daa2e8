// pptpkit/core/counters.hpp — named counters, listed once.
//
// A component lists its counters in one X-macro, name and meaning side by side:
//
//   #define PPTPKIT_GRE_COUNTERS(X) X(rx_packets, "GRE packets received") X(drop_bad_version, "...")
//   PPTPKIT_DEFINE_COUNTERS(gre_counters, PPTPKIT_GRE_COUNTERS)
//
// and gets a struct of uint64_t fields (all zero), the names in the same order, `+=` for totals, and
// export_to() that fills the C `pptpkit_stat` array read_stats() returns. Adding a drop reason is one
// line; a reason cannot be counted without being readable by the host.
#pragma once

#include <cstdint>

#include "pptpkit/plugin.h"

#define PPTPKIT_COUNTER_FIELD_(name, meaning) std::uint64_t name = 0;
#define PPTPKIT_COUNTER_NAME_(name, meaning) #name,
#define PPTPKIT_COUNTER_MEANING_(name, meaning) meaning,
#define PPTPKIT_COUNTER_VALUE_(name, meaning) name,
#define PPTPKIT_COUNTER_ADD_(name, meaning) name += other.name;

#define PPTPKIT_DEFINE_COUNTERS(type, LIST)                                                      \
  struct type {                                                                                  \
    LIST(PPTPKIT_COUNTER_FIELD_)                                                                 \
    static constexpr const char* names[] = {LIST(PPTPKIT_COUNTER_NAME_)};                        \
    /* maybe_unused: clang's -Wunused-const-variable in anonymous namespaces */                  \
    [[maybe_unused]] static constexpr const char* meanings[] = {LIST(PPTPKIT_COUNTER_MEANING_)}; \
    static constexpr std::uint32_t count = sizeof(names) / sizeof(names[0]);                     \
    /* Copies up to max counters; returns how many exist. */                                     \
    std::uint32_t export_to(pptpkit_stat* out, std::uint32_t max) const noexcept {               \
      const std::uint64_t values[] = {LIST(PPTPKIT_COUNTER_VALUE_)};                             \
      for (std::uint32_t i = 0; i < count && i < max; ++i) {                                     \
        out[i].name = names[i];                                                                  \
        out[i].value = values[i];                                                                \
      }                                                                                          \
      return count;                                                                              \
    }                                                                                            \
    type& operator+=(const type& other) noexcept {                                               \
      LIST(PPTPKIT_COUNTER_ADD_)                                                                 \
      return *this;                                                                              \
    }                                                                                            \
  }
