// libFuzzer target: the stream framer over arbitrary bytes cut at arbitrary points. The first byte
// picks the cut size. Every message handed out must have a checked header and its own Length; the
// framer must stop for good at the first bad header; the same bytes fed whole must give the same result.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "pptpkit/control/framer.hpp"

namespace {

using pptpkit::control::header;
using pptpkit::control::header_status;
using pptpkit::control::stream_framer;

struct result {
  std::vector<std::vector<std::uint8_t>> messages;
  header_status status = header_status::ok;
};

result run(const std::uint8_t* data, std::size_t size, std::size_t cut) {
  stream_framer f;
  result r;
  for (std::size_t at = 0; at < size; at += cut) {
    const std::size_t n = cut < size - at ? cut : size - at;
    r.status = f.feed({data + at, n}, [&](std::span<const std::uint8_t> m) {
      if (m.size() < sizeof(header)) {
        std::abort();
      }
      const auto& h = *reinterpret_cast<const header*>(m.data());
      if (check_header(h) != header_status::ok || h.length.value() != m.size()) {
        std::abort();
      }
      r.messages.emplace_back(m.begin(), m.end());
      return true;
    });
    if (r.status != header_status::ok && f.failed() != r.status) {
      std::abort();
    }
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t cut = 1 + data[0] % 64;
  const result split = run(data + 1, size - 1, cut);
  const result whole = run(data + 1, size - 1, size);
  if (split.messages != whole.messages || split.status != whole.status) {
    std::abort();
  }
  return 0;
}
