// SPDX-License-Identifier: MIT
// Names on disk: Maildir unique names (cr.yp.to/proto/maildir.html) and recipient folder names.
#include "store/maildir_internal.hpp"

#include <fmt/format.h>

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace postern::store {
namespace {

// NAME_MAX on Linux file systems; a longer folder name is cut and given a hash suffix.
constexpr std::size_t max_name = 255;

bool is_safe_octet(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-' || c == '@';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void append_encoded(std::string& out, std::string_view s) {
    for (unsigned char c : s) {
        if (is_safe_octet(c)) out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
}

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// Consumes one or more decimal digits from `s`.
bool skip_digits(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    s.remove_prefix(n);
    return n > 0;
}

bool skip_char(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

// '%' is itself encoded, so the mapping is one-to-one; '/' can never appear, so a name is always
// one path component. "%2E" stands for a lone "." or "..", and "%" (never produced otherwise) for "".
std::string safe_folder_name(const std::string& recipient) {
    std::string_view path = recipient;
    if (path.size() >= 2 && path.front() == '<' && path.back() == '>') path = path.substr(1, path.size() - 2);
    auto at = path.rfind('@');
    std::string_view local = at == std::string_view::npos ? path : path.substr(0, at);
    std::string local_text(local);
    // RFC 5321 §4.5.1: "postmaster" is a case-insensitive local name.
    if (equals_ignoring_case(local, "postmaster")) local_text = "postmaster";

    std::string out;
    append_encoded(out, local_text);
    if (at != std::string_view::npos) {
        std::string domain(path.substr(at + 1));
        for (char& c : domain) c = lower(c);
        out += '@';
        append_encoded(out, domain);
    }
    if (out.empty()) return "%";
    if (out == ".") return "%2E";
    if (out == "..") return "%2E%2E";
    if (out.size() > max_name) {
        // '~' never appears in an encoded name, so a cut name cannot equal an uncut one.
        auto suffix = fmt::format("~{:016x}", fnv1a(out));
        out.resize(max_name - suffix.size());
        out += suffix;
    }
    return out;
}

namespace detail {

std::string escape_hostname(std::string_view host) {
    if (host.empty()) host = "localhost";
    std::string out;
    for (char c : host) {
        if (c == '/') out += "\\057";
        else if (c == ':') out += "\\072";
        else out += c;
    }
    return out;
}

namespace {

// getpid(2) is a system call on every call (glibc stopped caching it), and this runs once per
// message: the pid is kept here and taken again in a forked child.
std::atomic<pid_t> cached_pid{0};

pid_t own_pid() {
    static std::once_flag registered;
    std::call_once(registered, [] {
        cached_pid.store(::getpid(), std::memory_order_relaxed);
        ::pthread_atfork(nullptr, nullptr, [] { cached_pid.store(::getpid(), std::memory_order_relaxed); });
    });
    return cached_pid.load(std::memory_order_relaxed);
}

}  // namespace

std::string make_unique_id(std::chrono::system_clock::time_point t) {
    // One counter for the whole process: two stores in one process never share a name, and a fixed
    // clock (tests) still yields distinct names.
    static std::atomic<std::uint64_t> deliveries{0};
    auto since = t.time_since_epoch();
    auto secs = std::chrono::floor<std::chrono::seconds>(since);
    auto usec = std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count();
    return fmt::format("{}.M{}P{}Q{}", secs.count(), usec, own_pid(),
                       deliveries.fetch_add(1, std::memory_order_relaxed) + 1);
}

bool is_own_file_name(std::string_view name, std::string_view escaped_host) {
    constexpr std::string_view rewrite = ",rewrite";  // maildir_writer::rewrite_with's second file
    if (name.ends_with(rewrite)) name.remove_suffix(rewrite.size());
    return skip_digits(name) && skip_char(name, '.') && skip_char(name, 'M') && skip_digits(name) &&
           skip_char(name, 'P') && skip_digits(name) && skip_char(name, 'Q') && skip_digits(name) &&
           skip_char(name, '.') && name == escaped_host;
}

}  // namespace detail
}  // namespace postern::store
