// SPDX-License-Identifier: MIT
#include "app/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace postern::app {
namespace {

std::string where(const std::string& file, const toml::source_region& src) {
    return fmt::format("{}:{}", file, src.begin.line);
}

struct reader {
    const std::string& file;
    const toml::table& table;
    std::string section;  // "" or "smtp." ...

    [[noreturn]] void fail(const toml::node& n, const std::string& msg) const {
        throw config_error(fmt::format("{}: {}", where(file, n.source()), msg));
    }
    std::string key_name(std::string_view k) const { return section + std::string(k); }

    void check_keys(const std::set<std::string>& known) const {
        for (auto&& [k, v] : table)
            if (!known.count(std::string(k.str()))) fail(v, "unknown key '" + key_name(k.str()) + "'");
    }
    template <class T>
    std::optional<T> get(std::string_view k) const {
        const toml::node* n = table.get(k);
        if (!n) return std::nullopt;
        if (auto v = n->value_exact<T>()) return *v;
        fail(*n, "'" + key_name(k) + "' has the wrong type");
    }
    std::optional<std::uint64_t> count(std::string_view k, std::uint64_t min, std::uint64_t max) const {
        auto v = get<std::int64_t>(k);
        if (!v) return std::nullopt;
        if (*v < 0 || static_cast<std::uint64_t>(*v) < min || static_cast<std::uint64_t>(*v) > max)
            fail(*table.get(k), fmt::format("'{}' must be between {} and {}", key_name(k), min, max));
        return static_cast<std::uint64_t>(*v);
    }
    /// Seconds as an integer or a float (0.5 = 500 ms).
    std::optional<std::chrono::milliseconds> duration(std::string_view k) const {
        const toml::node* n = table.get(k);
        if (!n) return std::nullopt;
        double s = 0;
        if (auto i = n->value_exact<std::int64_t>()) s = static_cast<double>(*i);
        else if (auto d = n->value_exact<double>()) s = *d;
        else fail(*n, "'" + key_name(k) + "' must be a number of seconds");
        if (s <= 0 || s > 86400 * 7) fail(*n, "'" + key_name(k) + "' must be more than 0 and at most a week");
        return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
    }
    template <class E>
    std::optional<E> choice(std::string_view k, std::initializer_list<std::pair<std::string_view, E>> options) const {
        auto v = get<std::string>(k);
        if (!v) return std::nullopt;
        std::string names;
        for (auto& [name, e] : options) {
            if (*v == name) return e;
            names += (names.empty() ? "" : ", ") + std::string(name);
        }
        fail(*table.get(k), "'" + key_name(k) + "' must be one of: " + names);
    }
    std::vector<std::string> domains(const toml::node& n, const std::string& name) const {
        const toml::array* a = n.as_array();
        if (!a) fail(n, "'" + name + "' must be an array of domain names");
        std::vector<std::string> out;
        for (const auto& item : *a) {
            auto text = item.value_exact<std::string>();
            if (!text) fail(item, "'" + name + "' must be an array of domain names");
            try {
                out.push_back(parse_local_domain(*text));
            } catch (const config_error& e) {
                fail(item, e.what());
            }
        }
        return out;
    }
    const toml::table* sub(std::string_view k) const {
        const toml::node* n = table.get(k);
        if (!n) return nullptr;
        if (!n->is_table()) fail(*n, "'" + key_name(k) + "' must be a table");
        return n->as_table();
    }
};

constexpr const char* listen_usage =
    "'smtp.listen' must be an array of \"address:port\" strings or { address = \"address:port\", role = "
    "\"mx|submission|submissions\" } tables";

// One entry of smtp.listen: "127.0.0.1:25" (role mx) or { address = "...", role = "submission" }.
server::listener_config read_listener(const reader& r, const toml::node& item) {
    try {
        if (auto text = item.value_exact<std::string>()) return parse_listen_address(*text);
        const toml::table* t = item.as_table();
        if (!t) r.fail(item, listen_usage);
        auto address = (*t)["address"].value_exact<std::string>();
        if (!address) r.fail(item, listen_usage);
        auto role = (*t)["role"].value_exact<std::string>();
        for (const auto& [k, v] : *t)
            if (k.str() != "address" && k.str() != "role") r.fail(v, "unknown key 'smtp.listen." + std::string(k.str()) + "'");
        return parse_listen_address(*address, role ? parse_role(*role) : server::listener_role::mx);
    } catch (const config_error& e) {
        r.fail(item, e.what());
    }
}

void read_smtp(const reader& r, app_config& cfg) {
    r.check_keys({"listen", "idle_timeout", "max_connections", "max_connections_per_ip", "max_errors",
                  "max_message_size", "max_recipients", "max_command_line", "bare_line_ending", "shutdown_grace",
                  "greeting", "local_domains"});
    auto& s = cfg.server;
    auto& lim = s.session.limits;
    if (const toml::node* n = r.table.get("listen")) {
        const toml::array* a = n->as_array();
        if (!a) r.fail(*n, listen_usage);
        s.listeners.clear();
        for (const auto& item : *a) s.listeners.push_back(read_listener(r, item));
    }
    if (auto v = r.duration("idle_timeout")) s.idle_timeout = *v;
    if (auto v = r.duration("shutdown_grace")) s.shutdown_grace = *v;
    if (auto v = r.count("max_connections", 1, 1'000'000)) s.max_connections = *v;
    if (auto v = r.count("max_connections_per_ip", 1, 1'000'000)) s.max_connections_per_ip = *v;
    if (auto v = r.count("max_errors", 1, 100'000)) lim.max_errors = *v;
    if (auto v = r.count("max_message_size", 1024, std::uint64_t{1} << 40)) lim.max_message_size = *v;
    // RFC 5321 §4.5.3.1.8 and §4.5.3.1.4: never below the minimums a server must accept.
    if (auto v = r.count("max_recipients", 100, 100'000)) lim.max_recipients = *v;
    if (auto v = r.count("max_command_line", 512, 65'536)) lim.max_command_line = *v;
    if (auto v = r.choice<proto::bare_line_policy>("bare_line_ending", {{"reject", proto::bare_line_policy::reject},
                                                                        {"normalize", proto::bare_line_policy::normalize}}))
        s.session.bare_line_ending = *v;
    if (auto v = r.get<std::string>("greeting")) s.session.greeting = *v;
    if (const toml::node* n = r.table.get("local_domains")) cfg.relay.local_domains = r.domains(*n, "smtp.local_domains");
}

void read_auth(const reader& r, app_config& cfg) {
    r.check_keys({"passwd_file", "accept_any", "failure_delay", "max_failures_per_ip", "failure_window", "threads"});
    auto& a = cfg.server.auth;
    if (auto v = r.get<std::string>("passwd_file")) cfg.passwd_file = *v;
    if (auto v = r.get<bool>("accept_any")) cfg.auth_accept_any = *v;
    if (const toml::node* n = r.table.get("failure_delay")) {
        // 0 is allowed here (tests); duration() wants more than 0.
        if (auto i = n->value_exact<std::int64_t>(); i && *i == 0) a.failure_delay = std::chrono::milliseconds(0);
        else if (auto v = r.duration("failure_delay")) a.failure_delay = *v;
    }
    if (auto v = r.count("max_failures_per_ip", 1, 1'000'000)) a.max_failures_per_ip = *v;
    if (auto v = r.duration("failure_window")) a.failure_window = *v;
    if (auto v = r.count("threads", 1, 64)) a.threads = *v;
}

// [senders]: "alice@example.org" = ["sales@example.org", "@alice.example"]
void read_senders(const reader& r, app_config& cfg) {
    for (auto&& [user, value] : r.table) {
        const toml::array* a = value.as_array();
        const std::string key = "senders." + std::string(user.str());
        if (!a) r.fail(value, "'" + key + "' must be an array of addresses or \"@domain\" strings");
        auto& out = cfg.relay.senders[server::ascii_lower(user.str())];
        for (const auto& item : *a) {
            auto text = item.value_exact<std::string>();
            const auto at = text ? text->find('@') : std::string::npos;
            if (!text || at == std::string::npos || at + 1 == text->size() || text->find('@', at + 1) != std::string::npos)
                r.fail(item, "'" + key + "' entries must be \"local@domain\" or \"@domain\"");
            out.push_back(server::ascii_lower(*text));
        }
    }
}

void read_tls(const reader& r, app_config& cfg) {
    r.check_keys({"cert", "key"});
    if (auto v = r.get<std::string>("cert")) cfg.tls_cert = *v;
    if (auto v = r.get<std::string>("key")) cfg.tls_key = *v;
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) r.fail(r.table, "'tls.cert' and 'tls.key' go together");
}

void read_store(const reader& r, app_config& cfg) {
    r.check_keys({"layout", "flush"});
    if (auto v = r.choice<store::layout>("layout", {{"catch-all", store::layout::catch_all},
                                                    {"per-recipient", store::layout::per_recipient}}))
        cfg.store.folders = *v;
    if (auto v = r.choice<store::flush_mode>("flush", {{"syncfs", store::flush_mode::syncfs},
                                                       {"fsync", store::flush_mode::fsync}}))
        cfg.store.flush = *v;
}

void read_log(const reader& r, app_config& cfg) {
    r.check_keys({"level", "file"});
    if (auto v = r.choice<log::level>("level", {{"trace", log::level::trace}, {"debug", log::level::debug},
                                                {"info", log::level::info}, {"warn", log::level::warn},
                                                {"error", log::level::error}}))
        cfg.log_level = *v;
    if (auto v = r.get<std::string>("file")) cfg.log_file = *v;
}

void read_web(const reader& r, app_config& cfg) {
    r.check_keys({"http", "auth_file", "max_messages", "max_size_mb"});
    if (auto v = r.get<std::string>("http")) {
        try {
            parse_http_setting(*v, cfg.web);
        } catch (const config_error& e) {
            r.fail(*r.table.get("http"), e.what());
        }
    }
    if (auto v = r.get<std::string>("auth_file")) cfg.web.auth_file = *v;
    if (auto v = r.count("max_messages", 0, 1'000'000'000)) cfg.web.max_messages = *v;
    if (auto v = r.count("max_size_mb", 0, 1'000'000'000)) cfg.web.max_size_mb = *v;
}

void read_mailauth(const reader& r, app_config& cfg) {
    r.check_keys({"check", "dmarc", "authserv_id", "timeout", "ignore_hosts", "dns"});
    auto& m = cfg.mailauth;
    if (auto v = r.get<bool>("check")) m.check = *v;
    if (auto v = r.choice<bool>("dmarc", {{"tag", false}, {"enforce", true}})) m.enforce = *v;
    if (auto v = r.get<std::string>("authserv_id")) m.authserv_id = *v;
    if (auto v = r.duration("timeout")) {
        // The client waits 10 minutes for the reply after the data (RFC 5321 §4.5.3.2.6).
        if (*v > std::chrono::seconds(300)) r.fail(*r.table.get("timeout"), "'mailauth.timeout' must be at most 300 seconds");
        m.timeout = *v;
    }
    if (auto v = r.get<std::string>("dns")) m.dns = *v;
    if (const toml::node* n = r.table.get("ignore_hosts")) {
        const toml::array* a = n->as_array();
        if (!a) r.fail(*n, "'mailauth.ignore_hosts' must be an array of addresses or networks");
        m.ignore_hosts.clear();
        for (const auto& item : *a) {
            auto text = item.value_exact<std::string>();
            if (!text) r.fail(item, "'mailauth.ignore_hosts' must be an array of addresses or networks");
            m.ignore_hosts.push_back(*text);
        }
    }
}

// RFC 6376 §3.1: a selector is one or more sub-domain labels.
bool valid_selector(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

void read_dkim(const std::string& path, const toml::node& n, app_config& cfg) {
    const toml::array* a = n.as_array();
    if (!a || !a->is_array_of_tables()) throw config_error(fmt::format("{}: [[dkim]] must be tables", where(path, n.source())));
    for (const auto& item : *a) {
        reader r{path, *item.as_table(), "dkim."};
        r.check_keys({"domain", "selector", "key_file"});
        mailauth_config::signing_key k;
        auto domain = r.get<std::string>("domain");
        auto selector = r.get<std::string>("selector");
        auto key = r.get<std::string>("key_file");
        if (!domain || !selector || !key) r.fail(item, "[[dkim]] needs domain, selector and key_file");
        try {
            k.domain = parse_local_domain(*domain);
        } catch (const config_error& e) {
            r.fail(item, e.what());
        }
        if (!valid_selector(*selector)) r.fail(item, "[[dkim]] selector must be DNS labels (letters, digits, '-', '.')");
        k.selector = *selector;
        k.key_file = *key;
        cfg.mailauth.dkim.push_back(std::move(k));
    }
}

}  // namespace

void parse_http_setting(const std::string& text, web_settings& web) {
    if (text == "off") {
        web.enabled = false;
        return;
    }
    auto l = parse_listen_address(text);
    web.enabled = true;
    web.address = l.address;
    web.port = l.port;
}

app_config default_config() {
    app_config cfg;
    cfg.server.listeners = {parse_listen_address("127.0.0.1:2525"),
                            parse_listen_address("127.0.0.1:2465", server::listener_role::submissions)};
    return cfg;
}

server::listener_role parse_role(const std::string& text) {
    if (text == "mx" || text == "smtp") return server::listener_role::mx;
    if (text == "submission") return server::listener_role::submission;
    if (text == "submissions") return server::listener_role::submissions;
    throw config_error("unknown listener role '" + text + "': expected mx, submission or submissions");
}

server::listener_config parse_listen_address(const std::string& text, server::listener_role role) {
    server::listener_config l;
    l.role = role;
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw config_error("bad address '" + text + "': expected [IPv6]:PORT");
        host = text.substr(1, close - 1);
        port_text = std::string_view(text).substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) throw config_error("bad address '" + text + "': expected ADDRESS:PORT");
        host = text.substr(0, colon);
        port_text = std::string_view(text).substr(colon + 1);
    }
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535)
        throw config_error("bad port in '" + text + "'");
    if (host.empty() || host == "localhost") host = "127.0.0.1";
    l.address = host;
    l.port = static_cast<std::uint16_t>(port);
    return l;
}

void load_config_file(const std::string& path, app_config& cfg) {
    toml::table root;
    try {
        root = toml::parse_file(std::string_view(path));
    } catch (const toml::parse_error& e) {
        throw config_error(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
    } catch (const std::exception& e) {
        throw config_error(fmt::format("{}:0: {}", path, e.what()));
    }
    reader top{path, root, ""};
    top.check_keys({"hostname", "data", "smtp", "store", "log", "tls", "auth", "senders", "web", "mailauth", "dkim"});
    if (auto v = top.get<std::string>("hostname")) cfg.hostname = *v;
    if (auto v = top.get<std::string>("data")) cfg.data = *v;
    if (auto* t = top.sub("smtp")) read_smtp(reader{path, *t, "smtp."}, cfg);
    if (auto* t = top.sub("store")) read_store(reader{path, *t, "store."}, cfg);
    if (auto* t = top.sub("tls")) read_tls(reader{path, *t, "tls."}, cfg);
    if (auto* t = top.sub("log")) read_log(reader{path, *t, "log."}, cfg);
    if (auto* t = top.sub("auth")) read_auth(reader{path, *t, "auth."}, cfg);
    if (auto* t = top.sub("senders")) read_senders(reader{path, *t, "senders."}, cfg);
    if (auto* t = top.sub("web")) read_web(reader{path, *t, "web."}, cfg);
    if (auto* t = top.sub("mailauth")) read_mailauth(reader{path, *t, "mailauth."}, cfg);
    if (const toml::node* n = root.get("dkim")) read_dkim(path, *n, cfg);
}

void finish_config(app_config& cfg) {
    if (cfg.hostname.empty()) {
        char name[256] = {};
        cfg.hostname = ::gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "localhost";
    }
    cfg.server.session.hostname = cfg.hostname;
    cfg.store.hostname = cfg.hostname;
    cfg.store.root = cfg.data;
    // Any credentials would let anyone send anywhere through a server that has local domains.
    if (cfg.auth_accept_any && !cfg.relay.catch_all())
        throw config_error("--auth-accept-any (auth.accept_any) is for catch-all mode only: it cannot be used with local domains");
}

std::string parse_local_domain(const std::string& text) {
    // A domain as RCPT TO would carry it (RFC 5321 §4.1.2 Domain; U-labels as written).
    auto parsed = message::parse_path("<postmaster@" + text + ">", message::path_kind::forward, true);
    if (text.empty() || text.front() == '[' || !parsed || parsed->consumed != text.size() + 13)
        throw config_error("bad local domain '" + text + "'");
    return server::ascii_lower(text);
}

}  // namespace postern::app
