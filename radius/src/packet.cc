// parse() and packet_view: the length checks that make a view safe to walk (RFC 2865 §3, §5, §5.26).
#include <cstring>

#include "pptpkit/radius/codec.hpp"

namespace pptpkit::radius {

namespace {

// RFC 2865 §5.26: Vendor-Id(4) then, in the recommended format, TLVs of type(1) length(1 ≥ 2) value that
// tile the rest exactly. Calls f for each when they do; returns false (and calls nothing) when not.
template <class F>
bool walk_vendor(std::span<const std::uint8_t> value, F&& f) {
  if (value.size() < 4 + 2) {
    return false;
  }
  const std::uint32_t vendor =
      (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) | (std::uint32_t{value[2]} << 8) | value[3];
  std::size_t at = 4;
  while (at < value.size()) {
    if (value.size() - at < 2 || value[at + 1] < 2 || value[at + 1] > value.size() - at) {
      return false;
    }
    at += value[at + 1];
  }
  for (at = 4; at < value.size(); at += value[at + 1]) {
    f(vendor_attribute_view{vendor, value[at], value.subspan(at + 2, value[at + 1] - 2u)});
  }
  return true;
}

}  // namespace

std::optional<packet_view> parse(std::span<const std::uint8_t> bytes, parse_error* why) noexcept {
  auto fail = [why](parse_error e) -> std::optional<packet_view> {
    if (why != nullptr) {
      *why = e;
    }
    return std::nullopt;
  };
  const header* h = core::view<header>(bytes);
  if (h == nullptr) {
    return fail(parse_error::too_short);
  }
  const std::size_t length = h->length.value();
  if (length < header_length) {
    return fail(parse_error::too_short);
  }
  if (length > max_packet_length) {
    return fail(parse_error::too_long);
  }
  if (length > bytes.size()) {
    return fail(parse_error::truncated);
  }
  bytes = bytes.first(length);  // RFC 2865 §3: octets beyond Length are padding, ignored
  packet_view v;
  v.bytes_ = bytes;
  for (std::size_t at = header_length; at < length;) {
    if (length - at < 2 || bytes[at + 1] < 2 || bytes[at + 1] > length - at) {
      return fail(parse_error::bad_attribute_length);
    }
    if (bytes[at] == attr::vendor_specific && !walk_vendor(bytes.subspan(at + 2, bytes[at + 1] - 2u), [](auto) {})) {
      ++v.malformed_vendor_;
    }
    at += bytes[at + 1];
  }
  return v;
}

authenticator packet_view::header_authenticator() const noexcept {
  authenticator a;
  std::memcpy(a.data(), bytes_.data() + 4, a.size());
  return a;
}

std::optional<attribute_view> packet_view::find(std::uint8_t type) const noexcept {
  for (attribute_view a : *this) {
    if (a.type == type) {
      return a;
    }
  }
  return std::nullopt;
}

std::vector<attribute_view> packet_view::find_all(std::uint8_t type) const {
  std::vector<attribute_view> out;
  for (attribute_view a : *this) {
    if (a.type == type) {
      out.push_back(a);
    }
  }
  return out;
}

std::vector<vendor_attribute_view> packet_view::vendor_attributes() const {
  std::vector<vendor_attribute_view> out;
  for (attribute_view a : *this) {
    if (a.type == attr::vendor_specific) {
      walk_vendor(a.value, [&out](vendor_attribute_view v) { out.push_back(v); });
    }
  }
  return out;
}

std::optional<vendor_attribute_view> packet_view::find_vendor(std::uint32_t vendor, std::uint8_t type) const {
  for (const vendor_attribute_view& v : vendor_attributes()) {
    if (v.vendor == vendor && v.type == type) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<vendor_attribute_view> packet_view::find_all_vendor(std::uint32_t vendor, std::uint8_t type) const {
  std::vector<vendor_attribute_view> out;
  for (const vendor_attribute_view& v : vendor_attributes()) {
    if (v.vendor == vendor && v.type == type) {
      out.push_back(v);
    }
  }
  return out;
}

std::optional<std::uint32_t> value_u32(std::span<const std::uint8_t> value) noexcept {
  if (value.size() != 4) {
    return std::nullopt;
  }
  return (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) | (std::uint32_t{value[2]} << 8) | value[3];
}

std::string value_string(std::span<const std::uint8_t> value) {
  return std::string(reinterpret_cast<const char*>(value.data()), value.size());
}

}  // namespace pptpkit::radius
