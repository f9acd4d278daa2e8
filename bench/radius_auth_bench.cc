// Logins per second through RADIUS beside the same logins against a local chap-secrets file, measured
// in the same run (the "authentications per second through the RADIUS path").
//
//   baseline_login_local_chap_secrets   what the server does per MS-CHAPv2 login without RADIUS: the
//                                       chap-secrets lookup among the users (runtime/src/sessions.cc),
//                                       the expected NT-Response compared, the authenticator response
//                                       and the MPPE start keys (ppp-bridge/src/auth.cc)
//   login_radius_mschapv2/W             the same logins as the NAS makes them: access_request() from the
//                                       plugin's AUTH_VERIFY data, the sans-IO radius::client, a UDP
//                                       socket to a real FreeRADIUS, W requests kept in flight, every
//                                       Access-Accept parsed with its MS-MPPE keys decrypted and its
//                                       MS-CHAP2-Success checked, as runtime/src/radius.cc does
//   login_radius_pap/W                  the same for PAP (User-Password hidden per request)
//
// The RADIUS benchmarks need a server: PPTPKIT_BENCH_RADIUS=ADDRESS:PORT (its auth port),
// PPTPKIT_BENCH_RADIUS_SECRET, and users bench0..bench<N-1> (PPTPKIT_BENCH_RADIUS_USERS, default 1000)
// whose password is "bench-password". bench/radius/run starts such a FreeRADIUS on loopback and runs
// this program; without the variables (scripts/bench) the RADIUS benchmarks are skipped. Before timing,
// one login is checked end to end: the server's MS-CHAP2-Success and MS-MPPE-Send-Key must be the ones
// computed here, so a figure is never that of a misconfigured server.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pptpkit/ppp.h"
#include "pptpkit/ppp/crypto.hpp"
#include "pptpkit/ppp/mppe_keys.hpp"
#include "pptpkit/radius/accept.hpp"
#include "pptpkit/radius/client.hpp"
#include "pptpkit/runtime/radius_nas.hpp"
#include "pptpkit/runtime/secrets.hpp"

namespace {

using namespace pptpkit;
using namespace pptpkit::ppp;

constexpr std::string_view password = "bench-password";
constexpr std::size_t mschapv2_data_size = 66;  // pptpkit/ppp.h, EVENT_AUTH_VERIFY

std::size_t user_count() {
  const char* n = std::getenv("PPTPKIT_BENCH_RADIUS_USERS");
  const long v = n != nullptr ? std::strtol(n, nullptr, 10) : 0;
  return v > 0 ? static_cast<std::size_t>(v) : 1000;
}

// One peer's answer to our challenge, as the plugin hands it to the host (pptpkit/ppp.h).
struct login {
  std::string user;
  challenge16 authenticator_challenge{};
  challenge16 peer_challenge{};
  nt_response_t nt_response{};
  std::array<std::uint8_t, mschapv2_data_size> data{};  // [0] id, challenge, peer challenge, 8 zero, NT, flags
};

// The peers' side, computed once: one login per user, the challenges seeded.
const std::vector<login>& logins() {
  static const std::vector<login> all = [] {
    std::mt19937 rng(2637);
    std::vector<login> out(user_count());
    for (std::size_t i = 0; i < out.size(); ++i) {
      login& l = out[i];
      l.user = "bench" + std::to_string(i);
      for (auto& b : l.authenticator_challenge) {
        b = static_cast<std::uint8_t>(rng());
      }
      for (auto& b : l.peer_challenge) {
        b = static_cast<std::uint8_t>(rng());
      }
      l.nt_response = mschapv2_nt_response(l.authenticator_challenge, l.peer_challenge, l.user, password);
      l.data[0] = static_cast<std::uint8_t>(i);
      std::copy(l.authenticator_challenge.begin(), l.authenticator_challenge.end(), l.data.begin() + 1);
      std::copy(l.peer_challenge.begin(), l.peer_challenge.end(), l.data.begin() + 17);
      std::copy(l.nt_response.begin(), l.nt_response.end(), l.data.begin() + 41);
    }
    return out;
  }();
  return all;
}

void baseline_login_local_chap_secrets(benchmark::State& state) {
  const std::vector<login>& all = logins();
  std::string text;
  for (const login& l : all) {
    text += l.user + " * " + std::string(password) + " *\n";
  }
  const runtime::chap_secrets secrets = runtime::chap_secrets::parse(text);
  std::size_t next = 0;
  std::int64_t accepted = 0;
  for (auto _ : state) {
    const login& l = all[next++ % all.size()];
    // runtime/src/sessions.cc answer_login: "pptpkit", else an entry that names "pptpd".
    const runtime::secret_entry* e = secrets.find(l.user, "pptpkit");
    if (e == nullptr || e->server == "*") {
      if (const runtime::secret_entry* alt = secrets.find(l.user, "pptpd"); alt != nullptr && alt->server == "pptpd") {
        e = alt;
      }
    }
    // ppp-bridge/src/auth.cc, MS-CHAPv2 with the secret.
    challenge16 peer_challenge;
    nt_response_t nt;
    std::memcpy(peer_challenge.data(), l.data.data() + 17, 16);
    std::memcpy(nt.data(), l.data.data() + 41, 24);
    const std::string_view user = mschap_bare_user_name(l.user);
    if (e == nullptr || mschapv2_nt_response(l.authenticator_challenge, peer_challenge, user, e->secret) != nt) {
      state.SkipWithError("a local login failed");
      break;
    }
    const auto success =
        mschapv2_authenticator_response(e->secret, nt, peer_challenge, l.authenticator_challenge, user);
    const auto keys = mppe_derive_start_keys(mppe_role::server, hash_nt_password_hash(nt_password_hash(e->secret)), nt);
    benchmark::DoNotOptimize(success);
    benchmark::DoNotOptimize(keys);
    ++accepted;
  }
  state.SetItemsProcessed(accepted);
}
BENCHMARK(baseline_login_local_chap_secrets);

// Where the RADIUS server is, from the environment; `why` says what is missing.
struct radius_target {
  std::uint32_t address = 0;  // host order
  std::uint16_t port = 0;
  std::string secret;
};

std::optional<radius_target> target_from_env(std::string& why) {
  const char* where = std::getenv("PPTPKIT_BENCH_RADIUS");
  const char* secret = std::getenv("PPTPKIT_BENCH_RADIUS_SECRET");
  if (where == nullptr || secret == nullptr) {
    why = "no PPTPKIT_BENCH_RADIUS(_SECRET): bench/radius/run starts a FreeRADIUS for it";
    return std::nullopt;
  }
  const std::string_view text(where);
  const auto colon = text.rfind(':');
  const auto address = runtime::parse_ipv4(text.substr(0, colon));
  const long port = colon == std::string_view::npos ? 0 : std::strtol(where + colon + 1, nullptr, 10);
  if (!address || port <= 0 || port > 65535) {
    why = "PPTPKIT_BENCH_RADIUS is not ADDRESS:PORT";
    return std::nullopt;
  }
  return radius_target{*address, static_cast<std::uint16_t>(port), secret};
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// The NAS's side: a radius::client over one UDP socket connected to the server, driven until a result.
class nas {
 public:
  explicit nas(const radius_target& t) : target_(t), client_(config(t), random()) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(t.address);
    to.sin_port = htons(t.port);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      error_ = std::string("UDP socket: ") + std::strerror(errno);
    }
  }
  ~nas() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  nas(const nas&) = delete;
  nas& operator=(const nas&) = delete;

  // What the engine does when the plugin asks to verify a login (runtime/src/radius.cc radius_verify).
  bool submit(std::uint32_t protocol, std::span<const std::uint8_t> data, const std::string& user) {
    ++sessions_;
    const runtime::nas_session s{sessions_ & 0xffff, runtime::make_acct_session_id(0x2637, sessions_), 0x7f000002,
                                 target_.address};
    auto r = runtime::access_request(protocol, data, user, identity_, s, {});
    return r && client_.submit(std::move(*r), now_ns()).has_value();
  }

  // Sends what the client queued and feeds it replies until a result is ready; false (with error())
  // when the socket fails (ECONNREFUSED: nothing listens at the address).
  bool wait(radius::result& out) {
    while (!client_.poll_result(out)) {
      radius::datagram d;
      while (client_.poll_datagram(d)) {
        if (::send(fd_, d.bytes.data(), d.bytes.size(), 0) < 0 && errno != EAGAIN) {
          return fail("send");
        }
      }
      const std::uint64_t now = now_ns();
      const std::uint64_t deadline = client_.next_deadline();
      const int ms =
          deadline <= now ? 0 : static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1000000 + 1, 1000));
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) < 0 && errno != EINTR) {
        return fail("poll");
      }
      for (;;) {
        const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) {
            break;
          }
          return fail("recv");
        }
        client_.receive(target_.address, target_.port, {buffer_.data(), static_cast<std::size_t>(n)}, now_ns());
      }
      client_.tick(now_ns());
    }
    return true;
  }

  const std::string& error() const { return error_; }
  const std::string& secret() const { return target_.secret; }
  const radius::server_stats& stats() const { return client_.stats()[0]; }

 private:
  static radius::client_config config(const radius_target& t) {
    radius::client_config c;
    radius::server_config s;
    s.address = t.address;
    s.auth_port = t.port;
    s.acct_port = static_cast<std::uint16_t>(t.port + 1);
    s.secret = t.secret;
    c.servers.push_back(s);
    return c;
  }
  static radius::client::random_source random() {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [rng](std::span<std::uint8_t> out) {
      for (auto& b : out) {
        b = static_cast<std::uint8_t>((*rng)());
      }
    };
  }
  bool fail(const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  radius_target target_;
  radius::client client_;
  runtime::nas_identity identity_{"pptpkit-bench", 0x7f000001};
  std::uint32_t sessions_ = 0;
  int fd_ = -1;
  std::string error_;
  std::array<std::uint8_t, 4096> buffer_{};
};

// What the NAS takes from an Access-Accept (runtime/src/radius.cc radius_auth_result): the
// authorization with the MPPE keys decrypted; MS-CHAPv2 needs the 42-character MS-CHAP2-Success.
std::optional<radius::authorization> accepted(const radius::result& r, const std::string& secret, bool mschapv2) {
  const auto view = radius::parse(r.reply);
  if (r.what != radius::outcome::accept || !view) {
    return std::nullopt;
  }
  radius::authorization a = radius::parse_authorization(*view, secret, r.request_authenticator);
  if (mschapv2 && (a.mschap2_success.size() != 42 || !a.mppe_send_key || !a.mppe_recv_key)) {
    return std::nullopt;
  }
  return a;
}

const char* outcome_name(radius::outcome o) {
  switch (o) {
    case radius::outcome::accept:
      return "Access-Accept";
    case radius::outcome::reject:
      return "Access-Reject";
    case radius::outcome::challenge:
      return "Access-Challenge";
    case radius::outcome::timeout:
      return "no answer";
    default:
      return "an unexpected reply";
  }
}

// The request data of login i for a protocol.
std::span<const std::uint8_t> data_of(std::uint32_t protocol, const login& l) {
  if (protocol == PPTPKIT_PPP_AUTH_PAP) {
    return {reinterpret_cast<const std::uint8_t*>(password.data()), password.size()};
  }
  return l.data;
}

// One login, untimed, checked against what this side computes; the reason when it does not hold.
std::optional<std::string> check_one(nas& n, std::uint32_t protocol) {
  const login& l = logins()[0];
  radius::result r;
  if (!n.submit(protocol, data_of(protocol, l), l.user)) {
    return "the client refused the request";
  }
  if (!n.wait(r)) {
    return "no RADIUS server at PPTPKIT_BENCH_RADIUS (" + n.error() + ")";
  }
  const bool mschapv2 = protocol == PPTPKIT_PPP_AUTH_MSCHAP_V2;
  const auto a = accepted(r, n.secret(), mschapv2);
  if (!a) {
    return std::string(outcome_name(r.what)) + " for " + l.user + " (users bench0..: bench/radius/run)";
  }
  if (!mschapv2) {
    return std::nullopt;
  }
  const auto success =
      mschapv2_authenticator_response(password, l.nt_response, l.peer_challenge, l.authenticator_challenge, l.user);
  const auto keys =
      mppe_derive_start_keys(mppe_role::server, hash_nt_password_hash(nt_password_hash(password)), l.nt_response);
  if (a->mschap2_success != std::string_view(success.data(), success.size()) ||
      !std::equal(a->mppe_send_key->begin(), a->mppe_send_key->end(), keys.send.begin())) {
    return "the server's MS-CHAP2-Success or MS-MPPE-Send-Key is not RFC 2759/3079's";
  }
  return std::nullopt;
}

// Logins through RADIUS with state.range(0) requests in flight; one iteration is one completed login.
void login_radius(benchmark::State& state, std::uint32_t protocol) {
  std::string why;
  const auto target = target_from_env(why);
  if (!target) {
    state.SkipWithError(why.c_str());
    return;
  }
  nas n(*target);
  if (!n.error().empty()) {
    state.SkipWithError(n.error().c_str());
    return;
  }
  if (const auto wrong = check_one(n, protocol)) {
    state.SkipWithError(wrong->c_str());
    return;
  }
  const bool mschapv2 = protocol == PPTPKIT_PPP_AUTH_MSCHAP_V2;
  const std::vector<login>& all = logins();
  const auto window = static_cast<std::size_t>(state.range(0));
  std::size_t next = 1;
  auto submit = [&] {
    const login& l = all[next++ % all.size()];
    return n.submit(protocol, data_of(protocol, l), l.user);
  };
  for (std::size_t i = 0; i < window; ++i) {
    submit();
  }
  std::int64_t accepts = 0;
  radius::result r;
  for (auto _ : state) {
    if (!n.wait(r)) {
      state.SkipWithError(n.error().c_str());
      break;
    }
    if (const auto a = accepted(r, n.secret(), mschapv2)) {
      benchmark::DoNotOptimize(a->mppe_send_key);
      ++accepts;
    } else if (r.what != radius::outcome::timeout) {
      state.SkipWithError(outcome_name(r.what));
      break;
    }
    submit();
  }
  state.SetItemsProcessed(accepts);
  state.counters["retransmissions"] = static_cast<double>(n.stats().retransmissions);
  state.counters["timeouts"] = static_cast<double>(n.stats().timeouts);
}

void login_radius_mschapv2(benchmark::State& state) {
  login_radius(state, PPTPKIT_PPP_AUTH_MSCHAP_V2);
}
BENCHMARK(login_radius_mschapv2)->Arg(1)->Arg(32)->UseRealTime();

void login_radius_pap(benchmark::State& state) {
  login_radius(state, PPTPKIT_PPP_AUTH_PAP);
}
BENCHMARK(login_radius_pap)->Arg(1)->Arg(32)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
