// pptpkit/runtime/options.hpp — the daemon's settings and how the command line and --config fill them.
//
// `pptpkit server` is pptpd + pppd, `pptpkit client` is pptp-linux + pppd; option names follow theirs
// (localip/remoteip, ms-dns -> --dns, lcp-echo-interval -> --echo-interval, persist/maxfail/holdoff,
// defaultroute, ipparam-style hooks). A --config FILE holds the same options as "key value" lines;
// options given on the command line win over the file (a repeatable option given on the command line
// replaces the file's list). Errors name the option and the value:
//   "--remoteip '10.0.0.300-5': address range item '10.0.0.300-5': expected A.B.C.D, ..."
// Parsing throws option_error; nothing here touches the network.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pptpkit/runtime/platform.hpp"
#include "pptpkit/runtime/secrets.hpp"

namespace pptpkit::runtime {

class option_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where `pptpkit status` and the server meet unless --status-socket says otherwise.
inline constexpr const char* default_status_socket = "/run/pptpkit.sock";

enum class daemon_mode { server, client };

struct daemon_options {
  daemon_mode mode = daemon_mode::server;

  // Both roles.
  std::vector<std::string> auth{"mschapv2"};  // preference order; values pap, chap, mschapv2, eap
  // Secure by default, as Debian's pptpd options (require-mppe-128): a peer that refuses CCP gets no
  // cleartext tunnel unless the operator asks for one.
  std::string mppe = "required";  // required | optional | refused
  std::string mppe_bits = "128";
  bool mppe_stateful = false;
  std::uint32_t echo_interval_s = 30;  // pppd lcp-echo-interval (0 = off)
  std::uint32_t echo_failure = 4;      // pppd lcp-echo-failure
  std::string ifname;                  // server: prefix ("pptp"); client: full name ("pptp0")
  std::string plugin_dir;
  std::string ip_up;
  std::string ip_down;
  std::uint32_t log_level = 5;    // PPTPKIT_LOG_NOTICE
  std::uint32_t packet_pool = 0;  // data-path packets; 0 = 8192 (server) / 2048 (client). Not an option.

  // Server.
  endpoint listen{0, 1723};
  std::uint32_t localip = 0;
  std::vector<address_range> remoteip;
  std::string secrets_path;
  std::vector<std::uint32_t> dns;  // at most 2
  // What an unauthenticated peer may hold (runtime/DESIGN.md, "Bounds"; pptpkit/runtime/admission.hpp).
  std::uint32_t max_connections = 100;           // pptpd connections
  std::uint32_t max_connections_per_source = 8;  // from one IPv4 address (NAT: several users behind one)
  std::uint32_t max_pending_connections = 64;    // not through the SCCRQ/SCCRP handshake yet
  std::uint32_t max_calls_per_connection = 4;    // a PAC's calls on one control connection
  std::uint32_t handshake_timeout_s = 10;        // SCCRQ/SCCRP done by then, or closed
  std::uint32_t auth_timeout_s = 30;             // a call authenticated by then, or cleared
  // RADIUS (runtime/src/radius.cc): with a server given, logins are verified by RADIUS instead of the
  // secrets file (the NAS never sees a password), sessions are accounted, and Disconnect/CoA requests
  // are taken from the configured clients (RFC 5176).
  struct radius_server {
    std::uint32_t address = 0;
    std::uint16_t auth_port = 1812;
    std::uint16_t acct_port = 1813;
  };
  std::vector<radius_server> radius_servers;  // in order of priority (the first one alive is asked)
  std::string radius_secrets_path;            // "SECRET" (every server) or "ADDR SECRET" lines
  std::uint32_t radius_timeout_s = 3;         // first retransmission; doubled for each next one
  std::uint32_t radius_tries = 3;             // transmissions to one server before the next is asked
  std::uint32_t radius_dead_time_s = 30;      // a server that failed is not asked for this long
  bool radius_accounting = true;
  std::uint32_t radius_interim_s = 0;  // Interim-Update interval when Access-Accept names none (0: none)
  std::string nas_identifier = "pptpkit";
  std::uint32_t nas_ip = 0;                // NAS-IP-Address; 0 = --listen's address (none when that is 0.0.0.0)
  std::optional<endpoint> dae_listen;      // Disconnect/CoA listener (RFC 5176; port 3799)
  std::vector<std::uint32_t> dae_clients;  // who may send them (secret from radius_secrets_path)
  std::map<std::string, std::vector<address_range>> pools;  // named pools for Framed-Pool
  std::vector<std::string> filters;  // --filter NAME:KEY=VALUE,...: what a Filter-Id changes (radius_nas.hpp)
  bool radius() const { return !radius_servers.empty(); }

  std::string run_as_user;
  std::string status_socket = default_status_socket;

  // Client.
  endpoint server{0, 1723};
  std::string user;
  std::string password;  // from --password-file or PPTPKIT_PASSWORD, never from the command line
  bool defaultroute = false;
  std::vector<cidr> routes;
  bool persist = false;
  std::uint32_t maxfail = 10;    // pppd: 0 = no limit
  std::uint32_t holdoff_s = 30;  // pppd's default
  bool usepeerdns = true;        // report the DNS servers the server gives (ip-up gets DNS1/DNS2)
};

// Parses the arguments after "server" / "client". `env_password` is PPTPKIT_PASSWORD (nullptr when
// unset). Throws option_error.
daemon_options parse_daemon_options(daemon_mode mode, const std::vector<std::string>& args, const char* env_password,
                                    const std::string& default_plugin_dir);

// "ADDR[:PORT]" -> endpoint (port defaults to `default_port`); throws option_error naming `option`.
endpoint parse_endpoint(const std::string& option, const std::string& value, std::uint16_t default_port);

std::string help_text();
std::string server_help_text();
std::string client_help_text();

}  // namespace pptpkit::runtime
