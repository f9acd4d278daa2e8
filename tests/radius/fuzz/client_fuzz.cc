// libFuzzer target: the sans-IO RADIUS client driven by arbitrary input — submits, cancels, time passing,
// arbitrary datagrams from the servers' addresses and ports, and well-signed replies (of any code, with
// fuzzed attributes) to what the client last sent. Properties: no crash or assert; the outstanding count
// never passes max_outstanding; every result names a request that was submitted and not cancelled, once.
// The random source is a counter, so runs replay exactly.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <span>
#include <vector>

#include "pptpkit/radius/client.hpp"
#include "pptpkit/radius/codec.hpp"

namespace {

using namespace pptpkit::radius;

constexpr std::uint32_t servers[] = {0x0a000001, 0x0a000002};
constexpr std::uint32_t max_outstanding = 16;

struct input {
  std::span<const std::uint8_t> rest;
  bool empty() const { return rest.empty(); }
  std::uint8_t byte() {
    if (rest.empty()) {
      return 0;
    }
    const std::uint8_t b = rest[0];
    rest = rest.subspan(1);
    return b;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    n = std::min(n, rest.size());
    const auto out = rest.first(n);
    rest = rest.subspan(n);
    return out;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  client_config c;
  for (std::uint32_t a : servers) {
    server_config s;
    s.address = a;
    s.secret = "fuzz";
    s.priority = a == servers[0] ? 0u : 1u;
    c.servers.push_back(s);
  }
  c.timeout_ns = 1'000'000'000;
  c.tries = 2;
  c.max_outstanding = max_outstanding;
  std::uint64_t counter = 0;
  client cl(c, [&](std::span<std::uint8_t> out) {
    for (std::uint8_t& b : out) {
      b = static_cast<std::uint8_t>(++counter * 0x9d);
    }
  });

  input in{{data, size}};
  std::uint64_t now = 1'000'000'000;
  std::set<request_id> live;
  std::set<request_id> finished;
  datagram last;
  bool have_last = false;
  for (int op = 0; op < 256 && !in.empty(); ++op) {
    const std::uint8_t kind = in.byte();
    switch (kind % 5) {
      case 0: {  // submit an Access-Request (PAP) or an Accounting-Request
        request r;
        if ((kind & 0x10) != 0) {
          r.svc = service::acct;
          r.packet_code = code::accounting_request;
          r.attributes.push_back({0, attr::acct_status_type, {0, 0, 0, 1}});
          r.attributes.push_back({0, attr::acct_delay_time, {0, 0, 0, 0}});
        } else {
          r.user_password = "pw";
        }
        r.attributes.push_back({0, attr::user_name, {'u'}});
        if (const auto id = cl.submit(std::move(r), now)) {
          if (!live.insert(*id).second || finished.contains(*id)) {
            std::abort();  // an id is never reused
          }
        }
        break;
      }
      case 1:  // time passes
        now += std::uint64_t{in.byte()} * 100'000'000;
        cl.tick(now);
        break;
      case 2: {  // an arbitrary datagram from a server's address
        const std::uint32_t from = servers[in.byte() % 2];
        const std::uint16_t port = (in.byte() & 1) != 0 ? 1813 : 1812;
        const std::size_t n = std::size_t{in.byte()} << 4 | (in.byte() & 0x0f);
        cl.receive(from, port, in.take(n), now);
        break;
      }
      case 3: {  // a reply the server signed, to the last datagram sent: any code, fuzzed attributes
        if (!have_last) {
          break;
        }
        const auto q = parse(last.bytes);
        if (!q) {
          std::abort();  // the client sent something unparsable
        }
        packet_builder b(static_cast<code>(in.byte()), q->identifier());
        const std::uint8_t attributes = in.byte() % 4;
        for (std::uint8_t i = 0; i < attributes; ++i) {
          const std::uint8_t type = in.byte();
          if (type != attr::message_authenticator) {
            b.add(type, in.take(in.byte() % 32));
          }
        }
        cl.receive(last.address, last.port, b.finish_response("fuzz", q->header_authenticator()), now);
        break;
      }
      case 4:  // cancel one of the live requests
        if (!live.empty()) {
          auto it = live.begin();
          std::advance(it, in.byte() % live.size());
          cl.cancel(*it);
          finished.insert(*it);
          live.erase(it);
        }
        break;
    }
    datagram d;
    while (cl.poll_datagram(d)) {
      last = d;
      have_last = true;
    }
    result r;
    while (cl.poll_result(r)) {
      if (live.erase(r.id) != 1) {
        std::abort();  // a result for a request that is not live (cancelled, finished, or never submitted)
      }
      finished.insert(r.id);
    }
    if (cl.outstanding() > max_outstanding || cl.outstanding() != live.size()) {
      std::abort();
    }
  }
  return 0;
}
