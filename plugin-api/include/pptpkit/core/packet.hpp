// pptpkit/core/packet.hpp — in-place header push/pull on the C packet (pptpkit/packet.h).
//
// Every layer prepends its header into the packet's headroom with push() and strips it with pull();
// nothing here moves or copies payload. push() past the headroom and pull() past the data fail by
// returning nullptr and leave the packet untouched (the caller counts the drop). These are the data
// path: no allocation, no exception, O(1).
#pragma once

#include <cstdint>
#include <span>

#include "pptpkit/packet.h"

namespace pptpkit::core {

inline std::uint8_t* data(pptpkit_packet& p) noexcept {
  return p.base + p.offset;
}
inline const std::uint8_t* data(const pptpkit_packet& p) noexcept {
  return p.base + p.offset;
}
inline std::span<std::uint8_t> bytes(pptpkit_packet& p) noexcept {
  return {data(p), p.length};
}
inline std::span<const std::uint8_t> bytes(const pptpkit_packet& p) noexcept {
  return {data(p), p.length};
}

inline std::uint32_t headroom(const pptpkit_packet& p) noexcept {
  return p.offset;
}
inline std::uint32_t tailroom(const pptpkit_packet& p) noexcept {
  return p.capacity - p.offset - p.length;
}

// Grow the data by n bytes at the front; returns the new start, or nullptr when the headroom is short.
inline std::uint8_t* push(pptpkit_packet& p, std::uint32_t n) noexcept {
  if (n > p.offset) {
    return nullptr;
  }
  p.offset -= n;
  p.length += n;
  return data(p);
}

// Drop n bytes from the front; returns the new start, or nullptr when fewer than n bytes are there.
inline std::uint8_t* pull(pptpkit_packet& p, std::uint32_t n) noexcept {
  if (n > p.length) {
    return nullptr;
  }
  p.offset += n;
  p.length -= n;
  return data(p);
}

// Grow the data by n bytes at the end; returns where they start, or nullptr when the tailroom is short.
inline std::uint8_t* put(pptpkit_packet& p, std::uint32_t n) noexcept {
  if (n > tailroom(p)) {
    return nullptr;
  }
  std::uint8_t* at = data(p) + p.length;
  p.length += n;
  return at;
}

// Keep only the first n bytes of data; false (and no change) when there are fewer.
inline bool trim(pptpkit_packet& p, std::uint32_t n) noexcept {
  if (n > p.length) {
    return false;
  }
  p.length = n;
  return true;
}

}  // namespace pptpkit::core
