// kqueue poller logic against the fake system-call layer: registrations, event translation, signals.
#include <gtest/gtest.h>

#include "fake_sys.hpp"
#include "pptpkit/host_bsd/kqueue_poller.hpp"

namespace pptpkit::host_bsd {
namespace {

using testing::fake_sys;

kevent_record ev(std::uint64_t ident, std::int16_t filter, std::uint16_t flags = 0, std::int64_t data = 0) {
  return {.ident = ident, .filter = filter, .flags = flags, .data = data};
}

TEST(translate_events, merges_read_and_write_of_one_handle) {
  const auto& c = freebsd;
  const std::vector<kevent_record> events{ev(7, c.evfilt_read, 0, 100), ev(8, c.evfilt_write), ev(7, c.evfilt_write)};
  std::vector<runtime::readiness> ready;
  std::uint32_t signals = 0;
  translate_events(c, events, ready, 0, signals);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].h, 7);
  EXPECT_TRUE(ready[0].readable);
  EXPECT_TRUE(ready[0].writable);
  EXPECT_FALSE(ready[0].failed);
  EXPECT_EQ(ready[1].h, 8);
  EXPECT_FALSE(ready[1].readable);
  EXPECT_TRUE(ready[1].writable);
  EXPECT_EQ(signals, 0u);
}

TEST(translate_events, eof_is_failed_but_still_readable_error_is_failed) {
  const auto& c = openbsd;
  const std::vector<kevent_record> events{ev(7, c.evfilt_read, c.ev_eof, 12), ev(9, c.evfilt_write, c.ev_eof),
                                          ev(11, c.evfilt_read, c.ev_error, 9)};
  std::vector<runtime::readiness> ready;
  std::uint32_t signals = 0;
  translate_events(c, events, ready, 0, signals);
  ASSERT_EQ(ready.size(), 3u);
  EXPECT_TRUE(ready[0].readable && ready[0].failed);
  EXPECT_TRUE(ready[1].writable && ready[1].failed);
  EXPECT_TRUE(ready[2].failed);
  EXPECT_FALSE(ready[2].readable);
}

TEST(translate_events, does_not_merge_into_entries_the_caller_had_before) {
  const auto& c = freebsd;
  std::vector<runtime::readiness> ready{{.h = 7, .writable = true}};
  std::uint32_t signals = 0;
  const std::vector<kevent_record> events{ev(7, c.evfilt_read)};
  translate_events(c, events, ready, 1, signals);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_TRUE(ready[1].readable);
}

TEST(translate_events, signals_become_flags) {
  for (const os_constants* c : {&freebsd, &openbsd}) {
    std::vector<runtime::readiness> ready;
    std::uint32_t signals = 0;
    const std::vector<kevent_record> events{ev(c->sighup, c->evfilt_signal), ev(c->sigusr1, c->evfilt_signal)};
    translate_events(*c, events, ready, 0, signals);
    EXPECT_TRUE(ready.empty());
    EXPECT_EQ(signals, runtime::signal_reload | runtime::signal_status);
    EXPECT_EQ(signal_flag(*c, c->sigterm), runtime::signal_stop);
    EXPECT_EQ(signal_flag(*c, c->sigint), runtime::signal_stop);
    EXPECT_EQ(signal_flag(*c, c->sigchld), 0u);
  }
}

class poller : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(p.open(error)) << error;
    sys.changes.clear();
  }
  fake_sys sys{freebsd};
  kqueue_poller p{sys};
};

TEST(poller_open, ignores_and_registers_the_runtime_signals) {
  fake_sys sys(freebsd);
  kqueue_poller p(sys);
  std::string error;
  ASSERT_TRUE(p.open(error)) << error;
  for (const int s : {13, 20, 15, 2, 1, 30}) {
    EXPECT_NE(std::find(sys.ignored_signals.begin(), sys.ignored_signals.end(), s), sys.ignored_signals.end()) << s;
  }
  ASSERT_EQ(sys.changes.size(), 4u);
  for (const auto& ch : sys.changes) {
    EXPECT_EQ(ch.filter, freebsd.evfilt_signal);
    EXPECT_EQ(ch.flags, freebsd.ev_add | freebsd.ev_enable);
  }
}

TEST(poller_open, a_failing_kqueue_is_reported) {
  fake_sys sys(freebsd);
  sys.fail("kqueue", 24);
  kqueue_poller p(sys);
  std::string error;
  EXPECT_FALSE(p.open(error));
  EXPECT_EQ(error, "kqueue: error 24");
}

TEST_F(poller, watch_adds_and_deletes_only_what_changed) {
  const auto& c = freebsd;
  p.watch(7, true, false);
  p.watch(7, true, false);  // same interest: no system call
  p.watch(7, false, true);
  p.unwatch(7);
  p.unwatch(7);  // not watched any more: nothing
  const std::vector<kevent_record> expected{
      {.ident = 7, .filter = c.evfilt_read, .flags = static_cast<std::uint16_t>(c.ev_add | c.ev_enable)},
      {.ident = 7, .filter = c.evfilt_read, .flags = c.ev_delete},
      {.ident = 7, .filter = c.evfilt_write, .flags = static_cast<std::uint16_t>(c.ev_add | c.ev_enable)},
      {.ident = 7, .filter = c.evfilt_write, .flags = c.ev_delete},
  };
  EXPECT_EQ(sys.changes, expected);
}

TEST_F(poller, forget_drops_interest_without_system_calls) {
  p.watch(7, true, true);
  sys.changes.clear();
  p.forget(7);
  p.watch(7, true, false);  // a new descriptor with the same number starts from nothing
  ASSERT_EQ(sys.changes.size(), 1u);
  EXPECT_EQ(sys.changes[0].flags, freebsd.ev_add | freebsd.ev_enable);
}

TEST_F(poller, a_failed_registration_is_reported_as_failed_at_once) {
  sys.fail("kevent", 9);
  p.watch(7, true, false);
  std::vector<runtime::readiness> ready;
  p.wait(-1, ready);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].h, 7);
  EXPECT_TRUE(ready[0].failed);
  EXPECT_EQ(sys.timeouts.back(), 0);  // did not block with a failure to report
  ready.clear();
  p.wait(-1, ready);
  EXPECT_TRUE(ready.empty());
  EXPECT_EQ(sys.timeouts.back(), -1);
}

TEST_F(poller, wait_passes_the_timeout_and_collects_events_and_signals) {
  sys.kevent_batches.push_back({ev(7, freebsd.evfilt_read), ev(15, freebsd.evfilt_signal)});
  std::vector<runtime::readiness> ready;
  p.wait(2'500'000, ready);
  EXPECT_EQ(sys.timeouts.back(), 2'500'000);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readable);
  EXPECT_EQ(p.take_signals(), runtime::signal_stop);
  EXPECT_EQ(p.take_signals(), 0u);
}

TEST_F(poller, an_interrupted_wait_returns_nothing) {
  sys.fail("kevent", freebsd.eintr);
  std::vector<runtime::readiness> ready;
  p.wait(-1, ready);
  EXPECT_TRUE(ready.empty());
}

}  // namespace
}  // namespace pptpkit::host_bsd
