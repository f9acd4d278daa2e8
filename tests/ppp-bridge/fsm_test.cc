// The generic automaton alone, with a minimal handler: table entries of RFC 1661 §4.1 that the
// session tests do not reach directly.
#include "pptpkit/ppp/fsm.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace pptpkit::ppp;
using pptpkit::core::wire_writer;

struct sent {
  std::uint8_t code;
  std::uint8_t id;
  std::vector<std::uint8_t> data;
};

// Asks for one option (type 1, value 0x42); acks everything the peer asks for.
struct fake : fsm_handler, control_output {
  std::vector<sent> out;
  std::vector<std::string> actions;
  void reset_options() noexcept override {}
  void build_request(wire_writer& w) noexcept override {
    w.u8(1);
    w.u8(3);
    w.u8(0x42);
  }
  verdict judge_option(std::uint8_t, std::span<const std::uint8_t>, wire_writer&) noexcept override {
    return verdict::ack;
  }
  void on_nak_option(std::uint8_t, std::span<const std::uint8_t>) noexcept override {}
  void on_reject_option(std::uint8_t) noexcept override {}
  void this_layer_up() noexcept override { actions.push_back("tlu"); }
  void this_layer_down() noexcept override { actions.push_back("tld"); }
  void this_layer_started() noexcept override { actions.push_back("tls"); }
  void this_layer_finished() noexcept override { actions.push_back("tlf"); }
  void send_control(std::uint16_t, std::uint8_t code, std::uint8_t id,
                    std::span<const std::uint8_t> d) noexcept override {
    out.push_back({code, id, {d.begin(), d.end()}});
  }
};

const std::vector<std::uint8_t> our_option = {1, 3, 0x42};

void open_link(fsm& f, fake& h) {
  f.open(0);
  f.up(0);
  ASSERT_EQ(f.state(), fsm_state::req_sent);
  const std::uint8_t id = h.out.back().id;
  f.receive({configure_ack, id, our_option}, 0);
  EXPECT_EQ(f.state(), fsm_state::ack_rcvd);
  f.receive({configure_request, 7, {}}, 0);
  ASSERT_EQ(f.state(), fsm_state::opened);
}

TEST(fsm, open_then_up_sends_a_request_and_opens_on_ack_and_request) {
  fake h;
  fsm f(0xc021, h, h);
  f.open(0);
  EXPECT_EQ(f.state(), fsm_state::starting);
  EXPECT_EQ(h.actions, std::vector<std::string>{"tls"});
  open_link(f, h);
  EXPECT_EQ(h.actions.back(), "tlu");
  EXPECT_EQ(h.out.back().code, configure_ack);
  EXPECT_EQ(f.deadline(), UINT64_MAX);  // no timer in Opened
}

TEST(fsm, closed_answers_a_request_with_terminate_ack) {
  fake h;
  fsm f(0xc021, h, h);
  f.up(0);
  ASSERT_EQ(f.state(), fsm_state::closed);
  f.receive({configure_request, 3, {}}, 0);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out[0].code, terminate_ack);
  EXPECT_EQ(h.out[0].id, 3);
}

TEST(fsm, peer_terminate_in_opened_goes_through_stopping_to_stopped) {
  fake h;
  fsm f(0xc021, h, h, {.restart_ns = 1000});
  open_link(f, h);
  f.receive({terminate_request, 9, {}}, 100);
  EXPECT_EQ(f.state(), fsm_state::stopping);  // tld,zrc,sta/5
  EXPECT_EQ(h.out.back().code, terminate_ack);
  EXPECT_EQ(f.deadline(), 1100u);
  f.tick(1100);  // TO- (the counter was zeroed): tlf/3
  EXPECT_EQ(f.state(), fsm_state::stopped);
  EXPECT_EQ(h.actions.back(), "tlf");
}

TEST(fsm, close_in_opened_sends_max_terminate_requests_then_finishes) {
  fake h;
  fsm f(0xc021, h, h, {.restart_ns = 1000, .max_terminate = 2});
  open_link(f, h);
  h.out.clear();
  f.close(0, "bye");
  EXPECT_EQ(f.state(), fsm_state::closing);
  f.tick(1000);
  f.tick(2000);
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out[0].code, terminate_request);
  EXPECT_EQ(h.out[0].data, (std::vector<std::uint8_t>{'b', 'y', 'e'}));
  EXPECT_EQ(f.state(), fsm_state::closed);
  EXPECT_EQ(h.actions.back(), "tlf");
}

TEST(fsm, a_code_reject_of_an_optional_code_keeps_the_layer_open) {
  fake h;
  fsm f(0xc021, h, h);
  open_link(f, h);
  f.receive({code_reject, 1, std::vector<std::uint8_t>{20, 1, 0, 4}}, 0);  // RXJ+
  EXPECT_EQ(f.state(), fsm_state::opened);
  f.receive({code_reject, 2, std::vector<std::uint8_t>{configure_request, 1, 0, 4}}, 0);  // RXJ-
  EXPECT_EQ(f.state(), fsm_state::stopping);
}

TEST(fsm, a_new_request_in_opened_renegotiates) {
  fake h;
  fsm f(0xc021, h, h);
  open_link(f, h);
  f.receive({configure_request, 8, {}}, 0);  // RCR+ in Opened: tld,scr,sca/8
  EXPECT_EQ(f.state(), fsm_state::ack_sent);
  EXPECT_EQ(h.actions.back(), "tld");
  EXPECT_EQ(h.out[h.out.size() - 2].code, configure_request);
  EXPECT_EQ(h.out.back().code, configure_ack);
}

TEST(fsm, unknown_codes_are_code_rejected_with_the_packet) {
  fake h;
  fsm f(0x8021, h, h);
  open_link(f, h);
  f.receive({14, 5, std::vector<std::uint8_t>{9}}, 0);  // CCP's Reset-Request means nothing to IPCP
  EXPECT_EQ(h.out.back().code, code_reject);
  EXPECT_EQ(h.out.back().data, (std::vector<std::uint8_t>{14, 5, 0, 5, 9}));
  EXPECT_EQ(f.stats().code_rejects, 1u);
}

}  // namespace
