// SPDX-License-Identifier: MIT
#include "base/log.hpp"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <memory>

namespace postern::log {
namespace {

constexpr std::array<std::string_view, 47> event_names{
    "server.start", "server.listen", "server.stop", "server.signal", "server.drain",
    "smtp.connect", "smtp.disconnect", "smtp.refuse", "smtp.timeout", "smtp.error_limit",
    "smtp.mail", "smtp.rcpt", "smtp.reject", "smtp.message", "smtp.abort", "smtp.io_error",
    "store.open", "store.recover", "store.commit_error", "store.error",
    "auth.load", "auth.error",
    "config.error", "internal.error",
    "tls.generate", "tls.reload",
    "smtp.tls", "smtp.tls_error", "smtp.tls_discard", "smtp.auth", "smtp.auth_fail",
    "smtp.relay_denied", "smtp.sender_refused",
    "index.error", "index.rebuild", "index.prune", "http.listen", "http.request", "http.error",
    "mailauth.verdict", "mailauth.quarantine", "mailauth.reject", "mailauth.forged",
    "spool.open", "spool.recover", "spool.corrupt", "spool.commit_error",
};

std::atomic<level> min_level{level::info};
std::shared_ptr<spdlog::logger> logger;

spdlog::logger& sink() {
    if (!logger) {
        logger = std::make_shared<spdlog::logger>("postern", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
    }
    return *logger;
}

bool needs_quotes(std::string_view s) {
    if (s.empty()) return true;
    for (unsigned char c : s)
        if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) return true;
    return false;
}

void append_value(std::string& out, const field& f) {
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string_view>) {
                if (needs_quotes(v)) {
                    out += '"';
                    out += escape(v);
                    out += '"';
                } else {
                    out += v;
                }
            } else if constexpr (std::is_same_v<V, bool>) {
                out += v ? "true" : "false";
            } else {
                out += fmt::to_string(v);
            }
        },
        f.value);
}

}  // namespace

std::string_view name(ev e) { return event_names.at(static_cast<std::size_t>(e)); }

std::string_view name(level l) {
    static constexpr std::array<std::string_view, 6> names{"trace", "debug", "info", "warn", "error", "off"};
    return names.at(static_cast<std::size_t>(l));
}

level parse_level(std::string_view s, bool& ok) {
    ok = true;
    for (int i = 0; i <= static_cast<int>(level::off); ++i)
        if (name(static_cast<level>(i)) == s) return static_cast<level>(i);
    ok = false;
    return level::info;
}

void init(level l, const std::string& file_path) {
    min_level = l;
    // Lines are written by a background thread: the I/O thread never waits on the log file, whose
    // writes can stall behind the store's flushes when both live on one file system. The queue is
    // bounded; when it is full the caller waits (no line is dropped).
    spdlog::init_thread_pool(8192, 1);
    spdlog::sink_ptr target;
    if (!file_path.empty()) target = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_path);
    else target = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::async_logger>("postern", target, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
    sink().set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
    sink().flush_on(spdlog::level::trace);
}

void shutdown() {
    if (logger) logger->flush();
    logger.reset();
    spdlog::shutdown();
}

void set_level(level l) { min_level = l; }
bool enabled(level l) { return l >= min_level.load(std::memory_order_relaxed) && l != level::off; }

std::string escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    return out;
}

std::string format_line(level l, session_id sid, ev e, fields f) {
    std::string out = fmt::format("{} {:016x} {}", name(l), sid, name(e));
    for (const auto& fld : f) {
        out += ' ';
        out += fld.key;
        out += '=';
        append_value(out, fld);
    }
    return out;
}

void write(level l, session_id sid, ev e, fields f) {
    if (!enabled(l)) return;
    sink().log(spdlog::level::info, format_line(l, sid, e, f));
}

void trace_wire(session_id sid, wire dir, std::string_view line, bool masked) {
    if (!enabled(level::trace)) return;
    std::string shown = masked ? std::string("***") : escape(line);
    sink().log(spdlog::level::info, fmt::format("trace {:016x} {} {}", sid, dir == wire::in ? "<" : ">", shown));
}

}  // namespace postern::log
