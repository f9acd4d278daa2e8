#include "pptpkit/runtime/interface_names.hpp"

namespace pptpkit::runtime {

std::string interface_units::client_name(const std::string& name, std::uint32_t attempt) {
  if (attempt == 0) {
    return name;
  }
  std::size_t digits = name.size();
  while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') {
    --digits;
  }
  // At most 9 digits are read, so the number fits; longer runs keep their leading digits as text.
  if (name.size() - digits > 9) {
    digits = name.size() - 9;
  }
  const std::uint32_t base = digits < name.size() ? static_cast<std::uint32_t>(std::stoul(name.substr(digits))) : 0;
  return name.substr(0, digits) + std::to_string(base + attempt);
}

std::int32_t interface_units::lowest_free() const {
  return next_free(-1);
}

std::int32_t interface_units::next_free(std::int32_t unit) const {
  std::int32_t u = unit + 1;
  while (units_.contains(u)) {
    ++u;
  }
  return u;
}

}  // namespace pptpkit::runtime
