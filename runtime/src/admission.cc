#include "pptpkit/runtime/admission.hpp"

#include <algorithm>
#include <cassert>

namespace pptpkit::runtime {

connection_admission::verdict connection_admission::admit(std::uint32_t source) {
  if (total_ >= limits_.max_total) {
    return verdict::total;
  }
  // The source's own cap before the shared pending one: a source at its cap must not make the engine
  // evict another's pending connection to make room it will not get.
  std::uint32_t& n = per_source_[source];
  if (n >= limits_.max_per_source) {
    if (n == 0) {
      per_source_.erase(source);  // max_per_source 0: keep the table to live sources
    }
    return verdict::per_source;
  }
  if (pending_ >= limits_.max_pending) {
    if (n == 0) {
      per_source_.erase(source);
    }
    return verdict::pending;
  }
  ++n;
  ++total_;
  ++pending_;
  return verdict::admit;
}

void connection_admission::established(std::uint32_t) {
  assert(pending_ > 0 && "established() without a pending connection");
  --pending_;
}

void connection_admission::closed(std::uint32_t source, bool pending) {
  assert(total_ > 0 && "closed() without a connection");
  --total_;
  if (pending) {
    assert(pending_ > 0);
    --pending_;
  }
  const auto it = per_source_.find(source);
  assert(it != per_source_.end() && it->second > 0);
  if (--it->second == 0) {
    per_source_.erase(it);
  }
}

std::uint32_t connection_admission::from(std::uint32_t source) const {
  const auto it = per_source_.find(source);
  return it == per_source_.end() ? 0 : it->second;
}

template <typename Map, typename Key>
std::uint32_t login_throttle::failures_of(const Map& table, const Key& key, std::uint64_t now) const {
  const auto it = table.find(key);
  if (it == table.end() || now - it->second.window_start >= limits_.window_ns) {
    return 0;
  }
  return it->second.failures;
}

template <typename Map, typename Key>
void login_throttle::count(Map& table, const Key& key, std::uint64_t now) {
  auto it = table.find(key);
  if (it == table.end()) {
    if (table.size() >= limits_.max_entries) {
      // Forget the stalest record: a flood of new names or addresses costs its own entries, not
      // the memory of the daemon.
      auto stalest = std::min_element(table.begin(), table.end(),
                                      [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
      table.erase(stalest);
    }
    it = table.emplace(key, record{0, now, now}).first;
  }
  record& r = it->second;
  if (now - r.window_start >= limits_.window_ns) {
    r = record{0, now, now};
  }
  ++r.failures;
  r.last = now;
}

std::uint64_t login_throttle::delay_for(std::uint32_t failures) const {
  if (failures < limits_.free_failures) {
    return 0;
  }
  const std::uint32_t doublings = std::min<std::uint32_t>(failures - limits_.free_failures, 32);
  const std::uint64_t d = limits_.first_delay_ns << std::min<std::uint32_t>(doublings, 20);
  return std::min(d, limits_.max_delay_ns);
}

login_throttle::verdict login_throttle::check(std::uint32_t source, std::string_view user, std::uint64_t now) {
  const std::uint32_t by_source = failures_of(sources_, source, now);
  if (by_source >= limits_.max_failures) {
    return {true, 0};
  }
  const std::uint32_t by_user = failures_of(users_, std::string(user), now);
  return {false, std::max(delay_for(by_source), delay_for(by_user))};
}

void login_throttle::failed(std::uint32_t source, std::string_view user, std::uint64_t now) {
  count(sources_, source, now);
  if (!user.empty()) {
    count(users_, std::string(user), now);
  }
}

void login_throttle::succeeded(std::uint32_t source, std::string_view user) {
  sources_.erase(source);
  users_.erase(std::string(user));
}

}  // namespace pptpkit::runtime
