#include "pptpkit/ppp/ipcp.hpp"

namespace pptpkit::ppp {

namespace {

std::uint32_t read_u32(std::span<const std::uint8_t> v) noexcept {
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) | v[3];
}

void write_address_option(core::wire_writer& out, std::uint8_t type, std::uint32_t addr) noexcept {
  out.u8(type);
  out.u8(6);
  out.u32(addr);
}

int dns_slot(std::uint8_t type) noexcept {
  return type == ipcp_opt_dns1 ? 0 : type == ipcp_opt_dns2 ? 1 : -1;
}

}  // namespace

void ipcp_handler::reset_options() noexcept {
  result_ = {};
  result_.local = config_.local;
  want_address_ = true;
  // Client: ask for the DNS servers as pppd's usepeerdns does (RFC 1877 §1.1, §1.3).
  want_dns_[0] = want_dns_[1] = !config_.server;
}

void ipcp_handler::build_request(core::wire_writer& out) noexcept {
  if (want_address_) {
    write_address_option(out, ipcp_opt_address, result_.local);  // RFC 1332 §3.3
  }
  if (want_dns_[0]) {
    write_address_option(out, ipcp_opt_dns1, result_.dns[0]);
  }
  if (want_dns_[1]) {
    write_address_option(out, ipcp_opt_dns2, result_.dns[1]);
  }
}

void ipcp_handler::judge_begin() noexcept {
  peer_sent_address_ = false;
}

verdict ipcp_handler::judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                                   core::wire_writer& nak_out) noexcept {
  switch (type) {
    case ipcp_opt_address: {  // RFC 1332 §3.3
      if (value.size() != 4) {
        return verdict::reject;
      }
      peer_sent_address_ = true;
      const std::uint32_t addr = read_u32(value);
      if (config_.server && config_.remote != 0) {
        if (addr != config_.remote) {  // 0.0.0.0 asks us for one; any other is not the assigned one
          write_address_option(nak_out, ipcp_opt_address, config_.remote);
          return verdict::nak;
        }
        result_.remote = addr;
        return verdict::ack;
      }
      if (addr == 0) {  // the peer wants an address from us and we have none for it
        return verdict::reject;
      }
      result_.remote = addr;
      return verdict::ack;
    }
    case ipcp_opt_dns1:
    case ipcp_opt_dns2:
    case ipcp_opt_nbns1:
    case ipcp_opt_nbns2: {  // RFC 1877: the peer asks us for a server address
      if (value.size() != 4 || !config_.server) {
        return verdict::reject;
      }
      const bool dns = type == ipcp_opt_dns1 || type == ipcp_opt_dns2;
      const int slot = (type == ipcp_opt_dns1 || type == ipcp_opt_nbns1) ? 0 : 1;
      const std::uint32_t ours = dns ? config_.dns[slot] : config_.nbns[slot];
      if (ours == 0) {
        return verdict::reject;  // §1: nothing to give, so the option is rejected
      }
      if (read_u32(value) != ours) {
        write_address_option(nak_out, type, ours);
        return verdict::nak;
      }
      return verdict::ack;
    }
    case ipcp_opt_compression:  // RFC 1332 §3.2: VJ header compression is not offered
    case ipcp_opt_addresses:    // RFC 1332 §3.1: deprecated
    default:
      return verdict::reject;
  }
}

void ipcp_handler::judge_missing(core::wire_writer& nak_out) noexcept {
  // RFC 1332 §3.3: a server may tell a peer that sent no IP-Address which one it gets.
  if (config_.server && config_.remote != 0 && !peer_sent_address_) {
    write_address_option(nak_out, ipcp_opt_address, config_.remote);
  }
}

void ipcp_handler::on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept {
  if (value.size() != 4) {
    return;
  }
  const std::uint32_t addr = read_u32(value);
  if (type == ipcp_opt_address) {
    // Client: the address the server assigns. Server: our address is configured, keep it.
    if (!config_.server && addr != 0) {
      result_.local = addr;
    }
    return;
  }
  if (const int slot = dns_slot(type); slot >= 0 && want_dns_[slot]) {
    result_.dns[slot] = addr;
  }
}

void ipcp_handler::on_reject_option(std::uint8_t type) noexcept {
  if (type == ipcp_opt_address) {
    want_address_ = false;
  } else if (const int slot = dns_slot(type); slot >= 0) {
    want_dns_[slot] = false;
    result_.dns[slot] = 0;
  }
}

// ---- IPV6CP (RFC 5072) ----

std::uint64_t ipv6cp_handler::new_id() noexcept {
  std::uint64_t id = 0;
  while (id == 0) {  // RFC 5072 §4.1: zero is not a valid interface identifier
    id = (std::uint64_t{random_.random_u32()} << 32) | random_.random_u32();
  }
  return id;
}

void ipv6cp_handler::reset_options() noexcept {
  want_id_ = true;
  local_id_ = new_id();
}

void ipv6cp_handler::build_request(core::wire_writer& out) noexcept {
  if (want_id_) {
    out.u8(opt_interface_id);
    out.u8(10);
    out.u32(static_cast<std::uint32_t>(local_id_ >> 32));
    out.u32(static_cast<std::uint32_t>(local_id_));
  }
}

verdict ipv6cp_handler::judge_option(std::uint8_t type, std::span<const std::uint8_t> value,
                                     core::wire_writer& nak_out) noexcept {
  if (type != opt_interface_id || value.size() != 8) {
    return verdict::reject;  // RFC 5072 §4: only the Interface-Identifier is implemented
  }
  std::uint64_t id = 0;
  for (std::uint8_t b : value) {
    id = (id << 8) | b;
  }
  // RFC 5072 §4.1: a zero identifier, or one equal to ours, is Nak'd with a fresh unique one.
  if (id == 0 || id == local_id_) {
    std::uint64_t suggestion = new_id();
    while (suggestion == local_id_) {
      suggestion = new_id();
    }
    nak_out.u8(opt_interface_id);
    nak_out.u8(10);
    nak_out.u32(static_cast<std::uint32_t>(suggestion >> 32));
    nak_out.u32(static_cast<std::uint32_t>(suggestion));
    return verdict::nak;
  }
  remote_id_ = id;
  return verdict::ack;
}

void ipv6cp_handler::on_nak_option(std::uint8_t type, std::span<const std::uint8_t> value) noexcept {
  if (type != opt_interface_id || value.size() != 8) {
    return;
  }
  std::uint64_t id = 0;
  for (std::uint8_t b : value) {
    id = (id << 8) | b;
  }
  // RFC 5072 §4.1: adopt the peer's suggestion unless it is unusable, else pick another ourselves.
  local_id_ = (id != 0 && id != remote_id_) ? id : new_id();
}

void ipv6cp_handler::on_reject_option(std::uint8_t type) noexcept {
  if (type == opt_interface_id) {
    want_id_ = false;
  }
}

}  // namespace pptpkit::ppp
