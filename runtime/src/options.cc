#include "pptpkit/runtime/options.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "pptpkit/runtime/radius_nas.hpp"

namespace pptpkit::runtime {

namespace {

constexpr unsigned for_server = 1;
constexpr unsigned for_client = 2;
constexpr unsigned for_both = for_server | for_client;

struct option_spec {
  const char* name;
  bool takes_value;
  bool repeatable;
  unsigned modes;
  std::function<void(daemon_options&, const std::string&)> apply;
};

[[noreturn]] void bad(const std::string& option, const std::string& value, const std::string& why) {
  throw option_error("--" + option + " '" + value + "': " + why);
}

std::uint32_t number(const std::string& option, const std::string& value, std::uint32_t min, std::uint32_t max) {
  std::uint64_t n = 0;
  if (value.empty() || value.size() > 10) {
    bad(option, value, "expected a number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  for (char c : value) {
    if (c < '0' || c > '9') {
      bad(option, value, "expected a number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n < min || n > max) {
    bad(option, value, "expected a number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<std::uint32_t>(n);
}

std::uint32_t address(const std::string& option, const std::string& value) {
  const auto a = parse_ipv4(value);
  if (!a) {
    bad(option, value, "not an IPv4 address (expected A.B.C.D)");
  }
  return *a;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(sep, start);
    out.push_back(text.substr(start, at - start));
    if (at == std::string::npos) {
      break;
    }
    start = at + 1;
  }
  return out;
}

const std::vector<option_spec>& specs() {
  static const std::vector<option_spec> table = {
      {"listen", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.listen = parse_endpoint("listen", v, 1723); }},
      {"localip", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.localip = address("localip", v); }},
      {"remoteip", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         try {
           o.remoteip = parse_ranges(v);
         } catch (const parse_error& e) {
           bad("remoteip", v, e.what());
         }
       }},
      {"secrets", true, false, for_server, [](daemon_options& o, const std::string& v) { o.secrets_path = v; }},
      {"dns", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         o.dns.clear();
         for (const std::string& a : split(v, ',')) {
           o.dns.push_back(address("dns", a));
         }
         if (o.dns.size() > 2) {
           bad("dns", v, "at most two servers (RFC 1877 has a primary and a secondary)");
         }
       }},
      {"max-connections", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.max_connections = number("max-connections", v, 1, 65535); }},
      {"max-connections-per-source", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         o.max_connections_per_source = number("max-connections-per-source", v, 1, 65535);
       }},
      {"max-pending-connections", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         o.max_pending_connections = number("max-pending-connections", v, 1, 65535);
       }},
      {"max-calls-per-connection", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         o.max_calls_per_connection = number("max-calls-per-connection", v, 1, 65535);
       }},
      {"handshake-timeout", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.handshake_timeout_s = number("handshake-timeout", v, 1, 600); }},
      {"auth-timeout", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.auth_timeout_s = number("auth-timeout", v, 1, 600); }},
      {"radius-server", true, true, for_server,
       [](daemon_options& o, const std::string& v) {
         const std::vector<std::string> parts = split(v, ':');
         const auto a = parse_ipv4(parts[0]);
         if (!a || parts.size() > 3) {
           bad("radius-server", v, "expected ADDR[:AUTH-PORT[:ACCT-PORT]] with an IPv4 address");
         }
         daemon_options::radius_server r;
         r.address = *a;
         if (parts.size() > 1) {
           r.auth_port = static_cast<std::uint16_t>(number("radius-server", parts[1], 1, 65535));
           r.acct_port = static_cast<std::uint16_t>(r.auth_port + 1);
         }
         if (parts.size() > 2) {
           r.acct_port = static_cast<std::uint16_t>(number("radius-server", parts[2], 1, 65535));
         }
         o.radius_servers.push_back(r);
       }},
      {"radius-secrets", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.radius_secrets_path = v; }},
      {"radius-timeout", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.radius_timeout_s = number("radius-timeout", v, 1, 60); }},
      {"radius-tries", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.radius_tries = number("radius-tries", v, 1, 10); }},
      {"radius-dead-time", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.radius_dead_time_s = number("radius-dead-time", v, 0, 3600); }},
      {"radius-accounting", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         if (v != "yes" && v != "no") {
           bad("radius-accounting", v, "expected yes or no");
         }
         o.radius_accounting = v == "yes";
       }},
      {"radius-interim", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.radius_interim_s = number("radius-interim", v, 0, 86400); }},
      {"nas-identifier", true, false, for_server,
       [](daemon_options& o, const std::string& v) {
         if (v.empty() || v.size() > 253) {
           bad("nas-identifier", v, "1 to 253 characters");
         }
         o.nas_identifier = v;
       }},
      {"nas-ip-address", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.nas_ip = address("nas-ip-address", v); }},
      {"radius-dae", true, false, for_server,
       [](daemon_options& o, const std::string& v) { o.dae_listen = parse_endpoint("radius-dae", v, 3799); }},
      {"radius-dae-client", true, true, for_server,
       [](daemon_options& o, const std::string& v) { o.dae_clients.push_back(address("radius-dae-client", v)); }},
      {"filter", true, true, for_server,
       [](daemon_options& o, const std::string& v) {
         try {
           parse_filter_override(v);
         } catch (const parse_error& e) {
           bad("filter", v, e.what());
         }
         o.filters.push_back(v);
       }},
      {"pool", true, true, for_server,
       [](daemon_options& o, const std::string& v) {
         const std::size_t eq = v.find('=');
         if (eq == std::string::npos || eq == 0) {
           bad("pool", v, "expected NAME=RANGE, e.g. staff=10.1.0.10-99 (RADIUS Framed-Pool names it)");
         }
         try {
           o.pools[v.substr(0, eq)] = parse_ranges(v.substr(eq + 1));
         } catch (const parse_error& e) {
           bad("pool", v, e.what());
         }
       }},
      {"user", true, false, for_both,
       [](daemon_options& o, const std::string& v) {
         if (v.empty()) {
           bad("user", v, "must not be empty");
         }
         if (o.mode == daemon_mode::server) {
           o.run_as_user = v;
         } else {
           o.user = v;
         }
       }},
      {"status-socket", true, false, for_server, [](daemon_options& o, const std::string& v) { o.status_socket = v; }},
      {"server", true, false, for_client,
       [](daemon_options& o, const std::string& v) { o.server = parse_endpoint("server", v, 1723); }},
      {"password-file", true, false, for_client,
       [](daemon_options& o, const std::string& v) {
         try {
           o.password = read_first_line(v);
         } catch (const parse_error& e) {
           bad("password-file", v, e.what());
         }
       }},
      {"defaultroute", false, false, for_client, [](daemon_options& o, const std::string&) { o.defaultroute = true; }},
      {"route", true, true, for_client,
       [](daemon_options& o, const std::string& v) {
         try {
           o.routes.push_back(parse_cidr(v));
         } catch (const parse_error& e) {
           bad("route", v, e.what());
         }
       }},
      {"persist", false, false, for_client, [](daemon_options& o, const std::string&) { o.persist = true; }},
      {"maxfail", true, false, for_client,
       [](daemon_options& o, const std::string& v) { o.maxfail = number("maxfail", v, 0, 1000000); }},
      {"holdoff", true, false, for_client,
       [](daemon_options& o, const std::string& v) { o.holdoff_s = number("holdoff", v, 0, 86400); }},
      {"nopeerdns", false, false, for_client, [](daemon_options& o, const std::string&) { o.usepeerdns = false; }},
      {"auth", true, false, for_both,
       [](daemon_options& o, const std::string& v) {
         static const std::set<std::string> known{"pap", "chap", "mschapv2", "eap"};
         o.auth.clear();
         for (const std::string& a : split(v, ',')) {
           if (!known.contains(a)) {
             bad("auth", v, "unknown protocol '" + a + "' (choose from mschapv2,chap,pap,eap)");
           }
           o.auth.push_back(a);
         }
       }},
      {"mppe", true, false, for_both,
       [](daemon_options& o, const std::string& v) {
         if (v != "required" && v != "optional" && v != "refused") {
           bad("mppe", v, "expected required, optional or refused");
         }
         o.mppe = v;
       }},
      {"mppe-bits", true, false, for_both,
       [](daemon_options& o, const std::string& v) {
         for (const std::string& b : split(v, ',')) {
           if (b != "128" && b != "56" && b != "40") {
             bad("mppe-bits", v, "key lengths are 128, 56 and 40");
           }
         }
         o.mppe_bits = v;
       }},
      {"mppe-stateful", false, false, for_both, [](daemon_options& o, const std::string&) { o.mppe_stateful = true; }},
      {"echo-interval", true, false, for_both,
       [](daemon_options& o, const std::string& v) { o.echo_interval_s = number("echo-interval", v, 0, 3600); }},
      {"echo-failure", true, false, for_both,
       [](daemon_options& o, const std::string& v) { o.echo_failure = number("echo-failure", v, 1, 100); }},
      {"ifname", true, false, for_both,
       [](daemon_options& o, const std::string& v) {
         if (v.empty() || v.size() > 12 || v.find_first_of("/ \t%") != std::string::npos) {
           bad("ifname", v, "an interface name of 1-12 characters without '/', '%' or blanks");
         }
         o.ifname = v;
       }},
      {"plugin-dir", true, false, for_both, [](daemon_options& o, const std::string& v) { o.plugin_dir = v; }},
      {"ip-up", true, false, for_both, [](daemon_options& o, const std::string& v) { o.ip_up = v; }},
      {"ip-down", true, false, for_both, [](daemon_options& o, const std::string& v) { o.ip_down = v; }},
      {"log-level", true, false, for_both,
       [](daemon_options& o, const std::string& v) {
         static const std::map<std::string, std::uint32_t> levels{
             {"error", 3}, {"warning", 4}, {"notice", 5}, {"info", 6}, {"debug", 7}};
         const auto it = levels.find(v);
         if (it == levels.end()) {
           bad("log-level", v, "expected error, warning, notice, info or debug");
         }
         o.log_level = it->second;
       }},
  };
  return table;
}

const option_spec* find_spec(const std::string& name) {
  for (const option_spec& s : specs()) {
    if (name == s.name) {
      return &s;
    }
  }
  return nullptr;
}

struct given {
  const option_spec* spec;
  std::string value;
};

const char* mode_name(daemon_mode m) {
  return m == daemon_mode::server ? "server" : "client";
}

const option_spec& check(daemon_mode mode, const std::string& name, const std::string& where) {
  const option_spec* spec = find_spec(name);
  if (spec == nullptr) {
    throw option_error(where + "unknown option --" + name + " (see pptpkit " + mode_name(mode) + " --help)");
  }
  if ((spec->modes & (mode == daemon_mode::server ? for_server : for_client)) == 0) {
    throw option_error(where + "--" + name + " is not an option of pptpkit " + mode_name(mode));
  }
  return *spec;
}

}  // namespace

endpoint parse_endpoint(const std::string& option, const std::string& value, std::uint16_t default_port) {
  const std::size_t colon = value.find(':');
  const auto a = parse_ipv4(value.substr(0, colon));
  if (!a) {
    bad(option, value, "expected ADDR[:PORT] with an IPv4 address");
  }
  endpoint e{*a, default_port};
  if (colon != std::string::npos) {
    e.port = static_cast<std::uint16_t>(number(option, value.substr(colon + 1), 1, 65535));
  }
  return e;
}

daemon_options parse_daemon_options(daemon_mode mode, const std::vector<std::string>& args, const char* env_password,
                                    const std::string& default_plugin_dir) {
  std::vector<given> command_line;
  std::string config_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--") || arg.size() == 2) {
      throw option_error("unexpected argument '" + arg + "' (options start with --; see pptpkit " + mode_name(mode) +
                         " --help)");
    }
    std::string name = arg.substr(2);
    std::string value;
    bool inline_value = false;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    if (name == "password") {
      throw option_error(
          "--password is not accepted: the command line is visible to every user in ps; use "
          "--password-file FILE or the PPTPKIT_PASSWORD environment variable");
    }
    if (name == "config") {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          throw option_error("--config needs a value (FILE)");
        }
        value = args[++i];
      }
      config_path = value;
      continue;
    }
    const option_spec& spec = check(mode, name, "");
    if (spec.takes_value && !inline_value) {
      if (i + 1 >= args.size()) {
        throw option_error("--" + name + " needs a value");
      }
      value = args[++i];
    } else if (!spec.takes_value && inline_value) {
      throw option_error("--" + name + " takes no value (given '" + value + "')");
    }
    command_line.push_back({&spec, value});
  }

  daemon_options o;
  o.mode = mode;
  o.ifname = mode == daemon_mode::server ? "pptp" : "pptp0";
  o.plugin_dir = default_plugin_dir;

  std::set<std::string> on_command_line;
  for (const given& g : command_line) {
    on_command_line.insert(g.spec->name);
  }
  if (!config_path.empty()) {
    std::vector<std::pair<std::string, std::string>> lines;
    try {
      lines = parse_config(read_file(config_path), config_path);
    } catch (const parse_error& e) {
      throw option_error(std::string("--config: ") + e.what());
    }
    std::vector<std::string> ms_dns;
    for (const auto& [raw_key, value] : lines) {
      // pptpd.conf / pppd options names a user may bring along.
      std::string key = raw_key;
      if (key == "connections") {
        key = "max-connections";
      } else if (key == "lcp-echo-interval") {
        key = "echo-interval";
      } else if (key == "lcp-echo-failure") {
        key = "echo-failure";
      } else if (key == "ms-dns" && mode == daemon_mode::server) {
        ms_dns.push_back(value);  // pppd: one address per ms-dns line
        continue;
      }
      if (key == "password") {
        throw option_error(config_path + ": 'password' is not a config key; use password-file");
      }
      const option_spec& spec = check(mode, key, config_path + ": ");
      if (on_command_line.contains(key)) {
        continue;  // the command line wins
      }
      if (!spec.takes_value && !value.empty()) {
        throw option_error(config_path + ": '" + key + "' takes no value (given '" + value + "')");
      }
      if (spec.takes_value && value.empty()) {
        throw option_error(config_path + ": '" + key + "' needs a value");
      }
      try {
        spec.apply(o, value);
      } catch (const option_error& e) {
        throw option_error(config_path + ": " + e.what());
      }
    }
    if (!ms_dns.empty() && !on_command_line.contains("dns")) {
      std::string joined;
      for (const std::string& a : ms_dns) {
        joined += (joined.empty() ? "" : ",") + a;
      }
      try {
        find_spec("dns")->apply(o, joined);
      } catch (const option_error& e) {
        throw option_error(config_path + ": ms-dns: " + e.what());
      }
    }
  }
  for (const given& g : command_line) {
    g.spec->apply(o, g.value);
  }
  const bool keyed_eap = o.radius() && std::find(o.auth.begin(), o.auth.end(), "eap") != o.auth.end();
  if (o.mppe == "required" && std::find(o.auth.begin(), o.auth.end(), "mschapv2") == o.auth.end() && !keyed_eap) {
    throw option_error(
        "--mppe required needs mschapv2 in --auth (MPPE keys come from MS-CHAPv2, or from RADIUS for "
        "EAP); for a tunnel "
        "without encryption say --mppe refused");
  }

  if (mode == daemon_mode::server) {
    if (o.radius()) {
      if (o.radius_secrets_path.empty()) {
        throw option_error(
            "--radius-server needs --radius-secrets FILE (the shared secret: one line, or ADDR SECRET lines)");
      }
    } else if (o.secrets_path.empty()) {
      throw option_error(
          "--secrets FILE is required (pppd chap-secrets format: client server secret IPs), or --radius-server");
    }
    if (o.dae_listen && o.dae_clients.empty()) {
      throw option_error("--radius-dae needs --radius-dae-client ADDR: who may send Disconnect and CoA requests");
    }
    if (!o.dae_clients.empty() && !o.dae_listen) {
      o.dae_listen = endpoint{0, 3799};
    }
    if (o.dae_listen && o.radius_secrets_path.empty()) {
      throw option_error("--radius-dae needs --radius-secrets FILE (the clients' secrets)");
    }
    if (o.localip == 0) {
      throw option_error("--localip ADDR is required (our address on every tunnel, pptpd's localip)");
    }
    if (o.remoteip.empty() && !o.radius()) {
      throw option_error("--remoteip RANGE is required (the client address pool, pptpd's remoteip)");
    }
    if (address_pool(o.remoteip).contains(o.localip)) {
      throw option_error("--localip " + format_ipv4(o.localip) + " lies inside --remoteip: a client would get it");
    }
  } else {
    if (o.server.address == 0) {
      throw option_error("--server ADDR[:PORT] is required");
    }
    if (o.user.empty()) {
      throw option_error("--user NAME is required");
    }
    if (o.password.empty() && env_password != nullptr) {
      o.password = env_password;
    }
    if (o.password.empty()) {
      throw option_error("no password: give --password-file FILE or set PPTPKIT_PASSWORD");
    }
  }
  return o;
}

std::string help_text() {
  return "usage: pptpkit server [options]     PPTP server (PAC): what pptpd + pppd do\n"
         "       pptpkit client [options]     PPTP client (PNS): what pptp-linux (pptp) + pppd do\n"
         "       pptpkit status [--status-socket PATH]   sessions of a running server\n"
         "       pptpkit server --help | pptpkit client --help   all options\n";
}

std::string server_help_text() {
  return "usage: pptpkit server [options]\n"
         "A PPTP server (RFC 2637 PAC) with its PPP side: pptpd and pppd in one process.\n"
         "\n"
         "  --listen ADDR[:PORT]      address to accept control connections on (default 0.0.0.0:1723)\n"
         "  --localip ADDR            our address on every tunnel (pptpd localip)\n"
         "  --remoteip RANGE          client address pool (pptpd remoteip), e.g. 10.0.0.100-149 or\n"
         "                            10.0.0.100-10.0.0.149,10.0.1.5\n"
         "  --secrets FILE            users, in pppd's chap-secrets format:\n"
         "                              # client  server  secret     IP addresses\n"
         "                              alice     *       \"s3cret\"   *\n"
         "                              bob       pptpd   hunter2    10.0.0.200\n"
         "                            (* = any; an address pins the user's tunnel address; - = no address)\n"
         "  --dns ADDR[,ADDR]         DNS servers handed to clients (pppd ms-dns, RFC 1877)\n"
         "  --auth LIST               accepted protocols, preferred first: mschapv2,chap,pap,eap\n"
         "                            (default mschapv2; pppd require-mschap-v2 ...)\n"
         "  --mppe required|optional|refused   encryption policy (default required; pppd require-mppe)\n"
         "  --mppe-bits 128,56,40     allowed key lengths (default 128; pptpd's require-mppe-128)\n"
         "  --mppe-stateful           allow stateful MPPE (default: stateless only, pppd nomppe-stateful)\n"
         "  --echo-interval S         LCP echo every S seconds, 0 = off (pppd lcp-echo-interval; default 30)\n"
         "  --echo-failure N          drop the link after N missed echoes (pppd lcp-echo-failure; default 4)\n"
         "  --max-connections N       control connections at once (pptpd connections; default 100)\n"
         "  --max-connections-per-source N   from one address at once (default 8)\n"
         "  --max-pending-connections N      not yet through the SCCRQ/SCCRP handshake (default 64;\n"
         "                            when full, one pending for over 1 s makes room)\n"
         "  --max-calls-per-connection N     calls on one control connection (default 4)\n"
         "  --handshake-timeout S     close a connection without SCCRQ after S seconds (default 10)\n"
         "  --auth-timeout S          clear a call not authenticated after S seconds (default 30); addresses\n"
         "                            are assigned only to authenticated users, and repeated failures\n"
         "                            from one address or for one user delay the answer (then refuse the\n"
         "                            address)\n"
         "  --ifname PREFIX           tunnel interface names: PREFIX0, PREFIX1, ..., the lowest free (default pptp)\n"
         "  --plugin-dir DIR          where pptp-control.so, gre-tunnel.so and ppp-bridge.so are\n"
         "  --ip-up SCRIPT            run when a tunnel's IP comes up, with pppd's arguments:\n"
         "                            interface device speed local-IP remote-IP ipparam, and the\n"
         "                            environment PEERNAME IPLOCAL IPREMOTE DNS1 DNS2 IFNAME\n"
         "  --ip-down SCRIPT          run when it goes down (same arguments; adds CONNECT_TIME,\n"
         "                            BYTES_SENT, BYTES_RCVD)\n"
         "  --radius-server ADDR[:AUTH[:ACCT]]  verify logins with RADIUS (ports default 1812, 1813;\n"
         "                            an AUTH port alone makes ACCT the next one); repeatable, first\n"
         "                            alive one asked. --secrets and --remoteip become optional\n"
         "  --radius-secrets FILE     the shared secret: one line for every server, or ADDR SECRET lines\n"
         "  --radius-timeout S        first retransmission after S s, doubled each time (default 3)\n"
         "  --radius-tries N          transmissions to a server before the next is asked (default 3)\n"
         "  --radius-dead-time S      a server that did not answer is skipped for S s (default 30)\n"
         "  --radius-accounting yes|no  Accounting-Request Start/Interim/Stop, On/Off (default yes)\n"
         "  --radius-interim S        Interim-Update every S s when Access-Accept sets none (default 0)\n"
         "  --nas-identifier NAME     NAS-Identifier (default pptpkit)\n"
         "  --nas-ip-address ADDR     NAS-IP-Address (default the --listen address, when one is given)\n"
         "  --radius-dae ADDR[:PORT]  take Disconnect/CoA-Request here (RFC 5176; port default 3799)\n"
         "  --radius-dae-client ADDR  who may send them; repeatable (secret from --radius-secrets)\n"
         "  --pool NAME=RANGE         an address pool that RADIUS Framed-Pool can name; repeatable\n"
         "  --filter NAME:KEY=VALUE,...  per-user settings for users whose Access-Accept carries\n"
         "                            Filter-Id NAME: session-timeout, idle-timeout, interim (s), pool\n"
         "  --user NAME               run as this user after opening the sockets\n"
         "  --status-socket PATH      answer `pptpkit status` on this local socket\n"
         "  --config FILE             the same options as \"key value\" lines (# comments); the command\n"
         "                            line wins. pptpd/pppd names work too: connections, ms-dns (one per\n"
         "                            line), lcp-echo-interval, lcp-echo-failure\n"
         "  --log-level LEVEL         error, warning, notice (default), info or debug\n"
         "\n"
         "Signals: SIGTERM/SIGINT stop every call cleanly (Call-Disconnect-Notify, Stop-Control-\n"
         "Connection-Request); SIGHUP re-reads the secrets file; SIGUSR1 logs statistics.\n";
}

std::string client_help_text() {
  return "usage: pptpkit client --server ADDR[:PORT] --user NAME [options]\n"
         "A PPTP client (RFC 2637 PNS) with its PPP side: pptp-linux (pptp) and pppd in one process.\n"
         "\n"
         "  --server ADDR[:PORT]      the PPTP server (port default 1723)\n"
         "  --user NAME               our name (pppd user / name)\n"
         "  --password-file FILE      read the password from the first line of FILE; or set the\n"
         "                            PPTPKIT_PASSWORD environment variable. Never on the command line,\n"
         "                            where every user sees it in ps.\n"
         "  --auth LIST               protocols we agree to: mschapv2,chap,pap,eap (default mschapv2)\n"
         "  --mppe required|optional|refused   encryption policy (default required; pppd require-mppe)\n"
         "  --mppe-bits 128,56,40     allowed key lengths (default 128)\n"
         "  --mppe-stateful           allow stateful MPPE\n"
         "  --defaultroute            route everything through the tunnel (pppd defaultroute)\n"
         "  --route CIDR              route this network through the tunnel; repeatable\n"
         "  --nopeerdns               do not report the server's DNS servers (pppd usepeerdns is on)\n"
         "  --persist                 reconnect after the link drops (pppd persist)\n"
         "  --maxfail N               give up after N failed attempts in a row, 0 = never (default 10)\n"
         "  --holdoff S               wait S seconds before reconnecting (pppd holdoff; default 30)\n"
         "  --ifname NAME             the tunnel interface's name; when taken, its number counted up (default pptp0)\n"
         "  --echo-interval S --echo-failure N   LCP echo, as pppd lcp-echo-interval/-failure\n"
         "  --plugin-dir DIR          where pptp-control.so, gre-tunnel.so and ppp-bridge.so are\n"
         "  --ip-up SCRIPT --ip-down SCRIPT      pppd-style hooks (see pptpkit server --help)\n"
         "  --config FILE             the same options as \"key value\" lines; the command line wins\n"
         "  --log-level LEVEL         error, warning, notice (default), info or debug\n"
         "\n"
         "Exit status without --persist: 0 after a clean disconnect, 1 when no session came up.\n";
}

}  // namespace pptpkit::runtime
