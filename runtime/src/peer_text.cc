#include "pptpkit/runtime/peer_text.hpp"

namespace pptpkit::runtime::peer_text {

namespace {

template <typename Keep>
std::string escape(std::string_view s, Keep keep) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (keep(b) && b != '\\') {
      out.push_back(ch);
      continue;
    }
    out += "\\x";
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xf]);
  }
  return out;
}

}  // namespace

std::string field(std::string_view s) {
  return escape(s, [](unsigned char b) { return b > 0x20 && b < 0x7f; });
}

std::string line(std::string_view s) {
  return escape(s, [](unsigned char b) { return b >= 0x20 && b != 0x7f; });
}

}  // namespace pptpkit::runtime::peer_text
