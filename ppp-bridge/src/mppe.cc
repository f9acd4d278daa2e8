#include "pptpkit/ppp/mppe.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string_view>

#include "pptpkit/core/packet.hpp"

namespace pptpkit::ppp {
namespace {

constexpr const char* component = "mppe";

std::uint32_t ccount_distance(std::uint32_t from, std::uint32_t to) noexcept {
  return (to - from) & mppe_ccount_mask;
}

bool is_flag(std::uint32_t count) noexcept {
  return (count & 0xff) == 0xff;  // RFC 3078 §7.2: the stateful key changes on these
}

// Flag frames strictly between two counts `gap` apart (RFC 3078 §7.2: each was a key change).
std::uint32_t flags_between(std::uint32_t from, std::uint32_t gap) noexcept {
  std::uint32_t first = (0xff - (from & 0xff)) & 0xff;
  if (first == 0) {
    first = 256;
  }
  return first < gap ? (gap - 1 - first) / 256 + 1 : 0;
}

// Logs of events a peer can repeat at will are rate-limited to their 1st, 2nd, 4th, 8th... occurrence.
bool is_power_of_two(std::uint64_t n) noexcept {
  return n != 0 && (n & (n - 1)) == 0;
}

std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

mppe_plaintext_check mppe_check_plaintext(std::span<const std::uint8_t> prefix, std::uint32_t length) noexcept {
  mppe_plaintext_check r;
  if (prefix.empty() || length < prefix.size()) {
    return r;
  }
  // RFC 1661 §6.5: a protocol field whose first octet is odd was compressed to one octet.
  if ((prefix[0] & 1) != 0) {
    r.protocol = prefix[0];
    r.protocol_size = 1;
  } else {
    if (prefix.size() < 2) {
      return r;
    }
    r.protocol = load16(prefix.data());
    r.protocol_size = 2;
  }
  const std::span<const std::uint8_t> ip = prefix.subspan(r.protocol_size);
  const std::uint32_t ip_length = length - r.protocol_size;
  if (r.protocol == ppp_protocol_ipv4) {
    // RFC 791 §3.1: version 4, IHL >= 5, total length = what arrived, header checksum.
    if (ip.size() < 20 || (ip[0] >> 4) != 4) {
      return r;
    }
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
    if (ihl < 20 || ihl > ip.size() || load16(ip.data() + 2) != ip_length) {
      return r;
    }
    std::uint32_t sum = 0;
    for (std::uint32_t i = 0; i < ihl; i += 2) {
      sum += load16(ip.data() + i);
    }
    while (sum > 0xffff) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    r.plausible = sum == 0xffff;
  } else if (r.protocol == ppp_protocol_ipv6) {
    // RFC 8200 §3: version 6, 40-byte header + payload length = what arrived.
    r.plausible = ip.size() >= 40 && (ip[0] >> 4) == 6 && std::uint32_t{load16(ip.data() + 4)} + 40 == ip_length;
  }
  return r;
}

std::uint64_t mppe_dropped(const mppe_counters& c) noexcept {
  std::uint64_t sum = 0;
#define PPTPKIT_MPPE_ADD_DROP_(name, meaning)                   \
  if constexpr (std::string_view(#name).starts_with("drop_")) { \
    sum += c.name;                                              \
  }
  PPTPKIT_MPPE_COUNTERS(PPTPKIT_MPPE_ADD_DROP_)
#undef PPTPKIT_MPPE_ADD_DROP_
  return sum;
}

// ---- encryptor ------------------------------------------------------------------------------------------

mppe_encryptor::mppe_encryptor(const mppe_key& start_key, mppe_params params) noexcept
    : params_(params), keys_(start_key, params.strength) {
  keys_.key_rc4(rc4_);
}

void mppe_encryptor::on_reset_request() noexcept {
  ++counters_.reset_requests_received;
  flush_pending_ = true;
}

std::int32_t mppe_encryptor::encrypt(pptpkit_packet& p, std::uint16_t protocol) noexcept {
  assert(protocol >= 0x0021 && protocol <= 0x00fa && (protocol & 1) == 1 && "not a network-layer protocol");
  std::uint8_t* h = core::push(p, PPTPKIT_HDR_MPPE);
  if (h == nullptr) {
    ++counters_.tx_no_headroom;
    return PPTPKIT_ERR_NO_SPACE;
  }
  ccount_ = static_cast<std::uint16_t>((ccount_ + 1) & mppe_ccount_mask);
  std::uint8_t bits = mppe_bit_encrypted;
  // RFC 3078 §7.1 stateless: a new key for every frame; §7.2 stateful: on flag frames; §8.2 after a
  // Reset-Request. Each of these frames carries A.
  if (params_.stateless || is_flag(ccount_) || flush_pending_) {
    keys_.change();
    keys_.key_rc4(rc4_);
    ++counters_.tx_rekeys;
    bits |= mppe_bit_flushed;
    flush_pending_ = false;
  }
  h[0] = static_cast<std::uint8_t>(bits | (ccount_ >> 8));
  h[1] = static_cast<std::uint8_t>(ccount_);
  h[2] = static_cast<std::uint8_t>(protocol >> 8);
  h[3] = static_cast<std::uint8_t>(protocol);
  arcfour_crypt(&rc4_, p.length - mppe_header_size, h + mppe_header_size, h + mppe_header_size);
  ++counters_.tx_packets;
  return PPTPKIT_OK;
}

// ---- the key-change budget ------------------------------------------------------------------------------

mppe_rekey_budget::mppe_rekey_budget(std::uint32_t per_second) noexcept
    : per_second_(per_second), nano_(std::uint64_t{per_second} * nano) {}

void mppe_rekey_budget::refill(std::uint64_t now_ns) noexcept {
  if (!started_) {
    started_ = true;
    last_ns_ = now_ns;
    return;
  }
  if (now_ns <= last_ns_) {
    return;
  }
  // At most a second counts (the bucket holds a second's worth): the product stays below 2^62.
  const std::uint64_t elapsed = std::min(now_ns - last_ns_, nano);
  nano_ = std::min(nano_ + elapsed * per_second_, per_second_ * nano);
  last_ns_ = now_ns;
}

void mppe_rekey_budget::spend(std::uint64_t n) noexcept {
  assert(n <= available());
  nano_ -= n * nano;
}

// ---- decryptor ------------------------------------------------------------------------------------------

mppe_decryptor::mppe_decryptor(const mppe_key& start_key, mppe_params params, const core::host* log,
                               mppe_limits limits) noexcept
    : params_(params), limits_(limits), log_(log), keys_(start_key, params.strength), budget_(limits.second_rekeys) {
  assert(limits_.search_wraps > 0 && limits_.frame_rekeys > 0);
  keys_.key_rc4(rc4_);
}

bool mppe_decryptor::continues_search(std::uint32_t count) const noexcept {
  // A search is under way and this frame is one of the frames it was searching for, or a little after.
  return probing_ && probe_index_ > index_ && ccount_distance(probe_count_, count) - 1 < reorder_window;
}

bool mppe_decryptor::take(std::uint32_t n) noexcept {
  if (n > frame_left_) {
    return false;
  }
  frame_left_ -= n;
  counters_.rx_rekeys += n;
  return true;
}

void mppe_decryptor::walk(mppe_key_schedule& keys, std::int64_t& index) noexcept {
  keys.change();
  ++index;
  walked_key& w = walked_[static_cast<std::uint64_t>(index) % reorder_window];
  w.index = index;
  std::copy(keys.session_key().begin(), keys.session_key().end(), w.key.begin());
}

mppe_rx mppe_decryptor::drop(std::uint64_t& counter, const char* what) noexcept {
  ++counter;
  if (log_ != nullptr && is_power_of_two(counter)) {
    log_->log(PPTPKIT_LOG_DEBUG, component, "dropped frame: %s (%llu so far)", what,
              static_cast<unsigned long long>(counter));
  }
  return {};
}

mppe_rx mppe_decryptor::decrypt(pptpkit_packet& p, std::uint64_t now_ns) noexcept {
  ++counters_.rx_packets;
  // RFC 3078 §3: the header and at least one octet of the (possibly compressed) protocol field.
  if (p.length < mppe_header_size + 1) {
    return drop(counters_.drop_short, "shorter than the MPPE header");
  }
  const std::uint8_t* h = core::data(p);
  const std::uint8_t bits = h[0] & 0xf0;
  const std::uint32_t count = load16(h) & mppe_ccount_mask;
  if ((bits & mppe_bit_encrypted) == 0) {
    return drop(counters_.drop_not_encrypted, "D bit clear");
  }
  if ((bits & mppe_bit_compressed) != 0) {
    return drop(counters_.drop_compressed, "C bit set but MPPC was not negotiated");
  }
  const bool flushed = (bits & mppe_bit_flushed) != 0;
  if (params_.stateless ? !flushed : (is_flag(count) && !flushed)) {
    return drop(counters_.drop_not_flushed, "A bit missing (stateless frame or flag frame)");
  }
  // The key changes this frame may cost: the per-frame budget, of which all but the first come from the
  // per-second one (MPPE.md, "Key-change budget").
  budget_.refill(now_ns);
  frame_left_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(limits_.frame_rekeys, 1 + budget_.available()));
  const std::uint32_t allowed = frame_left_;
  const mppe_rx r = params_.stateless ? stateless(p, count) : stateful(p, count, flushed, now_ns);
  const std::uint32_t spent = allowed - frame_left_;
  if (spent > 1) {
    budget_.spend(spent - 1);
    counters_.rx_search_rekeys += spent - 1;
  }
  frame_left_ = 0;
  return r;
}

mppe_rx mppe_decryptor::deliver(pptpkit_packet& p, arcfour_ctx& rc4) noexcept {
  std::uint8_t* body = core::data(p) + mppe_header_size;
  const std::uint32_t n = p.length - mppe_header_size;
  arcfour_crypt(&rc4, n, body, body);
  const mppe_plaintext_check c = mppe_check_plaintext({body, std::min(n, mppe_check_prefix)}, n);
  core::pull(p, mppe_header_size + c.protocol_size);
  ++counters_.rx_delivered;
  return {mppe_verdict::deliver, c.protocol};
}

mppe_rx mppe_decryptor::try_key(pptpkit_packet& p, const mppe_key_schedule& keys) noexcept {
  arcfour_ctx rc4;
  keys.key_rc4(rc4);
  arcfour_ctx probe = rc4;
  const std::uint8_t* body = core::data(p) + mppe_header_size;
  const std::uint32_t n = p.length - mppe_header_size;
  std::array<std::uint8_t, mppe_check_prefix> prefix;
  const std::uint32_t k = std::min(n, mppe_check_prefix);
  arcfour_crypt(&probe, k, prefix.data(), body);
  if (!mppe_check_plaintext({prefix.data(), k}, n).plausible) {
    return {};
  }
  return deliver(p, rc4);
}

void mppe_decryptor::keep(std::int64_t index, const mppe_key& key, bool delivered) noexcept {
  kept_key& k = kept_[static_cast<std::uint64_t>(index) % reorder_window];
  k.index = index;
  k.key = key;
  k.delivered = delivered;
}

void mppe_decryptor::commit(std::int64_t index, const mppe_key_schedule& keys) noexcept {
  index_ = index;
  keys_ = keys;
  probing_ = false;
  mppe_key session{};
  std::copy(keys.session_key().begin(), keys.session_key().end(), session.begin());
  keep(index, session, true);
}

// RFC 3078 §8.1: every frame has its own key, the count says which — modulo 4096.
mppe_rx mppe_decryptor::stateless(pptpkit_packet& p, std::uint32_t count) noexcept {
  const std::uint32_t current = static_cast<std::uint32_t>(index_) & mppe_ccount_mask;

  // A late frame or a duplicate: its key is kept, its delivery remembered. Either way the state stays.
  const std::uint32_t back = ccount_distance(count, current);
  bool seen = false;
  if (back < reorder_window && index_ - back >= 0) {
    kept_key& k = kept_[static_cast<std::uint64_t>(index_ - back) % reorder_window];
    if (k.index == index_ - back) {
      if (k.delivered) {
        seen = true;
      } else {
        mppe_key_schedule late = keys_;
        late.set_session_key(k.key);
        if (mppe_rx r = try_key(p, late); r.verdict == mppe_verdict::deliver) {
          k.delivered = true;
          late_run_ = 0;
          ++counters_.rx_late_delivered;
          return r;
        }
      }
    }
  }

  // Behind: a count more than half the count space ahead is a late frame (the kernel's ppp_mppe discards
  // it the same way), whose key was passed long ago — never a walk around the chain. Only a long run of
  // them means the count was lost (2048 to 4095 frames gone) and is searched for ahead. Before the first
  // good frame nothing is late.
  std::uint32_t ahead = ccount_distance(current, count);
  if (ahead == 0) {
    ahead = mppe_ccount_space;
  }
  if (ahead > mppe_ccount_space / 2 && index_ >= 0 && !continues_search(count) &&
      ++late_run_ < limits_.late_run_limit) {
    return seen ? drop(counters_.drop_duplicate, "coherency count already delivered")
                : drop(counters_.drop_stale, "late frame whose key is gone");
  }
  return stateless_search(p, count, ahead);
}

// Forward: the frame is count + 4096·k frames after the last good one, k = 0 first. The search walks the
// key chain within the frame's key-change allowance and carries on where it stopped with the next frame,
// so a gap of any length — past the 12-bit count — is overtaken (one allowance a frame, minus the one
// frame the sender moves on) without ever spending more than the budget on one frame.
mppe_rx mppe_decryptor::stateless_search(pptpkit_packet& p, std::uint32_t count, std::uint32_t ahead) noexcept {
  const std::int64_t from = index_;
  const std::int64_t first = index_ + ahead;  // k = 0
  auto resynchronised = [&](std::int64_t at, const mppe_key_schedule& keys, mppe_rx r) {
    // Keep the keys of the frames skipped just before this one, for their late arrival.
    for (std::int64_t i = std::max(from + 1, at - std::int64_t{reorder_window} + 1); i < at; ++i) {
      const walked_key& w = walked_[static_cast<std::uint64_t>(i) % reorder_window];
      if (w.index == i) {
        keep(i, w.key, false);
      }
    }
    commit(at, keys);
    late_run_ = 0;
    const std::int64_t lost = at - from - 1;
    if (lost > 0) {
      ++counters_.rx_resyncs;
      const bool wrapped = lost >= std::int64_t{mppe_ccount_space};
      counters_.rx_wrap_resyncs += wrapped ? 1 : 0;
      if (log_ != nullptr && (wrapped || lost >= std::int64_t{reorder_window})) {  // bursts, not scattered loss
        log_->log(PPTPKIT_LOG_INFO, component, "resynchronised after %lld lost frames%s", static_cast<long long>(lost),
                  wrapped ? " (past the 12-bit count)" : "");
      }
    }
    return r;
  };

  // The cursor: where an earlier frame's search stopped, else the last good frame.
  if (!probing_) {
    probe_ = keys_;
    probe_index_ = index_;
    probing_ = true;
  }
  bool out_of_budget = false;
  // The cursor is past this frame's k = 0. For the frames of a long gap, one after another, that is
  // where it should be: k = 0 of each failed for the one before. A frame that does not continue them (a
  // frame after a short loss while forged frames had sent the search ahead) gets k = 0 tried from the
  // last good key, when its allowance reaches it.
  const bool continues = continues_search(count);
  probe_count_ = count;
  if (probe_index_ > first && !continues) {
    if (ahead <= frame_left_) {
      take(ahead);
      mppe_key_schedule next = keys_;
      std::int64_t at = index_;
      while (at < first) {
        walk(next, at);
      }
      if (mppe_rx r = try_key(p, next); r.verdict == mppe_verdict::deliver) {
        return resynchronised(first, next, r);
      }
    } else {
      out_of_budget = true;
    }
  }
  const std::int64_t horizon = index_ + std::int64_t{limits_.search_wraps} * mppe_ccount_space;
  for (bool tried = false;; tried = true) {
    // The next number this count can stand for: the cursor itself when it is one not tried yet (an
    // earlier frame's search stopped there), else the next one past it.
    std::uint32_t step = ccount_distance(static_cast<std::uint32_t>(probe_index_) & mppe_ccount_mask, count);
    if (step == 0 && (tried || probe_index_ == index_)) {
      step = mppe_ccount_space;
    }
    const std::int64_t candidate = probe_index_ + step;
    if (candidate > horizon) {
      probing_ = false;  // start again from the last good frame with the next one
      break;
    }
    const std::uint32_t n = std::min(step, frame_left_);
    take(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      walk(probe_, probe_index_);
    }
    if (probe_index_ != candidate) {
      out_of_budget = true;  // the walk goes on with the next frame
      break;
    }
    if (mppe_rx r = try_key(p, probe_); r.verdict == mppe_verdict::deliver) {
      return resynchronised(candidate, probe_, r);
    }
    if (frame_left_ == 0) {
      out_of_budget = true;
      break;
    }
  }
  if (out_of_budget) {
    return drop(counters_.drop_over_budget, "its key lies beyond the key-change budget");
  }
  return drop(counters_.drop_undecryptable, "no key in reach gives a well-formed datagram");
}

void mppe_decryptor::enter_discard(const char* why) noexcept {
  if (!discarding_ && log_ != nullptr && is_power_of_two(counters_.rx_resyncs + 1)) {
    log_->log(PPTPKIT_LOG_INFO, component, "stateful MPPE out of step (%s): discarding until a flushed frame", why);
  }
  discarding_ = true;
  stale_run_ = 0;
}

// RFC 3078 §8.2: stateful frames share one RC4 stream; a lost one means a Reset-Request and a wait for
// the flushed frame.
mppe_rx mppe_decryptor::stateful(pptpkit_packet& p, std::uint32_t count, bool flushed, std::uint64_t) noexcept {
  if (discarding_) {
    if (!flushed) {
      return drop(counters_.drop_discarding, "waiting for a flushed frame");
    }
    return stateful_resync(p, count);
  }
  const std::uint32_t ahead = ccount_distance(ccount_, count);
  if (ahead == 1 && flushed) {
    return stateful_resync(p, count);  // a flag frame or the answer to a reset: the key changes here
  }
  if (ahead == 1) {
    ccount_ = count;
    stale_run_ = 0;
    std::uint8_t* body = core::data(p) + mppe_header_size;
    const std::uint32_t n = p.length - mppe_header_size;
    arcfour_crypt(&rc4_, n, body, body);
    const mppe_plaintext_check c = mppe_check_plaintext({body, std::min(n, mppe_check_prefix)}, n);
    if (!c.plausible) {
      enter_discard("implausible plaintext");
      return drop(counters_.drop_undecryptable, "implausible plaintext in sequence");
    }
    core::pull(p, mppe_header_size + c.protocol_size);
    ++counters_.rx_delivered;
    return {mppe_verdict::deliver, c.protocol};
  }
  if (ahead == 0 || ahead > mppe_ccount_space / 2) {
    // Late or duplicated: the stream is already past it. Only a long run of these means we lost count.
    if (++stale_run_ >= limits_.stale_run_limit) {
      enter_discard("coherency count behind for too long");
    }
    return drop(counters_.drop_stale, "late frame (stateful)");
  }
  if (flushed) {
    return stateful_resync(p, count);  // frames were lost, but this one restarts the stream
  }
  enter_discard("frames lost");
  return drop(counters_.drop_discarding, "frames lost before this one");
}

mppe_rx mppe_decryptor::stateful_resync(pptpkit_packet& p, std::uint32_t count) noexcept {
  std::uint32_t gap = ccount_distance(ccount_, count);
  if (gap == 0) {
    gap = mppe_ccount_space;
  }
  const bool was_lost = discarding_ || gap > 1;
  // The sender changed keys on every flag frame we missed, then once for this flushed frame (the
  // kernel's reading of RFC 3078 §7.2/§8.2, tried first), and once more for every flushed frame (a
  // Reset-Request answered) lost on the way. A peer that only restarts RC4 on a flushed frame, without a
  // key change, is tried second. All within the frame's key-change allowance: past it, the frame is
  // dropped and a reset asked for (RFC 3078 §8.2), and the next flushed frame tries again.
  const std::uint32_t missed = flags_between(ccount_, gap);
  if (!take(missed + 1)) {
    enter_discard("key-change budget spent");
    return drop(counters_.drop_over_budget, "flushed frame beyond the key-change budget");
  }
  mppe_key_schedule base = keys_;
  for (std::uint32_t i = 0; i < missed; ++i) {
    base.change();
  }
  const std::uint8_t* body = core::data(p) + mppe_header_size;
  const std::uint32_t n = p.length - mppe_header_size;
  const std::uint32_t k = std::min(n, mppe_check_prefix);
  auto attempt = [&](const mppe_key_schedule& keys, arcfour_ctx& rc4) {
    keys.key_rc4(rc4);
    arcfour_ctx probe = rc4;
    std::array<std::uint8_t, mppe_check_prefix> prefix;
    arcfour_crypt(&probe, k, prefix.data(), body);
    return mppe_check_plaintext({prefix.data(), k}, n).plausible;
  };
  mppe_key_schedule next = base;
  next.change();
  arcfour_ctx rc4;
  bool found = attempt(next, rc4);
  if (!found && attempt(base, rc4)) {
    next = base;
    found = true;
  }
  bool out_of_budget = false;
  for (std::uint32_t extra = 0; !found && extra < limits_.stateful_extra_changes; ++extra) {
    if (!take(1)) {
      out_of_budget = true;
      break;
    }
    next.change();
    found = attempt(next, rc4);
  }
  if (!found) {
    enter_discard("flushed frame did not decrypt");
    return out_of_budget ? drop(counters_.drop_over_budget, "flushed frame beyond the key-change budget")
                         : drop(counters_.drop_undecryptable, "flushed frame that no key in reach decrypts");
  }
  keys_ = next;
  rc4_ = rc4;
  ccount_ = count;
  discarding_ = false;
  reset_sent_ = false;
  stale_run_ = 0;
  if (was_lost) {
    ++counters_.rx_resyncs;
    if (log_ != nullptr && is_power_of_two(counters_.rx_resyncs)) {
      log_->log(PPTPKIT_LOG_INFO, component, "stateful MPPE resynchronised at count %u (%llu times)", count,
                static_cast<unsigned long long>(counters_.rx_resyncs));
    }
  }
  return deliver(p, rc4_);
}

std::optional<std::uint8_t> mppe_decryptor::poll_reset_request(std::uint64_t now_ns) noexcept {
  if (params_.stateless || !discarding_) {
    return std::nullopt;  // RFC 3078 §8.1: stateless never needs a reset
  }
  if (reset_sent_ && now_ns < reset_sent_at_ + limits_.reset_interval_ns) {
    return std::nullopt;
  }
  reset_sent_ = true;
  reset_sent_at_ = now_ns;
  ++counters_.reset_requests;
  return ++reset_id_;
}

void mppe_decryptor::on_reset_ack(std::uint8_t id) noexcept {
  // RFC 1962 §5.4: an Ack for our last request. Synchronisation itself comes with the flushed frame.
  if (reset_sent_ && id == reset_id_) {
    ++counters_.reset_acks;
  }
}

std::uint64_t mppe_decryptor::next_deadline() const noexcept {
  if (params_.stateless || !discarding_) {
    return UINT64_MAX;
  }
  return reset_sent_ ? reset_sent_at_ + limits_.reset_interval_ns : 0;
}

}  // namespace pptpkit::ppp
