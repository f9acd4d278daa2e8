// The RFC 1661 §4.1 state transition table, one function per event. Each case names the table's
// entry ("RCR+ in Req-Sent: sca/8").
#include "pptpkit/ppp/fsm.hpp"

#include <algorithm>
#include <cstring>

namespace pptpkit::ppp {

using S = fsm_state;

const char* to_string(fsm_state s) noexcept {
  static constexpr const char* names[] = {"Initial",  "Starting", "Closed",   "Stopped",  "Closing",
                                          "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened"};
  return names[static_cast<unsigned>(s)];
}

void fsm::set_state(fsm_state s) noexcept {
  state_ = s;
  patience_ = {};
  // RFC 1661 §4.6: the restart timer runs only while a Configure- or Terminate-Request is outstanding.
  if (s != S::closing && s != S::stopping && s != S::req_sent && s != S::ack_rcvd && s != S::ack_sent) {
    deadline_ = UINT64_MAX;
  }
}

// ---- actions (RFC 1661 §4.4) ----

void fsm::zrc(std::uint64_t now) noexcept {
  restart_count_ = 0;
  start_timer(now);
}

void fsm::scr(std::uint64_t now) noexcept {
  // A fresh negotiation (not a retransmission or an answer to a Nak) starts from our initial wishes.
  if (state_ != S::req_sent && state_ != S::ack_rcvd && state_ != S::ack_sent) {
    handler_.reset_options();
    naks_sent_ = 0;
  }
  core::wire_writer w(req_);
  handler_.build_request(w);
  req_len_ = static_cast<std::uint32_t>(w.written());
  req_id_ = id_++;
  patience_ = {};
  if (restart_count_ > 0) {
    --restart_count_;
  }
  out_.send_control(protocol_, configure_request, req_id_, {req_.data(), req_len_});
  start_timer(now);
}

void fsm::sca() noexcept {
  naks_sent_ = 0;
  out_.send_control(protocol_, configure_ack, reply_id_, {reply_.data(), reply_len_});
}

void fsm::scn() noexcept {
  if (reply_code_ == configure_nak) {
    ++naks_sent_;
  }
  out_.send_control(protocol_, reply_code_, reply_id_, {reply_.data(), reply_len_});
}

void fsm::str(std::uint64_t now) noexcept {
  if (restart_count_ > 0) {
    --restart_count_;
  }
  out_.send_control(protocol_, terminate_request, id_++,
                    {reinterpret_cast<const std::uint8_t*>(terminate_reason_.data()), terminate_reason_len_});
  start_timer(now);
}

void fsm::sta(std::uint8_t id) noexcept {
  out_.send_control(protocol_, terminate_ack, id, {});
}

// ---- administrative and lower-layer events (RFC 1661 §4.3) ----

void fsm::up(std::uint64_t now) noexcept {
  switch (state_) {
    case S::initial:  // Up in Initial: -/2
      set_state(S::closed);
      break;
    case S::starting:  // Up in Starting: irc,scr/6
      irc_configure();
      state_ = S::stopped;  // scr treats it as a fresh negotiation
      scr(now);
      set_state(S::req_sent);
      break;
    default:  // RFC 1661 §4.1: Up in any other state cannot happen (the lower layer is already up)
      break;
  }
}

void fsm::down() noexcept {
  switch (state_) {
    case S::closed:  // Down in Closed: -/0
    case S::closing:
      set_state(S::initial);
      break;
    case S::stopped:  // Down in Stopped: tls/1
      set_state(S::starting);
      tls();
      break;
    case S::stopping:  // Down in Stopping, Req-Sent, Ack-Rcvd, Ack-Sent: -/1
    case S::req_sent:
    case S::ack_rcvd:
    case S::ack_sent:
      set_state(S::starting);
      break;
    case S::opened:  // Down in Opened: tld/1
      set_state(S::starting);
      tld();
      break;
    default:
      break;
  }
}

void fsm::open(std::uint64_t now) noexcept {
  switch (state_) {
    case S::initial:  // Open in Initial: tls/1
      set_state(S::starting);
      tls();
      break;
    case S::closed:  // Open in Closed: irc,scr/6
      irc_configure();
      scr(now);
      set_state(S::req_sent);
      break;
    case S::closing:  // Open in Closing: 5 (the restart option is not implemented, §4.2)
      set_state(S::stopping);
      break;
    default:  // Starting, Stopped, Stopping, Req-Sent, Ack-Rcvd, Ack-Sent, Opened: no change
      break;
  }
}

void fsm::close(std::uint64_t now, std::string_view reason) noexcept {
  terminate_reason_len_ = static_cast<std::uint32_t>(std::min(reason.size(), terminate_reason_.size()));
  std::copy_n(reason.data(), terminate_reason_len_, terminate_reason_.data());
  switch (state_) {
    case S::starting:  // Close in Starting: tlf/0
      set_state(S::initial);
      tlf();
      break;
    case S::stopped:  // Close in Stopped: -/2
      set_state(S::closed);
      break;
    case S::stopping:  // Close in Stopping: -/4
      set_state(S::closing);
      break;
    case S::req_sent:  // Close in Req-Sent, Ack-Rcvd, Ack-Sent: irc,str/4
    case S::ack_rcvd:
    case S::ack_sent:
      irc_terminate();
      str(now);
      set_state(S::closing);
      break;
    case S::opened:  // Close in Opened: tld,irc,str/4
      set_state(S::closing);
      tld();
      irc_terminate();
      str(now);
      break;
    default:  // Initial, Closed, Closing: no change
      break;
  }
}

// ---- the restart timer (RFC 1661 §4.3 TO+ / TO-) ----

void fsm::tick(std::uint64_t now) noexcept {
  if (now < deadline_) {
    return;
  }
  deadline_ = UINT64_MAX;
  if (restart_count_ > 0) {
    switch (state_) {
      case S::closing:  // TO+ in Closing: str/4; in Stopping: str/5
      case S::stopping:
        str(now);
        break;
      case S::req_sent:  // TO+ in Req-Sent, Ack-Rcvd: scr/6
      case S::ack_rcvd:
        scr(now);
        set_state(S::req_sent);
        break;
      case S::ack_sent:  // TO+ in Ack-Sent: scr/8
        if (!config_.patient_ack_sent || !request_mirrors_peers() || patience_.peer_requests >= 2) {
          scr(now);  // RFC 1661; or the peer asked twice since our request went out: it lacks ours
        } else if (patience_.expired && patience_.peer_requests == patience_.peer_requests_at_expiry) {
          assume_ack();  // a whole period without a word from the peer: it is Opened
        } else {
          patience_.expired = true;  // see fsm_config::patient_ack_sent
          patience_.peer_requests_at_expiry = patience_.peer_requests;
          start_timer(now);
        }
        break;
      default:
        break;
    }
    return;
  }
  switch (state_) {
    case S::closing:  // TO- in Closing: tlf/2
      set_state(S::closed);
      tlf();
      break;
    case S::stopping:  // TO- in Stopping, Req-Sent, Ack-Rcvd, Ack-Sent: tlf/3
    case S::req_sent:
    case S::ack_rcvd:
    case S::ack_sent:
      set_state(S::stopped);
      tlf();
      break;
    default:
      break;
  }
}

// ---- receive events ----

void fsm::receive(const control_packet& pkt, std::uint64_t now) noexcept {
  if (state_ == S::initial || state_ == S::starting) {
    ++stats_.bad_state;  // RFC 1661 §4.2: no packets while the lower layer is down
    return;
  }
  switch (pkt.code) {
    case configure_request:
      rcr(pkt, now);
      break;
    case configure_ack:
      rca(pkt, now);
      break;
    case configure_nak:
      rcn(pkt, false, now);
      break;
    case configure_reject:
      rcn(pkt, true, now);
      break;
    case terminate_request:
      rtr(pkt, now);
      break;
    case terminate_ack:
      rta(now);
      break;
    case code_reject:
      if (pkt.data.empty()) {
        ++stats_.malformed;
        return;
      }
      rxj(handler_.code_reject_is_fatal(pkt.data[0]), now);
      break;
    default:
      if (!handler_.on_extra_code(pkt.code, pkt.id, pkt.data)) {
        ruc(pkt);
      }
      break;
  }
}

void fsm::rcr(const control_packet& pkt, std::uint64_t now) noexcept {
  switch (state_) {
    case S::closed:  // RCR in Closed: sta/2
      sta(pkt.id);
      return;
    case S::closing:  // RCR in Closing, Stopping: no change
    case S::stopping:
      return;
    default:
      break;
  }
  // Judge: RFC 1661 §5.2-§5.4 — any rejected option makes a Configure-Reject of just those; else
  // any Nak'd option a Configure-Nak; else a Configure-Ack repeating the request.
  std::array<std::uint8_t, 1500> nak_buf;
  core::wire_writer rej(reply_);
  core::wire_writer nak(nak_buf);
  const bool may_nak = naks_sent_ < config_.max_failure;  // §4.6 Max-Failure: then Naks become Rejects
  handler_.judge_begin();
  bool any_nak = false;
  bool any_rej = false;
  const bool well_formed = for_each_option(pkt.data, [&](std::uint8_t type, std::span<const std::uint8_t> value) {
    verdict v = handler_.judge_option(type, value, nak);
    if (v == verdict::nak && !may_nak) {
      v = verdict::reject;
    }
    if (v == verdict::reject) {
      any_rej = true;
      rej.u8(type);
      rej.u8(static_cast<std::uint8_t>(value.size() + 2));
      rej.bytes(value);
    } else if (v == verdict::nak) {
      any_nak = true;
    }
  });
  if (!well_formed) {
    ++stats_.malformed;  // a request we cannot even split into options is silently discarded
    return;
  }
  if (!any_rej && may_nak) {
    const std::size_t before = nak.written();
    handler_.judge_missing(nak);
    any_nak = any_nak || nak.written() != before;
  }
  reply_id_ = pkt.id;
  if (any_rej) {
    reply_code_ = configure_reject;
    reply_len_ = static_cast<std::uint32_t>(rej.written());
  } else if (any_nak) {
    reply_code_ = configure_nak;
    reply_len_ = static_cast<std::uint32_t>(nak.written());
    std::copy_n(nak_buf.data(), reply_len_, reply_.data());
  } else {
    reply_code_ = configure_ack;
    reply_len_ = static_cast<std::uint32_t>(std::min(pkt.data.size(), reply_.size()));
    std::copy_n(pkt.data.data(), reply_len_, reply_.data());
  }
  const bool good = reply_code_ == configure_ack;
  switch (state_) {
    case S::stopped:  // RCR+ in Stopped: irc,scr,sca/8; RCR-: irc,scr,scn/6
      irc_configure();
      scr(now);
      if (good) {
        sca();
        set_state(S::ack_sent);
      } else {
        scn();
        set_state(S::req_sent);
      }
      break;
    case S::req_sent:  // RCR+ in Req-Sent: sca/8; RCR-: scn/6
      if (good) {
        sca();
        set_state(S::ack_sent);
      } else {
        scn();
      }
      break;
    case S::ack_rcvd:  // RCR+ in Ack-Rcvd: sca,tlu/9; RCR-: scn/7
      if (good) {
        sca();
        set_state(S::opened);
        tlu();
      } else {
        scn();
      }
      break;
    case S::ack_sent:  // RCR+ in Ack-Sent: sca/8; RCR-: scn/6
      if (good) {
        sca();
        ++patience_.peer_requests;  // patient_ack_sent: counted, not answered with our request at once
      } else {
        scn();
        set_state(S::req_sent);
      }
      break;
    case S::opened:  // RCR+ in Opened: tld,scr,sca/8; RCR-: tld,scr,scn/6
      tld();
      scr(now);
      if (good) {
        sca();
        set_state(S::ack_sent);
      } else {
        scn();
        set_state(S::req_sent);
      }
      break;
    default:
      break;
  }
}

bool fsm::request_mirrors_peers() const noexcept {
  // The peer Acks what it asked for itself: only then is its silence read as an Ack (not a lost Nak).
  return reply_code_ == configure_ack && reply_len_ == req_len_ &&
         std::equal(req_.begin(), req_.begin() + req_len_, reply_.begin());
}

void fsm::peer_opened() noexcept {
  if (state_ == S::ack_sent) {
    assume_ack();
  }
}

void fsm::assume_ack() noexcept {
  ++stats_.assumed_acks;
  irc_configure();  // RCA in Ack-Sent: irc,tlu/9
  set_state(S::opened);
  tlu();
}

void fsm::rca(const control_packet& pkt, std::uint64_t now) noexcept {
  switch (state_) {
    case S::closed:  // RCA in Closed, Stopped: sta
    case S::stopped:
      sta(pkt.id);
      return;
    case S::closing:
    case S::stopping:
      return;
    default:
      break;
  }
  // RFC 1661 §5.2: an Ack must carry our request's identifier and exactly its options.
  if (pkt.id != req_id_) {
    ++stats_.bad_id;
    return;
  }
  if (!std::equal(pkt.data.begin(), pkt.data.end(), req_.begin(), req_.begin() + req_len_)) {
    ++stats_.bad_ack;
    return;
  }
  switch (state_) {
    case S::req_sent:  // RCA in Req-Sent: irc/7
      irc_configure();
      set_state(S::ack_rcvd);
      break;
    case S::ack_rcvd:  // RCA in Ack-Rcvd: scr/6 (crossed connection)
      scr(now);
      set_state(S::req_sent);
      break;
    case S::ack_sent:  // RCA in Ack-Sent: irc,tlu/9
      irc_configure();
      set_state(S::opened);
      tlu();
      break;
    case S::opened:  // RCA in Opened: tld,scr/6
      tld();
      scr(now);
      set_state(S::req_sent);
      break;
    default:
      break;
  }
}

void fsm::rcn(const control_packet& pkt, bool reject, std::uint64_t now) noexcept {
  switch (state_) {
    case S::closed:  // RCN in Closed, Stopped: sta
    case S::stopped:
      sta(pkt.id);
      return;
    case S::closing:
    case S::stopping:
      return;
    default:
      break;
  }
  if (pkt.id != req_id_) {
    ++stats_.bad_id;
    return;
  }
  const bool well_formed = for_each_option(pkt.data, [&](std::uint8_t type, std::span<const std::uint8_t> value) {
    if (reject) {
      handler_.on_reject_option(type);
    } else {
      handler_.on_nak_option(type, value);
    }
  });
  if (!well_formed) {
    ++stats_.malformed;
  }
  switch (state_) {
    case S::req_sent:  // RCN in Req-Sent: irc,scr/6
      irc_configure();
      scr(now);
      break;
    case S::ack_rcvd:  // RCN in Ack-Rcvd: scr/6 (crossed connection)
      scr(now);
      set_state(S::req_sent);
      break;
    case S::ack_sent:  // RCN in Ack-Sent: irc,scr/8
      irc_configure();
      scr(now);
      break;
    case S::opened:  // RCN in Opened: tld,scr/6
      tld();
      scr(now);
      set_state(S::req_sent);
      break;
    default:
      break;
  }
}

void fsm::rtr(const control_packet& pkt, std::uint64_t now) noexcept {
  handler_.on_terminate_request(pkt.data);
  switch (state_) {
    case S::ack_rcvd:  // RTR in Ack-Rcvd, Ack-Sent: sta/6
    case S::ack_sent:
      sta(pkt.id);
      set_state(S::req_sent);
      break;
    case S::opened:  // RTR in Opened: tld,zrc,sta/5
      set_state(S::stopping);
      tld();
      zrc(now);
      sta(pkt.id);
      break;
    default:  // Closed, Stopped, Closing, Stopping, Req-Sent: sta
      sta(pkt.id);
      break;
  }
}

void fsm::rta(std::uint64_t now) noexcept {
  switch (state_) {
    case S::closing:  // RTA in Closing: tlf/2
      set_state(S::closed);
      tlf();
      break;
    case S::stopping:  // RTA in Stopping: tlf/3
      set_state(S::stopped);
      tlf();
      break;
    case S::ack_rcvd:  // RTA in Ack-Rcvd: 6
      set_state(S::req_sent);
      break;
    case S::opened:  // RTA in Opened: tld,scr/6
      tld();
      scr(now);
      set_state(S::req_sent);
      break;
    default:
      break;
  }
}

void fsm::ruc(const control_packet& pkt) noexcept {
  // RUC in Closed..Opened: scj (RFC 1661 §5.6). The rejected packet is echoed back, header included,
  // truncated to what fits.
  std::array<std::uint8_t, 1496> buf;
  core::wire_writer w(buf);
  w.u8(pkt.code);
  w.u8(pkt.id);
  w.u16(static_cast<std::uint16_t>(pkt.data.size() + control_header_size));
  w.bytes(pkt.data.first(std::min(pkt.data.size(), buf.size() - control_header_size)));
  ++stats_.code_rejects;
  out_.send_control(protocol_, code_reject, id_++, {buf.data(), w.written()});
}

void fsm::rxj(bool fatal, std::uint64_t now) noexcept {
  if (!fatal) {
    if (state_ == S::ack_rcvd) {  // RXJ+ in Ack-Rcvd: 6
      set_state(S::req_sent);
    }
    return;
  }
  switch (state_) {
    case S::closed:  // RXJ- in Closed, Closing: tlf/2
    case S::closing:
      set_state(S::closed);
      tlf();
      break;
    case S::stopped:  // RXJ- in Stopped, Stopping, Req-Sent, Ack-Rcvd, Ack-Sent: tlf/3
    case S::stopping:
    case S::req_sent:
    case S::ack_rcvd:
    case S::ack_sent:
      set_state(S::stopped);
      tlf();
      break;
    case S::opened:  // RXJ- in Opened: tld,irc,str/5
      set_state(S::stopping);
      tld();
      irc_terminate();
      str(now);
      break;
    default:
      break;
  }
}

void fsm::protocol_rejected(std::uint64_t now) noexcept {
  if (state_ == S::initial || state_ == S::starting) {
    return;
  }
  rxj(true, now);
}

}  // namespace pptpkit::ppp
