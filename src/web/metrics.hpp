// SPDX-License-Identifier: MIT
#pragma once
/// GET /metrics: the Prometheus text exposition format (version 0.0.4).
#include "server/smtp_server.hpp"

#include <cstdint>
#include <string>

namespace postern::web {

struct store_figures {
    std::uint64_t messages = 0, unread = 0, bytes = 0;  ///< what the index holds
    std::uint64_t backlog = 0;                          ///< arrivals not yet indexed
};

struct http_figures {
    std::uint64_t requests = 0, connections = 0, event_clients = 0, auth_failures = 0;
};

std::string format_metrics(const server::server_stats& smtp, std::size_t smtp_active, const store_figures& store,
                           const http_figures& http);

}  // namespace postern::web
