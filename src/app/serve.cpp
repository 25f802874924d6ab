// SPDX-License-Identifier: MIT
#include "app/serve.hpp"

#include "app/mailbox_policy.hpp"
#include "auth/passwd_store.hpp"
#include "auth/user_db.hpp"
#include "dns/cares_resolver.hpp"
#include "mailauth/dkim_keys.hpp"
#include "net/tls.hpp"
#include "server/smtp_server.hpp"
#include "web/http_server.hpp"
#include "web/inbox.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <optional>

namespace postern::app {
namespace {

// Idle connections cost file descriptors, not memory: allow as many as the hard limit does.
void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// The certificate of the config or the command line, else a self-signed one for the host name,
// generated on first start and kept in DATA/tls, so STARTTLS works with no configuration.
std::optional<std::unique_ptr<net::tls_context_holder>> open_tls(const app_config& cfg) {
    auto holder = cfg.tls_cert.empty()
                      ? net::tls_context_holder::self_signed(cfg.data / "tls", cfg.hostname)
                      : net::tls_context_holder::from_files(net::tls_files{cfg.tls_cert, cfg.tls_key});
    if (!holder) {
        std::fprintf(stderr, "postern: TLS: %s\n", holder.error().message().c_str());
        return std::nullopt;
    }
    return std::move(*holder);
}

// SIGHUP: a new certificate for new handshakes; sessions keep the context they started with.
void reload_on_hup(boost::asio::signal_set& hup, net::tls_context_holder& tls) {
    hup.async_wait([&hup, &tls](const boost::system::error_code& ec, int) {
        if (ec) return;
        (void)tls.reload();  // logs tls.reload with the result; on failure the old context stays
        reload_on_hup(hup, tls);
    });
}

// The real users: DATA/users, then the passwd-file of the config if one is named.
std::shared_ptr<const auth::credential_store> open_users(const app_config& cfg) {
    auto own = auth::user_db::open(cfg.data);
    if (!own) {
        std::fprintf(stderr, "postern: cannot read %s: %s\n", (cfg.data / "users").c_str(), own.error().message().c_str());
        return nullptr;
    }
    std::shared_ptr<const auth::credential_store> users = std::move(*own);
    if (cfg.passwd_file.empty()) return users;
    auto file = auth::passwd_file::open(cfg.passwd_file);
    if (!file) {
        std::fprintf(stderr, "postern: cannot read the passwd-file %s: %s\n", cfg.passwd_file.c_str(), file.error().message().c_str());
        return nullptr;
    }
    return std::make_shared<auth::store_chain>(
        std::vector<std::shared_ptr<const auth::credential_store>>{users, std::shared_ptr<const auth::credential_store>(std::move(*file))});
}

// The inbox's retention: the configured limits, else a bound for a test server's catch-all
// inbox and none for users' mailboxes.
index::retention retention_of(const app_config& cfg) {
    const bool catch_all = cfg.relay.catch_all();
    index::retention r{0, 0};
    r.max_messages = cfg.web.max_messages.value_or(catch_all ? 10'000 : 0);
    r.max_bytes = cfg.web.max_size_mb.value_or(catch_all ? 1024 : 0) * 1024 * 1024;
    return r;
}

// The web inbox: the index fed by the policy, and (unless --http off) the HTTP server.
struct web_side {
    std::unique_ptr<web::inbox> box;
    std::unique_ptr<web::http_server> http;
};

std::optional<web_side> open_web(const app_config& cfg, boost::asio::io_context& io, const server::smtp_server& srv,
                                 mailbox_policy& policy) {
    web_side w;
    auto box = web::inbox::open(web::inbox_config{cfg.data, retention_of(cfg)});
    if (!box) {
        std::fprintf(stderr, "postern: cannot open the index %s: %s\n", (cfg.data / "index.sqlite").c_str(),
                     box.error().message().c_str());
        return std::nullopt;
    }
    w.box = std::move(*box);
    policy.on_stored([b = w.box.get()](stored_message m) {
        b->on_arrival(web::arrival{std::move(m.files), std::move(m.envelope_from), std::move(m.envelope_to), m.arrival,
                                   std::move(m.auth)});
    });
    if (!cfg.web.enabled) return w;
    web::http_config hc;
    hc.address = cfg.web.address;
    hc.port = cfg.web.port;
    if (!cfg.web.auth_file.empty()) {
        auto file = auth::passwd_file::open(cfg.web.auth_file);
        if (!file) {
            std::fprintf(stderr, "postern: cannot read the web auth file %s: %s\n", cfg.web.auth_file.c_str(),
                         file.error().message().c_str());
            return std::nullopt;
        }
        hc.users = std::shared_ptr<const auth::credential_store>(std::move(*file));
    }
    w.http = std::make_unique<web::http_server>(io, hc, *w.box, &srv);
    try {
        w.http->listen();
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "postern: %s\n", e.what());
        return std::nullopt;
    }
    return w;
}

// [mailauth] and [[dkim]] as the policy takes them; the resolver for the checks, when they are on.
std::optional<mailauth_settings> open_mailauth(const app_config& cfg, boost::asio::io_context& io,
                                               std::unique_ptr<dns::resolver>& resolver) {
    const auto& m = cfg.mailauth;
    mailauth_settings out;
    out.enforce = m.enforce.value_or(!cfg.relay.catch_all());
    out.authserv_id = m.authserv_id.empty() ? cfg.hostname : m.authserv_id;
    out.timeout = m.timeout;
    for (const auto& text : m.ignore_hosts) {
        auto n = parse_ip_network(text);
        if (!n) {
            std::fprintf(stderr, "postern: mailauth.ignore_hosts: not an address or a network: %s\n", text.c_str());
            return std::nullopt;
        }
        out.ignore.push_back(*n);
    }
    for (const auto& k : m.dkim) {
        auto key = mailauth::load_private_key(k.key_file);
        if (!key) {
            std::fprintf(stderr, "postern: DKIM key for %s: %s: %s\n", k.domain.c_str(), k.key_file.c_str(), key.error().message().c_str());
            return std::nullopt;
        }
        mailauth::dkim_signer_config sc;
        sc.domain = k.domain;
        sc.selector = k.selector;
        sc.key = mailauth::share(std::move(*key));
        out.signing.emplace(k.domain, std::move(sc));
    }
    if (!m.check) return out;
    dns::resolver_options o;
    if (!m.dns.empty()) o.servers.push_back(m.dns);
    o.timeout = std::chrono::milliseconds(2000);
    auto r = dns::cares_resolver::create(io.get_executor(), o);
    if (!r) {
        std::fprintf(stderr, "postern: DNS %s: %s\n", m.dns.empty() ? "(resolv.conf)" : m.dns.c_str(), r.error().message().c_str());
        return std::nullopt;
    }
    resolver = std::move(*r);
    out.resolver = resolver.get();
    return out;
}

}  // namespace

int serve(const app_config& cfg) {
    std::signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    boost::asio::io_context io(1);
    auto tls = open_tls(cfg);
    if (!tls) return 1;
    auto users = open_users(cfg);
    if (!users) return 1;
    server::server_config scfg = cfg.server;
    scfg.tls_context = [holder = tls->get()] { return holder->get(); };
    scfg.auth.credentials = cfg.auth_accept_any ? std::make_shared<auth::accept_any_until_users>(users) : users;
    server::smtp_server srv(io, scfg);
    try {
        srv.listen();  // first, so that a port in use is the one line printed
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "postern: %s\n", e.what());
        return 1;
    }
    system_clock_source clock;
    store::store_config sc = cfg.store;
    sc.time = &clock;
    auto store = store::maildir_store::open(sc);
    if (!store) {
        std::fprintf(stderr, "postern: cannot open the data folder %s: %s\n", cfg.data.c_str(),
                     store.error().message().c_str());
        return 1;
    }

    mailbox_policy policy(**store, cfg.store.folders, cfg.hostname, clock, cfg.relay, users);
    std::unique_ptr<dns::resolver> resolver;  // destroyed before the io_context
    auto mailauth = open_mailauth(cfg, io, resolver);
    if (!mailauth) {
        (*store)->stop();
        return 1;
    }
    policy.set_mailauth(std::move(*mailauth));
    auto web = open_web(cfg, io, srv, policy);
    if (!web) {
        (*store)->stop();
        return 1;
    }
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    bool drained = false;
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        log::info(log::no_session, log::ev::server_signal, {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
        if (srv.stopping()) srv.force_close();  // a second signal ends the grace period
        else srv.shutdown();
        if (!drained) signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    boost::asio::signal_set hup(io, SIGHUP);
    reload_on_hup(hup, **tls);
    srv.on_drained([&] {
        drained = true;
        if (web->http) web->http->stop();
        boost::system::error_code ignored;
        signals.cancel(ignored);
        hup.cancel(ignored);
    });
    srv.start(policy);
    if (web->http) web->http->start();
    log::info(log::no_session, log::ev::server_start,
              {{"version", POSTERN_VERSION}, {"hostname", cfg.hostname}, {"data", cfg.data.string()},
               {"catch_all", cfg.relay.catch_all()}, {"users", !users->empty()}, {"auth_accept_any", cfg.auth_accept_any}});
    io.run();
    (*store)->stop();
    web->box->stop();  // after the store: every message it stored is indexed
    const auto& st = srv.stats();
    log::info(log::no_session, log::ev::server_stop,
              {{"connections", st.connections}, {"messages", st.messages}, {"refused", st.refused}});
    return 0;
}

}  // namespace postern::app
