// pptpkit/ppp/plugin.hpp — the `ppp` plugin kind (pptpkit/ppp.h): an instance running many sessions.
//
// The instance keys sessions by the channel the host picks, routes fed packets to them by
// packet.channel, collects their frames, IP packets and events, and exposes their counters. The
// plugin module's only export is pptpkit_plugin_query; tests use make_instance() directly.
#pragma once

#include <memory>

#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/ppp/session.hpp"

namespace pptpkit::ppp {

// Throws core::config_error naming a key that is not one of pptpkit/ppp.h's session parameters.
void reject_unknown_session_keys(const core::config_map& config);

class ppp_instance;

// The factory make_ops() wants. Throws core::config_error for bad defaults.
struct ppp_instance_factory {
  static std::unique_ptr<core::instance> create(const core::host& host, const core::config_map& config);
};

// The session behind a channel, for tests and the MPPE integration (nullptr when none).
const session* find_session(const core::instance& inst, std::uint32_t channel) noexcept;

const pptpkit_plugin_descriptor& ppp_descriptor() noexcept;

}  // namespace pptpkit::ppp
