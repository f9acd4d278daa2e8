// The data path: raw GRE <-> gre <-> ppp <-> each session's interface. Batches move whole; nothing here
// copies payload or allocates. When the data pool runs dry the readers are unwatched (a readable
// level-triggered descriptor that cannot be read would make the loop spin) until packets return. An
// interface that fails for good (deleted under us) is unwatched and ends its session, once.
#include <algorithm>

#include "engine_impl.hpp"
#include "pptpkit/control.h"
#include "pptpkit/gre.h"
#include "pptpkit/ppp.h"

namespace pptpkit::runtime {

void engine_impl::receive_gre() {
  if (readers_paused_) {
    return;  // readiness reported before a pause in this round
  }
  for (std::uint32_t round = 0; round < max_reads_per_ready; ++round) {
    core::packet_list rx;
    const batch_result read = platform_.gre_receive(gre_h_, *pool_, rx, batch_max);
    if (read.packets > 0) {
      pptpkit_batch b = PPTPKIT_BATCH_INIT;
      rx.release(b);
      if (plugins_->gre().ops().feed(plugins_->gre().inst, PPTPKIT_GRE_PORT_NET, &b, now_) < 0) {
        ++counters_.plugin_errors;
      }
    }
    if (read.status == batch_status::pool_empty) {
      pause_readers();
      return;
    }
    if (read.packets < batch_max) {
      return;
    }
  }
}

void engine_impl::read_tun(std::uint32_t id) {
  auto si = sessions_.find(id);
  if (readers_paused_ || si == sessions_.end() || si->second.tun == invalid_handle || si->second.ending) {
    return;
  }
  session& s = si->second;
  for (std::uint32_t round = 0; round < max_reads_per_ready; ++round) {
    core::packet_list rx;
    const batch_result read = platform_.tun_read(s.tun, *pool_, rx, batch_max);
    if (read.status == batch_status::failed) {
      free_packets(rx);  // the session ends: what came before the error goes nowhere
      interface_failed(s, read.error);
      return;
    }
    const std::uint32_t n = read.packets;
    if (read.status == batch_status::pool_empty) {
      pause_readers();  // after this batch is fed
    }
    if (n == 0) {
      return;
    }
    for (pptpkit_packet& p : rx) {
      p.channel = id;
      s.tx_bytes += p.length;
    }
    s.tx_packets += n;
    pptpkit_batch b = PPTPKIT_BATCH_INIT;
    rx.release(b);
    if (plugins_->ppp().ops().feed(plugins_->ppp().inst, PPTPKIT_PPP_PORT_NET, &b, now_) < 0) {
      ++counters_.plugin_errors;
    }
    if (n < batch_max || readers_paused_) {
      return;
    }
  }
}

// The session's interface failed for good — deleted by an administrator, a network manager or a script:
// its descriptor fails every read and write and the poller reports it at every wait (host-linux/DESIGN.md).
// Stop watching it now and end that session, once: the call is cleared (the PAC sends
// Call-Disconnect-Notify), ip-down runs, the address goes back to the pool; "session down" says why.
void engine_impl::interface_failed(session& s, const std::string& error) {
  if (s.ending) {
    return;
  }
  platform_.unwatch(s.tun);
  ++counters_.tun_failed;
  request_teardown(s, "interface " + s.ifname + " failed (" + error + ")", end_cause::port_error);
}

// The pool is empty: stop watching the GRE socket and every interface until a batch's worth is back.
void engine_impl::pause_readers() {
  if (readers_paused_) {
    return;
  }
  readers_paused_ = true;
  ++counters_.readers_paused;
  log(PPTPKIT_LOG_WARNING, 0, 0,
      "packet pool empty (" + std::to_string(pool_->capacity()) + " packets held): pausing reads until packets return");
  platform_.unwatch(gre_h_);
  for (auto& [id, s] : sessions_) {
    if (s.tun != invalid_handle) {
      platform_.unwatch(s.tun);
    }
  }
}

void engine_impl::resume_readers() {
  if (pool_->available() < batch_max) {
    return;
  }
  readers_paused_ = false;
  readers_resumed_ = true;  // look at them at once: they may have been readable all along
  platform_.watch(gre_h_, true, false);
  for (auto& [id, s] : sessions_) {
    if (s.tun != invalid_handle && !s.ending) {  // an ending session's interface may be the failed one
      platform_.watch(s.tun, true, false);
    }
  }
}

// Moves packets between the plugins' ports until nothing moves. Returns whether anything did.
bool engine_impl::drain_ports() {
  bool any = false;
  pptpkit_batch b = PPTPKIT_BATCH_INIT;
  plugin_instance& control = plugins_->control();
  plugin_instance& gre = plugins_->gre();
  plugin_instance& ppp = plugins_->ppp();
  // Control messages -> their connection's output queue.
  while (control.ops().poll(control.inst, PPTPKIT_CONTROL_PORT_STREAM, &b, batch_max, now_) > 0) {
    any = true;
    core::packet_list l;
    l.adopt(b);
    while (pptpkit_packet* p = l.pop_front()) {
      auto ci = connections_.find(p->channel);
      if (ci == connections_.end() || ci->second.h == invalid_handle || ci->second.closing) {
        free_packet(p);
        continue;
      }
      queue_output(ci->second, *p);
    }
  }
  // GRE frames received -> PPP link port (the channel is the same number on both).
  while (gre.ops().poll(gre.inst, PPTPKIT_GRE_PORT_PPP, &b, batch_max, now_) > 0) {
    any = true;
    if (ppp.ops().feed(ppp.inst, PPTPKIT_PPP_PORT_LINK, &b, now_) < 0) {
      ++counters_.plugin_errors;
    }
  }
  // PPP frames to send -> GRE.
  while (ppp.ops().poll(ppp.inst, PPTPKIT_PPP_PORT_LINK, &b, batch_max, now_) > 0) {
    any = true;
    if (gre.ops().feed(gre.inst, PPTPKIT_GRE_PORT_PPP, &b, now_) < 0) {
      ++counters_.plugin_errors;
    }
  }
  // GRE packets ready -> the raw socket.
  while (gre.ops().poll(gre.inst, PPTPKIT_GRE_PORT_NET, &b, batch_max, now_) > 0) {
    any = true;
    core::packet_list l;
    l.adopt(b);
    const std::uint32_t n = l.size();
    counters_.drop_gre_send += n - std::min(n, platform_.gre_send(gre_h_, l));
  }
  // IP packets from the peers -> each session's interface.
  while (ppp.ops().poll(ppp.inst, PPTPKIT_PPP_PORT_NET, &b, batch_max, now_) > 0) {
    any = true;
    core::packet_list l;
    l.adopt(b);
    deliver_to_interfaces(l);
  }
  return any;
}

// Writes a batch of IP packets to their sessions' interfaces, in runs of one session.
void engine_impl::deliver_to_interfaces(core::packet_list& l) {
  while (!l.empty()) {
    const std::uint32_t channel = l.front().channel;
    core::packet_list run;
    std::uint32_t bytes = 0;
    while (!l.empty() && l.front().channel == channel) {
      pptpkit_packet* p = l.pop_front();
      bytes += p->length;
      run.push_back(*p);
    }
    auto si = sessions_.find(channel);
    if (si != sessions_.end() && si->second.tun == invalid_handle && !si->second.ending &&
        si->second.held.size() + run.size() <= held_packets_max) {
      si->second.held.splice_back(run);  // IPV4_UP is in the event queue: keep them for the interface
      continue;
    }
    if (si == sessions_.end() || si->second.tun == invalid_handle) {
      counters_.drop_no_interface += run.size();
      free_packets(run);
      continue;
    }
    session& s = si->second;
    const std::uint32_t n = run.size();
    const batch_result wrote = platform_.tun_write(s.tun, run);
    const std::uint32_t written = std::min(n, wrote.packets);
    s.rx_packets += written;
    s.rx_bytes += written == n ? bytes : 0;  // which ones failed is unknown: count none
    counters_.drop_tun_write += n - written;
    if (!run.empty()) {
      free_packets(run);  // a platform that left packets behind: do not leak them
    }
    if (wrote.status == batch_status::failed) {
      interface_failed(s, wrote.error);
    }
  }
}

}  // namespace pptpkit::runtime
