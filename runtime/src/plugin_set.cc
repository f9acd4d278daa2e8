#include "plugin_set.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "pptpkit/control.h"
#include "pptpkit/gre.h"
#include "pptpkit/ppp.h"
#include "pptpkit/runtime/engine.hpp"

namespace pptpkit::runtime {

std::string plugin_error_name(std::int32_t rc) {
  switch (rc) {
    case PPTPKIT_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case PPTPKIT_ERR_NO_MEMORY:
      return "out of memory";
    case PPTPKIT_ERR_NOT_SUPPORTED:
      return "not supported";
    case PPTPKIT_ERR_CONFIG:
      return "configuration rejected";
    case PPTPKIT_ERR_NOT_FOUND:
      return "no such channel";
    case PPTPKIT_ERR_STATE:
      return "wrong state";
    case PPTPKIT_ERR_LIMIT:
      return "limit reached";
    case PPTPKIT_ERR_NO_SPACE:
      return "no space";
    case PPTPKIT_ERR_FATAL:
      return "fatal error";
    default:
      return "error " + std::to_string(rc);
  }
}

plugin_instance::~plugin_instance() {
  if (inst != nullptr) {
    module->ops().destroy(inst);
  }
}

plugin_set::plugin_set(const std::string& dir, const pptpkit_host_services& services,
                       const pptpkit_host_services& control_services, const entry_list& control_config, hooks h)
    : hooks_(std::move(h)) {
  load(control_, dir + "/" + control_plugin_file, PPTPKIT_KIND_CONTROL, "control", control_services, control_config);
  load(gre_, dir + "/" + gre_plugin_file, PPTPKIT_KIND_GRE, "gre", services, {});
  load(ppp_, dir + "/" + ppp_plugin_file, PPTPKIT_KIND_PPP, "ppp", services, {});
}

void plugin_set::load(plugin_instance& pi, const std::string& path, std::uint32_t kind, const char* name,
                      const pptpkit_host_services& services, const entry_list& config) {
  pi.kind = name;
  pi.module = load_plugin(path, kind, services);
  std::vector<pptpkit_config_entry> c;
  for (const auto& [k, v] : config) {
    c.push_back({k.c_str(), v.c_str()});
  }
  std::array<char, 512> error{};
  const std::int32_t rc = pi.ops().create(&services, c.data(), static_cast<std::uint32_t>(c.size()), &pi.inst,
                                          error.data(), static_cast<std::uint32_t>(error.size()));
  if (rc != PPTPKIT_OK) {
    throw std::runtime_error(path + ": create failed (" + plugin_error_name(rc) + "): " + error.data());
  }
}

std::int32_t plugin_set::command(plugin_instance& pi, std::uint32_t type, std::uint32_t channel,
                                 std::initializer_list<std::uint64_t> values, const entry_list& entries,
                                 std::uint32_t connection, std::uint32_t session, std::uint64_t now) {
  pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
  cmd.type = type;
  cmd.channel = channel;
  std::size_t i = 0;
  for (std::uint64_t v : values) {
    cmd.values[i++] = v;
  }
  std::vector<pptpkit_config_entry> c;
  for (const auto& [k, v] : entries) {
    c.push_back({k.c_str(), v.c_str()});
  }
  cmd.entries = c.empty() ? nullptr : c.data();
  cmd.entry_count = static_cast<std::uint32_t>(c.size());
  hooks_.set_log_context(connection, session);
  const std::int32_t rc = pi.ops().command(pi.inst, &cmd, now);
  hooks_.set_log_context(0, 0);
  if (rc == PPTPKIT_ERR_NOT_FOUND && ends_something(pi, type)) {
    // The plugin already ended it (both sides hung up at once): nothing left to end.
    hooks_.log(PPTPKIT_LOG_DEBUG, connection, session,
               std::string(pi.kind) + " command " + std::to_string(type) + ": already gone");
  } else if (rc < 0) {
    ++errors_;
    hooks_.log(PPTPKIT_LOG_WARNING, connection, session,
               std::string(pi.kind) + " command " + std::to_string(type) + " on channel " + std::to_string(channel) +
                   " failed: " + plugin_error_name(rc));
  }
  return rc;
}

// Commands that end a channel; NOT_FOUND for them means it had already ended.
bool plugin_set::ends_something(const plugin_instance& pi, std::uint32_t type) const {
  if (&pi == &control_) {
    return type == PPTPKIT_CONTROL_CMD_CALL_CLEAR || type == PPTPKIT_CONTROL_CMD_CONNECTION_STOP ||
           type == PPTPKIT_CONTROL_CMD_CONNECTION_CLOSED;
  }
  if (&pi == &gre_) {
    return type == PPTPKIT_GRE_CMD_SESSION_CLOSE;
  }
  return type == PPTPKIT_PPP_CMD_LOWER_DOWN || type == PPTPKIT_PPP_CMD_SESSION_CLOSE;
}

std::uint64_t plugin_set::next_deadline(std::uint64_t now) const {
  std::uint64_t d = PPTPKIT_NO_DEADLINE;
  for (const plugin_instance* pi : {&control_, &gre_, &ppp_}) {
    const std::uint64_t pd = pi->ops().next_deadline(pi->inst);
    d = std::min(d, pi->stuck && pd <= now ? pi->stuck_since + stuck_retry_ns : pd);
  }
  return d;
}

std::uint32_t plugin_set::tick_due(std::uint64_t now) {
  std::uint32_t stuck_ticks = 0;
  for (plugin_instance* pi : {&control_, &gre_, &ppp_}) {
    if (pi->ops().next_deadline(pi->inst) > now) {
      pi->stuck = false;
      continue;
    }
    if (pi->stuck && now < pi->stuck_since + stuck_retry_ns) {
      continue;  // not sooner than next_deadline() promised the platform
    }
    if (pi->ops().tick(pi->inst, now) < 0) {
      ++errors_;
    }
    // A plugin whose deadline stays due after its tick (a plugin bug) would make the loop spin.
    const bool stuck = pi->ops().next_deadline(pi->inst) <= now;
    if (stuck) {
      ++stuck_ticks;
      if (!pi->stuck) {
        hooks_.log(PPTPKIT_LOG_WARNING, 0, 0,
                   std::string(pi->kind) + " plugin: its deadline is still due after tick(); polling it every " +
                       std::to_string(stuck_retry_ns / 1'000'000) + " ms until it moves");
      }
      pi->stuck_since = now;
    }
    pi->stuck = stuck;
  }
  return stuck_ticks;
}

std::string plugin_set::counters_text(const plugin_instance& pi, std::uint32_t channel) const {
  std::array<pptpkit_stat, 128> st{};
  const std::int32_t n = pi.ops().read_stats(pi.inst, channel, st.data(), st.size());
  std::string out;
  for (std::int32_t i = 0; i < std::min<std::int32_t>(n, st.size()); ++i) {
    out.push_back(' ');
    out.append(st[i].name != nullptr ? st[i].name : "?");
    out.push_back('=');
    out.append(std::to_string(st[i].value));
  }
  return out;
}

std::pair<std::uint64_t, std::uint64_t> plugin_set::drops_and_reorders(std::uint32_t channel) const {
  std::uint64_t drops = 0;
  std::uint64_t reorders = 0;
  for (const plugin_instance* pi : {&gre_, &ppp_}) {
    std::array<pptpkit_stat, 128> st{};
    const std::int32_t n = pi->ops().read_stats(pi->inst, channel, st.data(), st.size());
    for (std::int32_t i = 0; i < std::min<std::int32_t>(n, st.size()); ++i) {
      const std::string_view name = st[i].name != nullptr ? st[i].name : "";
      if (name.starts_with("drop")) {
        drops += st[i].value;
      }
      if (name.find("reorder") != std::string_view::npos) {
        reorders += st[i].value;
      }
    }
  }
  return {drops, reorders};
}

}  // namespace pptpkit::runtime
