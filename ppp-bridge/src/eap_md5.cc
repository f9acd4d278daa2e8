// EAP-MD5 (RFC 3748 §5.4): the CHAP-MD5 computation (RFC 1994 §4.1) inside EAP Request/Response.
#include <algorithm>
#include <array>
#include <cstring>

#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/eap.hpp"

namespace pptpkit::ppp {

namespace {

class md5_server final : public eap_server_method {
 public:
  explicit md5_server(std::string_view name) : name_(name) {}
  std::uint8_t type() const noexcept override { return eap_md5_challenge; }

  void start(random_source& random, core::wire_writer& out) noexcept override {
    random.random_fill(challenge_);
    out.u8(static_cast<std::uint8_t>(challenge_.size()));  // Value-Size
    out.bytes(challenge_);
    out.bytes({reinterpret_cast<const std::uint8_t*>(name_.data()), name_.size()});
  }

  step on_response(std::uint8_t id, std::span<const std::uint8_t> data, core::wire_writer&) noexcept override {
    if (data.size() < 1 + response_.size() || data[0] != response_.size()) {
      return step::discard;
    }
    std::memcpy(response_.data(), data.data() + 1, response_.size());
    id_ = id;
    return step::need_secret;
  }

  step on_secret(bool found, std::string_view secret) noexcept override {
    if (!found) {
      return step::failure;
    }
    return chap_md5_response(id_, secret, challenge_) == response_ ? step::success : step::failure;
  }

 private:
  std::string name_;
  std::array<std::uint8_t, 16> challenge_{};
  chap_digest response_{};
  std::uint8_t id_ = 0;
};

class md5_peer final : public eap_peer_method {
 public:
  explicit md5_peer(std::string_view name) : name_(name) {}
  std::uint8_t type() const noexcept override { return eap_md5_challenge; }

  bool on_request(std::uint8_t id, std::span<const std::uint8_t> data, std::string_view secret,
                  core::wire_writer& out) noexcept override {
    if (data.empty() || data[0] == 0 || data.size() < 1u + data[0]) {
      return false;
    }
    const auto digest = chap_md5_response(id, secret, data.subspan(1, data[0]));
    out.u8(static_cast<std::uint8_t>(digest.size()));
    out.bytes(digest);
    out.bytes({reinterpret_cast<const std::uint8_t*>(name_.data()), name_.size()});
    return true;
  }

 private:
  std::string name_;
};

}  // namespace

std::unique_ptr<eap_server_method> make_eap_md5_server(std::string_view our_name) {
  return std::make_unique<md5_server>(our_name);
}

std::unique_ptr<eap_peer_method> make_eap_md5_peer(std::string_view our_name) {
  return std::make_unique<md5_peer>(our_name);
}

}  // namespace pptpkit::ppp
