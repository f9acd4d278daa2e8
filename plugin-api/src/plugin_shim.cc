#include "pptpkit/core/plugin_shim.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace pptpkit::core {

namespace {

constexpr std::size_t host_services_v1_0_size =
    offsetof(pptpkit_host_services, get_service) + sizeof(pptpkit_host_services::get_service);

}  // namespace

host::host(const pptpkit_host_services& services) noexcept : services_{} {
  // The caller's prefix goes into a zeroed latest-layout struct: fields it lacks stay NULL.
  const std::size_t n = std::min<std::size_t>(services.struct_size, sizeof(services_));
  std::memcpy(&services_, &services, n);
  services_.struct_size = sizeof(services_);
}

std::string host::validate(const pptpkit_host_services* services) {
  if (services == nullptr) {
    return "no host services table";
  }
  if (services->struct_size < host_services_v1_0_size) {
    return "host services table is " + std::to_string(services->struct_size) + " bytes; ABI 1.0 needs " +
           std::to_string(host_services_v1_0_size);
  }
  std::string missing;
  const auto need = [&](const void* fn, const char* name) {
    if (fn == nullptr) {
      missing += missing.empty() ? "host services missing: " : ", ";
      missing += name;
    }
  };
  need(reinterpret_cast<const void*>(services->log), "log");
  need(reinterpret_cast<const void*>(services->random_bytes), "random_bytes");
  need(reinterpret_cast<const void*>(services->packet_alloc), "packet_alloc");
  need(reinterpret_cast<const void*>(services->packet_free), "packet_free");
  return missing;
}

void host::log(std::uint32_t level, const char* component, const char* format, ...) const noexcept {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  services_.log(services_.host_ctx, level, component, line);
}

std::int32_t host::random(std::span<std::uint8_t> out) const noexcept {
  return services_.random_bytes(services_.host_ctx, out.data(), static_cast<std::uint32_t>(out.size()));
}

std::uint32_t host::alloc(std::span<pptpkit_packet*> out) const noexcept {
  return services_.packet_alloc(services_.host_ctx, out.data(), static_cast<std::uint32_t>(out.size()));
}

pptpkit_packet* host::alloc_one() const noexcept {
  pptpkit_packet* p = nullptr;
  return alloc({&p, 1}) == 1 ? p : nullptr;
}

void host::free(pptpkit_packet* p) const noexcept {
  if (p != nullptr) {
    services_.packet_free(services_.host_ctx, &p, 1);
  }
}

void host::free(packet_list& list) const noexcept {
  pptpkit_packet* chunk[32];
  std::uint32_t n = 0;
  while (pptpkit_packet* p = list.pop_front()) {
    chunk[n++] = p;
    if (n == 32) {
      services_.packet_free(services_.host_ctx, chunk, n);
      n = 0;
    }
  }
  if (n != 0) {
    services_.packet_free(services_.host_ctx, chunk, n);
  }
}

void host::free(pptpkit_batch& batch) const noexcept {
  packet_list list;
  list.adopt(batch);
  free(list);
}

const void* host::service(const char* id) const noexcept {
  return services_.get_service == nullptr ? nullptr : services_.get_service(services_.host_ctx, id);
}

config_map::config_map(const pptpkit_config_entry* entries, std::uint32_t count) {
  for (std::uint32_t i = 0; i < count; ++i) {
    if (entries[i].key == nullptr || entries[i].value == nullptr) {
      throw config_error("configuration entry " + std::to_string(i) + " has a NULL key or value");
    }
    entries_.emplace_back(entries[i].key, entries[i].value);
  }
}

bool config_map::has(std::string_view key) const noexcept {
  return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == key; });
}

std::string config_map::get(std::string_view key, std::string_view fallback) const {
  // The last entry for a key wins, like a later line of a configuration file.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == key) {
      return it->second;
    }
  }
  return std::string(fallback);
}

std::uint64_t config_map::get_u64(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                  std::uint64_t max) const {
  if (!has(key)) {
    return fallback;
  }
  const std::string text = get(key);
  std::uint64_t value = 0;
  bool ok = !text.empty() && text.size() <= 20;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - static_cast<std::uint64_t>(c - '0')) / 10) {
      ok = false;
      break;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!ok || value < min || value > max) {
    throw config_error(std::string(key) + ": expected a whole number from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", got \"" + text + "\"");
  }
  return value;
}

std::uint32_t config_map::get_u32(std::string_view key, std::uint32_t fallback, std::uint32_t min,
                                  std::uint32_t max) const {
  return static_cast<std::uint32_t>(get_u64(key, fallback, min, max));
}

bool config_map::get_bool(std::string_view key, bool fallback) const {
  if (!has(key)) {
    return fallback;
  }
  const std::string text = get(key);
  if (text == "1" || text == "yes" || text == "true" || text == "on") {
    return true;
  }
  if (text == "0" || text == "no" || text == "false" || text == "off") {
    return false;
  }
  throw config_error(std::string(key) + ": expected 1/0, yes/no, true/false or on/off, got \"" + text + "\"");
}

void config_map::reject_unknown(std::initializer_list<std::string_view> known) const {
  for (const auto& e : entries_) {
    if (std::find(known.begin(), known.end(), e.first) == known.end()) {
      throw config_error("unknown configuration key \"" + e.first + "\"");
    }
  }
}

config_map config_map::merged(const config_map& overrides) const {
  config_map out = *this;
  out.entries_.insert(out.entries_.end(), overrides.entries_.begin(), overrides.entries_.end());
  return out;
}

void event_queue::push(std::uint32_t type, std::uint32_t channel, std::initializer_list<std::uint64_t> values,
                       std::string_view text) {
  pptpkit_event e = PPTPKIT_EVENT_INIT;
  e.type = type;
  e.channel = channel;
  std::size_t i = 0;
  for (std::uint64_t v : values) {
    if (i == std::size(e.values)) {
      break;
    }
    e.values[i++] = v;
  }
  const std::size_t n = std::min(text.size(), sizeof(e.text) - 1);
  if (n != 0) {  // an empty string_view may have a null data(): memcpy's source must not be null
    std::memcpy(e.text, text.data(), n);
  }
  e.text[n] = '\0';
  events_.push_back(e);
}

std::int32_t event_queue::pop(pptpkit_event* out) noexcept {
  if (events_.empty()) {
    return 0;
  }
  const std::uint32_t room = out->struct_size;
  const std::size_t n = std::min<std::size_t>(room, sizeof(pptpkit_event));
  std::memcpy(out, &events_.front(), n);
  out->struct_size = room;
  if (n < sizeof(pptpkit_event) && n > offsetof(pptpkit_event, text)) {
    reinterpret_cast<char*>(out)[n - 1] = '\0';  // a shorter text field stays terminated
  }
  events_.pop_front();
  return 1;
}

namespace detail {

void write_error(char* error, std::uint32_t error_size, std::string_view text) noexcept {
  if (error == nullptr || error_size == 0) {
    return;
  }
  const std::size_t n = std::min<std::size_t>(text.size(), error_size - 1);
  std::memcpy(error, text.data(), n);
  error[n] = '\0';
}

instance* as_instance(pptpkit_instance* inst) noexcept {
  return reinterpret_cast<instance*>(inst);
}
const instance* as_instance(const pptpkit_instance* inst) noexcept {
  return reinterpret_cast<const instance*>(inst);
}
pptpkit_instance* as_handle(instance* inst) noexcept {
  return reinterpret_cast<pptpkit_instance*>(inst);
}

void destroy(pptpkit_instance* inst) noexcept {
  delete as_instance(inst);
}

std::int32_t feed(pptpkit_instance* inst, std::uint32_t port, pptpkit_batch* in, std::uint64_t now) noexcept {
  if (inst == nullptr || in == nullptr) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  return as_instance(inst)->feed(port, *in, now);
}

std::int32_t poll(pptpkit_instance* inst, std::uint32_t port, pptpkit_batch* out, std::uint32_t max,
                  std::uint64_t now) noexcept {
  if (inst == nullptr || out == nullptr) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  return as_instance(inst)->poll(port, *out, max, now);
}

std::int32_t command(pptpkit_instance* inst, const pptpkit_command* cmd, std::uint64_t now) noexcept {
  if (inst == nullptr || cmd == nullptr ||
      cmd->struct_size < offsetof(pptpkit_command, entry_count) + sizeof(cmd->entry_count)) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  // Copy the caller's prefix into a defaulted latest struct: the core sees one layout.
  pptpkit_command latest = PPTPKIT_COMMAND_INIT;
  std::memcpy(&latest, cmd, std::min<std::size_t>(cmd->struct_size, sizeof(latest)));
  latest.struct_size = sizeof(latest);
  if (latest.entries == nullptr && latest.entry_count != 0) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  try {
    return as_instance(inst)->command(latest, now);
  } catch (const config_error& e) {
    return PPTPKIT_ERR_CONFIG;
  } catch (const std::bad_alloc&) {
    return PPTPKIT_ERR_NO_MEMORY;
  } catch (...) {
    return PPTPKIT_ERR_FATAL;
  }
}

std::int32_t poll_event(pptpkit_instance* inst, pptpkit_event* out) noexcept {
  if (inst == nullptr || out == nullptr || out->struct_size < offsetof(pptpkit_event, text) + 1) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  return as_instance(inst)->poll_event(*out);
}

std::uint64_t next_deadline(const pptpkit_instance* inst) noexcept {
  return inst == nullptr ? PPTPKIT_NO_DEADLINE : as_instance(inst)->next_deadline();
}

std::int32_t tick(pptpkit_instance* inst, std::uint64_t now) noexcept {
  return inst == nullptr ? PPTPKIT_ERR_INVALID_ARGUMENT : as_instance(inst)->tick(now);
}

std::int32_t read_stats(const pptpkit_instance* inst, std::uint32_t channel, pptpkit_stat* out,
                        std::uint32_t max) noexcept {
  if (inst == nullptr || (out == nullptr && max != 0)) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  return as_instance(inst)->read_stats(channel, out, max);
}

}  // namespace detail

pptpkit_plugin_descriptor make_descriptor(std::uint32_t kind, const char* name, const char* version,
                                          const pptpkit_plugin_ops* ops,
                                          const void* (*get_extension)(const char*)) noexcept {
  pptpkit_plugin_descriptor d{};
  d.struct_size = sizeof(d);
  d.abi_version = PPTPKIT_ABI_VERSION;
  d.kind = kind;
  d.name = name;
  d.version = version;
  d.fingerprint = pptpkit_build_fingerprint PPTPKIT_BUILD_FINGERPRINT_INIT;
  d.ops = ops;
  d.get_extension = get_extension;
  return d;
}

std::int32_t answer_query(const pptpkit_plugin_descriptor& descriptor, std::uint32_t host_abi_version,
                          const pptpkit_host_services* host_services, const pptpkit_plugin_descriptor** out,
                          char* error, std::uint32_t error_size) noexcept {
  if (out == nullptr) {
    return PPTPKIT_ERR_INVALID_ARGUMENT;
  }
  *out = nullptr;
  const std::uint32_t ours = descriptor.abi_version;
  if (PPTPKIT_ABI_MAJOR_OF(host_abi_version) != PPTPKIT_ABI_MAJOR_OF(ours)) {
    char text[160];
    std::snprintf(text, sizeof(text), "%s: built for ABI %u.%u; this host speaks %u.%u", descriptor.name,
                  PPTPKIT_ABI_MAJOR_OF(ours), PPTPKIT_ABI_MINOR_OF(ours), PPTPKIT_ABI_MAJOR_OF(host_abi_version),
                  PPTPKIT_ABI_MINOR_OF(host_abi_version));
    detail::write_error(error, error_size, text);
    return PPTPKIT_ERR_VERSION;
  }
  try {
    if (const std::string missing = host::validate(host_services); !missing.empty()) {
      detail::write_error(error, error_size, std::string(descriptor.name) + ": " + missing);
      return PPTPKIT_ERR_INVALID_ARGUMENT;
    }
  } catch (...) {
    return PPTPKIT_ERR_NO_MEMORY;
  }
  *out = &descriptor;
  return PPTPKIT_OK;
}

}  // namespace pptpkit::core
