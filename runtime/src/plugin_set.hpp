// runtime/src/plugin_set.hpp — the three plugin instances the engine drives, and how it calls them.
//
// A plugin_set loads pptp-control, gre-tunnel and ppp-bridge through the checked loader, creates one
// instance of each with the host services the engine made, and gives the engine the calls it makes on
// all of them: a command with named log context, the earliest deadline, and ticking what is due
// without ever spinning on a plugin whose deadline stays due (a plugin bug).
//
// Ownership: owns the modules and instances; each instance is destroyed before its module is closed.
// Threading: the engine's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pptpkit/abi.h"
#include "pptpkit/host.h"
#include "pptpkit/plugin.h"
#include "pptpkit/runtime/plugin_loader.hpp"

namespace pptpkit::runtime {

using entry_list = std::vector<std::pair<std::string, std::string>>;

// "limit reached" for PPTPKIT_ERR_LIMIT and so on: what a log line says about a plugin's return code.
std::string plugin_error_name(std::int32_t rc);

// One plugin instance and the module it came from.
struct plugin_instance {
  plugin_instance() = default;
  plugin_instance(const plugin_instance&) = delete;
  plugin_instance& operator=(const plugin_instance&) = delete;
  ~plugin_instance();

  const pptpkit_plugin_ops& ops() const { return module->ops(); }

  std::unique_ptr<loaded_plugin> module;
  pptpkit_instance* inst = nullptr;
  const char* kind = "";
  // The last tick left the plugin's deadline due: it is ticked at most every stuck_retry_ns, not in a
  // busy loop, until its deadline moves.
  bool stuck = false;
  std::uint64_t stuck_since = 0;
};

class plugin_set {
 public:
  static constexpr std::uint64_t stuck_retry_ns = 10'000'000;

  // What the set tells its owner: a command failed, a plugin is stuck (already counted by the caller).
  struct hooks {
    // (level, connection, session, text): a line about a plugin call, tagged by the engine.
    std::function<void(std::uint32_t, std::uint32_t, std::uint32_t, const std::string&)> log;
    // Sets the connection/session that the plugins' own log lines are about, for one call.
    std::function<void(std::uint32_t, std::uint32_t)> set_log_context;
  };

  // Loads the three modules from `dir` and creates their instances. `control_services` may differ from
  // `services` (the control path draws on its own packet pool). Throws load_error or runtime_error.
  plugin_set(const std::string& dir, const pptpkit_host_services& services,
             const pptpkit_host_services& control_services, const entry_list& control_config, hooks h);

  plugin_instance& control() { return control_; }
  plugin_instance& gre() { return gre_; }
  plugin_instance& ppp() { return ppp_; }
  const plugin_instance& control() const { return control_; }
  const plugin_instance& gre() const { return gre_; }
  const plugin_instance& ppp() const { return ppp_; }

  // Sends a command; a failure is logged (with the connection/session) and counted in errors().
  std::int32_t command(plugin_instance& pi, std::uint32_t type, std::uint32_t channel,
                       std::initializer_list<std::uint64_t> values, const entry_list& entries, std::uint32_t connection,
                       std::uint32_t session, std::uint64_t now);

  // The earliest deadline of the three, a stuck plugin's pushed to its next retry.
  std::uint64_t next_deadline(std::uint64_t now) const;
  // Ticks each plugin whose deadline is due; returns how many ticks left a deadline still due.
  std::uint32_t tick_due(std::uint64_t now);

  // " name=value ..." of a plugin's counters for a channel (PPTPKIT_CHANNEL_ALL: instance-wide).
  std::string counters_text(const plugin_instance& pi, std::uint32_t channel) const;
  // Sums of a channel's gre and ppp counters named drop* and *reorder*.
  std::pair<std::uint64_t, std::uint64_t> drops_and_reorders(std::uint32_t channel) const;

  std::uint64_t errors() const { return errors_; }

 private:
  void load(plugin_instance& pi, const std::string& path, std::uint32_t kind, const char* name,
            const pptpkit_host_services& services, const entry_list& config);
  bool ends_something(const plugin_instance& pi, std::uint32_t type) const;

  hooks hooks_;
  plugin_instance control_, gre_, ppp_;
  std::uint64_t errors_ = 0;
};

}  // namespace pptpkit::runtime
