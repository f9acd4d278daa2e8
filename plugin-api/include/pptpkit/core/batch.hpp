// pptpkit/core/batch.hpp — intrusive packet lists and fixed-capacity batches (Boost.Intrusive).
//
// Packets are linked through their own `link` member (pptpkit/packet.h), so queuing a packet never
// allocates. `packet_list` is an unbounded FIFO (send queues, free lists); `packet_batch` is the same
// list capped at PPTPKIT_BATCH_MAX, the unit that moves between stages. Both convert to and from the C
// `pptpkit_batch` in O(1): adopt() takes a C batch's chain, release() hands the chain out.
//
// Ownership: a list holds its packets but does not free them; destroying a non-empty list is a
// programming error (asserted). Give packets back with the host's packet_free or a pool.
// Threading: one thread at a time.
#pragma once

#include <boost/intrusive/slist.hpp>
#include <cassert>
#include <cstdint>

#include "pptpkit/packet.h"

namespace pptpkit::core {

// Node traits over the C link: the node is the one-pointer pptpkit_packet_link.
struct packet_node_traits {
  using node = pptpkit_packet_link;
  using node_ptr = node*;
  using const_node_ptr = const node*;
  static node_ptr get_next(const_node_ptr n) noexcept { return n->next; }
  static void set_next(node_ptr n, node_ptr next) noexcept { n->next = next; }
};

// Value traits: the link is the packet's first member (asserted in the ABI checks).
struct packet_value_traits {
  using node_traits = packet_node_traits;
  using node_ptr = node_traits::node_ptr;
  using const_node_ptr = node_traits::const_node_ptr;
  using value_type = pptpkit_packet;
  using pointer = pptpkit_packet*;
  using const_pointer = const pptpkit_packet*;
  static constexpr boost::intrusive::link_mode_type link_mode = boost::intrusive::normal_link;
  static node_ptr to_node_ptr(value_type& v) noexcept { return &v.link; }
  static const_node_ptr to_node_ptr(const value_type& v) noexcept { return &v.link; }
  static pointer to_value_ptr(node_ptr n) noexcept { return PPTPKIT_PACKET_OF(n); }
  static const_pointer to_value_ptr(const_node_ptr n) noexcept { return reinterpret_cast<const pptpkit_packet*>(n); }
};

using packet_slist =
    boost::intrusive::slist<pptpkit_packet, boost::intrusive::value_traits<packet_value_traits>,
                            boost::intrusive::linear<true>, boost::intrusive::cache_last<true>,
                            boost::intrusive::constant_time_size<true>, boost::intrusive::size_type<std::uint32_t>>;

class packet_list {
 public:
  packet_list() noexcept = default;
  packet_list(const packet_list&) = delete;
  packet_list& operator=(const packet_list&) = delete;
  packet_list(packet_list&& other) noexcept { list_.swap(other.list_); }
  packet_list& operator=(packet_list&& other) noexcept {
    assert(list_.empty());
    list_.swap(other.list_);
    return *this;
  }
  ~packet_list() { assert(list_.empty() && "packet_list destroyed while holding packets"); }

  bool empty() const noexcept { return list_.empty(); }
  std::uint32_t size() const noexcept { return list_.size(); }
  pptpkit_packet& front() noexcept { return list_.front(); }
  pptpkit_packet& back() noexcept { return list_.back(); }

  void push_back(pptpkit_packet& p) noexcept { list_.push_back(p); }
  void push_front(pptpkit_packet& p) noexcept { list_.push_front(p); }
  // Removes and returns the first packet, or nullptr when empty.
  pptpkit_packet* pop_front() noexcept {
    if (list_.empty()) {
      return nullptr;
    }
    pptpkit_packet& p = list_.front();
    list_.pop_front();
    p.link.next = nullptr;
    return &p;
  }
  // Moves every packet of `other` to the end of this list in O(1).
  void splice_back(packet_list& other) noexcept { splice_back(other.list_); }

  // Appends the chain of a C batch in O(1) and leaves the C batch empty (takes its packets).
  void adopt(pptpkit_batch& c) noexcept {
    if (c.count == 0) {
      c = pptpkit_batch PPTPKIT_BATCH_INIT;
      return;
    }
    assert(c.head != nullptr && c.tail != nullptr && c.tail->next == nullptr);
    auto pos = list_.empty() ? list_.before_begin() : list_.last();
    list_.incorporate_after(pos, c.head, c.tail, c.count);
    c = pptpkit_batch PPTPKIT_BATCH_INIT;
  }
  // Appends every packet of this list to a C batch in O(1) and leaves this list empty.
  void release(pptpkit_batch& c) noexcept {
    if (list_.empty()) {
      return;
    }
    pptpkit_packet_link* head = &list_.front().link;
    pptpkit_packet_link* tail = &list_.back().link;
    const std::uint32_t n = list_.size();
    list_.clear();  // normal_link: O(1), the chain stays intact
    tail->next = nullptr;
    if (c.count == 0) {
      c.head = head;
    } else {
      c.tail->next = head;
    }
    c.tail = tail;
    c.count += n;
  }

  template <class Fn>
  void for_each(Fn&& fn) {
    for (pptpkit_packet& p : list_) {
      fn(p);
    }
  }

  auto begin() noexcept { return list_.begin(); }
  auto end() noexcept { return list_.end(); }

 protected:
  void splice_back(packet_slist& other) noexcept {
    if (other.empty()) {
      return;
    }
    auto pos = list_.empty() ? list_.before_begin() : list_.last();
    list_.splice_after(pos, other);
  }
  packet_slist list_;
};

// A packet_list that never holds more than PPTPKIT_BATCH_MAX packets.
class packet_batch : public packet_list {
 public:
  static constexpr std::uint32_t capacity = PPTPKIT_BATCH_MAX;
  bool full() const noexcept { return size() >= capacity; }
  // False (and the packet stays the caller's) when the batch is full.
  bool try_push_back(pptpkit_packet& p) noexcept {
    if (full()) {
      return false;
    }
    push_back(p);
    return true;
  }
};

// Walks a C batch without changing it.
template <class Fn>
void for_each_packet(const pptpkit_batch& c, Fn&& fn) {
  for (pptpkit_packet_link* l = c.head; l != nullptr; l = l->next) {
    fn(*PPTPKIT_PACKET_OF(l));
  }
}

}  // namespace pptpkit::core
