// pptpkit/runtime/secrets.hpp — the configuration formats users bring from pppd and pptpd.
//
//  - IPv4 text <-> host-order numbers, and CIDR routes ("10.1.0.0/16").
//  - pptpd's localip/remoteip ranges: comma-separated items, each "A.B.C.D", "A.B.C.D-E" (a range of
//    the last octet) or "A.B.C.D-A.B.C.E" (a full range), e.g. "10.0.0.100-149,10.0.1.5".
//  - address_pool: the addresses of such ranges handed out one per session (lowest free first).
//  - chap_secrets: pppd's secrets file (chap-secrets / pap-secrets), one entry per line:
//        client  server  secret  [IP address ...]
//    Words are separated by spaces or tabs; "..." and '...' quote (a quoted word may be empty: "");
//    a backslash escapes the next character (\n \t \r \s \\ \" \' \# and \ooo octal as pppd's getword);
//    a backslash at the end of a line continues the entry on the next line; '#' outside quotes starts
//    a comment to the end of the line. "*" as client or server matches any name; an exact name wins
//    over "*" (pppd's scan_authfile scoring). The address list: none or "*" = any address (the pool
//    assigns one); "-" = the user may not use any IP address (pppd: an entry with "-" allows no
//    addresses); otherwise the user's allowed addresses, of which the first one is assigned.
//  - config files: "key value" lines (the daemon's long options without "--"), '#' comments.
//
// Parsers throw parse_error with the file name (when given), the line number and what was wrong.
// Threading: plain values; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pptpkit/core/ipv4.hpp"

namespace pptpkit::runtime {

class platform;

class parse_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "A.B.C.D" (four decimal octets, no leading '+', no octal) -> host order; nullopt when malformed.
using core::format_ipv4;
using core::parse_ipv4;

// "A.B.C.D/N" (N 0-32; the host bits must be zero) or "A.B.C.D" (= /32). Throws parse_error.
struct cidr {
  std::uint32_t network = 0;
  std::uint8_t prefix_length = 32;
  friend bool operator==(const cidr&, const cidr&) = default;
};
cidr parse_cidr(std::string_view text);

// One inclusive address range.
struct address_range {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  friend bool operator==(const address_range&, const address_range&) = default;
};

inline constexpr std::uint32_t max_pool_addresses = 65536;

// pptpd's remoteip syntax; throws parse_error naming the bad item. More than max_pool_addresses in
// total is an error (a typo such as 10.0.0.0-10.255.255.255 would otherwise reserve memory for 16M).
std::vector<address_range> parse_ranges(std::string_view text);

class address_pool {
 public:
  address_pool() = default;
  explicit address_pool(const std::vector<address_range>& ranges);

  // The lowest free address, marked used; nullopt when every address is taken.
  std::optional<std::uint32_t> acquire();
  // Marks a given address used (a per-user address from chap-secrets); false when it is taken.
  // Addresses outside the pool are tracked too, so two users never get the same one.
  bool acquire(std::uint32_t address);
  void release(std::uint32_t address);
  bool in_use(std::uint32_t address) const { return used_.contains(address); }
  bool contains(std::uint32_t address) const;
  std::size_t size() const noexcept { return total_; }
  std::size_t used() const noexcept { return used_.size(); }

 private:
  std::vector<address_range> ranges_;
  std::size_t total_ = 0;
  std::set<std::uint32_t> used_;
};

struct secret_entry {
  std::string client;
  std::string server;
  std::string secret;
  std::vector<std::string> addresses;  // as written ("*", "-", "10.0.0.5", ...)
  std::uint32_t line = 0;              // where it was defined
};

// What an entry says about the peer's IPv4 address.
struct address_policy {
  enum class kind { any, none, fixed } what = kind::any;
  std::uint32_t address = 0;  // for fixed: the first listed address
};

class chap_secrets {
 public:
  // Throws parse_error("<source>:<line>: ..."). `source` names the file in messages.
  static chap_secrets parse(std::string_view text, const std::string& source = "chap-secrets");
  // Reads and parses a file; throws parse_error when it cannot be read.
  static chap_secrets load(const std::string& path);
  // The daemon's way: reads the file with platform::read_private_file (which works after the daemon
  // dropped its privileges) and parses it. `warning` gets the platform's remark on the file's mode
  // before anything is parsed (so it is there even when parsing throws); throws parse_error when the
  // file cannot be read or parsed.
  static chap_secrets load(platform& host, const std::string& path, std::string& warning);

  // The best entry for a client authenticating to `server` (exact names beat "*"); nullptr when none.
  const secret_entry* find(std::string_view client, std::string_view server) const;
  const std::vector<secret_entry>& entries() const noexcept { return entries_; }

  // Throws parse_error naming the entry's line for a malformed address.
  static address_policy addresses_of(const secret_entry& entry);

 private:
  std::vector<secret_entry> entries_;
};

// "key value" lines; the value is the rest of the line with surrounding blanks removed (it may be
// quoted); a key alone is a flag ("persist"). Throws parse_error("<source>:<line>: ...").
std::vector<std::pair<std::string, std::string>> parse_config(std::string_view text, const std::string& source);

// The first line of a file without its line end (password files); throws parse_error.
std::string read_first_line(const std::string& path);
// A whole file; throws parse_error naming the file and the reason.
std::string read_file(const std::string& path);

}  // namespace pptpkit::runtime
