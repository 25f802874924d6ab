// SPDX-License-Identifier: MIT
// postern: the command line. Subcommands parse their flags into app_config and run.
#include "app/config.hpp"
#include "app/mx_command.hpp"
#include "app/probe_command.hpp"
#include "app/mailauth_commands.hpp"
#include "app/reindex_command.hpp"
#include "app/send_command.hpp"
#include "app/serve.hpp"
#include "app/user_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

namespace {

using postern::app::app_config;

struct serve_flags {
    std::string config, data, hostname, log_level;
    std::vector<std::string> smtp, submission, smtps;
    std::string tls_cert, tls_key, http, dns;
    std::vector<std::string> local_domains;
    bool verbose = false;
    bool auth_accept_any = false;
};

void add_serve(CLI::App& app, serve_flags& f) {
    auto* s = app.add_subcommand("serve", "Receive mail: a catch-all test server by default (127.0.0.1:2525, ./postern-data)");
    s->add_option("--config", f.config, "TOML configuration file");
    s->add_option("--data", f.data, "Data folder (default ./postern-data)");
    s->add_option("--smtp", f.smtp, "SMTP listener ADDR:PORT, repeatable (default 127.0.0.1:2525; port 0 picks a free port)");
    s->add_option("--submission", f.submission, "Submission listener ADDR:PORT (STARTTLS, then AUTH required; RFC 6409), repeatable");
    s->add_option("--smtps", f.smtps, "Implicit-TLS submission listener ADDR:PORT (RFC 8314, AUTH required), repeatable");
    s->add_option("--tls-cert", f.tls_cert, "TLS certificate chain (PEM); default: a self-signed one kept in DATA/tls");
    s->add_option("--tls-key", f.tls_key, "TLS private key (PEM) for --tls-cert");
    s->add_option("--local-domain", f.local_domains,
                  "Domain this server receives mail for, repeatable; turns catch-all off (others: 554 5.7.1 unless authenticated)");
    s->add_flag("--auth-accept-any", f.auth_accept_any,
                "While there are no users, offer AUTH and let any name and password in (catch-all mode only)");
    s->add_option("--http", f.http, "Web inbox and API listener ADDR:PORT, or 'off' (default 127.0.0.1:8025)");
    s->add_option("--dns", f.dns, "DNS server ADDR:PORT for the server's own look-ups (SPF, DKIM, DMARC; default /etc/resolv.conf)");
    s->add_option("--hostname", f.hostname, "Host name in the greeting and Received headers (default: the system's)");
    s->add_option("--log-level", f.log_level, "trace, debug, info, warn or error (default info)");
    s->add_flag("-v,--verbose", f.verbose, "Trace the SMTP dialogue (AUTH payloads masked)");
}

// Listeners on the command line replace those of the defaults and of the config file.
void set_listeners(const serve_flags& f, app_config& cfg) {
    using postern::server::listener_role;
    if (f.smtp.empty() && f.submission.empty() && f.smtps.empty()) return;
    cfg.server.listeners.clear();
    for (const auto& a : f.smtp) cfg.server.listeners.push_back(postern::app::parse_listen_address(a));
    for (const auto& a : f.submission)
        cfg.server.listeners.push_back(postern::app::parse_listen_address(a, listener_role::submission));
    for (const auto& a : f.smtps)
        cfg.server.listeners.push_back(postern::app::parse_listen_address(a, listener_role::submissions));
}

int run_serve(const serve_flags& f) {
    app_config cfg = postern::app::default_config();
    try {
        if (!f.config.empty()) postern::app::load_config_file(f.config, cfg);
        if (!f.data.empty()) cfg.data = f.data;
        if (!f.hostname.empty()) cfg.hostname = f.hostname;
        set_listeners(f, cfg);
        if (!f.tls_cert.empty() || !f.tls_key.empty()) {
            if (f.tls_cert.empty() || f.tls_key.empty()) throw postern::app::config_error("--tls-cert and --tls-key go together");
            cfg.tls_cert = f.tls_cert;
            cfg.tls_key = f.tls_key;
        }
        if (!f.local_domains.empty()) {  // like the listeners: the command line replaces the config's list
            cfg.relay.local_domains.clear();
            for (const auto& d : f.local_domains) cfg.relay.local_domains.push_back(postern::app::parse_local_domain(d));
        }
        if (f.auth_accept_any) cfg.auth_accept_any = true;
        if (!f.http.empty()) postern::app::parse_http_setting(f.http, cfg.web);
        if (!f.dns.empty()) cfg.mailauth.dns = f.dns;
        if (!f.log_level.empty()) {
            bool ok = false;
            cfg.log_level = postern::log::parse_level(f.log_level, ok);
            if (!ok) throw postern::app::config_error("--log-level: expected trace, debug, info, warn or error");
        }
        postern::app::finish_config(cfg);
    } catch (const postern::app::config_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    if (f.verbose) {
        cfg.log_level = postern::log::level::trace;
        cfg.server.wire_trace = true;
    }
    postern::log::init(cfg.log_level, cfg.log_file);
    const int status = postern::app::serve(cfg);
    postern::log::shutdown();
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"postern: an SMTP server and toolkit"};
    app.set_version_flag("--version", std::string("postern ") + POSTERN_VERSION);
    app.require_subcommand(1);
    serve_flags sf;
    add_serve(app, sf);
    int user_exit = 0;
    postern::app::add_user_command(app, user_exit);
    int mx_exit = 0;
    postern::app::add_mx_command(app, mx_exit);
    int probe_exit = 0, send_exit = 0;
    postern::app::add_probe_command(app, probe_exit);
    postern::app::add_send_command(app, send_exit);
    int reindex_exit = 0;
    postern::app::add_reindex_command(app, reindex_exit);
    int auth_exit = 0, dkim_exit = 0;
    postern::app::add_auth_command(app, auth_exit);
    postern::app::add_dkim_command(app, dkim_exit);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;  // --help: 0; a usage error: 2
    }
    if (app.got_subcommand("serve")) return run_serve(sf);
    if (app.got_subcommand("user")) return user_exit;
    if (app.got_subcommand("mx")) return mx_exit;
    if (app.got_subcommand("probe")) return probe_exit;
    if (app.got_subcommand("send")) return send_exit;
    if (app.got_subcommand("reindex")) return reindex_exit;
    if (app.got_subcommand("auth")) return auth_exit;
    if (app.got_subcommand("dkim")) return dkim_exit;
    return 0;
}
