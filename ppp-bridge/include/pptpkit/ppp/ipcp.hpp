// pptpkit/ppp/ipcp.hpp — IPCP (RFC 1332) with the Microsoft DNS/NBNS options (RFC 1877), as an
// fsm_handler.
//
// Server: asks for its own address; Naks the peer's IP-Address (pppd asks 0.0.0.0) with the one the
// host assigned; hands DNS/NBNS out by Nak when the peer asks for them (rejects them when it has
// none). Client: asks for 0.0.0.0 (or a configured address) and DNS1/DNS2, adopts what the server
// Naks with, and accepts the server's own address. Both reject IP-Compression-Protocol (VJ, §4.2),
// which PPTP links never use, and every option they do not know.
#pragma once

#include <cstdint>

#include "pptpkit/ppp/fsm.hpp"
#include "pptpkit/ppp/layer.hpp"

namespace pptpkit::ppp {

enum ipcp_option : std::uint8_t {
  ipcp_opt_addresses = 1,    // RFC 1332 §3.1, deprecated
  ipcp_opt_compression = 2,  // RFC 1332 §3.2
  ipcp_opt_address = 3,      // RFC 1332 §3.3
  ipcp_opt_dns1 = 129,       // RFC 1877 §1.1
  ipcp_opt_nbns1 = 130,      // RFC 1877 §1.2
  ipcp_opt_dns2 = 131,       // RFC 1877 §1.3
  ipcp_opt_nbns2 = 132,      // RFC 1877 §1.4
};

struct ipcp_config {
  bool server = false;
  std::uint32_t local = 0;   // host order; client: 0 = ask the server
  std::uint32_t remote = 0;  // server: the address assigned to the peer
  std::uint32_t dns[2] = {0, 0};
  std::uint32_t nbns[2] = {0, 0};
};

struct ipcp_result {
  std::uint32_t local = 0;
  std::uint32_t remote = 0;
  std::uint32_t dns[2] = {0, 0};  // client: what the server gave us
};

class ipcp_handler final : public fsm_handler {
 public:
  ipcp_handler(layer_events& events, ipcp_config config) noexcept : events_(events), config_(config) {}

  const ipcp_result& result() const noexcept { return result_; }
  // Server: a per-user address (chap-secrets' fourth column) that replaces the configured one.
  void set_remote(std::uint32_t remote) noexcept { config_.remote = remote; }
  // Server: per-user DNS servers (RADIUS MS-Primary/Secondary-DNS-Server) that replace the configured.
  void set_dns(std::uint32_t index, std::uint32_t address) noexcept { config_.dns[index & 1] = address; }

  void reset_options() noexcept override;
  void build_request(core::wire_writer& out) noexcept override;
  void judge_begin() noexcept override;
  verdict judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                       core::wire_writer& nak_out) noexcept override;
  void judge_missing(core::wire_writer& nak_out) noexcept override;
  void on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept override;
  void on_reject_option(std::uint8_t type) noexcept override;
  void this_layer_up() noexcept override { events_.layer_up(proto_ipcp); }
  void this_layer_down() noexcept override { events_.layer_down(proto_ipcp); }
  void this_layer_finished() noexcept override { events_.layer_finished(proto_ipcp); }

 private:
  layer_events& events_;
  ipcp_config config_;
  ipcp_result result_;
  bool want_address_ = true;
  bool want_dns_[2] = {false, false};
  bool peer_sent_address_ = false;
};

class ipv6cp_handler final : public fsm_handler {
 public:
  static constexpr std::uint8_t opt_interface_id = 1;  // RFC 5072 §4.1

  ipv6cp_handler(layer_events& events, random_source& random) noexcept : events_(events), random_(random) {}

  std::uint64_t local_id() const noexcept { return local_id_; }
  std::uint64_t remote_id() const noexcept { return remote_id_; }

  void reset_options() noexcept override;
  void build_request(core::wire_writer& out) noexcept override;
  void judge_begin() noexcept override { remote_id_ = 0; }
  verdict judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                       core::wire_writer& nak_out) noexcept override;
  void on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept override;
  void on_reject_option(std::uint8_t type) noexcept override;
  void this_layer_up() noexcept override { events_.layer_up(proto_ipv6cp); }
  void this_layer_down() noexcept override { events_.layer_down(proto_ipv6cp); }
  void this_layer_finished() noexcept override { events_.layer_finished(proto_ipv6cp); }

 private:
  std::uint64_t new_id() noexcept;

  layer_events& events_;
  random_source& random_;
  std::uint64_t local_id_ = 0;
  std::uint64_t remote_id_ = 0;
  bool want_id_ = true;
};

}  // namespace pptpkit::ppp
