/*
 * A minimal pptpkit plugin in plain C: a `gre`-kind loopback that returns on the NET port every packet
 * fed on the PPP port. Compiled once as a good plugin and in deliberately broken variants
 * (TEST_PLUGIN_<VARIANT>) for the loader tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pptpkit/gre.h"

#define EXPORT __attribute__((visibility("default")))

struct pptpkit_instance {
  pptpkit_host_services host;
  pptpkit_batch held;
  uint64_t fed;
};

static int32_t tp_create(const pptpkit_host_services* host, const pptpkit_config_entry* config, uint32_t config_count,
                         pptpkit_instance** out, char* error, uint32_t error_size) {
  pptpkit_instance* inst;
  (void)config;
  if (config_count != 0) {
    snprintf(error, error_size, "test-plugin takes no configuration");
    return PPTPKIT_ERR_CONFIG;
  }
  inst = calloc(1, sizeof *inst);
  if (inst == NULL) {
    return PPTPKIT_ERR_NO_MEMORY;
  }
  memcpy(&inst->host, host, host->struct_size < sizeof inst->host ? host->struct_size : sizeof inst->host);
  *out = inst;
  return PPTPKIT_OK;
}

static void free_chain(pptpkit_instance* inst, pptpkit_batch* b) {
  pptpkit_packet_link* l = b->head;
  while (l != NULL) {
    pptpkit_packet_link* next = l->next;
    pptpkit_packet* p = PPTPKIT_PACKET_OF(l);
    inst->host.packet_free(inst->host.host_ctx, &p, 1);
    l = next;
  }
  b->head = b->tail = NULL;
  b->count = 0;
}

static void tp_destroy(pptpkit_instance* inst) {
  if (inst != NULL) {
    free_chain(inst, &inst->held);
    free(inst);
  }
}

static int32_t tp_feed(pptpkit_instance* inst, uint32_t port, pptpkit_batch* in, uint64_t now) {
  (void)now;
  if (port != PPTPKIT_GRE_PORT_PPP) {
    free_chain(inst, in);
    return PPTPKIT_ERR_NOT_SUPPORTED;
  }
  if (in->count == 0) {
    return 0;
  }
  if (inst->held.count == 0) {
    inst->held = *in;
  } else {
    inst->held.tail->next = in->head;
    inst->held.tail = in->tail;
    inst->held.count += in->count;
  }
  inst->fed += in->count;
  in->head = in->tail = NULL;
  in->count = 0;
  return 0;
}

static int32_t tp_poll(pptpkit_instance* inst, uint32_t port, pptpkit_batch* out, uint32_t max, uint64_t now) {
  int32_t n = 0;
  (void)now;
  if (port != PPTPKIT_GRE_PORT_NET) {
    return 0;
  }
  while ((uint32_t)n < max && inst->held.head != NULL) {
    pptpkit_packet_link* l = inst->held.head;
    inst->held.head = l->next;
    if (--inst->held.count == 0) {
      inst->held.tail = NULL;
    }
    l->next = NULL;
    if (out->count == 0) {
      out->head = l;
    } else {
      out->tail->next = l;
    }
    out->tail = l;
    ++out->count;
    ++n;
  }
  return n;
}

static int32_t tp_command(pptpkit_instance* inst, const pptpkit_command* cmd, uint64_t now) {
  (void)inst;
  (void)cmd;
  (void)now;
  return PPTPKIT_ERR_NOT_SUPPORTED;
}

static int32_t tp_poll_event(pptpkit_instance* inst, pptpkit_event* out) {
  (void)inst;
  (void)out;
  return 0;
}

static uint64_t tp_next_deadline(const pptpkit_instance* inst) {
  (void)inst;
  return PPTPKIT_NO_DEADLINE;
}

static int32_t tp_tick(pptpkit_instance* inst, uint64_t now) {
  (void)inst;
  (void)now;
  return 0;
}

static int32_t tp_read_stats(const pptpkit_instance* inst, uint32_t channel, pptpkit_stat* out, uint32_t max) {
  (void)channel;
  if (max >= 1) {
    out[0].name = "fed";
    out[0].value = inst->fed;
  }
  return 1;
}

static const pptpkit_plugin_ops ops = {
    sizeof(pptpkit_plugin_ops), 0u,      tp_create,    tp_destroy, tp_feed, tp_poll, tp_command, tp_poll_event,
    tp_next_deadline,           tp_tick, tp_read_stats};

#if defined(TEST_PLUGIN_ABI2_REFUSES) || defined(TEST_PLUGIN_ABI2_SILENT)
#define BUILT_FOR PPTPKIT_ABI_MAKE_VERSION(2, 0)
#elif defined(TEST_PLUGIN_ABI1_0)
#define BUILT_FOR PPTPKIT_ABI_MAKE_VERSION(1, 0) /* an older minor: a newer host of major 1 loads it */
#else
#define BUILT_FOR PPTPKIT_ABI_VERSION
#endif

static pptpkit_plugin_descriptor descriptor = {sizeof(pptpkit_plugin_descriptor),
                                               BUILT_FOR,
                                               PPTPKIT_KIND_GRE,
                                               0u,
                                               "test-plugin",
                                               "0.0.1",
                                               PPTPKIT_BUILD_FINGERPRINT_INIT,
                                               &ops,
                                               NULL};

#ifdef TEST_PLUGIN_NO_ENTRY
#define ENTRY_NAME pptpkit_plugin_query_misspelled
#else
#define ENTRY_NAME pptpkit_plugin_query
#endif

EXPORT int32_t ENTRY_NAME(uint32_t host_abi_version, const pptpkit_host_services* host,
                          const pptpkit_plugin_descriptor** out, char* error, uint32_t error_size);

int32_t ENTRY_NAME(uint32_t host_abi_version, const pptpkit_host_services* host, const pptpkit_plugin_descriptor** out,
                   char* error, uint32_t error_size) {
  (void)host;
#ifdef TEST_PLUGIN_ABI2_REFUSES
  if (PPTPKIT_ABI_MAJOR_OF(host_abi_version) != 2u) {
    snprintf(error, error_size, "test-plugin: built for ABI 2.0; this host speaks %u.%u",
             (unsigned)PPTPKIT_ABI_MAJOR_OF(host_abi_version), (unsigned)PPTPKIT_ABI_MINOR_OF(host_abi_version));
    return PPTPKIT_ERR_VERSION;
  }
#else
  (void)host_abi_version;
  (void)error;
  (void)error_size;
#endif
#ifdef TEST_PLUGIN_SHORT_DESCRIPTOR
  descriptor.struct_size = 16u;
#endif
#ifdef TEST_PLUGIN_BAD_FINGERPRINT
  descriptor.fingerprint.packet_size = 64u;
#endif
  *out = &descriptor;
  return PPTPKIT_OK;
}
