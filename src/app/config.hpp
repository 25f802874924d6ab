// SPDX-License-Identifier: MIT
#pragma once
/// The configuration file (TOML) turned into the structs the parts take, in one place.
#include "base/log.hpp"
#include "server/relay_rules.hpp"
#include "server/server_config.hpp"
#include "store/maildir_store.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace postern::app {

/// [web]: the web inbox's HTTP listener, its basic auth and the inbox's retention.
struct web_settings {
    bool enabled = true;                       // --http off, [web] http = "off"
    std::string address = "127.0.0.1";
    std::uint16_t port = 8025;
    std::filesystem::path auth_file;           // [web] auth_file: a passwd-file; empty: no auth
    /// [web] max_messages / max_size_mb: the oldest messages beyond are deleted. Unset: 10 000
    /// messages and 1024 MiB in catch-all mode, no limit with local domains (users' mail).
    std::optional<std::uint64_t> max_messages, max_size_mb;
};

/// [mailauth], [[dkim]] and --dns: SPF/DKIM/DMARC on received mail, DKIM signing of submitted mail.
struct mailauth_config {
    bool check = true;                         // [mailauth] check: compute the verdict for received mail
    /// [mailauth] dmarc = "tag" | "enforce". Unset: tag in catch-all mode, enforce with local
    /// domains (refuse p=reject failures with 550 5.7.1, quarantine p=quarantine failures).
    std::optional<bool> enforce;
    std::string authserv_id;                   // [mailauth] authserv_id; default: the host name
    std::chrono::milliseconds timeout{15000};  // [mailauth] timeout: all look-ups of one message
    /// [mailauth] ignore_hosts: clients whose mail is not checked (networks or addresses).
    std::vector<std::string> ignore_hosts{"127.0.0.0/8", "::1"};
    std::string dns;                           // --dns / [mailauth] dns: ADDR:PORT; "": /etc/resolv.conf
    struct signing_key {
        std::string domain, selector;
        std::filesystem::path key_file;
    };
    std::vector<signing_key> dkim;             // [[dkim]] domain, selector, key_file
};

struct app_config {
    std::string hostname;                      // default: the system host name
    std::filesystem::path data = "postern-data";
    log::level log_level = log::level::info;
    std::string log_file;
    server::server_config server;
    store::store_config store;
    std::filesystem::path tls_cert;            // [tls] cert: PEM chain; empty: self-signed in DATA/tls
    std::filesystem::path tls_key;             // [tls] key
    server::relay_rules relay;                 // [smtp] local_domains, [senders]; --local-domain
    std::filesystem::path passwd_file;         // [auth] passwd_file: a Dovecot passwd-file, read as it is
    bool auth_accept_any = false;              // [auth] accept_any, --auth-accept-any (catch-all mode only)
    web_settings web;
    mailauth_config mailauth;
};

/// A configuration error, reported as "file:line: message" with exit status 2.
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The defaults: catch-all on 127.0.0.1:2525 (and implicit TLS on 127.0.0.1:2465), data in ./postern-data.
app_config default_config();

/// Reads `path` over the defaults. Throws config_error.
void load_config_file(const std::string& path, app_config& cfg);

/// "127.0.0.1:2525", "[::1]:2525", "localhost:25" (port 0: any free port). Throws config_error.
server::listener_config parse_listen_address(const std::string& text,
                                             server::listener_role role = server::listener_role::mx);

/// --http / [web] http: "ADDR:PORT" or "off". Throws config_error.
void parse_http_setting(const std::string& text, web_settings& web);

/// "mx", "smtp" (same as mx), "submission" or "submissions". Throws config_error.
server::listener_role parse_role(const std::string& text);

/// Fills in what depends on other settings (hostname in the session and the store, paths).
/// Throws config_error for settings that contradict each other (accept-any with local domains).
void finish_config(app_config& cfg);

/// A local domain as given in the config or on the command line, checked and lower-cased.
std::string parse_local_domain(const std::string& text);

}  // namespace postern::app
