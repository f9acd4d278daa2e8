// pptpkit/runtime/plugin_loader.hpp — loads a plugin module and checks it before anything calls it.
//
// load_plugin() opens the file with dlopen(RTLD_NOW | RTLD_LOCAL), finds pptpkit_plugin_query, negotiates
// the ABI version and checks the descriptor: the ABI major, the descriptor's and the ops table's size,
// the build fingerprint (pointer size, byte order, sizes of the core structs), the kind and the required
// functions. Every failure throws load_error with a message a vendor can act on, naming the file, what
// was expected and what was found, e.g.
//   "gre-tunnel.so: built for ABI 2.0; this host speaks 1.x".
//
// Ownership: loaded_plugin keeps the module open; every instance created through its ops must be
// destroyed before it is. Threading: immutable after loading; safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "pptpkit/plugin.h"

namespace pptpkit::runtime {

class load_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class loaded_plugin {
 public:
  ~loaded_plugin();
  loaded_plugin(const loaded_plugin&) = delete;
  loaded_plugin& operator=(const loaded_plugin&) = delete;

  const std::string& path() const noexcept { return path_; }
  const pptpkit_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
  // The plugin's ops in the latest layout (functions the plugin lacks are NULL).
  const pptpkit_plugin_ops& ops() const noexcept { return ops_; }

 private:
  friend std::unique_ptr<loaded_plugin> load_plugin(const std::string&, std::uint32_t, const pptpkit_host_services&);
  loaded_plugin(std::string path, void* module) noexcept : path_(std::move(path)), handle_(module) {}

  std::string path_;
  void* handle_ = nullptr;
  const pptpkit_plugin_descriptor* descriptor_ = nullptr;
  pptpkit_plugin_ops ops_{};
};

// Throws load_error. `host` is what the plugin is queried with (it checks the table).
std::unique_ptr<loaded_plugin> load_plugin(const std::string& path, std::uint32_t expected_kind,
                                           const pptpkit_host_services& host);

// "control", "gre", "ppp" or "unknown kind N".
std::string kind_name(std::uint32_t kind);

}  // namespace pptpkit::runtime
