#include "pptpkit/ppp/auth.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "pptpkit/ppp.h"

namespace pptpkit::ppp {

namespace {

// PAP codes (RFC 1334 §2.2) and CHAP codes (RFC 1994 §4).
enum : std::uint8_t { pap_request = 1, pap_ack = 2, pap_nak = 3 };
enum : std::uint8_t { chap_challenge = 1, chap_response = 2, chap_success = 3, chap_failure = 4 };
constexpr std::uint8_t mschapv2_response_size = 49;  // RFC 2759 §4: peer challenge, 8 zero, NT-Response, flags

std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string_view as_text(std::span<const std::uint8_t> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
// Peer-supplied text quoted in a message: at most 64 printable bytes, and "..." when there were more.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > 64) {
    out += "...";
  }
  return out;
}
std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t v : b) {
    out += digits[v >> 4];
    out += digits[v & 0xf];
  }
  return out;
}

}  // namespace

const char* mschap_error_text(std::uint32_t code) noexcept {
  switch (code) {
    case mschap_restricted_logon_hours:
      return "restricted logon hours (error 646)";
    case mschap_account_disabled:
      return "account disabled (error 647)";
    case mschap_password_expired:
      return "password expired (error 648)";
    case mschap_no_dialin_permission:
      return "no dial-in permission (error 649)";
    case mschap_authentication_failure:
      return "wrong password or unknown user (error 691)";
    case mschap_changing_password:
      return "error changing password (error 709)";
    default:
      return "authentication failed";
  }
}

mschap_failure parse_mschap_failure(std::string_view text) {
  mschap_failure f;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') {
      ++pos;
    }
    if (text.substr(pos, 2) == "M=") {  // the message runs to the end (RFC 2759 §6)
      f.message = printable(text.substr(pos + 2));
      break;
    }
    const std::size_t end = std::min(text.find(' ', pos), text.size());
    const std::string_view field = text.substr(pos, end - pos);
    if (field.size() > 2 && field[1] == '=') {
      std::uint32_t v = 0;
      for (char c : field.substr(2, 8)) {
        if (c < '0' || c > '9') {
          break;
        }
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
      }
      if (field[0] == 'E') {
        f.error = v;
      } else if (field[0] == 'R') {
        f.retry = v == 1;
      }
    }
    pos = end;
  }
  return f;
}

// ============================== server ==============================

auth_server::auth_server(control_output& out, auth_events& events, random_source& random, std::string our_name,
                         auth_timing timing, auth_server_policy policy)
    : out_(out), events_(events), random_(random), our_name_(std::move(our_name)), timing_(timing), policy_(policy) {}
auth_server::~auth_server() = default;

void auth_server::start(std::uint32_t protocol, std::uint64_t now) {
  protocol_ = protocol;
  transmits_ = 0;
  verdict_data_.clear();
  verify_data_.clear();
  relay_request_.clear();
  eap_method_.reset();
  id_ = static_cast<std::uint8_t>(random_.random_u32());
  if (protocol == PPTPKIT_PPP_AUTH_PAP) {
    // RFC 1334 §2: the peer speaks first; we wait as long as it would take to retransmit.
    phase_ = phase::challenged;
    deadline_ = now + timing_.restart_ns * timing_.max_transmits;
    return;
  }
  if (protocol == PPTPKIT_PPP_AUTH_EAP) {
    eap_identity_done_ = false;
  }
  random_.random_fill(challenge_);
  send_challenge(now);
}

void auth_server::send_challenge(std::uint64_t now) {
  ++transmits_;
  phase_ = phase::challenged;
  deadline_ = now + timing_.restart_ns;
  std::array<std::uint8_t, 300> buf;
  core::wire_writer w(buf);
  if (protocol_ == PPTPKIT_PPP_AUTH_EAP) {
    if (!eap_identity_done_) {
      w.u8(eap_identity);  // RFC 3748 §5.1: Request/Identity, no prompt
    } else if (policy_.host_verifies) {
      // RFC 3579 §2.1: the host's (its RADIUS server's) Request, as it gave it.
      out_.send_control(proto_eap, relay_request_[0], id_, std::span(relay_request_).subspan(control_header_size));
      return;
    } else {
      w.u8(eap_method_->type());
      w.bytes(response_);  // the method's first request, kept for retransmission
    }
    out_.send_control(proto_eap, eap_request, id_, {buf.data(), w.written()});
    return;
  }
  // RFC 1994 §4.1 Challenge: Value-Size, Value, Name.
  w.u8(static_cast<std::uint8_t>(challenge_.size()));
  w.bytes(challenge_);
  w.bytes(as_bytes(our_name_).first(std::min<std::size_t>(our_name_.size(), 255)));
  out_.send_control(proto_chap, chap_challenge, id_, {buf.data(), w.written()});
}

void auth_server::wait_for_secret(std::uint64_t now) {
  phase_ = phase::waiting_secret;
  deadline_ = now + timing_.secret_timeout_ns;
  events_.need_secret(protocol_, peer_name_);
}

void auth_server::ask_host(std::uint64_t now) {
  if (!policy_.host_verifies) {
    wait_for_secret(now);
    return;
  }
  // pptpkit/ppp.h EVENT_AUTH_VERIFY: PAP the password; CHAP [id, our challenge, the peer's value], which
  // for MS-CHAPv2 is what RADIUS's MS-CHAP-Challenge and MS-CHAP2-Response carry (RFC 2548 §2.3.2).
  verify_data_.clear();
  if (protocol_ != PPTPKIT_PPP_AUTH_PAP) {
    verify_data_.push_back(id_);
    verify_data_.insert(verify_data_.end(), challenge_.begin(), challenge_.end());
  }
  verify_data_.insert(verify_data_.end(), response_.begin(), response_.end());
  wait_for_verdict(now);
}

void auth_server::wait_for_verdict(std::uint64_t now) {
  phase_ = phase::waiting_verdict;
  deadline_ = now + timing_.secret_timeout_ns;
  events_.need_verdict(protocol_, peer_name_, verify_data_.size());
}

void auth_server::tick(std::uint64_t now) {
  if (now < deadline_) {
    return;
  }
  deadline_ = UINT64_MAX;
  if (phase_ == phase::waiting_secret || phase_ == phase::waiting_verdict) {
    // The host never answered (a RADIUS server down): fail like a lookup that found nothing, but say so.
    const bool mschap = protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2;
    finish(false, mschap ? std::uint32_t{mschap_authentication_failure} : 0u,
           phase_ == phase::waiting_secret ? "no secret from the host in time" : "no verdict from the host in time");
    return;
  }
  if (phase_ != phase::challenged) {
    return;
  }
  if (protocol_ == PPTPKIT_PPP_AUTH_PAP || transmits_ >= timing_.max_transmits) {
    finish(false, 0, "peer did not authenticate (timeout)");
    return;
  }
  send_challenge(now);
}

void auth_server::receive(std::uint16_t ppp_protocol, const control_packet& pkt, std::uint64_t now) {
  const bool ours = (ppp_protocol == proto_pap && protocol_ == PPTPKIT_PPP_AUTH_PAP) ||
                    (ppp_protocol == proto_chap && (protocol_ >> 8) == proto_chap) ||
                    (ppp_protocol == proto_eap && protocol_ == PPTPKIT_PPP_AUTH_EAP);
  if (!ours || phase_ == phase::idle) {
    ++dropped_;
    return;
  }
  // A repeated answer after the verdict gets the same verdict again (its Success/Ack was lost).
  if (phase_ == phase::succeeded || phase_ == phase::failed) {
    // PAP (RFC 1334 §2.2.1) answers every Authenticate-Request, whatever its identifier; CHAP and EAP
    // answer a repeated Response to our last Challenge/Request (RFC 1994 §4.2, RFC 3748 §4.1).
    const bool repeat = ppp_protocol == verdict_protocol_ &&
                        (ppp_protocol == proto_pap ? pkt.code == 1 : pkt.id == verdict_id_ && pkt.code == 2);
    if (repeat) {
      verdict_id_ = pkt.id;
      send_verdict();
    } else {
      ++dropped_;
    }
    return;
  }
  // PAP retransmits with a new identifier (RFC 1334 §2.2.1) while the host looks the secret up: the
  // verdict answers the latest request, or the peer would ignore it.
  if ((phase_ == phase::waiting_secret || phase_ == phase::waiting_verdict) && ppp_protocol == proto_pap &&
      pkt.code == 1) {
    id_ = pkt.id;
    return;
  }
  if (ppp_protocol == proto_pap) {
    on_pap(pkt, now);
  } else if (ppp_protocol == proto_chap) {
    on_chap(pkt, now);
  } else {
    on_eap(pkt, now);
  }
}

void auth_server::on_pap(const control_packet& pkt, std::uint64_t now) {
  if (phase_ != phase::challenged || pkt.code != pap_request) {
    ++dropped_;  // a retransmitted request while the host looks the secret up is answered once
    return;
  }
  // RFC 1334 §2.2.1: Peer-ID Length, Peer-ID, Passwd-Length, Password.
  core::wire_reader r(pkt.data);
  const std::uint8_t id_len = r.u8();
  const auto peer = r.bytes(id_len);
  const std::uint8_t pw_len = r.u8();
  const auto pw = r.bytes(pw_len);
  if (!r.ok()) {
    ++dropped_;
    return;
  }
  id_ = pkt.id;
  if (!take_peer_name(peer)) {
    return;
  }
  response_.assign(pw.begin(), pw.end());
  ask_host(now);
}

bool auth_server::take_peer_name(std::span<const std::uint8_t> name) {
  peer_name_.assign(as_text(name));
  const char* why = nullptr;
  if (name.size() > max_peer_name) {
    why = "peer name refused: longer than 255 bytes";
  } else if (std::find(name.begin(), name.end(), std::uint8_t{0}) != name.end()) {
    why = "peer name refused: it contains a NUL byte";
  }
  if (why == nullptr) {
    return true;
  }
  ++bad_peer_names_;
  const bool mschap = protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2;
  finish(false, mschap ? std::uint32_t{mschap_authentication_failure} : 0u, why);
  return false;
}

void auth_server::on_chap(const control_packet& pkt, std::uint64_t now) {
  if (phase_ != phase::challenged || pkt.code != chap_response || pkt.id != id_) {
    ++dropped_;  // RFC 1994 §4.1: a Response must carry the identifier of our Challenge
    return;
  }
  core::wire_reader r(pkt.data);
  const std::uint8_t size = r.u8();
  const auto value = r.bytes(size);
  const std::size_t expected = protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2 ? mschapv2_response_size : 16u;
  if (!r.ok() || size != expected) {
    ++dropped_;
    return;
  }
  if (!take_peer_name(r.bytes(r.remaining()))) {
    return;
  }
  response_.assign(value.begin(), value.end());
  ask_host(now);
}

void auth_server::on_eap(const control_packet& pkt, std::uint64_t now) {
  // RFC 3748 §4.1: a Response answers our outstanding Request (same identifier).
  if (phase_ != phase::challenged || pkt.code != eap_response || pkt.id != id_ || pkt.data.empty()) {
    ++dropped_;
    return;
  }
  if (policy_.host_verifies) {
    on_eap_relay(pkt, now);
    return;
  }
  const std::uint8_t type = pkt.data[0];
  const auto type_data = pkt.data.subspan(1);
  if (!eap_identity_done_) {
    if (type != eap_identity) {
      ++dropped_;
      return;
    }
    if (!take_peer_name(type_data)) {
      return;
    }
    eap_identity_done_ = true;
    eap_method_ = make_eap_md5_server(our_name_);
    std::array<std::uint8_t, 300> buf;
    core::wire_writer w(buf);
    eap_method_->start(random_, w);
    response_.assign(buf.data(), buf.data() + w.written());
    ++id_;
    transmits_ = 0;
    send_challenge(now);
    return;
  }
  if (type == eap_nak) {  // RFC 3748 §5.3.1: the peer refuses our method
    finish(false, 0, "peer refused the EAP method (MD5)");
    return;
  }
  if (type != eap_method_->type()) {
    ++dropped_;
    return;
  }
  std::array<std::uint8_t, 300> buf;
  core::wire_writer next(buf);
  switch (eap_method_->on_response(pkt.id, type_data, next)) {
    case eap_server_method::step::need_secret:
      wait_for_secret(now);
      break;
    case eap_server_method::step::send_request:
      response_.assign(buf.data(), buf.data() + next.written());
      ++id_;
      transmits_ = 0;
      send_challenge(now);
      break;
    case eap_server_method::step::success:
      finish(true, 0, {});
      break;
    case eap_server_method::step::failure:
      finish(false, 0, "wrong password");
      break;
    case eap_server_method::step::discard:
      ++dropped_;
      break;
  }
}

// RFC 3579 §2.1: the NAS answers the Identity itself, then passes every Response on as it came.
void auth_server::on_eap_relay(const control_packet& pkt, std::uint64_t now) {
  if (!eap_identity_done_) {
    if (pkt.data[0] != eap_identity) {
      ++dropped_;
      return;
    }
    if (!take_peer_name(pkt.data.subspan(1))) {
      return;
    }
    eap_identity_done_ = true;
  }
  const std::size_t length = control_header_size + pkt.data.size();  // RFC 3748 §4: code, id, length, data
  verify_data_.assign({pkt.code, pkt.id, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)});
  verify_data_.insert(verify_data_.end(), pkt.data.begin(), pkt.data.end());
  wait_for_verdict(now);
}

std::string auth_server::check_verdict(const host_verdict& v) const {
  if (!v.malformed.empty()) {
    return v.malformed;
  }
  const bool eap = protocol_ == PPTPKIT_PPP_AUTH_EAP;
  if (v.what == host_verdict::decision::next && !eap) {
    return "CONTINUE is for EAP only";
  }
  if (!v.eap.empty()) {
    // RFC 3748 §4: code, identifier, a length that covers the packet exactly; §4.1-4.2 the codes.
    const std::uint8_t want = v.what == host_verdict::decision::next     ? eap_request
                              : v.what == host_verdict::decision::accept ? eap_success
                                                                         : eap_failure;
    if (!eap) {
      return "an EAP packet for a login that is not EAP";
    }
    if (v.eap.size() < control_header_size || ((std::size_t{v.eap[2]} << 8) | v.eap[3]) != v.eap.size() ||
        v.eap[0] != want || (want == eap_request && v.eap.size() == control_header_size)) {
      return "eap: not an EAP " +
             std::string(want == eap_request   ? "Request"
                         : want == eap_success ? "Success"
                                               : "Failure") +
             " packet";
    }
  } else if (v.what == host_verdict::decision::next) {
    return "CONTINUE without an EAP Request";
  }
  if (v.what == host_verdict::decision::accept && protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2) {
    // RFC 2759 §5: "S=" and 40 hexadecimal digits, which the peer checks.
    const std::string& m = v.message.value_or("");
    const bool hex_digits = std::all_of(m.begin() + std::min<std::size_t>(m.size(), 2), m.end(),
                                        [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
    if (m.size() != std::tuple_size_v<authenticator_response> || m.compare(0, 2, "S=") != 0 || !hex_digits) {
      return "message: an MS-CHAPv2 accept needs the 42-character authenticator response (S=...)";
    }
  }
  return {};
}

void auth_server::verdict(const host_verdict& v, std::uint64_t now) {
  if (phase_ != phase::waiting_verdict) {
    return;
  }
  const bool mschap = protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2;
  const bool keyed = mschap || protocol_ == PPTPKIT_PPP_AUTH_EAP;  // the logins RADIUS sends MPPE keys for
  const std::uint32_t fail_code = mschap ? std::uint32_t{mschap_authentication_failure} : 0u;
  if (const std::string bad = check_verdict(v); !bad.empty()) {
    ++malformed_verdicts_;
    finish(false, fail_code, "malformed verdict from the host: " + bad);
    return;
  }
  switch (v.what) {
    case host_verdict::decision::next:  // RFC 3579 §2.1: the host's Request goes to the peer as it is
      relay_request_ = v.eap;
      id_ = relay_request_[1];
      transmits_ = 0;
      send_challenge(now);
      return;
    case host_verdict::decision::reject: {
      const std::uint32_t code = mschap ? (v.code != 0 ? v.code : fail_code) : 0u;
      finish(false, code, "rejected by the host" + (v.message ? ": " + printable(*v.message) : std::string()), &v);
      return;
    }
    case host_verdict::decision::accept:
      break;
  }
  if (keyed && !v.keys && policy_.mppe_keys_required) {
    // MPPE cannot start without keys: the peer learns it now, not from a CCP that fails later.
    ++verdicts_without_keys_;
    finish(false, fail_code, "the host accepted, but sent no MPPE keys and MPPE is required");
    return;
  }
  if (mschap) {
    verdict_data_.assign(v.message->begin(), v.message->end());
    const std::string_view msg = " M=Access granted";
    verdict_data_.insert(verdict_data_.end(), msg.begin(), msg.end());
  }
  if (keyed && v.keys) {
    events_.mppe_keys_ready(*v.keys);
  }
  finish(true, 0, {}, &v);
}

void auth_server::secret(bool found, std::string_view secret, std::uint64_t now) {
  (void)now;
  if (phase_ != phase::waiting_secret) {
    return;
  }
  const bool mschap = protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2;
  const std::uint32_t fail_code = mschap ? std::uint32_t{mschap_authentication_failure} : 0u;
  if (!found) {
    finish(false, fail_code, "unknown user");
    return;
  }
  switch (protocol_) {
    case PPTPKIT_PPP_AUTH_PAP: {
      const bool ok =
          response_.size() == secret.size() && std::equal(response_.begin(), response_.end(), secret.begin());
      finish(ok, 0, ok ? "" : "wrong password");
      return;
    }
    case PPTPKIT_PPP_AUTH_CHAP_MD5: {
      const auto expected = chap_md5_response(id_, secret, challenge_);
      const bool ok = std::equal(expected.begin(), expected.end(), response_.begin());
      finish(ok, 0, ok ? "" : "wrong password");
      return;
    }
    case PPTPKIT_PPP_AUTH_MSCHAP_V2: {
      challenge16 peer_challenge;
      nt_response_t nt;
      std::memcpy(peer_challenge.data(), response_.data(), 16);
      std::memcpy(nt.data(), response_.data() + 24, 24);
      const std::string_view user = mschap_bare_user_name(peer_name_);
      const bool ok = mschapv2_nt_response(challenge_, peer_challenge, user, secret) == nt;
      if (!ok) {
        finish(false, fail_code, "wrong password");
        return;
      }
      const auto s = mschapv2_authenticator_response(secret, nt, peer_challenge, challenge_, user);
      verdict_data_.assign(s.begin(), s.end());
      const std::string_view msg = " M=Access granted";
      verdict_data_.insert(verdict_data_.end(), msg.begin(), msg.end());
      events_.mppe_keys_ready(
          mppe_derive_start_keys(mppe_role::server, hash_nt_password_hash(nt_password_hash(secret)), nt));
      finish(true, 0, {});
      return;
    }
    case PPTPKIT_PPP_AUTH_EAP: {
      const auto step = eap_method_->on_secret(found, secret);
      finish(step == eap_server_method::step::success, 0, "wrong password");
      return;
    }
    default:
      return;
  }
}

void auth_server::finish(bool ok, std::uint32_t code, std::string_view text, const host_verdict* host) {
  phase_ = ok ? phase::succeeded : phase::failed;
  deadline_ = UINT64_MAX;
  verdict_id_ = id_;
  switch (protocol_) {
    case PPTPKIT_PPP_AUTH_PAP: {  // RFC 1334 §2.2.2: Msg-Length, Message
      std::string_view msg = ok ? "Login ok" : "Login incorrect";
      if (host != nullptr && host->message) {
        msg = std::string_view(*host->message).substr(0, 255);
      }
      verdict_protocol_ = proto_pap;
      verdict_code_ = ok ? pap_ack : pap_nak;
      verdict_data_.assign(1, static_cast<std::uint8_t>(msg.size()));
      verdict_data_.insert(verdict_data_.end(), msg.begin(), msg.end());
      break;
    }
    case PPTPKIT_PPP_AUTH_CHAP_MD5:
      verdict_protocol_ = proto_chap;
      verdict_code_ = ok ? chap_success : chap_failure;
      verdict_data_ = ok ? std::vector<std::uint8_t>{'W', 'e', 'l', 'c', 'o', 'm', 'e'}
                         : std::vector<std::uint8_t>{'A', 'c', 'c', 'e', 's', 's', ' ', 'd', 'e', 'n', 'i', 'e', 'd'};
      if (host != nullptr && host->message) {  // RFC 1994 §4.2: the Message is free text
        verdict_data_.assign(host->message->begin(), host->message->end());
      }
      break;
    case PPTPKIT_PPP_AUTH_MSCHAP_V2:
      verdict_protocol_ = proto_chap;
      verdict_code_ = ok ? chap_success : chap_failure;
      if (!ok) {  // RFC 2759 §6: no retry (like pppd); C= is the challenge a retry would use
        const std::string shown = host != nullptr && host->message ? printable(*host->message) : "Access denied";
        const std::string msg = "E=" + std::to_string(code) + " R=0 C=" + hex(challenge_) + " V=3 M=" + shown;
        verdict_data_.assign(msg.begin(), msg.end());
      }
      break;
    case PPTPKIT_PPP_AUTH_EAP:  // RFC 3748 §4.2: Success/Failure carry no data
      verdict_protocol_ = proto_eap;
      verdict_code_ = ok ? eap_success : eap_failure;
      verdict_data_.clear();
      if (host != nullptr && !host->eap.empty()) {  // the host's Success/Failure, as it gave it
        verdict_id_ = host->eap[1];
        verdict_data_.assign(host->eap.begin() + control_header_size, host->eap.end());
      }
      break;
    default:
      break;
  }
  if (phase_ != phase::idle) {
    send_verdict();
  }
  std::string shown(text);
  if (!ok && !peer_name_.empty()) {
    shown += " (user '" + printable(peer_name_) + "')";
  }
  events_.auth_result(true, protocol_, ok, peer_name_, code, shown);
}

void auth_server::send_verdict() {
  out_.send_control(verdict_protocol_, verdict_code_, verdict_id_, verdict_data_);
}

// ============================== client ==============================

auth_client::auth_client(control_output& out, auth_events& events, random_source& random, std::string user,
                         std::string password, auth_timing timing)
    : out_(out),
      events_(events),
      random_(random),
      user_(std::move(user)),
      password_(std::move(password)),
      timing_(timing) {}
auth_client::~auth_client() = default;

void auth_client::start(std::uint32_t protocol, std::uint64_t now) {
  protocol_ = protocol;
  started_ = true;
  done_ = false;
  transmits_ = 0;
  answered_id_.reset();
  eap_method_.reset();
  if (protocol == PPTPKIT_PPP_AUTH_PAP) {
    id_ = static_cast<std::uint8_t>(random_.random_u32());
    send_pap(now);
    return;
  }
  // CHAP and EAP: the authenticator speaks first; give it as long as its retransmissions take.
  deadline_ = now + timing_.restart_ns * timing_.max_transmits;
}

void auth_client::send_pap(std::uint64_t now) {
  ++transmits_;
  ++id_;
  deadline_ = now + timing_.restart_ns;
  std::array<std::uint8_t, 512> buf;
  core::wire_writer w(buf);
  const auto user = as_bytes(user_).first(std::min<std::size_t>(user_.size(), 255));
  const auto pw = as_bytes(password_).first(std::min<std::size_t>(password_.size(), 255));
  w.u8(static_cast<std::uint8_t>(user.size()));  // RFC 1334 §2.2.1
  w.bytes(user);
  w.u8(static_cast<std::uint8_t>(pw.size()));
  w.bytes(pw);
  out_.send_control(proto_pap, pap_request, id_, {buf.data(), w.written()});
}

void auth_client::tick(std::uint64_t now) {
  if (now < deadline_ || done_) {
    return;
  }
  deadline_ = UINT64_MAX;
  if (protocol_ == PPTPKIT_PPP_AUTH_PAP && transmits_ < timing_.max_transmits) {
    send_pap(now);
    return;
  }
  // CHAP/EAP: our answer or the verdict may have been lost. Repeating the answer makes the
  // authenticator repeat its verdict (RFC 1994 §4.2, RFC 3748 §4.1).
  if (answered_id_ && transmits_ < timing_.max_transmits) {
    ++transmits_;
    deadline_ = now + timing_.restart_ns;
    out_.send_control(protocol_ == PPTPKIT_PPP_AUTH_EAP ? proto_eap : proto_chap, chap_response /* = EAP Response, 2 */,
                      *answered_id_, answer_);
    return;
  }
  finish(false, 0, "no answer from the authenticator (timeout)");
}

void auth_client::receive(std::uint16_t ppp_protocol, const control_packet& pkt, std::uint64_t now) {
  now_ = now;
  if (!started_ || done_) {
    ++dropped_;
    return;
  }
  if (ppp_protocol == proto_pap && protocol_ == PPTPKIT_PPP_AUTH_PAP) {
    if (pkt.id != id_ || (pkt.code != pap_ack && pkt.code != pap_nak)) {
      ++dropped_;
      return;
    }
    std::string_view msg;
    if (!pkt.data.empty() && pkt.data.size() >= 1u + pkt.data[0]) {
      msg = as_text(pkt.data.subspan(1, pkt.data[0]));
    }
    if (pkt.code == pap_ack) {
      finish(true, 0, {});
    } else {
      finish(false, 0, "wrong password or unknown user (server said: " + printable(msg) + ")");
    }
  } else if (ppp_protocol == proto_chap && (protocol_ >> 8) == proto_chap) {
    on_chap(pkt);
  } else if (ppp_protocol == proto_eap && protocol_ == PPTPKIT_PPP_AUTH_EAP) {
    on_eap(pkt);
  } else {
    ++dropped_;
  }
}

void auth_client::on_chap(const control_packet& pkt) {
  const bool mschap = protocol_ == PPTPKIT_PPP_AUTH_MSCHAP_V2;
  if (pkt.code == chap_challenge) {
    if (answered_id_ == pkt.id) {  // the authenticator did not get our Response: send it again
      out_.send_control(proto_chap, chap_response, pkt.id, answer_);
      return;
    }
    core::wire_reader r(pkt.data);
    const std::uint8_t size = r.u8();
    const auto value = r.bytes(size);
    if (!r.ok() || size == 0 || (mschap && size != 16)) {
      ++dropped_;
      return;
    }
    peer_name_ = printable(as_text(r.bytes(r.remaining())));
    std::array<std::uint8_t, 320> buf;
    core::wire_writer w(buf);
    if (mschap) {  // RFC 2759 §4 Response value
      std::memcpy(auth_challenge_.data(), value.data(), 16);
      random_.random_fill(peer_challenge_);
      nt_response_ = mschapv2_nt_response(auth_challenge_, peer_challenge_, mschap_bare_user_name(user_), password_);
      w.u8(mschapv2_response_size);
      w.bytes(peer_challenge_);
      w.zeros(8);
      w.bytes(nt_response_);
      w.u8(0);  // Flags
    } else {    // RFC 1994 §4.1
      const auto digest = chap_md5_response(pkt.id, password_, value);
      w.u8(static_cast<std::uint8_t>(digest.size()));
      w.bytes(digest);
    }
    w.bytes(as_bytes(user_).first(std::min<std::size_t>(user_.size(), 255)));
    answer_.assign(buf.data(), buf.data() + w.written());
    answered_id_ = pkt.id;
    transmits_ = 1;
    deadline_ = now_ + timing_.restart_ns;
    out_.send_control(proto_chap, chap_response, pkt.id, answer_);
    return;
  }
  if (!answered_id_ || pkt.id != *answered_id_) {
    ++dropped_;
    return;
  }
  const std::string_view msg = as_text(pkt.data);
  if (pkt.code == chap_success) {
    if (!mschap) {
      finish(true, 0, {});
      return;
    }
    // RFC 2759 §5: the authenticator proves it knows the password too.
    const auto expected = mschapv2_authenticator_response(password_, nt_response_, peer_challenge_, auth_challenge_,
                                                          mschap_bare_user_name(user_));
    if (msg.size() < expected.size() ||
        msg.substr(0, expected.size()) != std::string_view(expected.data(), expected.size())) {
      finish(false, 0, "the server failed to prove it knows the password (bad authenticator response)");
      return;
    }
    events_.mppe_keys_ready(
        mppe_derive_start_keys(mppe_role::client, hash_nt_password_hash(nt_password_hash(password_)), nt_response_));
    finish(true, 0, {});
  } else if (pkt.code == chap_failure) {
    if (!mschap) {
      finish(false, 0, "wrong password or unknown user (server said: " + printable(msg) + ")");
      return;
    }
    // RFC 2759 §6. With R=1 the server would accept a new Response to C=; we have no other password
    // to offer, so we end here as pppd does.
    const mschap_failure f = parse_mschap_failure(msg);
    finish(false, f.error, mschap_error_text(f.error));
  } else {
    ++dropped_;
  }
}

void auth_client::on_eap(const control_packet& pkt) {
  if (pkt.code == eap_success || pkt.code == eap_failure) {  // RFC 3748 §4.2
    if (!answered_id_) {
      ++dropped_;
      return;
    }
    if (pkt.code == eap_success) {
      finish(true, 0, {});
    } else {
      finish(false, 0, "wrong password or unknown user (EAP Failure)");
    }
    return;
  }
  if (pkt.code != eap_request || pkt.data.empty()) {
    ++dropped_;
    return;
  }
  if (answered_id_ == pkt.id) {  // RFC 3748 §4.1: a retransmitted Request gets the same Response
    out_.send_control(proto_eap, eap_response, pkt.id, answer_);
    return;
  }
  const std::uint8_t type = pkt.data[0];
  std::array<std::uint8_t, 320> buf;
  core::wire_writer w(buf);
  switch (type) {
    case eap_identity:
      w.u8(eap_identity);
      w.bytes(as_bytes(user_).first(std::min<std::size_t>(user_.size(), 255)));
      break;
    case eap_notification:  // RFC 3748 §5.2: acknowledged with an empty Notification
      w.u8(eap_notification);
      break;
    case eap_md5_challenge:
      if (!eap_method_) {
        eap_method_ = make_eap_md5_peer(user_);
      }
      w.u8(eap_md5_challenge);
      if (!eap_method_->on_request(pkt.id, pkt.data.subspan(1), password_, w)) {
        ++dropped_;
        return;
      }
      break;
    default:  // RFC 3748 §5.3.1: Legacy Nak naming the method we can do
      w.u8(eap_nak);
      w.u8(eap_md5_challenge);
      break;
  }
  answer_.assign(buf.data(), buf.data() + w.written());
  answered_id_ = pkt.id;
  transmits_ = 1;
  deadline_ = now_ + timing_.restart_ns;
  out_.send_control(proto_eap, eap_response, pkt.id, answer_);
}

void auth_client::finish(bool ok, std::uint32_t code, std::string_view text) {
  done_ = true;
  deadline_ = UINT64_MAX;
  events_.auth_result(false, protocol_, ok, peer_name_, code, text);
}

}  // namespace pptpkit::ppp
