/* A vendor's C11 program: includes every public header, pins the 1.0 and 1.1 layouts on LP64 machines and
 * uses the macros the way a host would. Built with -std=c11 -pedantic -Werror. */
#include <stdio.h>
#include <string.h>

#include "pptpkit/pptpkit.h"

#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(pptpkit_packet_link) == 8, "pptpkit_packet_link");
_Static_assert(offsetof(pptpkit_packet, link) == 0, "link is the packet's first member");
_Static_assert(offsetof(pptpkit_packet, base) == 8, "pptpkit_packet.base");
_Static_assert(offsetof(pptpkit_packet, capacity) == 16, "pptpkit_packet.capacity");
_Static_assert(offsetof(pptpkit_packet, offset) == 20, "pptpkit_packet.offset");
_Static_assert(offsetof(pptpkit_packet, length) == 24, "pptpkit_packet.length");
_Static_assert(offsetof(pptpkit_packet, channel) == 28, "pptpkit_packet.channel");
_Static_assert(offsetof(pptpkit_packet, flags) == 32, "pptpkit_packet.flags");
_Static_assert(offsetof(pptpkit_packet, aux) == 36, "pptpkit_packet.aux");
_Static_assert(offsetof(pptpkit_packet, pool) == 40, "pptpkit_packet.pool");
_Static_assert(offsetof(pptpkit_packet, user) == 48, "pptpkit_packet.user");
_Static_assert(sizeof(pptpkit_packet) == 72, "pptpkit_packet");
_Static_assert(sizeof(pptpkit_batch) == 24, "pptpkit_batch");
_Static_assert(offsetof(pptpkit_host_services, host_ctx) == 8, "pptpkit_host_services.host_ctx");
_Static_assert(offsetof(pptpkit_host_services, get_service) == 56, "pptpkit_host_services.get_service");
_Static_assert(sizeof(pptpkit_host_services) == 64, "pptpkit_host_services");
_Static_assert(offsetof(pptpkit_command, values) == 16, "pptpkit_command.values");
_Static_assert(offsetof(pptpkit_command, entries) == 80, "pptpkit_command.entries");
_Static_assert(sizeof(pptpkit_command) == 96, "pptpkit_command");
_Static_assert(offsetof(pptpkit_event, text) == 80, "pptpkit_event.text");
_Static_assert(sizeof(pptpkit_event) == 336, "pptpkit_event");
_Static_assert(offsetof(pptpkit_plugin_ops, create) == 8, "pptpkit_plugin_ops.create");
_Static_assert(offsetof(pptpkit_plugin_ops, read_stats) == 72, "pptpkit_plugin_ops.read_stats");
_Static_assert(sizeof(pptpkit_plugin_ops) == 80, "pptpkit_plugin_ops");
_Static_assert(sizeof(pptpkit_build_fingerprint) == 32, "pptpkit_build_fingerprint");
_Static_assert(offsetof(pptpkit_plugin_descriptor, fingerprint) == 32, "descriptor.fingerprint");
_Static_assert(offsetof(pptpkit_plugin_descriptor, ops) == 64, "descriptor.ops");
_Static_assert(sizeof(pptpkit_plugin_descriptor) == 80, "pptpkit_plugin_descriptor");
/* added in 1.1 */
_Static_assert(offsetof(pptpkit_ppp_auth_extension, request_data) == 8, "ppp_auth_extension.request_data");
_Static_assert(sizeof(pptpkit_ppp_auth_extension) == 16, "pptpkit_ppp_auth_extension");
#endif

int main(void) {
  pptpkit_host_services host = PPTPKIT_HOST_SERVICES_INIT;
  pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
  pptpkit_event ev = PPTPKIT_EVENT_INIT;
  pptpkit_batch batch = PPTPKIT_BATCH_INIT;
  pptpkit_build_fingerprint fp = PPTPKIT_BUILD_FINGERPRINT_INIT;
  int failures = 0;

  if (host.struct_size != sizeof host || cmd.struct_size != sizeof cmd || ev.struct_size != sizeof ev) {
    puts("an INIT macro does not fill struct_size");
    ++failures;
  }
  if (!PPTPKIT_HAS_FIELD(pptpkit_host_services, get_service, sizeof host) ||
      PPTPKIT_HAS_FIELD(pptpkit_host_services, get_service, offsetof(pptpkit_host_services, get_service))) {
    puts("PPTPKIT_HAS_FIELD is wrong");
    ++failures;
  }
  if (PPTPKIT_ABI_MAJOR_OF(PPTPKIT_ABI_VERSION) != 1u || PPTPKIT_ABI_MINOR_OF(PPTPKIT_ABI_VERSION) < 1u ||
      PPTPKIT_ABI_MINOR_OF(PPTPKIT_ABI_MAKE_VERSION(2, 5)) != 5u) {
    puts("version macros are wrong");
    ++failures;
  }
  if (batch.head != NULL || batch.count != 0u || fp.pointer_size != sizeof(void*)) {
    puts("batch or fingerprint initialiser is wrong");
    ++failures;
  }
  if (strcmp(PPTPKIT_PLUGIN_ENTRY, "pptpkit_plugin_query") != 0 || PPTPKIT_HEADROOM_DEFAULT < PPTPKIT_HEADROOM_MIN) {
    puts("entry name or headroom is wrong");
    ++failures;
  }
  if (failures == 0) {
    puts("C11 consumer: every public header compiles and the layout is as pinned");
  }
  return failures;
}
