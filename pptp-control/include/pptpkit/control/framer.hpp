// pptpkit/control/framer.hpp — cuts a PPTP control connection's TCP byte stream into messages.
//
// TCP may split or coalesce messages anywhere; feed() gives each complete message to a callback
// exactly once, whatever the split. A message that arrives whole inside one input span is handed over
// in place (no copy); only a message cut by a span boundary is assembled in a fixed buffer of the
// largest message size (220 bytes), so the framer never allocates and never holds more than one
// message. The common header (RFC 2637 §2: Length, PPTP Message Type, Magic Cookie, Control Message
// Type, Length equal to the type's size) is checked field by field as its bytes arrive; on the first
// bad header feed() stops and reports it, and the framer stays failed: the stream has no way to
// resynchronise, so the connection must end.
//
// Threading: one thread at a time. No allocation, no exception.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "pptpkit/control/messages.hpp"

namespace pptpkit::control {

class stream_framer {
 public:
  // Feeds bytes. `on_message(std::span<const std::uint8_t> message)` is called for each complete
  // message (Length bytes, header checked) and returns true to go on, false to stop (for example when
  // the message ended the connection; the rest of the input is then ignored). Returns ok, or the
  // first header error (and stays failed).
  template <class OnMessage>
  header_status feed(std::span<const std::uint8_t> in, OnMessage&& on_message) noexcept {
    if (failed_ != header_status::ok) {
      return failed_;
    }
    while (!in.empty()) {
      if (have_ == 0 && in.size() >= sizeof(header)) {
        // Fast path: the message starts at the front of the input.
        const header_status s = check_header(*reinterpret_cast<const header*>(in.data()));
        if (s != header_status::ok) {
          return failed_ = s;
        }
        const std::size_t len = reinterpret_cast<const header*>(in.data())->length.value();
        if (in.size() >= len) {
          if (!on_message(in.first(len))) {
            return header_status::ok;
          }
          in = in.subspan(len);
          continue;
        }
      }
      // Slow path: assemble in buf_, first the header, then the body.
      const std::size_t want = have_ < sizeof(header) ? sizeof(header) : expected_;
      const std::size_t n = want - have_ < in.size() ? want - have_ : in.size();
      std::memcpy(buf_.data() + have_, in.data(), n);
      have_ += n;
      in = in.subspan(n);
      if (have_ < sizeof(header)) {
        // Judge a partial header by what it has so far: junk fails after 2 to 10 bytes, not at 12.
        const header_status s = check_header_prefix(std::span<const std::uint8_t>(buf_.data(), have_));
        if (s != header_status::ok) {
          return failed_ = s;
        }
      } else if (expected_ == 0) {
        const header& h = *reinterpret_cast<const header*>(buf_.data());
        const header_status s = check_header(h);
        if (s != header_status::ok) {
          return failed_ = s;
        }
        expected_ = h.length.value();
      }
      if (expected_ != 0 && have_ == expected_) {
        const std::size_t len = have_;
        have_ = 0;
        expected_ = 0;
        if (!on_message(std::span<const std::uint8_t>(buf_.data(), len))) {
          return header_status::ok;
        }
      }
    }
    return header_status::ok;
  }

  // Bytes of an incomplete message held (0 at a message boundary).
  std::size_t buffered() const noexcept { return have_; }
  header_status failed() const noexcept { return failed_; }

 private:
  std::array<std::uint8_t, max_message_size> buf_{};
  std::size_t have_ = 0;
  std::size_t expected_ = 0;  // Length of the message being assembled, once its header is checked
  header_status failed_ = header_status::ok;
};

}  // namespace pptpkit::control
