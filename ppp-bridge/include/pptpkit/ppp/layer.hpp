// pptpkit/ppp/layer.hpp — what a protocol handler tells the session that owns it, and where it gets
// randomness. The session implements both; tests may implement them alone.
#pragma once

#include <cstdint>
#include <span>

namespace pptpkit::ppp {

class layer_events {
 public:
  // The fsm of `protocol` reached Opened (tlu) / left it (tld) / needs the lower layer (tls) /
  // finished (tlf). See RFC 1661 §4.4.
  virtual void layer_up(std::uint16_t protocol) noexcept = 0;
  virtual void layer_down(std::uint16_t protocol) noexcept = 0;
  virtual void layer_started(std::uint16_t protocol) noexcept { (void)protocol; }
  virtual void layer_finished(std::uint16_t protocol) noexcept = 0;
  // A code the generic automaton does not know (LCP Echo/Discard/Protocol-Reject, CCP Reset-*).
  // False: the fsm answers with a Code-Reject.
  virtual bool extra_code(std::uint16_t protocol, std::uint8_t code, std::uint8_t id,
                          std::span<const std::uint8_t> data) noexcept = 0;
  // The peer's Terminate-Request data (usually a reason text).
  virtual void peer_terminate(std::uint16_t protocol, std::span<const std::uint8_t> data) noexcept {
    (void)protocol, (void)data;
  }

 protected:
  ~layer_events() = default;
};

class random_source {
 public:
  virtual void random_fill(std::span<std::uint8_t> out) noexcept = 0;
  std::uint32_t random_u32() noexcept {
    std::uint8_t b[4];
    random_fill(b);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }

 protected:
  ~random_source() = default;
};

}  // namespace pptpkit::ppp
