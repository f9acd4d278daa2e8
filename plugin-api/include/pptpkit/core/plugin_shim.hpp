// pptpkit/core/plugin_shim.hpp — what turns a C++ protocol core into a C-ABI plugin.
//
// A plugin writes its core as a class derived from core::instance and a descriptor, then:
//
//   const pptpkit_plugin_descriptor& gre_descriptor() noexcept {
//     static const pptpkit_plugin_ops ops = core::make_ops<gre_instance_factory>();
//     static const pptpkit_plugin_descriptor d = core::make_descriptor(PPTPKIT_KIND_GRE, "gre-tunnel",
//                                                                      "0.1.0", &ops, nullptr);
//     return d;
//   }
//   PPTPKIT_EXPORT_PLUGIN(gre_descriptor)
//
// The C functions make_ops() produces are noexcept shims: they check their arguments, catch every
// exception (configuration errors become PPTPKIT_ERR_CONFIG with the message; anything else
// PPTPKIT_ERR_FATAL) and forward to the virtual functions. The data path below them returns values.
//
// `host` is the plugin's view of the host services: the caller's table is copied into a defaulted
// latest-layout struct once (a prefix copy bounded by its struct_size), so plugin code sees one layout.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pptpkit/core/batch.hpp"
#include "pptpkit/plugin.h"

namespace pptpkit::core {

// Raised while reading configuration; the message names the key and what was wrong with it.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class host {
 public:
  // Copies the caller's prefix of the table. Requires validate() to have passed.
  explicit host(const pptpkit_host_services& services) noexcept;

  // Returns "" when a host table has every 1.0 service a plugin needs, else what is missing.
  static std::string validate(const pptpkit_host_services* services);

  void log(std::uint32_t level, const char* component, const char* format, ...) const noexcept
      __attribute__((format(printf, 4, 5)));
  std::int32_t random(std::span<std::uint8_t> out) const noexcept;
  std::uint32_t alloc(std::span<pptpkit_packet*> out) const noexcept;
  pptpkit_packet* alloc_one() const noexcept;
  void free(pptpkit_packet* p) const noexcept;
  void free(packet_list& list) const noexcept;
  void free(pptpkit_batch& batch) const noexcept;
  const void* service(const char* id) const noexcept;
  const pptpkit_host_services& services() const noexcept { return services_; }

 private:
  pptpkit_host_services services_;
};

// key=value configuration with typed getters. Getters throw config_error on a malformed value.
class config_map {
 public:
  config_map() = default;
  config_map(const pptpkit_config_entry* entries, std::uint32_t count);

  bool has(std::string_view key) const noexcept;
  std::string get(std::string_view key, std::string_view fallback = {}) const;
  std::uint64_t get_u64(std::string_view key, std::uint64_t fallback, std::uint64_t min = 0,
                        std::uint64_t max = UINT64_MAX) const;
  std::uint32_t get_u32(std::string_view key, std::uint32_t fallback, std::uint32_t min = 0,
                        std::uint32_t max = UINT32_MAX) const;
  bool get_bool(std::string_view key, bool fallback) const;
  // Throws config_error naming the first key not in `known`.
  void reject_unknown(std::initializer_list<std::string_view> known) const;
  // Entries of `overrides` replace ours; the result has both.
  config_map merged(const config_map& overrides) const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Events waiting for poll_event. Control path: may allocate.
class event_queue {
 public:
  void push(std::uint32_t type, std::uint32_t channel, std::initializer_list<std::uint64_t> values = {},
            std::string_view text = {});
  // Copies the oldest event into out (as much of it as out->struct_size holds); 1, or 0 when empty.
  std::int32_t pop(pptpkit_event* out) noexcept;
  std::size_t size() const noexcept { return events_.size(); }
  bool empty() const noexcept { return events_.empty(); }

 private:
  std::deque<pptpkit_event> events_;
};

// The C++ side of a plugin instance. Every function is called through the C shims in make_ops().
class instance {
 public:
  virtual ~instance() = default;
  virtual std::int32_t feed(std::uint32_t port, pptpkit_batch& in, std::uint64_t now_ns) noexcept = 0;
  virtual std::int32_t poll(std::uint32_t port, pptpkit_batch& out, std::uint32_t max,
                            std::uint64_t now_ns) noexcept = 0;
  // May throw config_error for bad command entries (turned into PPTPKIT_ERR_CONFIG).
  virtual std::int32_t command(const pptpkit_command& cmd, std::uint64_t now_ns) = 0;
  virtual std::int32_t poll_event(pptpkit_event& out) noexcept = 0;
  virtual std::uint64_t next_deadline() const noexcept = 0;
  virtual std::int32_t tick(std::uint64_t now_ns) noexcept = 0;
  virtual std::int32_t read_stats(std::uint32_t channel, pptpkit_stat* out, std::uint32_t max) const noexcept = 0;
};

namespace detail {
void write_error(char* error, std::uint32_t error_size, std::string_view text) noexcept;
instance* as_instance(pptpkit_instance* inst) noexcept;
const instance* as_instance(const pptpkit_instance* inst) noexcept;
pptpkit_instance* as_handle(instance* inst) noexcept;
void destroy(pptpkit_instance* inst) noexcept;
std::int32_t feed(pptpkit_instance* inst, std::uint32_t port, pptpkit_batch* in, std::uint64_t now) noexcept;
std::int32_t poll(pptpkit_instance* inst, std::uint32_t port, pptpkit_batch* out, std::uint32_t max,
                  std::uint64_t now) noexcept;
std::int32_t command(pptpkit_instance* inst, const pptpkit_command* cmd, std::uint64_t now) noexcept;
std::int32_t poll_event(pptpkit_instance* inst, pptpkit_event* out) noexcept;
std::uint64_t next_deadline(const pptpkit_instance* inst) noexcept;
std::int32_t tick(pptpkit_instance* inst, std::uint64_t now) noexcept;
std::int32_t read_stats(const pptpkit_instance* inst, std::uint32_t channel, pptpkit_stat* out,
                        std::uint32_t max) noexcept;
// Runs `make` (which may throw) and turns its outcome into a C result.
template <class Make>
std::int32_t create(Make&& make, pptpkit_instance** out, char* error, std::uint32_t error_size) noexcept {
  if (out == nullptr) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  *out = nullptr;
  try {
    std::unique_ptr<instance> made = make();
    *out = as_handle(made.release());
    return PPTPKIT_OK;
  } catch (const config_error& e) {
    write_error(error, error_size, e.what());
    return PPTPKIT_ERR_CONFIG;
  } catch (const std::bad_alloc&) {
    write_error(error, error_size, "out of memory");
    return PPTPKIT_ERR_NO_MEMORY;
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
    return PPTPKIT_ERR_FATAL;
  }
}
}  // namespace detail

// Factory: a type with
//   static std::unique_ptr<instance> create(const host&, const config_map&);   // may throw
template <class Factory>
pptpkit_plugin_ops make_ops() noexcept {
  pptpkit_plugin_ops ops{};
  ops.struct_size = sizeof(pptpkit_plugin_ops);
  ops.create = [](const pptpkit_host_services* services, const pptpkit_config_entry* config, std::uint32_t config_count,
                  pptpkit_instance** out, char* error, std::uint32_t error_size) noexcept -> std::int32_t {
    if (const std::string missing = host::validate(services); !missing.empty()) {
      detail::write_error(error, error_size, missing);
      return PPTPKIT_ERR_INVALID_ARGUMENT;
    }
    if (config == nullptr && config_count != 0) {
      return PPTPKIT_ERR_INVALID_ARGUMENT;
    }
    return detail::create([&] { return Factory::create(host(*services), config_map(config, config_count)); }, out,
                          error, error_size);
  };
  ops.destroy = &detail::destroy;
  ops.feed = &detail::feed;
  ops.poll = &detail::poll;
  ops.command = &detail::command;
  ops.poll_event = &detail::poll_event;
  ops.next_deadline = &detail::next_deadline;
  ops.tick = &detail::tick;
  ops.read_stats = &detail::read_stats;
  return ops;
}

pptpkit_plugin_descriptor make_descriptor(std::uint32_t kind, const char* name, const char* version,
                                          const pptpkit_plugin_ops* ops,
                                          const void* (*get_extension)(const char*)) noexcept;

// The body of every plugin's pptpkit_plugin_query: the version negotiation and the host-table check.
std::int32_t answer_query(const pptpkit_plugin_descriptor& descriptor, std::uint32_t host_abi_version,
                          const pptpkit_host_services* host_services, const pptpkit_plugin_descriptor** out,
                          char* error, std::uint32_t error_size) noexcept;

}  // namespace pptpkit::core

// Defines the plugin's one exported symbol. `descriptor_fn` returns a const pptpkit_plugin_descriptor&.
#define PPTPKIT_EXPORT_PLUGIN(descriptor_fn)                                                                    \
  extern "C" __attribute__((visibility("default"))) std::int32_t pptpkit_plugin_query(                          \
      std::uint32_t host_abi_version, const pptpkit_host_services* host, const pptpkit_plugin_descriptor** out, \
      char* error, std::uint32_t error_size) noexcept {                                                         \
    return ::pptpkit::core::answer_query(descriptor_fn(), host_abi_version, host, out, error, error_size);      \
  }
