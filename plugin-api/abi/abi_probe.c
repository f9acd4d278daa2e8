/*
 * The ABI probe: one exported function whose parameters reach every public type of the C ABI, so that
 * abidw can describe the whole ABI from one small library. A header change that alters any of these
 * types' layout changes the description, and abidiff against the committed baseline reports it.
 * When a header gains a public type, add it here.
 */
#include "pptpkit/pptpkit.h"

__attribute__((visibility("default"))) uint32_t pptpkit_abi_probe(
    const pptpkit_packet* packet, const pptpkit_batch* batch, const pptpkit_host_services* host,
    const pptpkit_config_entry* config, const pptpkit_command* command, const pptpkit_event* event,
    const pptpkit_stat* stat, const pptpkit_plugin_ops* ops, const pptpkit_build_fingerprint* fingerprint,
    const pptpkit_plugin_descriptor* descriptor, pptpkit_plugin_query_fn query,
    const pptpkit_ppp_auth_extension* ppp_auth);

uint32_t pptpkit_abi_probe(const pptpkit_packet* packet, const pptpkit_batch* batch, const pptpkit_host_services* host,
                           const pptpkit_config_entry* config, const pptpkit_command* command,
                           const pptpkit_event* event, const pptpkit_stat* stat, const pptpkit_plugin_ops* ops,
                           const pptpkit_build_fingerprint* fingerprint, const pptpkit_plugin_descriptor* descriptor,
                           pptpkit_plugin_query_fn query, const pptpkit_ppp_auth_extension* ppp_auth) {
  (void)packet;
  (void)batch;
  (void)host;
  (void)config;
  (void)command;
  (void)event;
  (void)stat;
  (void)ops;
  (void)fingerprint;
  (void)descriptor;
  (void)query;
  (void)ppp_auth;
  return PPTPKIT_ABI_VERSION;
}
