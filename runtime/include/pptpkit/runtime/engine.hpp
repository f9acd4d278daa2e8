// pptpkit/runtime/engine.hpp — the daemon: three plugins wired together on a platform.
//
//   TCP 1723 <-> control (connections, calls) --CALL_UP--> gre SESSION_OPEN + ppp SESSION_OPEN
//   raw GRE  <-> gre NET port ; gre PPP port <-> ppp LINK port ; ppp NET port <-> tun (one per session)
//
// The engine loads pptp-control.so, gre-tunnel.so and ppp-bridge.so from the plugin directory, gives
// them host services (pool-backed packets, logs tagged with the connection/session the engine is
// working on, the platform's randomness), and runs one event loop: wait on the platform until the
// earliest deadline of every instance, feed what arrived, tick what is due, drain every port and event
// queue. Batches move whole between the stages; the forwarding path neither copies payload nor
// allocates. See runtime/DESIGN.md for the session lifecycle.
//
// Ownership: the engine owns the plugins, their instances, the packet pool and every handle it opened;
// it borrows the platform, which must outlive it.
// Threading: one thread drives an engine (and its platform).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pptpkit/runtime/options.hpp"
#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::runtime {

// Plugin module file names inside the plugin directory.
inline constexpr const char* control_plugin_file = "pptp-control.so";
inline constexpr const char* gre_plugin_file = "gre-tunnel.so";
inline constexpr const char* ppp_plugin_file = "ppp-bridge.so";

class engine {
 public:
  // Loads the plugins and creates their instances; reads the secrets file (server). Throws load_error,
  // parse_error or std::runtime_error with a message for the user.
  static std::unique_ptr<engine> create(platform& p, const daemon_options& options);
  virtual ~engine() = default;

  // Opens the listening / GRE / status sockets (server) or starts the first connection (client).
  // False + error when the daemon cannot run at all (e.g. the port is taken).
  virtual bool start(std::string& error) = 0;
  // One loop iteration: waits on the platform until something is ready or the next deadline, then does
  // all the work that is ready.
  virtual void step() = 0;
  // step() until finished(); returns exit_status().
  virtual int run() = 0;
  virtual bool finished() const = 0;
  // 0 = clean; 1 = the client never got a session up, or gave up after --maxfail failures.
  virtual int exit_status() const = 0;
  // The time the next step() waits until when nothing arrives.
  virtual std::uint64_t next_deadline() const = 0;
  // The text `pptpkit status` prints (one line per session and a totals line).
  virtual std::string status_report() const = 0;
  virtual std::size_t session_count() const = 0;
};

}  // namespace pptpkit::runtime
