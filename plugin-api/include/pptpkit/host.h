/*
 * pptpkit/host.h — the services a host gives a plugin. Nothing else is global: a plugin links against
 * nothing of the host's and reaches the host only through this table and its `host_ctx`.
 *
 * The host fills the table with PPTPKIT_HOST_SERVICES_INIT and then its function pointers. A plugin
 * borrows the table for the lifetime of every instance created with it, so the host keeps the table and
 * everything `host_ctx` points to alive until the last such instance is destroyed.
 *
 * Protocol cores are sans-IO: they are given the current time as `now_ns` on every call and never read a
 * clock. `now_ns` here serves log timestamps and hosts that want one clock for everything.
 *
 * Threading: a host's services may be called from whichever thread drives an instance; a host that
 * drives instances from several threads makes its services safe for that.
 */
#ifndef PPTPKIT_HOST_H
#define PPTPKIT_HOST_H

#include "pptpkit/abi.h"
#include "pptpkit/packet.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pptpkit_host_services {
  uint32_t struct_size; /* sizeof(pptpkit_host_services) as the host was built */
  uint32_t reserved;
  void* host_ctx; /* passed back as the first argument of every service */

  /* Log one line. Borrows component and text (NUL-terminated, no trailing newline). */
  void (*log)(void* host_ctx, uint32_t level, const char* component, const char* text);
  /* Monotonic time in nanoseconds. */
  uint64_t (*now_ns)(void* host_ctx);
  /* Fill `out` with `length` unpredictable bytes. Returns 0, or a PPTPKIT_ERR_*. */
  int32_t (*random_bytes)(void* host_ctx, uint8_t* out, uint32_t length);
  /* Allocate up to `count` packets into out[0..count). Returns how many were allocated (0 when the
   * pool is exhausted; the host counts that). Each packet returned has offset = the pool's headroom,
   * length 0, channel/flags/aux 0 and link.next NULL. Returns packets (caller frees with packet_free). */
  uint32_t (*packet_alloc)(void* host_ctx, pptpkit_packet** out, uint32_t count);
  /* Give `count` packets back to their pools. Takes every packet in pkts[0..count). */
  void (*packet_free)(void* host_ctx, pptpkit_packet* const* pkts, uint32_t count);
  /* Look up an optional host service table by id, e.g. "pptpkit.host.example.v1". Returns a table that
   * stays valid as long as this one, or NULL when the host has no such service. May be NULL itself. */
  const void* (*get_service)(void* host_ctx, const char* id);
  /* --- end of 1.0 fields --- */
} pptpkit_host_services;

#define PPTPKIT_HOST_SERVICES_INIT \
  { (uint32_t)sizeof(pptpkit_host_services), 0u, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_HOST_H */
