/*
 * pptpkit/plugin.h — the plugin entry point, the descriptor it returns and the function table every
 * kind shares.
 *
 * Loading (what a host does; pptpkit's runtime does it for you):
 *   1. dlopen(path, RTLD_NOW | RTLD_LOCAL) and look up PPTPKIT_PLUGIN_ENTRY ("pptpkit_plugin_query").
 *   2. Call it with the ABI version the host speaks and its services. The plugin answers with its
 *      descriptor, or refuses with PPTPKIT_ERR_VERSION and a message naming both versions.
 *   3. Check the descriptor: abi_version's major equals the host's, struct_size is at least the 1.0
 *      size, the kind is the one wanted, and the build fingerprint matches the host's.
 *
 * An instance is one sans-IO protocol engine with many channels (control connections, calls or PPP
 * sessions, keyed by a uint32_t the kind defines). The host drives it with four verbs:
 *   feed    — packets in on a port (bytes, frames), with now;
 *   poll    — packets out on a port, until it returns 0 ("done");
 *   command / poll_event — control in (open a channel, answer a request) and events out (call up...);
 *   next_deadline / tick — the earliest time the instance wants to be ticked, and the tick itself.
 * A host loop: feed what arrived, tick when the deadline passed, then drain poll on every port and
 * poll_event until each returns 0, then sleep until next_deadline() or new input.
 *
 * Errors: negative PPTPKIT_ERR_*. Bad input from a peer is never an error return: it is dropped,
 * counted in read_stats and logged. After PPTPKIT_ERR_FATAL the only valid call is destroy.
 * Exceptions never cross these functions.
 *
 * Threading: one thread drives an instance at a time; no function of an instance may be called from a
 * host service while that instance is calling it. Different instances are independent.
 */
#ifndef PPTPKIT_PLUGIN_H
#define PPTPKIT_PLUGIN_H

#include "pptpkit/abi.h"
#include "pptpkit/host.h"
#include "pptpkit/packet.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pptpkit_instance pptpkit_instance; /* opaque; made by ops->create */

/* One key=value configuration entry; both strings NUL-terminated. */
typedef struct pptpkit_config_entry {
  const char* key;
  const char* value;
} pptpkit_config_entry;

/* Host -> plugin control message. The kind's header lists the command types and what each reads. */
typedef struct pptpkit_command {
  uint32_t struct_size;
  uint32_t type;    /* PPTPKIT_<KIND>_CMD_* */
  uint32_t channel; /* the connection, call or session it is about */
  uint32_t reserved;
  uint64_t values[8];                  /* type-specific numbers; unused ones are 0 */
  const pptpkit_config_entry* entries; /* type-specific key=value parameters (borrowed); may be NULL */
  uint32_t entry_count;
  uint32_t reserved2;
  /* --- end of 1.0 fields --- */
} pptpkit_command;

#define PPTPKIT_COMMAND_INIT \
  { (uint32_t)sizeof(pptpkit_command), 0u, 0u, 0u, {0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u}, NULL, 0u, 0u }

#define PPTPKIT_EVENT_TEXT_MAX 256u

/* Plugin -> host notification. The kind's header lists the event types and what each fills. */
typedef struct pptpkit_event {
  uint32_t struct_size; /* set by the host to the size it has; the plugin fills only that much */
  uint32_t type;        /* PPTPKIT_<KIND>_EVENT_* */
  uint32_t channel;
  uint32_t reserved;
  uint64_t values[8];                /* type-specific numbers */
  char text[PPTPKIT_EVENT_TEXT_MAX]; /* type-specific text (peer name, reason), NUL-terminated */
  /* --- end of 1.0 fields --- */
} pptpkit_event;

#define PPTPKIT_EVENT_INIT                                                           \
  {                                                                                  \
    (uint32_t)sizeof(pptpkit_event), 0u, 0u, 0u, {0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u}, { \
      0                                                                              \
    }                                                                                \
  }

/* One counter. `name` is a static string of the plugin, valid while the plugin is loaded. */
typedef struct pptpkit_stat {
  const char* name;
  uint64_t value;
} pptpkit_stat;

/* read_stats: channel value meaning "the whole instance". */
#define PPTPKIT_CHANNEL_ALL UINT32_MAX

/* The function table every kind implements. */
typedef struct pptpkit_plugin_ops {
  uint32_t struct_size;
  uint32_t reserved;
  /* Make an instance. Borrows host (keep it alive, see host.h) and config[0..config_count).
   * On failure returns PPTPKIT_ERR_CONFIG (or another error) and writes a NUL-terminated reason into
   * error[0..error_size). Returns *out (caller frees with destroy). */
  int32_t (*create)(const pptpkit_host_services* host, const pptpkit_config_entry* config, uint32_t config_count,
                    pptpkit_instance** out, char* error, uint32_t error_size);
  /* Destroy an instance; frees every packet it still holds. Takes inst. NULL is allowed. */
  void (*destroy)(pptpkit_instance* inst);
  /* Packets in on `port`. Takes every packet of `in` (leaves it empty), including ones it drops.
   * Returns 0 or a PPTPKIT_ERR_*. */
  int32_t (*feed)(pptpkit_instance* inst, uint32_t port, pptpkit_batch* in, uint64_t now_ns);
  /* Up to `max` packets out on `port`, appended to `out`. Returns how many (0 = nothing more now);
   * the caller owns them (frees with the host's packet_free or passes them on). */
  int32_t (*poll)(pptpkit_instance* inst, uint32_t port, pptpkit_batch* out, uint32_t max, uint64_t now_ns);
  /* A command. Borrows cmd. Returns 0 or a PPTPKIT_ERR_*. */
  int32_t (*command)(pptpkit_instance* inst, const pptpkit_command* cmd, uint64_t now_ns);
  /* The next event into *out (out->struct_size set by the caller). Returns 1, or 0 when none is left. */
  int32_t (*poll_event)(pptpkit_instance* inst, pptpkit_event* out);
  /* The absolute time (ns, the host's clock) at which tick wants to run, or PPTPKIT_NO_DEADLINE. */
  uint64_t (*next_deadline)(const pptpkit_instance* inst);
  /* Run the timers that are due at now_ns; afterwards next_deadline() is later than now_ns (a host that
   * finds it still due ticks again only after a short pause, never in a busy loop). Returns 0 or a
   * PPTPKIT_ERR_*. */
  int32_t (*tick)(pptpkit_instance* inst, uint64_t now_ns);
  /* Copy up to `max` counters of one channel (or PPTPKIT_CHANNEL_ALL) into out. Returns how many
   * counters exist (which may exceed max), PPTPKIT_ERR_NOT_FOUND for an unknown channel. */
  int32_t (*read_stats)(const pptpkit_instance* inst, uint32_t channel, pptpkit_stat* out, uint32_t max);
  /* --- end of 1.0 fields --- */
} pptpkit_plugin_ops;

/* What the plugin was built with; the host compares it with its own (pptpkit_build_fingerprint_init). */
typedef struct pptpkit_build_fingerprint {
  uint32_t pointer_size;
  uint32_t byte_order; /* PPTPKIT_BYTE_ORDER_* */
  uint32_t packet_size;
  uint32_t batch_size;
  uint32_t command_size;
  uint32_t event_size;
  uint32_t host_services_size;
  uint32_t ops_size;
} pptpkit_build_fingerprint;

#define PPTPKIT_BYTE_ORDER_LITTLE 1234u
#define PPTPKIT_BYTE_ORDER_BIG 4321u

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PPTPKIT_BYTE_ORDER PPTPKIT_BYTE_ORDER_BIG
#else
#define PPTPKIT_BYTE_ORDER PPTPKIT_BYTE_ORDER_LITTLE
#endif

#define PPTPKIT_BUILD_FINGERPRINT_INIT                                                                               \
  {                                                                                                                  \
    (uint32_t)sizeof(void*), PPTPKIT_BYTE_ORDER, (uint32_t)sizeof(pptpkit_packet), (uint32_t)sizeof(pptpkit_batch),  \
        (uint32_t)sizeof(pptpkit_command), (uint32_t)sizeof(pptpkit_event), (uint32_t)sizeof(pptpkit_host_services), \
        (uint32_t)sizeof(pptpkit_plugin_ops)                                                                         \
  }

typedef struct pptpkit_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_version; /* PPTPKIT_ABI_VERSION the plugin was built against */
  uint32_t kind;        /* PPTPKIT_KIND_* */
  uint32_t reserved;
  const char* name;    /* e.g. "gre-tunnel" */
  const char* version; /* the plugin's own version, e.g. "0.1.0" */
  pptpkit_build_fingerprint fingerprint;
  const pptpkit_plugin_ops* ops;
  /* Kind-specific extra interfaces by id (e.g. "pptpkit.gre.v1"); NULL for an unknown id. */
  const void* (*get_extension)(const char* id);
  /* --- end of 1.0 fields --- */
} pptpkit_plugin_descriptor;

/* The one symbol a plugin exports. Borrows host (checked: struct_size and the required services) and
 * writes a static descriptor into *out. On refusal returns PPTPKIT_ERR_VERSION (or
 * PPTPKIT_ERR_INVALID_ARGUMENT) and writes a NUL-terminated reason into error[0..error_size), e.g.
 * "gre-tunnel: built for ABI 1.0; this host speaks 2.0". */
typedef int32_t (*pptpkit_plugin_query_fn)(uint32_t host_abi_version, const pptpkit_host_services* host,
                                           const pptpkit_plugin_descriptor** out, char* error, uint32_t error_size);

#define PPTPKIT_PLUGIN_ENTRY "pptpkit_plugin_query"

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_PLUGIN_H */
