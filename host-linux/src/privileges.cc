// privileges.cc — drop_privileges(): keep CAP_NET_ADMIN and CAP_NET_RAW, optionally become --user.
//
// Order matters (capabilities(7)):
//  1. While CAP_SETPCAP is still ours, remove every other capability from the bounding set, so nothing
//     exec'd later (a hook) can regain them.
//  2. With PR_SET_KEEPCAPS, setgroups/setgid/setuid to the user: the permitted set survives the uid
//     change (the effective set is cleared by it).
//  3. capset: permitted = effective = {NET_ADMIN, NET_RAW} (what we still had of them), inheritable
//     empty; ambient cleared. Then read back and check.
// Raw capget/capset (linux/capability.h) rather than libcap: two structs, no extra library.
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pptpkit/abi.h"
#include "pptpkit/host_linux/linux_platform.hpp"

namespace pptpkit::host_linux {
namespace {

struct capabilities {
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
};

bool get_caps(capabilities& c) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return ::syscall(SYS_capget, &header, c.data) == 0;
}

bool set_caps(const capabilities& c) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return ::syscall(SYS_capset, &header, c.data) == 0;
}

bool has(const std::uint32_t (&set)[2], int cap) {
  return (set[cap / 32] & (1u << (cap % 32))) != 0;
}

constexpr int kKept[] = {CAP_NET_ADMIN, CAP_NET_RAW};

bool kept(int cap) {
  return cap == CAP_NET_ADMIN || cap == CAP_NET_RAW;
}

}  // namespace

bool linux_platform::drop_privileges(const std::string& user, std::string& error) {
  capabilities current;
  if (!get_caps(current)) {
    error = std::string("capget: ") + std::strerror(errno);
    return false;
  }
  const std::uint32_t effective[2] = {current.data[0].effective, current.data[1].effective};
  const std::uint32_t permitted[2] = {current.data[0].permitted, current.data[1].permitted};

  // 1. Bounding set.
  if (has(effective, CAP_SETPCAP)) {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
      if (!kept(cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
        error = "drop capability " + std::to_string(cap) + " from the bounding set: " + std::strerror(errno);
        return false;
      }
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

  // 2. The user.
  if (!user.empty()) {
    errno = 0;
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
      error = "user '" + user + "': " + (errno != 0 ? std::strerror(errno) : "no such user");
      return false;
    }
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
      error = std::string("prctl(PR_SET_KEEPCAPS): ") + std::strerror(errno);
      return false;
    }
    if (::setgroups(1, &gid) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) {
      error = "switch to user '" + user + "': " + std::strerror(errno);
      ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
      return false;
    }
    ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }

  // 3. Permitted and effective sets.
  capabilities wanted;
  for (int cap : kKept) {
    if (has(permitted, cap)) {
      wanted.data[cap / 32].permitted |= 1u << (cap % 32);
      wanted.data[cap / 32].effective |= 1u << (cap % 32);
    }
  }
  if (!set_caps(wanted)) {
    error = std::string("capset: ") + std::strerror(errno);
    return false;
  }
  capabilities now;
  if (!get_caps(now)) {
    error = std::string("capget: ") + std::strerror(errno);
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    if (now.data[i].permitted != wanted.data[i].permitted || now.data[i].effective != wanted.data[i].effective ||
        now.data[i].inheritable != 0) {
      error = "capabilities after dropping are not what was asked";
      return false;
    }
  }
  const bool full = has(permitted, CAP_NET_ADMIN) && has(permitted, CAP_NET_RAW);
  log(full ? PPTPKIT_LOG_INFO : PPTPKIT_LOG_WARNING, "host",
      std::string("privileges dropped: kept ") + (full ? "CAP_NET_ADMIN, CAP_NET_RAW" : "what was left of CAP_NET_*") +
          (user.empty() ? "" : ", running as " + user));
  return true;
}

}  // namespace pptpkit::host_linux
