// pptpkit/ppp/eap.hpp — EAP (RFC 3748) methods: the interface a method implements and EAP-MD5.
//
// The EAP layer (auth.hpp) runs Identity, Nak, Notification, Success and Failure itself and hands
// the Request/Response exchange of the chosen method to an eap_server_method / eap_peer_method. A
// method may take many rounds (EAP-TLS will) and may need the peer's secret, which arrives later
// through the host (need_secret -> on_secret). EAP-MD5 (RFC 3748 §5.4) is the first method.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pptpkit/core/wire.hpp"
#include "pptpkit/ppp/layer.hpp"

namespace pptpkit::ppp {

// EAP codes and types (RFC 3748 §4, §5).
enum eap_code : std::uint8_t { eap_request = 1, eap_response = 2, eap_success = 3, eap_failure = 4 };
enum eap_type : std::uint8_t { eap_identity = 1, eap_notification = 2, eap_nak = 3, eap_md5_challenge = 4 };

// The authenticator's side of a method.
class eap_server_method {
 public:
  virtual ~eap_server_method() = default;
  virtual std::uint8_t type() const noexcept = 0;
  enum class step : std::uint8_t { send_request, need_secret, success, failure, discard };
  // The type-data of the first Request (after the type octet).
  virtual void start(random_source& random, core::wire_writer& type_data) noexcept = 0;
  // A Response of this method (its type-data). send_request: `next` holds the next Request's
  // type-data; need_secret: the layer asks the host, then calls on_secret; discard: malformed.
  virtual step on_response(std::uint8_t id, std::span<const std::uint8_t> type_data,
                           core::wire_writer& next) noexcept = 0;
  virtual step on_secret(bool found, std::string_view secret) noexcept = 0;
};

// The peer's side of a method.
class eap_peer_method {
 public:
  virtual ~eap_peer_method() = default;
  virtual std::uint8_t type() const noexcept = 0;
  // Answers one Request (its type-data) into `response` (type-data). False: malformed, discard.
  virtual bool on_request(std::uint8_t id, std::span<const std::uint8_t> type_data, std::string_view secret,
                          core::wire_writer& response) noexcept = 0;
};

std::unique_ptr<eap_server_method> make_eap_md5_server(std::string_view our_name);
std::unique_ptr<eap_peer_method> make_eap_md5_peer(std::string_view our_name);

}  // namespace pptpkit::ppp
