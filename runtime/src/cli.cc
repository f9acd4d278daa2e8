#include "pptpkit/runtime/cli.hpp"

#include <cstdlib>
#include <iostream>
#include <vector>

#include "pptpkit/runtime/engine.hpp"
#include "pptpkit/runtime/options.hpp"
#include "pptpkit/runtime/plugin_loader.hpp"

namespace pptpkit::runtime {

namespace {

constexpr std::uint64_t status_timeout_ns = 5'000'000'000;

bool wants_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      return true;
    }
  }
  return false;
}

int run_daemon(daemon_mode mode, const std::vector<std::string>& args, platform& p, const std::string& plugin_dir) {
  const char* name = mode == daemon_mode::server ? "pptpkit server" : "pptpkit client";
  if (wants_help(args)) {
    std::cout << (mode == daemon_mode::server ? server_help_text() : client_help_text());
    return 0;
  }
  daemon_options options;
  try {
    options = parse_daemon_options(mode, args, std::getenv("PPTPKIT_PASSWORD"), plugin_dir);
  } catch (const option_error& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  }
  std::unique_ptr<engine> e;
  try {
    e = engine::create(p, options);
  } catch (const std::exception& ex) {
    p.log(PPTPKIT_LOG_ERROR, "pptpkit", std::string("cannot start: ") + ex.what());
    return 1;
  }
  std::string error;
  if (!e->start(error)) {
    p.log(PPTPKIT_LOG_ERROR, "pptpkit", "cannot start: " + error);
    return 1;
  }
  // After the sockets are bound: keep only what the data path needs (issue: safety).
  if (!p.drop_privileges(options.run_as_user, error)) {
    p.log(PPTPKIT_LOG_ERROR, "pptpkit", "cannot drop privileges: " + error);
    return 1;
  }
  return e->run();
}

int run_status(const std::vector<std::string>& args, platform& p) {
  std::string path = default_status_socket;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--status-socket" && i + 1 < args.size()) {
      path = args[++i];
    } else if (args[i].starts_with("--status-socket=")) {
      path = args[i].substr(16);
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::cout << "usage: pptpkit status [--status-socket PATH]   (default " << default_status_socket << ")\n"
                << "Prints a running server's sessions: user, addresses, bytes, packets, drops, reorders, uptime.\n";
      return 0;
    } else {
      std::cerr << "pptpkit status: unexpected argument '" << args[i]
                << "' (usage: pptpkit status [--status-socket PATH])\n";
      return 2;
    }
  }
  std::string error;
  const handle h = p.local_connect(path, error);
  if (h == invalid_handle) {
    std::cerr << "pptpkit status: cannot reach the server at " << path << ": " << error
              << " (is `pptpkit server` running with this --status-socket?)\n";
    return 1;
  }
  p.watch(h, true, false);
  const std::uint64_t deadline = p.now_ns() + status_timeout_ns;
  std::string text;
  std::vector<readiness> ready;
  std::uint8_t buffer[4096];
  while (true) {
    const io_result r = p.stream_read(h, buffer);
    if (r.status == io_status::ok && r.bytes > 0) {
      text.append(reinterpret_cast<const char*>(buffer), r.bytes);
      continue;
    }
    if (r.status == io_status::closed || (r.status == io_status::ok && r.bytes == 0)) {
      break;
    }
    if (r.status == io_status::error) {
      std::cerr << "pptpkit status: " << r.error << "\n";
      p.close(h);
      return 1;
    }
    if (p.now_ns() >= deadline) {
      std::cerr << "pptpkit status: no answer from " << path << " within 5 s\n";
      p.close(h);
      return 1;
    }
    ready.clear();
    p.wait(deadline, ready);
  }
  p.close(h);
  std::cout << text;
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv, platform& p, const std::string& default_plugin_dir) {
  std::vector<std::string> args;
  for (int i = 2; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "server") {
    return run_daemon(daemon_mode::server, args, p, default_plugin_dir);
  }
  if (command == "client") {
    return run_daemon(daemon_mode::client, args, p, default_plugin_dir);
  }
  if (command == "status") {
    return run_status(args, p);
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << help_text();
    return 0;
  }
  std::cerr << (command.empty() ? std::string("pptpkit: missing command")
                                : "pptpkit: unknown command '" + command + "'")
            << "\n"
            << help_text();
  return 2;
}

}  // namespace pptpkit::runtime
