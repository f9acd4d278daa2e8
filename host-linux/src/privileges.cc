// privileges.cc — drop_privileges(): keep CAP_NET_ADMIN and CAP_NET_RAW, optionally become --user;
// read_private_file(): the secrets file, readable again after the drop.
//
// Order matters (capabilities(7)):
//  1. While CAP_SETPCAP is still ours, remove every other capability from the bounding set, so nothing
//     exec'd later (a hook) can regain them. (The bounding set limits what execve() grants; it does
//     not take a capability out of our own permitted set.)
//  2. With PR_SET_KEEPCAPS, setgroups/setgid/setuid to the user: the permitted set survives the uid
//     change (the effective set is cleared by it).
//  3. capset: permitted = {NET_ADMIN, NET_RAW, DAC_READ_SEARCH}, effective = {NET_ADMIN, NET_RAW} (what
//     we still had of them), inheritable empty; ambient cleared. Then read back and check.
// CAP_DAC_READ_SEARCH is permitted but never left effective: read_private_file() raises it for the one
// open() of the secrets file, and only when a plain open() was refused (DESIGN.md, "Privileges", says
// why this and not a helper process).
// Raw capget/capset (linux/capability.h) rather than libcap: two structs, no extra library.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
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
// Kept in the permitted set only, for read_private_file().
constexpr int kReadCap = CAP_DAC_READ_SEARCH;

bool kept(int cap) {
  return cap == CAP_NET_ADMIN || cap == CAP_NET_RAW;
}

constexpr std::uint32_t bit(int cap) {
  return 1u << (cap % 32);
}

// Sets or clears `cap` in the effective set; false when the kernel refuses (not permitted).
bool set_effective(int cap, bool on) {
  capabilities c;
  if (!get_caps(c)) {
    return false;
  }
  if (on) {
    c.data[cap / 32].effective |= bit(cap);
  } else {
    c.data[cap / 32].effective &= ~bit(cap);
  }
  return set_caps(c);
}

bool permitted(int cap) {
  capabilities c;
  return get_caps(c) && (c.data[cap / 32].permitted & bit(cap)) != 0;
}

constexpr off_t kPrivateFileMax = 16 << 20;

int open_private(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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
      wanted.data[cap / 32].permitted |= bit(cap);
      wanted.data[cap / 32].effective |= bit(cap);
    }
  }
  if (has(permitted, kReadCap)) {
    wanted.data[kReadCap / 32].permitted |= bit(kReadCap);  // not effective: see read_private_file()
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
          (has(permitted, kReadCap) ? " (CAP_DAC_READ_SEARCH permitted, to re-read the secrets file)" : "") +
          (user.empty() ? "" : ", running as " + user));
  return true;
}

bool linux_platform::read_private_file(const std::string& path, std::string& content, std::string& warning,
                                       std::string& error) {
  warning.clear();
  int fd = open_private(path);
  int err = errno;
  if (fd < 0 && err == EACCES && permitted(kReadCap)) {
    // Refused after drop_privileges(): read it with the one privilege kept for this, effective only
    // for this open(). Permission is checked at open(); reading the descriptor needs nothing more.
    if (set_effective(kReadCap, true)) {
      fd = open_private(path);
      err = errno;
      if (!set_effective(kReadCap, false)) {
        // Never go on with a bypass of every file permission in force.
        log(PPTPKIT_LOG_ERROR, "host", std::string("cannot lower CAP_DAC_READ_SEARCH: ") + std::strerror(errno));
        std::abort();
      }
    }
  }
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(err);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    ::close(fd);
    return false;
  }
  if (st.st_size >= kPrivateFileMax) {
    error = path + ": larger than 16 MiB";
    ::close(fd);
    return false;
  }
  std::string text;
  text.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  for (;;) {
    if (done == text.size()) {
      if (text.size() >= static_cast<std::size_t>(kPrivateFileMax)) {
        error = path + ": larger than 16 MiB";
        ::close(fd);
        return false;
      }
      text.resize(std::min<std::size_t>(text.size() + 4096, kPrivateFileMax));  // to see the end, or growth
    }
    const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = path + ": read error: " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(done);
  content = std::move(text);
  warning = runtime::private_file_warning(path, static_cast<std::uint32_t>(st.st_mode & 07777));
  return true;
}

}  // namespace pptpkit::host_linux
