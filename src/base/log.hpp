// SPDX-License-Identifier: MIT
#pragma once
/// Logging facade: one line per event, `key=value` fields, a 16-hex session id.
///   info 00000000a1b2c3d4 smtp.disconnect reason=quit messages=2
/// The event names are a closed set (`ev`); secrets never reach a line (trace_wire masks AUTH).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace postern::log {

enum class level { trace, debug, info, warn, error, off };

enum class ev {
    server_start, server_listen, server_stop, server_signal, server_drain,
    smtp_connect, smtp_disconnect, smtp_refuse, smtp_timeout, smtp_error_limit,
    smtp_mail, smtp_rcpt, smtp_reject, smtp_message, smtp_abort, smtp_io_error,
    store_open, store_recover, store_commit_error, store_error,
    auth_load, auth_error,
    config_error, internal_error,
    tls_generate, tls_reload,
    smtp_tls, smtp_tls_error, smtp_tls_discard, smtp_auth, smtp_auth_fail,
    smtp_relay_denied, smtp_sender_refused,
    index_error, index_rebuild, index_prune, http_listen, http_request, http_error,
    mailauth_verdict, mailauth_quarantine, mailauth_reject, mailauth_forged,
    spool_open, spool_recover, spool_corrupt, spool_commit_error,
};
std::string_view name(ev e);

using session_id = std::uint64_t;
inline constexpr session_id no_session = 0;

struct field {
    std::string_view key;
    std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool> value;
    field(std::string_view k, std::string_view v) : key(k), value(v) {}
    field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
    field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    field(std::string_view k, bool v) : key(k), value(v) {}
    field(std::string_view k, double v) : key(k), value(v) {}
    template <class I>
        requires std::is_integral_v<I> && std::is_signed_v<I>
    field(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
    template <class I>
        requires std::is_integral_v<I> && std::is_unsigned_v<I> && (!std::is_same_v<I, bool>)
    field(std::string_view k, I v) : key(k), value(static_cast<std::uint64_t>(v)) {}
};
using fields = std::initializer_list<field>;

/// Where lines go: standard error by default, or a file, written by a background thread.
/// Call once at start; call shutdown() before the process exits so that every line is written.
void init(level min_level, const std::string& file_path = {});
void shutdown();
void set_level(level l);
bool enabled(level l);
level parse_level(std::string_view s, bool& ok);

void write(level l, session_id sid, ev e, fields f);
inline void trace(session_id sid, ev e, fields f = {}) { write(level::trace, sid, e, f); }
inline void debug(session_id sid, ev e, fields f = {}) { write(level::debug, sid, e, f); }
inline void info(session_id sid, ev e, fields f = {}) { write(level::info, sid, e, f); }
inline void warn(session_id sid, ev e, fields f = {}) { write(level::warn, sid, e, f); }
inline void error(session_id sid, ev e, fields f = {}) { write(level::error, sid, e, f); }

/// The wire trace (`--verbose`): each line escaped; `masked` hides the payload (AUTH).
enum class wire { in, out };
void trace_wire(session_id sid, wire dir, std::string_view line, bool masked = false);

/// Escapes CR, LF, control and non-ASCII bytes as \r, \n, \xNN; quotes values with spaces.
std::string escape(std::string_view s);
std::string format_line(level l, session_id sid, ev e, fields f);
std::string_view name(level l);

}  // namespace postern::log
