// SPDX-License-Identifier: MIT
#include "app/serve.hpp"

#include "app/mailbox_policy.hpp"
#include "auth/passwd_store.hpp"
#include "auth/user_db.hpp"
#include "net/tls.hpp"
#include "server/smtp_server.hpp"

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
        boost::system::error_code ignored;
        signals.cancel(ignored);
        hup.cancel(ignored);
    });
    srv.start(policy);
    log::info(log::no_session, log::ev::server_start,
              {{"version", POSTERN_VERSION}, {"hostname", cfg.hostname}, {"data", cfg.data.string()},
               {"catch_all", cfg.relay.catch_all()}, {"users", !users->empty()}, {"auth_accept_any", cfg.auth_accept_any}});
    io.run();
    (*store)->stop();
    const auto& st = srv.stats();
    log::info(log::no_session, log::ev::server_stop,
              {{"connections", st.connections}, {"messages", st.messages}, {"refused", st.refused}});
    return 0;
}

}  // namespace postern::app
