// SPDX-License-Identifier: MIT
// postern probe ADDRESS|DOMAIN: see client/probe.hpp for what is asked, and docs/client.md.
#include "app/client_common.hpp"
#include "app/probe_command.hpp"
#include "client/probe.hpp"
#include "proto/reply_parser.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>

namespace postern::app {
namespace {

struct probe_flags {
    std::string target, server, dns, from, helo;
    std::uint16_t port = 25;
    double timeout = 30;
    bool json = false, transcript = false, no_starttls = false;
};

nlohmann::json reply_json(const std::optional<proto::reply>& r) {
    if (!r) return nullptr;
    std::string text;
    for (const auto& l : r->lines) text += (text.empty() ? "" : "\n") + l;
    return {{"code", r->code}, {"enhanced", r->esc ? nlohmann::json(r->esc->to_string()) : nlohmann::json(nullptr)}, {"text", text}};
}

nlohmann::json tls_json(const std::optional<client::tls_report>& t) {
    if (!t) return nullptr;
    const auto& c = t->certificate;
    return {{"version", t->version},       {"cipher", t->cipher},     {"verified", c.chain_verified && c.name_matches},
            {"chain_verified", c.chain_verified}, {"verify_error", c.verify_error}, {"name_matches", c.name_matches},
            {"subject", c.subject},       {"issuer", c.issuer},      {"sans", c.sans},
            {"not_before", c.not_before}, {"not_after", c.not_after}};
}

nlohmann::json report_json(const client::probe_report& r) {
    nlohmann::json servers = nlohmann::json::array();
    for (const auto& s : r.servers) {
        servers.push_back({{"host", s.host},
                           {"preference", s.preference ? nlohmann::json(*s.preference) : nlohmann::json(nullptr)},
                           {"address", s.connection.address},
                           {"port", s.connection.port},
                           {"connected", s.connection.connected},
                           {"connect_ms", s.connection.connect_time.count()},
                           {"banner", s.banner ? nlohmann::json(proto::reply_text(*s.banner)) : nlohmann::json(nullptr)},
                           {"extensions", s.extensions},
                           {"starttls", s.starttls_offered},
                           {"starttls_reply", reply_json(s.starttls)},
                           {"tls", tls_json(s.connection.tls)},
                           {"mail", reply_json(s.mail)},
                           {"rcpt", reply_json(s.rcpt)},
                           {"catch_all_rcpt", reply_json(s.catch_all_rcpt)},
                           {"error", s.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.error)}});
    }
    return {{"address", r.address},
            {"verdict", client::verdict_name(r.result)},
            {"reason", r.reason},
            {"catch_all", r.catch_all ? nlohmann::json(*r.catch_all) : nlohmann::json(nullptr)},
            {"servers", servers}};
}

void print_reply(const char* what, const std::optional<proto::reply>& r) {
    if (r) std::printf("  %-9s %s\n", what, proto::reply_text(*r).c_str());
}

void print_human(const client::probe_report& r, bool transcript) {
    for (const auto& s : r.servers) {
        std::printf("%s%s [%s]:%u  ", s.preference ? ("MX " + std::to_string(*s.preference) + " ").c_str() : "", s.host.c_str(),
                    s.connection.address.c_str(), s.connection.port);
        if (s.connection.connected) std::printf("connected in %lld ms\n", static_cast<long long>(s.connection.connect_time.count()));
        else std::printf("not connected\n");
        if (transcript)
            for (const auto& l : s.transcript) std::printf("  %s\n", l.c_str());
        print_reply("banner", s.banner);
        if (!s.extensions.empty()) {
            std::string ext;
            for (const auto& e : s.extensions) ext += (ext.empty() ? "" : ", ") + e;
            std::printf("  %-9s %s\n", "ehlo", ext.c_str());
        }
        if (const auto& t = s.connection.tls) {
            const auto& c = t->certificate;
            std::printf("  %-9s %s %s\n  %-9s %s (issuer %s), valid until %s\n  %-9s chain %s, name %s\n", "tls", t->version.c_str(),
                        t->cipher.c_str(), "cert", c.subject.c_str(), c.issuer.c_str(), c.not_after.c_str(), "",
                        c.chain_verified ? "verified" : ("NOT verified (" + c.verify_error + ")").c_str(),
                        c.name_matches ? "matches" : "does NOT match");
        }
        print_reply("mail", s.mail);
        print_reply("rcpt", s.rcpt);
        print_reply("catch-all", s.catch_all_rcpt);
        if (!s.error.empty()) std::printf("  %-9s %s\n", "error", s.error.c_str());
    }
    std::printf("%s: %s (%s)\n", r.address.c_str(), std::string(client::verdict_name(r.result)).c_str(), r.reason.c_str());
}

std::string random_local_part() {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::string out = "postern-probe-";
    for (int i = 0; i < 12; ++i) out += alphabet[rd() % (sizeof alphabet - 1)];
    return out;
}

int exit_code_for(client::verdict v) {
    switch (v) {
    case client::verdict::deliverable: return 0;
    case client::verdict::undeliverable: return 1;
    case client::verdict::risky: return 4;
    case client::verdict::unknown: return 3;
    }
    return 3;
}

boost::asio::awaitable<void> probe_main(dns::resolver* r, std::string server, std::uint16_t port, client::probe_options o,
                                        client::probe_report* out) {
    auto lookup = server.empty() ? mx_targets(*r, o.domain, port) : server_target(*r, server);  // see docs/coroutines.md
    auto targets = co_await std::move(lookup);
    if (!targets.decided) {
        auto task = client::probe(std::move(targets.list), o);
        *out = co_await std::move(task);
        co_return;
    }
    out->address = o.address.empty() ? o.domain : o.address;
    out->result = targets.verdict;
    out->reason = targets.reason;
}

int run_probe(const probe_flags& f) {
    if (!f.helo.empty() && !valid_helo_name(f.helo)) return usage_error("probe", "--helo must be a domain or an address literal");
    const auto at = f.target.rfind('@');
    client::probe_options o;
    o.address = at == std::string::npos ? std::string{} : f.target;
    const std::string domain_text = at == std::string::npos ? f.target : f.target.substr(at + 1);
    o.from = f.from;
    o.helo = f.helo.empty() ? system_host_name() : f.helo;
    o.random_local = random_local_part();
    o.starttls = !f.no_starttls;
    o.session.connect_timeout = std::chrono::milliseconds(static_cast<long long>(f.timeout * 1000));
    o.session.max_wait = o.session.connect_timeout;
    std::unique_ptr<client_runtime> runtime;
    try {
        runtime = std::make_unique<client_runtime>(f.dns, f.timeout);
    } catch (const std::exception& e) {
        return usage_error("probe", e.what());
    }
    client_runtime& rt = *runtime;
    auto domain = a_label(domain_text);
    if (!domain) return usage_error("probe", "bad domain '" + domain_text + "': " + domain.error().message());
    o.domain = *domain;
    if (!o.address.empty()) o.address = f.target.substr(0, at) + "@" + *domain;
    client::probe_report report;
    rt.run(probe_main(&rt.resolver(), f.server, f.port, o, &report));
    if (f.json) std::printf("%s\n", report_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    else print_human(report, f.transcript);
    return exit_code_for(report.result);
}

}  // namespace

void add_probe_command(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<probe_flags>();
    auto* s = app.add_subcommand("probe", "Ask a domain's mail servers whether an address exists, without sending (never DATA)");
    s->add_option("ADDRESS", f->target, "user@domain, or a domain to check its servers")->required();
    s->add_option("--server", f->server, "Ask this server (HOST:PORT) instead of the domain's MX hosts");
    s->add_option("--port", f->port, "Port for the MX hosts (default 25)");
    s->add_option("--dns", f->dns, "DNS server ADDR:PORT (default: /etc/resolv.conf)");
    s->add_option("--from", f->from, "MAIL FROM address (default: the null sender <>)");
    s->add_option("--helo", f->helo, "EHLO name (default: this host's name)");
    s->add_option("--timeout", f->timeout, "Seconds for each connection and each reply (default 30)");
    s->add_flag("--no-starttls", f->no_starttls, "Do not try STARTTLS");
    s->add_flag("--json", f->json, "One JSON object: address, verdict, reason, catch_all, servers[]");
    s->add_flag("--transcript", f->transcript, "Show the SMTP dialogue (as swaks does)");
    s->callback([f, &exit_code] { exit_code = run_probe(*f); });
}

}  // namespace postern::app
