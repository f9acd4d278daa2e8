// pptpkit/core/wire.hpp — bounds-checked wire access.
//
// Headers on the wire are structs of boost::endian big_uintN_buf_t fields (alignment 1, no padding),
// each with a static_assert of its RFC size. A header view is made only after a length check:
// view<T>(bytes) returns nullptr when fewer than sizeof(T) bytes are there — the kernel's
// pskb_may_pull, as a type. wire_reader / wire_writer walk a byte span with the same rule: a read or
// write past the end fails (sets the cursor's error flag, returns zeros) instead of touching memory.
// No allocation, no exception.
#pragma once

#include <boost/endian/buffers.hpp>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace pptpkit::core {

using boost::endian::big_uint16_buf_t;
using boost::endian::big_uint32_buf_t;
using boost::endian::big_uint8_buf_t;

// A wire header type: trivially copyable with alignment 1 (so a view can sit at any offset).
template <class T>
concept wire_header = std::is_trivially_copyable_v<T> && alignof(T) == 1;

template <wire_header T>
T* view(std::span<std::uint8_t> bytes) noexcept {
  return bytes.size() < sizeof(T) ? nullptr : reinterpret_cast<T*>(bytes.data());
}

template <wire_header T>
const T* view(std::span<const std::uint8_t> bytes) noexcept {
  return bytes.size() < sizeof(T) ? nullptr : reinterpret_cast<const T*>(bytes.data());
}

class wire_reader {
 public:
  explicit wire_reader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  std::size_t remaining() const noexcept { return failed_ ? 0 : bytes_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  bool ok() const noexcept { return !failed_; }

  std::uint8_t u8() noexcept {
    const std::uint8_t* p = take(1);
    return p ? p[0] : 0;
  }
  std::uint16_t u16() noexcept {
    const std::uint8_t* p = take(2);
    return p ? static_cast<std::uint16_t>((p[0] << 8) | p[1]) : 0;
  }
  std::uint32_t u32() noexcept {
    const std::uint8_t* p = take(4);
    return p ? (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3] : 0;
  }
  // The next n bytes, or an empty span (and the error flag) when fewer remain.
  std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
    const std::uint8_t* p = take(n);
    return p ? std::span<const std::uint8_t>(p, n) : std::span<const std::uint8_t>();
  }
  // A fixed-size, NUL-padded text field (never trusted to be NUL-terminated).
  std::string_view padded_text(std::size_t n) noexcept {
    auto b = bytes(n);
    std::size_t len = 0;
    while (len < b.size() && b[len] != 0) {
      ++len;
    }
    return {reinterpret_cast<const char*>(b.data()), len};
  }
  bool skip(std::size_t n) noexcept { return take(n) != nullptr || n == 0; }

  template <wire_header T>
  const T* header() noexcept {
    return reinterpret_cast<const T*>(take(sizeof(T)));
  }

 private:
  const std::uint8_t* take(std::size_t n) noexcept {
    if (failed_ || n > bytes_.size() - pos_) {
      failed_ = true;
      return nullptr;
    }
    const std::uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

class wire_writer {
 public:
  explicit wire_writer(std::span<std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  std::size_t written() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return failed_ ? 0 : bytes_.size() - pos_; }
  bool ok() const noexcept { return !failed_; }

  void u8(std::uint8_t v) noexcept {
    if (std::uint8_t* p = take(1)) {
      p[0] = v;
    }
  }
  void u16(std::uint16_t v) noexcept {
    if (std::uint8_t* p = take(2)) {
      p[0] = static_cast<std::uint8_t>(v >> 8);
      p[1] = static_cast<std::uint8_t>(v);
    }
  }
  void u32(std::uint32_t v) noexcept {
    if (std::uint8_t* p = take(4)) {
      p[0] = static_cast<std::uint8_t>(v >> 24);
      p[1] = static_cast<std::uint8_t>(v >> 16);
      p[2] = static_cast<std::uint8_t>(v >> 8);
      p[3] = static_cast<std::uint8_t>(v);
    }
  }
  void bytes(std::span<const std::uint8_t> b) noexcept {
    if (std::uint8_t* p = take(b.size()); p != nullptr && !b.empty()) {
      std::memcpy(p, b.data(), b.size());
    }
  }
  // A fixed-size text field: copied, truncated to n bytes, NUL-padded.
  void padded_text(std::string_view s, std::size_t n) noexcept {
    if (std::uint8_t* p = take(n)) {
      const std::size_t len = s.size() < n ? s.size() : n;
      std::memcpy(p, s.data(), len);
      std::memset(p + len, 0, n - len);
    }
  }
  void zeros(std::size_t n) noexcept {
    if (std::uint8_t* p = take(n)) {
      std::memset(p, 0, n);
    }
  }
  template <wire_header T>
  T* header() noexcept {
    return reinterpret_cast<T*>(take(sizeof(T)));
  }

 private:
  std::uint8_t* take(std::size_t n) noexcept {
    if (failed_ || n > bytes_.size() - pos_) {
      failed_ = true;
      return nullptr;
    }
    std::uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }

  std::span<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace pptpkit::core
