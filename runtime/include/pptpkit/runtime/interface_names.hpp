// pptpkit/runtime/interface_names.hpp — which name a session's interface asks for.
//
// The server names its interfaces PREFIX0, PREFIX1, ... with the lowest unit no live session holds; the
// client asks for its --ifname. Like pppd, whose unit may be taken by another program, a name the
// system refuses moves on: the server to the next free unit, the client to its name with the trailing
// number counted up (pptp0, pptp1, ...; a name without a number gets one). `max_attempts` names are
// tried before the session is given up.
//
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace pptpkit::runtime {

class interface_units {
 public:
  static constexpr std::uint32_t max_attempts = 16;

  // The client's name for the attempt-th try (attempt 0 = `name` itself).
  static std::string client_name(const std::string& name, std::uint32_t attempt);

  // The lowest unit no session holds.
  std::int32_t lowest_free() const;
  // The next free unit after `unit` (the system refused `unit`).
  std::int32_t next_free(std::int32_t unit) const;
  void take(std::int32_t unit) { units_.insert(unit); }
  void release(std::int32_t unit) { units_.erase(unit); }
  bool taken(std::int32_t unit) const { return units_.contains(unit); }

 private:
  std::set<std::int32_t> units_;
};

}  // namespace pptpkit::runtime
