/*
 * pptpkit/abi.h — versions, return codes and the vocabulary shared by every pptpkit C header.
 *
 * Rules every public header follows (the C ABI contract):
 *  - Plain C11 that also compiles as C++: fixed-width integers and pointers only. Enumerations and flag
 *    sets are uint32_t fields with PPTPKIT_* macros; there are no bool, size_t or enum typed fields.
 *  - Every extensible struct starts with `uint32_t struct_size`, filled by its PPTPKIT_*_INIT macro.
 *    Fields are only ever appended; each header marks where a version's fields begin ("added in 1.1").
 *    A reader checks PPTPKIT_HAS_FIELD() before it reads a field added after 1.0.
 *  - A function's signature never changes; a new signature gets a new name (..._v2).
 *  - Ownership is stated on every function in a fixed vocabulary:
 *      borrows  — the callee uses the object only for the duration of the call;
 *      takes    — ownership moves to the callee (it frees or passes it on);
 *      returns  — ownership moves to the caller, who frees it with the function named there.
 *    Whoever allocates frees.
 *  - Threading: every object is driven by one thread at a time and is never re-entered from its own
 *    callbacks, unless its header says otherwise.
 *  - Return codes: 0 ok, a positive value is a count, a negative value is a PPTPKIT_ERR_*.
 *
 * Version 1.1 of the ABI is described by these headers: 1.0 and what is marked "added in 1.1" (the
 * `ppp` kind's host-side verification, pptpkit/ppp.h). 1.1 only appends, so a 1.0 host loads a 1.1
 * plugin and a 1.1 host loads a 1.0 plugin; a host finds out what a plugin offers through its
 * extensions, never by comparing minors for equality.
 */
#ifndef PPTPKIT_ABI_H
#define PPTPKIT_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PPTPKIT_ABI_VERSION_MAJOR 1u
#define PPTPKIT_ABI_VERSION_MINOR 1u
/* Major in the high 16 bits, minor in the low 16. Compare majors for equality, minors with >=. */
#define PPTPKIT_ABI_MAKE_VERSION(major, minor) ((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor)&0xffffu)))
#define PPTPKIT_ABI_VERSION PPTPKIT_ABI_MAKE_VERSION(PPTPKIT_ABI_VERSION_MAJOR, PPTPKIT_ABI_VERSION_MINOR)
#define PPTPKIT_ABI_MAJOR_OF(version) ((uint32_t)(version) >> 16)
#define PPTPKIT_ABI_MINOR_OF(version) ((uint32_t)(version)&0xffffu)

/* Return codes (negative). */
#define PPTPKIT_OK 0
#define PPTPKIT_ERR_INVALID_ARGUMENT (-1) /* a NULL or out-of-range argument: a programming error */
#define PPTPKIT_ERR_NO_MEMORY (-2)        /* an allocation or a pool ran out */
#define PPTPKIT_ERR_NOT_SUPPORTED (-3)    /* unknown command, extension, port or key */
#define PPTPKIT_ERR_VERSION (-4)          /* the ABI versions cannot work together */
#define PPTPKIT_ERR_CONFIG (-5)           /* a configuration value was rejected; see the error text */
#define PPTPKIT_ERR_NOT_FOUND (-6)        /* no such channel (connection, call or session) */
#define PPTPKIT_ERR_STATE (-7)            /* the request is not valid in the object's current state */
#define PPTPKIT_ERR_LIMIT (-8)            /* a configured limit was reached; nothing was changed */
#define PPTPKIT_ERR_NO_SPACE (-9)         /* the caller's buffer or the packet's headroom is too small */
#define PPTPKIT_ERR_FATAL (-10)           /* the instance is unusable; the only valid call is destroy */

/* Log levels, most severe first (syslog order). */
#define PPTPKIT_LOG_ERROR 3u
#define PPTPKIT_LOG_WARNING 4u
#define PPTPKIT_LOG_NOTICE 5u
#define PPTPKIT_LOG_INFO 6u
#define PPTPKIT_LOG_DEBUG 7u

/* Plugin kinds. */
#define PPTPKIT_KIND_CONTROL 1u /* PPTP control connection, TCP 1723 (pptpkit/control.h) */
#define PPTPKIT_KIND_GRE 2u     /* enhanced GRE data channel (pptpkit/gre.h) */
#define PPTPKIT_KIND_PPP 3u     /* PPP link, authentication, NCPs and MPPE (pptpkit/ppp.h) */

/* "No deadline" for next_deadline(). */
#define PPTPKIT_NO_DEADLINE UINT64_MAX

/* True when `field` of struct `type` lies inside the first `size` bytes (a struct_size). */
#define PPTPKIT_HAS_FIELD(type, field, size) ((size_t)(size) >= offsetof(type, field) + sizeof(((type*)0)->field))

#ifdef __cplusplus
}
#endif

#endif /* PPTPKIT_ABI_H */
