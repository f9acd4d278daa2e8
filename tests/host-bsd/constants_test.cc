// Cross-checks host-bsd's constant tables (os_constants.hpp) against an independent source: the
// zerrors_*/ztypes_* files golang.org/x/sys generates from the FreeBSD and OpenBSD system headers
// (Debian package golang-golang-x-sys-dev). The FreeBSD build also static_asserts the same tables
// against the real headers (src/sys_bsd.cc); this test catches a wrong number on Linux, before any
// BSD build runs.
//
// What x/sys does not list is checked another way, and said so below:
//  - TUNSIFHEAD, TUNSIFMODE, TUNGIFNAME, SIOCAIFADDR_IN6 are absent from x/sys: the table builds them
//    with the same _IOW/_IOR encoder that reproduces every ioctl x/sys does list, from the group,
//    number and size in <net/if_tun.h> / <netinet6/in6_var.h> (static_asserted in the FreeBSD build).
//  - PF_DIVERT (44) appeared in FreeBSD 14, after this x/sys snapshot: checked to be distinct from every
//    AF_* x/sys lists for FreeBSD 13 (so a 13.x kernel refuses it and the fallback runs).
//  - x/sys's FreeBSD SIOCAIFADDR predates FreeBSD 10: its value is _IOW('i', 26, 64), which FreeBSD
//    13 keeps as OSIOCAIFADDR; the current one is _IOW('i', 43, struct ifaliasreq) with ifra_vhid.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "pptpkit/host_bsd/os_constants.hpp"

namespace pptpkit::host_bsd {
namespace {

const std::string xsys_dir = "/usr/share/gocode/src/golang.org/x/sys/unix/";

// NAME = value lines of a generated Go file: plain, negative, syscall.Errno(...) and syscall.Signal(...).
std::map<std::string, long long> parse_go_constants(const std::string& file) {
  std::ifstream in(xsys_dir + file);
  EXPECT_TRUE(in.good()) << xsys_dir + file
                         << " is missing: install golang-golang-x-sys-dev (listed in scripts/lib/common.sh)";
  std::map<std::string, long long> out;
  const std::regex line(
      R"(^\s+([A-Z][A-Za-z0-9_]*)\s*=\s*(?:syscall\.(?:Errno|Signal)\()?(-?)(0x[0-9a-fA-F]+|[0-9]+)\)?\s*$)");
  std::string s;
  std::smatch m;
  while (std::getline(in, s)) {
    if (std::regex_match(s, m, line)) {
      long long v = std::stoll(m[3].str(), nullptr, 0);
      out[m[1].str()] = m[2].str() == "-" ? -v : v;
    }
  }
  return out;
}

struct os_files {
  const os_constants* table;
  const char* zerrors;
  const char* ztypes;
};
void PrintTo(const os_files& f, std::ostream* os) {
  *os << f.zerrors;
}

class xsys : public ::testing::TestWithParam<os_files> {
 protected:
  void SetUp() override {
    go = parse_go_constants(GetParam().zerrors);
    const auto types = parse_go_constants(GetParam().ztypes);
    go.insert(types.begin(), types.end());
    ASSERT_GT(go.size(), 500u) << "could not read the x/sys constants";
  }
  // Compares one table field with x/sys's NAME.
  void same(const char* name, long long ours) {
    const auto it = go.find(name);
    ASSERT_NE(it, go.end()) << name << " not in x/sys " << GetParam().zerrors;
    // ioctl numbers are unsigned long in C and may print as large hex numbers in Go.
    EXPECT_EQ(static_cast<unsigned long long>(it->second), static_cast<unsigned long long>(ours)) << name;
    ++checked;
  }
  std::map<std::string, long long> go;
  int checked = 0;
};

TEST_P(xsys, every_number_the_logic_uses_matches) {
  const os_constants& c = *GetParam().table;
  same("AF_UNIX", c.af_unix);
  same("AF_INET", c.af_inet);
  same("AF_INET6", c.af_inet6);
  same("SOCK_STREAM", c.sock_stream);
  same("SOCK_DGRAM", c.sock_dgram);
  same("SOCK_RAW", c.sock_raw);
  same("SOL_SOCKET", c.sol_socket);
  same("SO_ERROR", c.so_error);
  same("SO_REUSEADDR", c.so_reuseaddr);
  same("SHUT_RD", c.shut_rd);
  same("IPPROTO_GRE", c.ipproto_gre);
  same("IPPROTO_DIVERT", c.ipproto_divert);
  same("O_RDONLY", c.o_rdonly);
  same("O_RDWR", c.o_rdwr);
  same("O_NONBLOCK", c.o_nonblock);
  same("F_GETFL", c.f_getfl);
  same("F_SETFL", c.f_setfl);
  same("IFF_UP", c.iff_up);
  same("IFF_POINTOPOINT", c.iff_pointopoint);
  same("IFF_MULTICAST", c.iff_multicast);
  same("SIOCGIFFLAGS", static_cast<long long>(c.siocgifflags));
  same("SIOCSIFFLAGS", static_cast<long long>(c.siocsifflags));
  same("SIOCSIFMTU", static_cast<long long>(c.siocsifmtu));
  same("SIOCIFDESTROY", static_cast<long long>(c.siocifdestroy));
  if (c.kind == os_kind::freebsd) {
    same("SIOCSIFNAME", static_cast<long long>(c.siocsifname));
  } else {
    same("SIOCAIFADDR", static_cast<long long>(c.siocaifaddr));
  }
  same("EVFILT_READ", c.evfilt_read);
  same("EVFILT_WRITE", c.evfilt_write);
  same("EVFILT_SIGNAL", c.evfilt_signal);
  same("EV_ADD", c.ev_add);
  same("EV_DELETE", c.ev_delete);
  same("EV_ENABLE", c.ev_enable);
  same("EV_EOF", c.ev_eof);
  same("EV_ERROR", c.ev_error);
  same("ENOENT", c.enoent);
  same("EINTR", c.eintr);
  same("EBUSY", c.ebusy);
  same("EEXIST", c.eexist);
  same("EAGAIN", c.eagain);
  same("EINPROGRESS", c.einprogress);
  same("EPROTONOSUPPORT", c.eprotonosupport);
  same("EAFNOSUPPORT", c.eafnosupport);
  same("ENXIO", c.enxio);
  same("EBADF", c.ebadf);
  same("ENOMEM", c.enomem);
  same("EACCES", c.eacces);
  same("ENODEV", c.enodev);
  same("ENFILE", c.enfile);
  same("EMFILE", c.emfile);
  same("ECONNABORTED", c.econnaborted);
  same("ENOBUFS", c.enobufs);
  same("ECONNREFUSED", c.econnrefused);
  same("SIGHUP", c.sighup);
  same("SIGINT", c.sigint);
  same("SIGPIPE", c.sigpipe);
  same("SIGTERM", c.sigterm);
  same("SIGCHLD", c.sigchld);
  same("SIGUSR1", c.sigusr1);
  same("SizeofSockaddrInet4", 16);  // the sockaddr_in the system-call layer marshals
  same("IFNAMSIZ", 16);             // the interface names tun_open passes
  EXPECT_EQ(checked, 59);           // every line above ran
}

TEST_P(xsys, the_ioctl_encoder_reproduces_what_xsys_lists) {
  // The fields x/sys lacks (TUNSIF*, TUNGIFNAME, SIOCAIFADDR_IN6) rely on this encoder.
  EXPECT_EQ(static_cast<unsigned long long>(go.at("SIOCGIFFLAGS")), iowr('i', 17, sizeof_ifreq));
  EXPECT_EQ(static_cast<unsigned long long>(go.at("SIOCSIFFLAGS")), iow('i', 16, sizeof_ifreq));
  EXPECT_EQ(static_cast<unsigned long long>(go.at("SIOCIFDESTROY")), iow('i', 121, sizeof_ifreq));
  EXPECT_EQ(static_cast<unsigned long long>(go.at("SIOCAIFADDR")), iow('i', 26, 64));
  const unsigned siocgifmtu_number = GetParam().table->kind == os_kind::freebsd ? 51 : 126;
  EXPECT_EQ(static_cast<unsigned long long>(go.at("SIOCGIFMTU")), iowr('i', siocgifmtu_number, sizeof_ifreq));
}

TEST(xsys_freebsd, pf_divert_is_a_family_freebsd_13_does_not_know) {
  const auto go = parse_go_constants("zerrors_freebsd_amd64.go");
  ASSERT_FALSE(go.empty());
  for (const auto& [name, value] : go) {
    if (name.starts_with("AF_") && name != "AF_MAX") {
      EXPECT_NE(value, freebsd.pf_divert) << name;
    }
  }
  EXPECT_LT(go.at("AF_MAX"), freebsd.pf_divert);  // 13.x stops at AF_MAX 42
  EXPECT_EQ(openbsd.pf_divert, 0);
}

TEST(xsys_freebsd, siocaifaddr_is_the_current_one_not_xsys_pre_10_value) {
  const auto go = parse_go_constants("zerrors_freebsd_amd64.go");
  EXPECT_EQ(static_cast<unsigned long>(go.at("SIOCAIFADDR")), iow('i', 26, 64));  // today's OSIOCAIFADDR
  EXPECT_EQ(freebsd.siocaifaddr, iow('i', 43, freebsd_sizeof_ifaliasreq));
  EXPECT_NE(freebsd.siocaifaddr, static_cast<unsigned long>(go.at("SIOCAIFADDR")));
}

TEST(tables, tun_ioctls_exist_only_where_the_os_has_them) {
  EXPECT_NE(freebsd.tunsifhead, 0u);
  EXPECT_NE(freebsd.tunsifmode, 0u);
  EXPECT_EQ(openbsd.tunsifhead, 0u);  // the AF header is always on
  EXPECT_EQ(openbsd.tunsifmode, 0u);
  EXPECT_EQ(openbsd.siocsifname, 0u);
}

INSTANTIATE_TEST_SUITE_P(bsd, xsys,
                         ::testing::Values(os_files{&freebsd, "zerrors_freebsd_amd64.go", "ztypes_freebsd_amd64.go"},
                                           os_files{&openbsd, "zerrors_openbsd_amd64.go", "ztypes_openbsd_amd64.go"}),
                         [](const auto& p) { return p.param.table->kind == os_kind::freebsd ? "freebsd" : "openbsd"; });

}  // namespace
}  // namespace pptpkit::host_bsd
