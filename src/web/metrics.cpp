// SPDX-License-Identifier: MIT
#include "web/metrics.hpp"

#include <fmt/format.h>

namespace postern::web {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, std::uint64_t v, std::string_view labels = {}) {
    if (labels.empty()) fmt::format_to(std::back_inserter(out), "{} {}\n", name, v);
    else fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, v);
}

void one(std::string& out, std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
    family(out, name, type, help);
    sample(out, name, v);
}

// "rcpt 550 5.7.1" -> stage="rcpt",code="550",enhanced="5.7.1" (keys are made by the server: no quotes inside).
std::string rejection_labels(std::string_view key) {
    std::string_view parts[3];
    for (int i = 0; i < 3 && !key.empty(); ++i) {
        auto sp = key.find(' ');
        parts[i] = key.substr(0, sp);
        key = sp == std::string_view::npos ? std::string_view{} : key.substr(sp + 1);
    }
    return fmt::format("stage=\"{}\",code=\"{}\",enhanced=\"{}\"", parts[0], parts[1], parts[2]);
}

}  // namespace

std::string format_metrics(const server::server_stats& s, std::size_t smtp_active, const store_figures& store,
                           const http_figures& http) {
    std::string out;
    one(out, "postern_smtp_connections_total", "counter", "SMTP connections accepted.", s.connections);
    one(out, "postern_smtp_connections_refused_total", "counter", "SMTP connections refused by the connection limits.", s.refused);
    one(out, "postern_smtp_connections_active", "gauge", "SMTP sessions open now.", smtp_active);
    one(out, "postern_smtp_messages_accepted_total", "counter", "Messages stored and acknowledged with 250.", s.messages);
    one(out, "postern_smtp_messages_aborted_total", "counter", "Message transfers the client abandoned.", s.aborted);
    one(out, "postern_smtp_received_bytes_total", "counter", "Octets of accepted messages.", s.bytes);
    family(out, "postern_smtp_rejections_total", "counter", "Commands and messages refused, by stage and reply code.");
    for (const auto& [key, n] : s.rejections) sample(out, "postern_smtp_rejections_total", n, rejection_labels(key));
    family(out, "postern_smtp_tls_handshakes_total", "counter", "TLS handshakes (STARTTLS and implicit TLS) by result.");
    sample(out, "postern_smtp_tls_handshakes_total", s.tls_handshakes, "result=\"ok\"");
    sample(out, "postern_smtp_tls_handshakes_total", s.tls_failures, "result=\"failed\"");
    family(out, "postern_smtp_auth_total", "counter", "SMTP AUTH attempts by result.");
    sample(out, "postern_smtp_auth_total", s.auth_ok, "result=\"ok\"");
    sample(out, "postern_smtp_auth_total", s.auth_failures, "result=\"failed\"");
    one(out, "postern_store_messages", "gauge", "Messages in the web inbox's index.", store.messages);
    one(out, "postern_store_unread_messages", "gauge", "Of those, messages not read.", store.unread);
    one(out, "postern_store_bytes", "gauge", "Octets of the indexed message files.", store.bytes);
    one(out, "postern_index_backlog", "gauge", "Stored messages waiting to be indexed.", store.backlog);
    one(out, "postern_http_requests_total", "counter", "HTTP requests answered.", http.requests);
    one(out, "postern_http_connections", "gauge", "HTTP connections open now.", http.connections);
    one(out, "postern_http_event_clients", "gauge", "Pages listening to live events.", http.event_clients);
    one(out, "postern_http_auth_failures_total", "counter", "HTTP requests refused for missing or wrong credentials.", http.auth_failures);
    return out;
}

}  // namespace postern::web
