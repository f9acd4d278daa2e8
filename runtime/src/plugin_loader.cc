#include "pptpkit/runtime/plugin_loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

namespace pptpkit::runtime {

namespace {

constexpr std::size_t descriptor_v1_0_size =
    offsetof(pptpkit_plugin_descriptor, get_extension) + sizeof(pptpkit_plugin_descriptor::get_extension);
constexpr std::size_t ops_v1_0_size = offsetof(pptpkit_plugin_ops, read_stats) + sizeof(pptpkit_plugin_ops::read_stats);

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string version_text(std::uint32_t v) {
  return std::to_string(PPTPKIT_ABI_MAJOR_OF(v)) + "." + std::to_string(PPTPKIT_ABI_MINOR_OF(v));
}

// Compares the plugin's build fingerprint with ours; returns "" or what differs.
std::string fingerprint_mismatch(const pptpkit_build_fingerprint& theirs) {
  const pptpkit_build_fingerprint ours = PPTPKIT_BUILD_FINGERPRINT_INIT;
  std::string out;
  const auto check = [&](const char* what, std::uint32_t found, std::uint32_t expected) {
    if (found != expected) {
      out += out.empty() ? "" : "; ";
      out += std::string(what) + " is " + std::to_string(found) + ", this host has " + std::to_string(expected);
    }
  };
  check("pointer size", theirs.pointer_size, ours.pointer_size);
  check("byte order", theirs.byte_order, ours.byte_order);
  check("sizeof(pptpkit_packet)", theirs.packet_size, ours.packet_size);
  check("sizeof(pptpkit_batch)", theirs.batch_size, ours.batch_size);
  // Extensible structs may have grown on either side within a major; their struct_size covers that.
  return out;
}

}  // namespace

std::string kind_name(std::uint32_t kind) {
  switch (kind) {
    case PPTPKIT_KIND_CONTROL:
      return "control";
    case PPTPKIT_KIND_GRE:
      return "gre";
    case PPTPKIT_KIND_PPP:
      return "ppp";
    default:
      return "unknown kind " + std::to_string(kind);
  }
}

loaded_plugin::~loaded_plugin() {
  if (handle_ != nullptr) {
    dlclose(handle_);
  }
}

std::unique_ptr<loaded_plugin> load_plugin(const std::string& path, std::uint32_t expected_kind,
                                           const pptpkit_host_services& host) {
  const std::string file = base_name(path);
  const std::string want = "a " + kind_name(expected_kind) + " plugin";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw load_error(file + ": no such file at " + path + " (expected " + want +
                     "; check the plugin directory setting)");
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw load_error(file + ": cannot be loaded: " + (why ? why : "unknown dlopen error"));
  }
  std::unique_ptr<loaded_plugin> plugin(new loaded_plugin(path, handle));

  dlerror();
  void* symbol = dlsym(handle, PPTPKIT_PLUGIN_ENTRY);
  if (symbol == nullptr) {
    throw load_error(file + ": not a pptpkit plugin: it does not export " PPTPKIT_PLUGIN_ENTRY " (expected " + want +
                     ")");
  }
  pptpkit_plugin_query_fn query = nullptr;
  static_assert(sizeof(query) == sizeof(symbol));
  std::memcpy(&query, &symbol, sizeof(query));

  char error[256] = {0};
  const pptpkit_plugin_descriptor* d = nullptr;
  const std::int32_t rc = query(PPTPKIT_ABI_VERSION, &host, &d, error, sizeof(error));
  if (rc != PPTPKIT_OK) {
    throw load_error(file + ": refused to load (error " + std::to_string(rc) +
                     "): " + (error[0] ? error : "no reason given"));
  }
  if (d == nullptr) {
    throw load_error(file + ": " PPTPKIT_PLUGIN_ENTRY " returned no descriptor");
  }
  if (d->struct_size < offsetof(pptpkit_plugin_descriptor, abi_version) + sizeof(d->abi_version)) {
    throw load_error(file + ": descriptor is " + std::to_string(d->struct_size) +
                     " bytes, too short to hold an ABI version; ABI 1.0 needs at least " +
                     std::to_string(descriptor_v1_0_size));
  }
  if (PPTPKIT_ABI_MAJOR_OF(d->abi_version) != PPTPKIT_ABI_VERSION_MAJOR) {
    throw load_error(file + ": built for ABI " + version_text(d->abi_version) + "; this host speaks " +
                     std::to_string(PPTPKIT_ABI_VERSION_MAJOR) + ".x");
  }
  if (d->struct_size < descriptor_v1_0_size) {
    // Every minor of major 1 has at least the 1.0 fields; a newer minor only appends.
    throw load_error(file + ": descriptor is " + std::to_string(d->struct_size) + " bytes; ABI 1.0 needs at least " +
                     std::to_string(descriptor_v1_0_size));
  }
  if (const std::string diff = fingerprint_mismatch(d->fingerprint); !diff.empty()) {
    throw load_error(file + ": built for a different machine or ABI layout: " + diff);
  }
  const std::string name = d->name != nullptr ? d->name : "(unnamed)";
  if (d->kind != expected_kind) {
    throw load_error(file + ": is a " + kind_name(d->kind) + " plugin (" + name + "); expected " + want);
  }
  if (d->ops == nullptr || d->ops->struct_size < ops_v1_0_size) {
    throw load_error(file + ": function table is " + std::to_string(d->ops ? d->ops->struct_size : 0) +
                     " bytes; ABI 1.0 needs at least " + std::to_string(ops_v1_0_size));
  }
  // Copy the plugin's prefix into a defaulted latest struct: the rest of the host sees one layout.
  std::memcpy(&plugin->ops_, d->ops, std::min<std::size_t>(d->ops->struct_size, sizeof(plugin->ops_)));
  plugin->ops_.struct_size = sizeof(plugin->ops_);
  const pptpkit_plugin_ops& ops = plugin->ops_;
  if (!ops.create || !ops.destroy || !ops.feed || !ops.poll || !ops.command || !ops.poll_event || !ops.next_deadline ||
      !ops.tick || !ops.read_stats) {
    throw load_error(file + ": function table of " + name + " lacks a required ABI 1.0 function");
  }
  plugin->descriptor_ = d;
  return plugin;
}

}  // namespace pptpkit::runtime
