// pptpkit/ppp/mppe.hpp — MPPE encryption in place (RFC 3078) with coherency-count resynchronisation.
//
// One direction of an MPPE session is an mppe_encryptor on one end and an mppe_decryptor on the other,
// keyed with the matching start keys (mppe_keys.hpp). Frames:
//
//   out:  [inner payload]                        encrypt(p, protocol)
//         [A|B|C|D count:12][protocol:2][payload]   header pushed in headroom; protocol + payload
//                                                   encrypted in place. The caller then pushes PPP
//                                                   protocol 0x00FD (RFC 1962 §4, RFC 3078 §3).
//   in:   data starts at the MPPE header (the caller pulled 0x00FD); decrypt() pulls the header and the
//         inner protocol field (PFC accepted, RFC 1661 §6.5) and leaves the inner payload.
//
// Key changes (RFC 3078 §7): stateless ("H" bit) rekeys before every packet and sets A on all of them;
// stateful keeps one RC4 stream, rekeys on the "flag" packets (count & 0xFF == 0xFF) and on the packet
// after a CCP Reset-Request, setting A on those.
//
// Resynchronisation — where pptpkit departs from the reference (the kernel's ppp_mppe), which walks the
// key chain to the packet's count modulo 4096 and then delivers whatever the wrong key produced:
//   - every key is tried on a copy of the first bytes before anything is decrypted in place, and a
//     packet is delivered only when its plaintext is a well-formed IPv4 (version, IHL, total length,
//     header checksum) or IPv6 (version, payload length) datagram: a wrong key never reaches the network;
//   - stateless: the key of a packet is a function of its absolute number, whose count gives it modulo
//     4096. The decryptor tries count + 4096·k forward from the last good packet (k = 0 first), and keeps
//     a bounded search ahead across packets, so any gap — ≥ 4096 lost, across the wrap — resynchronises
//     from the packets alone, never through CCP. Late packets inside a 64-packet window decrypt with the
//     key kept for them; duplicates and older ones (a count more than half the count space ahead is
//     behind, as the kernel judges it) are dropped without a key change and without touching the state;
//   - stateful: a gap or a doubtful plaintext stops delivery; poll_reset_request() then yields a CCP
//     Reset-Request (again every reset_interval while the doubt lasts) and nothing is buffered. On the
//     next flushed frame the decryptor replays the flag-frame key changes it missed plus one (ppp_mppe's
//     reading), else none (a peer that only restarts RC4), else a few more for flushed frames lost in
//     between (each a peer rekey), and resumes with the first key whose plaintext is well-formed.
//     Stale (reordered) frames are dropped and never move the state.
//
// Key work is bounded (MPPE.md, "Key-change budget"): one received frame costs at most
// mppe_limits::frame_rekeys key changes (SHA-1 and an RC4 key setup each), and the changes beyond one a
// frame come from a budget of mppe_limits::second_rekeys a second per direction. A frame whose key lies
// beyond either is dropped (drop_over_budget); the search resumes with the next frame (stateless), or
// the decryptor asks for a reset (stateful). The frame after the last good one never needs the budget.
//
// Data path: no allocation, no exception, no copy of payload. Drops are counted (mppe_counters) and
// logged on the 1st, 2nd, 4th, 8th... occurrence of each reason.
// Threading: one thread at a time per object.
#pragma once

#include <nettle/arcfour.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "pptpkit/core/counters.hpp"
#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/packet.h"
#include "pptpkit/ppp/mppe_keys.hpp"

namespace pptpkit::ppp {

inline constexpr std::uint16_t ppp_protocol_compressed = 0x00fd;  // RFC 1962 §4: compressed datagram
inline constexpr std::uint16_t ppp_protocol_ipv4 = 0x0021;        // RFC 1332
inline constexpr std::uint16_t ppp_protocol_ipv6 = 0x0057;        // RFC 5072

// RFC 3078 §3: the first header octet's bits, then a 12-bit coherency count.
inline constexpr std::uint8_t mppe_bit_flushed = 0x80;     // A: RC4 tables re-initialised
inline constexpr std::uint8_t mppe_bit_history = 0x40;     // B: MPPC only (RFC 2118)
inline constexpr std::uint8_t mppe_bit_compressed = 0x20;  // C: MPPC only — never negotiated here
inline constexpr std::uint8_t mppe_bit_encrypted = 0x10;   // D: encrypted
inline constexpr std::uint32_t mppe_header_size = 2;
inline constexpr std::uint32_t mppe_ccount_space = 4096;  // RFC 3078 §3: 12 bits
inline constexpr std::uint32_t mppe_ccount_mask = mppe_ccount_space - 1;
static_assert(mppe_header_size + 2 == PPTPKIT_HDR_MPPE, "MPPE header + inner protocol");

#define PPTPKIT_MPPE_COUNTERS(X)                                                                       \
  X(tx_packets, "frames encrypted")                                                                    \
  X(tx_no_headroom, "frames not encrypted: no headroom for the MPPE header (dropped by the caller)")   \
  X(tx_rekeys, "sender key changes")                                                                   \
  X(rx_packets, "MPPE frames received")                                                                \
  X(rx_delivered, "frames decrypted and delivered")                                                    \
  X(rx_late_delivered, "reordered frames delivered with a kept key (stateless)")                       \
  X(rx_rekeys, "receiver key changes")                                                                 \
  X(rx_search_rekeys, "receiver key changes beyond one a frame (drawn from the per-second budget)")    \
  X(rx_resyncs, "resynchronisations after a gap")                                                      \
  X(rx_wrap_resyncs, "stateless resynchronisations that needed 4096 or more lost frames")              \
  X(drop_short, "dropped: shorter than the MPPE header and a protocol octet")                          \
  X(drop_not_encrypted, "dropped: D bit clear (RFC 3078 §3)")                                          \
  X(drop_compressed, "dropped: C bit set, MPPC was not negotiated")                                    \
  X(drop_not_flushed, "dropped: A bit missing where RFC 3078 §3 requires it (stateless, flag frame)")  \
  X(drop_duplicate, "dropped: coherency count already delivered")                                      \
  X(drop_stale, "dropped: coherency count behind the window (late or replayed)")                       \
  X(drop_undecryptable, "dropped: no key in reach gives a well-formed IP datagram")                    \
  X(drop_over_budget, "dropped: its key lies beyond the key-change budget of the frame or the second") \
  X(drop_discarding, "dropped: stateful, waiting for a flushed frame after a Reset-Request")           \
  X(reset_requests, "CCP Reset-Requests asked for (stateful)")                                         \
  X(reset_acks, "CCP Reset-Acks matching our request")                                                 \
  X(reset_requests_received, "CCP Reset-Requests from the peer (next frame flushed)")
PPTPKIT_DEFINE_COUNTERS(mppe_counters, PPTPKIT_MPPE_COUNTERS);

// The frames the decryptor dropped, every reason (the counters named drop_*): rx_packets is this plus
// rx_delivered. What a PPP session reports as mppe_rx_dropped.
std::uint64_t mppe_dropped(const mppe_counters& c) noexcept;

// What CCP agreed for one direction.
struct mppe_params {
  mppe_strength strength = mppe_strength::bits_128;
  bool stateless = true;
};

struct mppe_limits {
  // Key changes (SHA-1 + RC4 key setup each, RFC 3078 §7.3) one received frame may cost, in either mode.
  // A stateless loss burst of up to frame_rekeys - 1 frames resynchronises on the frame after it; a
  // longer one carries the search over to the frames after that. Bounds what one frame holds the thread.
  std::uint32_t frame_rekeys = 1024;
  // Key changes beyond the first of each frame, per second and direction: a token bucket holding one
  // second's worth, refilled with the time given to decrypt(). Legitimate loss spends one per lost frame.
  std::uint32_t second_rekeys = 8192;
  // Stateless: how many 4096-frame wraps ahead of the last good frame the search looks before it starts
  // again from there (bounds the damage forged frames can do to it).
  std::uint32_t search_wraps = 256;
  // Stateless: frames in a row whose count is behind (late frames, dropped without a key change) after
  // which the count is taken as lost (2048 to 4095 frames gone) and searched for ahead. Above the runs
  // of ~370 frames the Linux kernel's sender displaces under load.
  std::uint32_t late_run_limit = 512;
  // Stateful: extra key changes tried on a flushed frame (peer rekeys whose flushed frame was lost).
  std::uint32_t stateful_extra_changes = 48;
  // Stateful: consecutive stale frames after which the count is taken as lost and a reset asked for.
  std::uint32_t stale_run_limit = 64;
  // Stateful: time between Reset-Requests while the doubt lasts.
  std::uint64_t reset_interval_ns = 1'000'000'000;
};

// A budget of key changes that refills with time: `per_second` a second, holding at most one second's
// worth (a token bucket, counted in billionths so that any elapsed time adds exactly). Starts full.
class mppe_rekey_budget {
 public:
  explicit mppe_rekey_budget(std::uint32_t per_second) noexcept;
  // Adds what the time since the last call earned. Time going backwards adds nothing.
  void refill(std::uint64_t now_ns) noexcept;
  std::uint64_t available() const noexcept { return nano_ / nano; }
  // Takes n (at most available()).
  void spend(std::uint64_t n) noexcept;

 private:
  static constexpr std::uint64_t nano = 1'000'000'000;
  std::uint64_t per_second_;
  std::uint64_t nano_;  // available × 10^9
  std::uint64_t last_ns_ = 0;
  bool started_ = false;
};

// The inner frame's protocol (1 or 2 octets, RFC 1661 §6.5) and whether the frame is a well-formed IP
// datagram: `prefix` is the first bytes of the plaintext (protocol field first), `length` its full size.
struct mppe_plaintext_check {
  bool plausible = false;
  std::uint16_t protocol = 0;
  std::uint32_t protocol_size = 0;
};
mppe_plaintext_check mppe_check_plaintext(std::span<const std::uint8_t> prefix, std::uint32_t length) noexcept;
// Bytes of plaintext mppe_check_plaintext needs at most: protocol + the longest IPv4 header.
inline constexpr std::uint32_t mppe_check_prefix = 2 + 60;

class mppe_encryptor {
 public:
  mppe_encryptor(const mppe_key& start_key, mppe_params params) noexcept;

  // Pushes `protocol` and the MPPE header in front of the packet's data (an inner payload) and encrypts
  // protocol + payload in place. PPTPKIT_OK, or PPTPKIT_ERR_NO_SPACE (nothing changed) when the headroom
  // is short. protocol must be a data protocol (0x0021..0x00FA, odd): control protocols are never
  // encrypted (RFC 3078 §1: MPPE protects the datagrams, not LCP/NCP/CCP).
  std::int32_t encrypt(pptpkit_packet& p, std::uint16_t protocol) noexcept;

  // A CCP Reset-Request arrived (RFC 1962 §5.3, RFC 3078 §8.2): the next frame is rekeyed and flushed.
  // Several requests before that frame cause one rekey. The caller answers with a Reset-Ack.
  void on_reset_request() noexcept;

  std::uint16_t coherency_count() const noexcept { return ccount_; }
  const mppe_counters& counters() const noexcept { return counters_; }

 private:
  mppe_params params_;
  mppe_key_schedule keys_;
  arcfour_ctx rc4_;
  std::uint16_t ccount_ = mppe_ccount_mask;  // the first frame carries 0
  bool flush_pending_ = false;
  mppe_counters counters_;
};

enum class mppe_verdict : std::uint8_t { deliver, drop };
struct mppe_rx {
  mppe_verdict verdict = mppe_verdict::drop;
  std::uint16_t protocol = 0;  // the inner protocol when delivered
};

class mppe_decryptor {
 public:
  static constexpr std::uint32_t reorder_window = 64;

  // `log` (may be null) is borrowed for the decryptor's life.
  mppe_decryptor(const mppe_key& start_key, mppe_params params, const core::host* log = nullptr,
                 mppe_limits limits = {}) noexcept;

  // The packet's data starts at the MPPE header. On deliver, header and inner protocol are pulled and the
  // data is the decrypted inner payload; on drop the packet is unchanged or garbled, the caller frees it.
  mppe_rx decrypt(pptpkit_packet& p, std::uint64_t now_ns) noexcept;

  // Stateful: the identifier of a CCP Reset-Request (code 14) the caller must send now, else nullopt.
  std::optional<std::uint8_t> poll_reset_request(std::uint64_t now_ns) noexcept;
  // A CCP Reset-Ack (code 15) arrived.
  void on_reset_ack(std::uint8_t id) noexcept;
  // When poll_reset_request next has something to say; UINT64_MAX for never.
  std::uint64_t next_deadline() const noexcept;

  bool discarding() const noexcept { return discarding_; }
  const mppe_counters& counters() const noexcept { return counters_; }

 private:
  struct kept_key {
    std::int64_t index = -1;
    mppe_key key{};
    bool delivered = false;
  };

  struct walked_key {
    std::int64_t index = -1;
    mppe_key key{};
  };

  mppe_rx stateless(pptpkit_packet& p, std::uint32_t count) noexcept;
  mppe_rx stateless_search(pptpkit_packet& p, std::uint32_t count, std::uint32_t ahead) noexcept;
  // One key change of the stateless chain: keys at absolute frame number index move to index + 1, and the
  // key is remembered (walked_) for the late arrival of that frame. The caller take()s it first.
  void walk(mppe_key_schedule& keys, std::int64_t& index) noexcept;
  // Whether a frame with this count follows the frames an unfinished search was for (stateless).
  bool continues_search(std::uint32_t count) const noexcept;
  // Whether `n` more key changes fit this frame; if so, counts them as spent.
  bool take(std::uint32_t n) noexcept;
  mppe_rx stateful(pptpkit_packet& p, std::uint32_t count, bool flushed, std::uint64_t now_ns) noexcept;
  mppe_rx stateful_resync(pptpkit_packet& p, std::uint32_t count) noexcept;
  // Tries a key on a copy of the frame's first bytes; when it gives a well-formed datagram, decrypts the
  // frame in place, pulls header and protocol and returns deliver.
  mppe_rx try_key(pptpkit_packet& p, const mppe_key_schedule& keys) noexcept;
  mppe_rx deliver(pptpkit_packet& p, arcfour_ctx& rc4) noexcept;
  void commit(std::int64_t index, const mppe_key_schedule& keys) noexcept;
  void keep(std::int64_t index, const mppe_key& key, bool delivered) noexcept;
  void enter_discard(const char* why) noexcept;
  mppe_rx drop(std::uint64_t& counter, const char* what) noexcept;

  mppe_params params_;
  mppe_limits limits_;
  const core::host* log_;
  mppe_counters counters_;

  // The key of the last good frame (stateless: absolute frame number index_; stateful: count ccount_).
  mppe_key_schedule keys_;
  std::int64_t index_ = -1;

  // The key-change budget: the changes left to the frame being decrypted, and the per-second bucket.
  std::uint32_t frame_left_ = 0;
  mppe_rekey_budget budget_;

  // Stateless: keys of recent frames for late ones, and the search ahead past a long gap (the cursor
  // probe_ at absolute number probe_index_, carried from frame to frame; walked_ the keys it and the
  // forward walks passed, kept for the frames just before a resynchronisation).
  std::array<kept_key, reorder_window> kept_{};
  std::array<walked_key, reorder_window> walked_{};
  mppe_key_schedule probe_;
  std::int64_t probe_index_ = -1;
  std::uint32_t probe_count_ = 0;  // the count of the last frame the cursor searched for
  bool probing_ = false;
  std::uint32_t late_run_ = 0;  // frames in a row whose count was behind

  // Stateful.
  arcfour_ctx rc4_;
  std::uint32_t ccount_ = mppe_ccount_mask;
  bool discarding_ = false;
  std::uint32_t stale_run_ = 0;
  bool reset_sent_ = false;
  std::uint64_t reset_sent_at_ = 0;
  std::uint8_t reset_id_ = 0;
};

}  // namespace pptpkit::ppp
