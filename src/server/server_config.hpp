// SPDX-License-Identifier: MIT
#pragma once
#include "proto/session_config.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postern::server {

struct listener_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 2525;            // 0: any free port (logged)
    std::string role = "smtp";
};

struct server_config {
    std::vector<listener_config> listeners{listener_config{}};
    proto::session_config session;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};  // RFC 5321 §4.5.3.2.7
    std::size_t max_connections = 1000;
    std::size_t max_connections_per_ip = 100;
    std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
    std::size_t read_buffer = 64 * 1024;  // one buffer per I/O thread, not per connection
    bool wire_trace = false;              // --verbose
};

}  // namespace postern::server
