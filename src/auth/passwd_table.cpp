// SPDX-License-Identifier: MIT
#include "auth/passwd_table.hpp"

#include <algorithm>

namespace postern::auth {
namespace {

std::string_view next_line(std::string_view& text) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

void add_user(passwd_table& t, std::size_t n, const passwd_line& l) {
    if (!valid_user_name(l.user())) {
        t.warnings.push_back({n, "", "bad user name", ""});
        return;
    }
    if (t.users.contains(l.user())) {
        t.warnings.push_back({n, l.user(), "duplicate user", "first line kept"});
        return;
    }
    passwd_user u{parse_stored_password(l.password()), std::nullopt};
    if (u.password.kind == scheme::unknown)
        t.warnings.push_back({n, l.user(), "unknown scheme", u.password.name});
    else if (u.password.data.empty())
        t.warnings.push_back({n, l.user(), "empty password", u.password.name});
    if (u.password.kind == scheme::scram_sha256) u.scram = parse_scram_secret(u.password.data);
    if (auto f = find_extra_field(l.extra(), scram_extra_field)) {
        u.scram = parse_scram_secret(*f);
        if (!u.scram) t.warnings.push_back({n, l.user(), "bad scram secret", std::string(scram_extra_field)});
    }
    const bool plain = u.password.kind == scheme::plain && !u.password.data.empty();
    t.features.cram_md5 = t.features.cram_md5 || plain || u.password.kind == scheme::cram_md5;
    t.features.scram_sha256 = t.features.scram_sha256 || plain || u.scram.has_value();
    t.users.emplace(l.user(), std::move(u));
}

}  // namespace

std::optional<passwd_line> parse_passwd_line(std::string_view line) {
    if (line.empty() || line.front() == '#') return std::nullopt;
    if (std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; })) return std::nullopt;
    if (line.find(':') == std::string_view::npos) return std::nullopt;
    passwd_line l;
    for (std::size_t i = 0; i < l.fields.size() && !line.empty(); ++i) {
        auto colon = i + 1 < l.fields.size() ? line.find(':') : std::string_view::npos;
        l.fields[i] = std::string(line.substr(0, colon));
        line.remove_prefix(colon == std::string_view::npos ? line.size() : colon + 1);
    }
    return l;
}

std::string format_passwd_line(const passwd_line& l) {
    std::size_t last = 1;
    for (std::size_t i = 2; i < l.fields.size(); ++i)
        if (!l.fields[i].empty()) last = i;
    if (!l.extra().empty()) last = 7;
    std::string out = l.fields[0];
    for (std::size_t i = 1; i <= last; ++i) out += ":" + l.fields[i];
    return out;
}

std::optional<std::string_view> find_extra_field(std::string_view extra, std::string_view key) {
    while (!extra.empty()) {
        auto sp = extra.find(' ');
        auto item = extra.substr(0, sp);
        extra.remove_prefix(sp == std::string_view::npos ? extra.size() : sp + 1);
        if (item.size() > key.size() && item.substr(0, key.size()) == key && item[key.size()] == '=')
            return item.substr(key.size() + 1);
    }
    return std::nullopt;
}

std::string set_extra_field(std::string_view extra, std::string_view key, std::optional<std::string_view> value) {
    std::string out;
    while (!extra.empty()) {
        auto sp = extra.find(' ');
        auto item = extra.substr(0, sp);
        extra.remove_prefix(sp == std::string_view::npos ? extra.size() : sp + 1);
        const bool same = item.substr(0, key.size()) == key && (item.size() == key.size() || item[key.size()] == '=');
        if (item.empty() || same) continue;
        if (!out.empty()) out += ' ';
        out += item;
    }
    if (value) {
        if (!out.empty()) out += ' ';
        out += std::string(key) + "=" + std::string(*value);
    }
    return out;
}

bool valid_user_name(std::string_view name) {
    if (name.empty() || name.size() > max_user_name || name.front() == '#') return false;
    return std::none_of(name.begin(), name.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c == ':' || c < 0x20 || c == 0x7f;
    });
}

passwd_table parse_passwd_file(std::string_view text) {
    passwd_table t;
    for (std::size_t n = 1; !text.empty(); ++n)
        if (auto l = parse_passwd_line(next_line(text))) add_user(t, n, *l);
    return t;
}

}  // namespace postern::auth
