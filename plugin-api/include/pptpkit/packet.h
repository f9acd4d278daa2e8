/*
 * pptpkit/packet.h — the packet and the batch that every layer shares.
 *
 * A packet is one buffer: `capacity` bytes at `base`, of which `length` bytes starting at `offset` are
 * data. The bytes before the data are headroom, so each layer prepends its header in place (GRE, PPP,
 * MPPE, the BSD tun address family); the bytes after it are tailroom. A layer never moves the payload:
 * when the headroom is too small it fails with PPTPKIT_ERR_NO_SPACE.
 *
 * Packets come from the host's pool (pptpkit_host_services.packet_alloc / packet_free). Only the holder
 * of a packet writes to it. A packet given to a function that *takes* it belongs to the callee from then
 * on, whether the call succeeds or not.
 *
 * A batch is a singly linked list of packets threaded through `link`, with its count; at most
 * PPTPKIT_BATCH_MAX packets. Batches move whole between stages: giving a batch to a function that takes
 * it moves every packet in it and leaves the batch empty.
 *
 * The layout of pptpkit_packet and pptpkit_batch is fixed for ABI major version 1 (they are data-path
 * structs, not extensible ones): growth goes into `reserved`, and a change of layout is a new major.
 *
 * Threading: a packet or a batch is used by one thread at a time (its holder).
 */
#ifndef PPTPKIT_PACKET_H
#define PPTPKIT_PACKET_H

#include "pptpkit/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Header sizes each layer may prepend, in bytes; the default headroom covers their sum with room to
 * spare. */
#define PPTPKIT_HDR_IP 40u    /* outer IP header when a host must build it (IPv6 size as the bound) */
#define PPTPKIT_HDR_GRE 16u   /* enhanced GRE: 8 + sequence 4 + acknowledgement 4 (RFC 2637 §4.1) */
#define PPTPKIT_HDR_PPP 4u    /* address/control 2 + protocol 2 (RFC 1661 §2) */
#define PPTPKIT_HDR_MPPE 4u   /* MPPE header 2 (RFC 3078 §3) + inner PPP protocol 2 */
#define PPTPKIT_HDR_TUN_AF 4u /* BSD tun(4) address family, TUNSIFHEAD */
#define PPTPKIT_HEADROOM_MIN \
  (PPTPKIT_HDR_IP + PPTPKIT_HDR_GRE + PPTPKIT_HDR_PPP + PPTPKIT_HDR_MPPE + PPTPKIT_HDR_TUN_AF)
#define PPTPKIT_HEADROOM_DEFAULT 128u
#define PPTPKIT_BUFFER_SIZE_DEFAULT 2048u /* headroom + the largest frame (MRU 1500 + headers) + tail */

#define PPTPKIT_BATCH_MAX 64u

/* pptpkit_packet.flags */
#define PPTPKIT_PACKET_F_CONTROL                                                                      \
  0x1u                             /* a protocol control frame (LCP, CCP, ack-only GRE): never queued \
                                      behind data, never dropped for data congestion */
#define PPTPKIT_PACKET_F_IPV6 0x2u /* on a network port: the payload is IPv6 (else IPv4) */

typedef struct pptpkit_packet_link {
  struct pptpkit_packet_link* next; /* next packet in the holder's list, NULL at the end */
} pptpkit_packet_link;

typedef struct pptpkit_packet {
  pptpkit_packet_link link; /* intrusive hook: belongs to the packet's current holder; first member */
  uint8_t* base;            /* start of the buffer */
  uint32_t capacity;        /* bytes at base */
  uint32_t offset;          /* data start, from base */
  uint32_t length;          /* data bytes */
  uint32_t channel;         /* which connection, call or session the packet belongs to (see the kind) */
  uint32_t flags;           /* PPTPKIT_PACKET_F_* */
  uint32_t aux;             /* kind-defined metadata (e.g. the peer's IPv4 address on a GRE port) */
  void* pool;               /* the pool that owns the buffer: for packet_free only */
  uint64_t user;            /* free for the current holder; not preserved across holders */
  uint64_t reserved[2];     /* zero; room for v1.x metadata */
} pptpkit_packet;

typedef struct pptpkit_batch {
  pptpkit_packet_link* head; /* first packet's link, NULL when empty; the last one's next is NULL */
  pptpkit_packet_link* tail; /* last packet's link, NULL when empty */
  uint32_t count;            /* packets in the list, at most PPTPKIT_BATCH_MAX */
  uint32_t reserved;
} pptpkit_batch;

#define PPTPKIT_BATCH_INIT \
  { NULL, NULL, 0u, 0u }

/* The packet that owns a link (link is the first member, so this is a cast). */
#define PPTPKIT_PACKET_OF(link_ptr) ((pptpkit_packet*)(void*)(link_ptr))

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_PACKET_H */
