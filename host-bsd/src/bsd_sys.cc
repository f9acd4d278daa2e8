#include "pptpkit/host_bsd/bsd_sys.hpp"

namespace pptpkit::host_bsd {

sys_result set_nonblocking(bsd_sys& sys, fd_t fd) {
  const os_constants& c = sys.constants();
  const sys_result flags = sys.fcntl(fd, c.f_getfl, 0);
  if (!flags.ok()) {
    return flags;
  }
  return sys.fcntl(fd, c.f_setfl, static_cast<std::int32_t>(flags.value) | c.o_nonblock);
}

}  // namespace pptpkit::host_bsd
