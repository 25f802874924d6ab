// SPDX-License-Identifier: MIT
// Reading the Maildir back: the envelope from the trace fields, one record per file.
#include "index/maildir_scan.hpp"
#include "message/mime_parse.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <tuple>
#include <system_error>

namespace postern::index::detail {
namespace {

namespace fs = std::filesystem;

// The trace fields come first; a header section longer than this is not searched further.
constexpr std::size_t max_trace_scan = 64 * 1024;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_field(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (lower(line[i]) != lower(name[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string strip_angles(std::string_view s) {
    s = trim(s);
    if (!s.empty() && s.front() == '<') {
        s.remove_prefix(1);
        auto e = s.find('>');
        if (e != std::string_view::npos) s = s.substr(0, e);
    }
    return std::string(trim(s));
}

std::size_t rfind_ignoring_case(std::string_view hay, std::string_view needle) {
    if (hay.size() < needle.size()) return std::string_view::npos;
    for (std::size_t i = hay.size() - needle.size() + 1; i-- > 0;) {
        bool eq = true;
        for (std::size_t j = 0; j < needle.size() && eq; ++j) eq = lower(hay[i + j]) == lower(needle[j]);
        if (eq) return i;
    }
    return std::string_view::npos;
}

void read_received(std::string_view value, trace_info& out) {
    auto semi = value.rfind(';');
    std::string_view clauses = value.substr(0, semi);
    if (semi != std::string_view::npos)
        if (auto d = message::parse_date(trim(value.substr(semi + 1)))) out.received_at = d->when;
    // RFC 5321 §4.4: "for" is the last clause before the date.
    auto f = rfind_ignoring_case(clauses, " for ");
    if (f == std::string_view::npos) return;
    auto rest = trim(clauses.substr(f + 5));
    if (rest.empty()) return;
    if (rest.front() != '<') rest = rest.substr(0, rest.find_first_of(" \t"));
    auto r = strip_angles(rest);
    if (!r.empty()) out.for_recipient = std::move(r);
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Seconds since the epoch at the start of a Maildir unique name ("1790000000.M1P2Q3.host").
std::optional<std::chrono::system_clock::time_point> time_of_name(std::string_view name) {
    std::int64_t secs = 0;
    std::size_t i = 0;
    for (; i < name.size() && i < 12 && name[i] >= '0' && name[i] <= '9'; ++i) secs = secs * 10 + (name[i] - '0');
    if (i == 0 || i >= name.size() || name[i] != '.') return std::nullopt;
    return std::chrono::system_clock::time_point(std::chrono::seconds(secs));
}

bool read_head(const fs::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    out.resize(max_parsed_octets);
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return !in.bad();
}

}  // namespace

std::string_view take_line(std::string_view& raw) {
    auto nl = raw.find('\n');
    std::string_view line = raw.substr(0, nl);
    raw = nl == std::string_view::npos ? std::string_view{} : raw.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

trace_info read_trace(std::string_view raw) {
    trace_info out;
    raw = raw.substr(0, std::min(raw.size(), max_trace_scan));
    std::string received;
    bool in_received = false, have_received = false;
    while (!raw.empty()) {
        std::string_view line = take_line(raw);
        if (line.empty()) break;  // end of the header section
        if (line.front() == ' ' || line.front() == '\t') {
            if (in_received) received += ' ', received += trim(line);
            continue;
        }
        in_received = false;
        if (!out.return_path && starts_with_field(line, "Return-Path")) {
            out.return_path = strip_angles(line.substr(12));
        } else if (!have_received && starts_with_field(line, "Received")) {
            have_received = in_received = true;
            received = trim(line.substr(9));
        }
    }
    if (have_received) read_received(received, out);
    return out;
}

std::optional<std::string> recipient_of_folder(std::string_view folder) {
    if (folder.find('~') != std::string_view::npos) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < folder.size(); ++i) {
        if (folder[i] == '%' && i + 2 < folder.size() && hex(folder[i + 1]) >= 0 && hex(folder[i + 2]) >= 0) {
            out += static_cast<char>(hex(folder[i + 1]) * 16 + hex(folder[i + 2]));
            i += 2;
        } else {
            out += folder[i];
        }
    }
    if (out == "postmaster" || out.find('@') != std::string::npos) return out;
    return std::nullopt;
}

namespace {

// Delivery order from a Maildir unique name "<secs>.M<usec>P<pid>Q<n>...": rows are inserted in
// this order so that messages of one second keep their order (rowid breaks arrival ties).
// Other names sort after, by name.
std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::string> order_key(const fs::path& p) {
    const std::string name = p.filename().string();
    std::uint64_t v[3] = {~0ull, ~0ull, ~0ull};
    const char* s = name.c_str();
    char* end = nullptr;
    v[0] = std::strtoull(s, &end, 10);
    if (end != s && *end == '.' && end[1] == 'M') {
        v[1] = std::strtoull(end + 2, &end, 10);
        if (const char* q = std::strchr(end, 'Q')) v[2] = std::strtoull(q + 1, nullptr, 10);
    } else {
        v[0] = v[1] = ~0ull;
    }
    return {v[0], v[1], v[2], name};
}

}  // namespace

rebuild_report scan_maildir(const fs::path& mail_root, const std::function<bool(indexed_message&&)>& sink) {
    rebuild_report report;
    std::error_code ec;
    std::string raw;
    for (const auto& folder : fs::directory_iterator(mail_root, ec)) {
        auto folder_name = folder.path().filename().string();
        if (folder_name.empty() || folder_name.front() == '.' || !folder.is_directory(ec)) continue;
        auto folder_recipient = recipient_of_folder(folder_name);
        std::vector<std::pair<fs::directory_entry, const char*>> files;
        for (const char* sub : {"new", "cur"}) {
            std::error_code sub_ec;
            for (const auto& file : fs::directory_iterator(folder.path() / sub, sub_ec)) files.emplace_back(file, sub);
        }
        std::sort(files.begin(), files.end(),
                  [](const auto& a, const auto& b) { return order_key(a.first.path()) < order_key(b.first.path()); });
        {
            std::error_code sub_ec;
            for (const auto& [file, sub] : files) {
                auto name = file.path().filename().string();
                if (name.empty() || name.front() == '.' || !file.is_regular_file(sub_ec)) continue;
                std::error_code size_ec;
                auto size = file.file_size(size_ec);
                if (size_ec || !read_head(file.path(), raw)) {
                    ++report.skipped;
                    continue;
                }
                auto colon = name.find(':');
                envelope env;
                env.id = name.substr(0, colon);
                env.folder = folder_name;
                env.path = file.path().string();
                env.size = size;
                auto trace = read_trace(raw);
                env.envelope_from = trace.return_path.value_or("");
                env.verdict = verdict_from_header(raw);  // our Authentication-Results, when the server checked it
                if (folder_recipient) env.envelope_to.push_back(*folder_recipient);
                else if (trace.for_recipient) env.envelope_to.push_back(*trace.for_recipient);
                if (trace.received_at) {
                    env.arrival = *trace.received_at;
                } else if (auto t = time_of_name(name)) {
                    env.arrival = *t;
                } else {
                    std::error_code t_ec;
                    auto ft = file.last_write_time(t_ec);
                    if (!t_ec) env.arrival = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                                     std::chrono::file_clock::to_sys(ft));
                }
                auto m = describe(raw, std::move(env));
                // Maildir info "2,<flags>": 'S' is Seen (cr.yp.to/proto/maildir.html).
                if (colon != std::string::npos && std::string_view(sub) == "cur") {
                    auto info = std::string_view(name).substr(colon + 1);
                    m.read = info.starts_with("2,") && info.find('S') != std::string_view::npos;
                }
                if (!sink(std::move(m))) return report;
                ++report.indexed;
            }
        }
    }
    return report;
}

}  // namespace postern::index::detail
