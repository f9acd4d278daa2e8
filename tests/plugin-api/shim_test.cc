#include <gtest/gtest.h>

#include <cstring>

#include "pptpkit/core/counters.hpp"
#include "pptpkit/core/plugin_shim.hpp"
#include "pptpkit/testing/test_host.hpp"

namespace {

using namespace pptpkit::core;

#define TEST_COUNTERS(X)            \
  X(rx_packets, "packets received") \
  X(drop_short, "shorter than a header")
PPTPKIT_DEFINE_COUNTERS(test_counters, TEST_COUNTERS);

TEST(counters, export_names_values_in_list_order) {
  test_counters c;
  c.rx_packets = 5;
  c.drop_short = 2;
  test_counters total;
  total += c;
  total += c;
  pptpkit_stat out[4];
  EXPECT_EQ(total.export_to(out, 4), 2u);
  EXPECT_STREQ(out[0].name, "rx_packets");
  EXPECT_EQ(out[0].value, 10u);
  EXPECT_STREQ(out[1].name, "drop_short");
  EXPECT_EQ(out[1].value, 4u);
  EXPECT_EQ(total.export_to(out, 1), 2u);  // the count, even when max is smaller
}

TEST(config_map, typed_getters_name_the_key_in_errors) {
  pptpkit_config_entry e[] = {{"window", "64"}, {"bad", "12x"}, {"flag", "yes"}, {"window", "32"}};
  config_map m(e, 4);
  EXPECT_EQ(m.get_u32("window", 0), 32u);  // the last entry wins
  EXPECT_EQ(m.get_u32("missing", 7), 7u);
  EXPECT_TRUE(m.get_bool("flag", false));
  try {
    m.get_u32("bad", 0);
    FAIL();
  } catch (const config_error& err) {
    EXPECT_NE(std::string(err.what()).find("bad: expected a whole number"), std::string::npos);
  }
  EXPECT_THROW(m.get_u32("window", 0, 100, 200), config_error);
  EXPECT_THROW(m.reject_unknown({"window", "flag"}), config_error);
  EXPECT_NO_THROW(m.reject_unknown({"window", "flag", "bad"}));
}

TEST(config_map, rejects_null_entries_and_overflow) {
  pptpkit_config_entry e[] = {{"k", nullptr}};
  EXPECT_THROW(config_map(e, 1), config_error);
  pptpkit_config_entry big[] = {{"n", "99999999999999999999999"}};
  EXPECT_THROW(config_map(big, 1).get_u64("n", 0), config_error);
}

TEST(event_queue, pop_honours_a_shorter_event_struct) {
  event_queue q;
  q.push(3, 42, {1, 2, 3}, "a reason that is long enough to be cut");
  // A host built with a smaller event (say, only 10 bytes of text).
  struct {
    pptpkit_event e;
  } storage;
  std::memset(&storage, 0x55, sizeof(storage));
  storage.e.struct_size = static_cast<std::uint32_t>(offsetof(pptpkit_event, text) + 10);
  ASSERT_EQ(q.pop(&storage.e), 1);
  EXPECT_EQ(storage.e.type, 3u);
  EXPECT_EQ(storage.e.channel, 42u);
  EXPECT_EQ(storage.e.values[2], 3u);
  EXPECT_EQ(std::strlen(storage.e.text), 9u);
  EXPECT_EQ(storage.e.text[10], 0x55);  // nothing past the caller's struct_size is written
  EXPECT_EQ(q.pop(&storage.e), 0);
}

class echo_instance : public instance {
 public:
  explicit echo_instance(const host& h) : host_(h) {}
  ~echo_instance() override { host_.free(held_); }
  std::int32_t feed(std::uint32_t, pptpkit_batch& in, std::uint64_t) noexcept override {
    held_.adopt(in);
    return 0;
  }
  std::int32_t poll(std::uint32_t, pptpkit_batch& out, std::uint32_t max, std::uint64_t) noexcept override {
    std::int32_t n = 0;
    while (static_cast<std::uint32_t>(n) < max && !held_.empty()) {
      pptpkit_packet* p = held_.pop_front();
      packet_list one;
      one.push_back(*p);
      one.release(out);
      ++n;
    }
    return n;
  }
  std::int32_t command(const pptpkit_command& cmd, std::uint64_t) override {
    if (cmd.type == 99) {
      throw config_error("bad command");
    }
    events_.push(1, cmd.channel, {cmd.values[0]});
    return 0;
  }
  std::int32_t poll_event(pptpkit_event& out) noexcept override { return events_.pop(&out); }
  std::uint64_t next_deadline() const noexcept override { return PPTPKIT_NO_DEADLINE; }
  std::int32_t tick(std::uint64_t) noexcept override { return 0; }
  std::int32_t read_stats(std::uint32_t, pptpkit_stat*, std::uint32_t) const noexcept override { return 0; }

 private:
  host host_;
  packet_list held_;
  event_queue events_;
};

struct echo_factory {
  static std::unique_ptr<instance> create(const host& h, const config_map& cfg) {
    cfg.reject_unknown({"ok"});
    return std::make_unique<echo_instance>(h);
  }
};

TEST(plugin_shim, ops_forward_and_turn_exceptions_into_codes) {
  pptpkit::testing::test_host th;
  const pptpkit_plugin_ops ops = make_ops<echo_factory>();
  pptpkit_instance* inst = nullptr;
  char error[128] = {0};
  pptpkit_config_entry bad[] = {{"nope", "1"}};
  EXPECT_EQ(ops.create(&th.services(), bad, 1, &inst, error, sizeof(error)), PPTPKIT_ERR_CONFIG);
  EXPECT_STREQ(error, "unknown configuration key \"nope\"");
  EXPECT_EQ(inst, nullptr);

  ASSERT_EQ(ops.create(&th.services(), nullptr, 0, &inst, error, sizeof(error)), PPTPKIT_OK);
  pptpkit_batch in = PPTPKIT_BATCH_INIT;
  packet_list l;
  l.push_back(*th.make_packet({1, 2, 3}));
  l.release(in);
  EXPECT_EQ(ops.feed(inst, 0, &in, 0), 0);
  EXPECT_EQ(in.count, 0u);
  pptpkit_batch out = PPTPKIT_BATCH_INIT;
  EXPECT_EQ(ops.poll(inst, 0, &out, 8, 0), 1);
  EXPECT_EQ(th.drain(out), (std::vector<std::vector<std::uint8_t>>{{1, 2, 3}}));

  pptpkit_command cmd = PPTPKIT_COMMAND_INIT;
  cmd.type = 99;
  EXPECT_EQ(ops.command(inst, &cmd, 0), PPTPKIT_ERR_CONFIG);
  cmd.type = 1;
  cmd.channel = 5;
  cmd.values[0] = 77;
  EXPECT_EQ(ops.command(inst, &cmd, 0), 0);
  pptpkit_event ev = PPTPKIT_EVENT_INIT;
  EXPECT_EQ(ops.poll_event(inst, &ev), 1);
  EXPECT_EQ(ev.channel, 5u);
  EXPECT_EQ(ev.values[0], 77u);
  EXPECT_EQ(ops.feed(nullptr, 0, &in, 0), PPTPKIT_ERR_INVALID_ARGUMENT);
  ops.destroy(inst);
  EXPECT_EQ(th.pool().available(), th.pool().capacity());
}

TEST(plugin_shim, query_refuses_another_major_naming_both_versions) {
  pptpkit::testing::test_host th;
  static const pptpkit_plugin_ops ops = make_ops<echo_factory>();
  static const pptpkit_plugin_descriptor d = make_descriptor(PPTPKIT_KIND_GRE, "echo", "0.0.1", &ops, nullptr);
  const pptpkit_plugin_descriptor* out = nullptr;
  char error[128] = {0};
  EXPECT_EQ(answer_query(d, PPTPKIT_ABI_MAKE_VERSION(2, 3), &th.services(), &out, error, sizeof(error)),
            PPTPKIT_ERR_VERSION);
  EXPECT_STREQ(error, "echo: built for ABI 1.1; this host speaks 2.3");
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(answer_query(d, PPTPKIT_ABI_MAKE_VERSION(1, 7), &th.services(), &out, error, sizeof(error)), PPTPKIT_OK);
  EXPECT_EQ(out, &d);
}

// 1.1 only appends: a plugin and a host of major 1 load each other whatever their minors (abi.h).
TEST(plugin_shim, query_accepts_every_minor_of_the_same_major_both_ways) {
  pptpkit::testing::test_host th;
  static const pptpkit_plugin_ops ops = make_ops<echo_factory>();
  const pptpkit_plugin_descriptor ours = make_descriptor(PPTPKIT_KIND_GRE, "echo", "0.0.1", &ops, nullptr);
  ASSERT_EQ(ours.abi_version, PPTPKIT_ABI_MAKE_VERSION(1, 1));
  const pptpkit_plugin_descriptor* out = nullptr;
  char error[128] = {0};
  // A 1.0 host loads this 1.1 plugin.
  EXPECT_EQ(answer_query(ours, PPTPKIT_ABI_MAKE_VERSION(1, 0), &th.services(), &out, error, sizeof(error)), PPTPKIT_OK);
  EXPECT_EQ(out, &ours);
  // This 1.1 host's query reaches a plugin that was built for 1.0.
  pptpkit_plugin_descriptor old = ours;
  old.abi_version = PPTPKIT_ABI_MAKE_VERSION(1, 0);
  EXPECT_EQ(answer_query(old, PPTPKIT_ABI_VERSION, &th.services(), &out, error, sizeof(error)), PPTPKIT_OK);
  EXPECT_EQ(out, &old);
}

TEST(plugin_shim, query_checks_the_host_table) {
  static const pptpkit_plugin_ops ops = make_ops<echo_factory>();
  static const pptpkit_plugin_descriptor d = make_descriptor(PPTPKIT_KIND_GRE, "echo", "0.0.1", &ops, nullptr);
  pptpkit_host_services h = PPTPKIT_HOST_SERVICES_INIT;
  const pptpkit_plugin_descriptor* out = nullptr;
  char error[160] = {0};
  EXPECT_EQ(answer_query(d, PPTPKIT_ABI_VERSION, &h, &out, error, sizeof(error)), PPTPKIT_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(error, "echo: host services missing: log, random_bytes, packet_alloc, packet_free");
  h.struct_size = 8;
  EXPECT_EQ(answer_query(d, PPTPKIT_ABI_VERSION, &h, &out, error, sizeof(error)), PPTPKIT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find("host services table is 8 bytes"), std::string::npos);
}

}  // namespace
