// SPDX-License-Identifier: MIT
// AUTH on a connection: the core has checked the sequence and decoded the base64; here each
// start()/step() of the SASL mechanism runs on the auth pool (a password check may take tens of
// milliseconds), and its outcome becomes a 334, a 235 or a refusal. Each step first reserves a
// place in the client's failure budget (auth_service::admit), so parallel sessions cannot run
// more checks than the limit allows. A failed attempt is answered only after the configured
// delay; the attempt that reaches the limit, and every AUTH from that IP until its window has
// passed, get 421 4.7.0 and the connection is closed. Passwords never reach the log; user
// names do.
#include "server/auth_service.hpp"
#include "server/connection.hpp"

#include "proto/replies.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace postern::server {

asio::awaitable<void> connection::authenticate(const proto::event& ev) {
    auth_service* svc = srv_.auth();
    if (!svc) {  // not reached: without a store no listener advertises AUTH, and the core refuses it
        core_.respond(proto::replies::not_implemented());
        co_return;
    }
    std::function<auth::sasl_step()> work;
    if (const auto* a = std::get_if<proto::auth_event>(&ev)) {
        mechanism_name_ = a->mechanism;
        if (svc->blocked(info_.peer_address, std::chrono::steady_clock::now())) {
            log::warn(info_.id, log::ev::smtp_auth_fail, {{"mechanism", mechanism_name_}, {"reason", "too many failures"}});
            core_.respond(proto::replies::auth_too_many_failures());
            co_return;
        }
        mechanism_ = svc->mechanism(a->mechanism);
        if (!mechanism_) {
            core_.respond(proto::replies::auth_unknown_mechanism());
            co_return;
        }
        work = [m = mechanism_.get(), initial = a->initial_response] {
            return m->start(initial ? std::optional<std::string_view>(*initial) : std::nullopt);
        };
    } else {
        if (!mechanism_) {  // not reached: the core asks for a response only after a 334
            core_.respond(proto::replies::auth_failed());
            co_return;
        }
        work = [m = mechanism_.get(), response = std::get<proto::auth_response_event>(ev).response] {
            return m->step(response);
        };
    }
    // Each step holds a place in the client's failure budget until its outcome is known.
    switch (svc->admit(info_.peer_address, std::chrono::steady_clock::now())) {
    case auth_service::admission::ok: break;
    case auth_service::admission::blocked:
        log::warn(info_.id, log::ev::smtp_auth_fail, {{"mechanism", mechanism_name_}, {"reason", "too many failures"}});
        mechanism_.reset();
        core_.respond(proto::replies::auth_too_many_failures());
        co_return;
    case auth_service::admission::busy:
        log::warn(info_.id, log::ev::smtp_auth_fail, {{"mechanism", mechanism_name_}, {"reason", "too many checks under way"}});
        mechanism_.reset();
        core_.respond(proto::replies::auth_temporary_failure());
        co_return;
    }
    busy_ = true;  // the wait is ours, not the client's: the idle clock does not run
    auto step = co_await svc->run(std::move(work));
    busy_ = false;
    const bool failed = step.status == auth::sasl_status::failure || step.status == auth::sasl_status::malformed;
    const std::size_t failures = svc->finish(info_.peer_address, failed, std::chrono::steady_clock::now());
    auto finish = finish_auth(std::move(step), failures);  // made apart from the co_await: docs/coroutines.md
    co_await std::move(finish);
}

asio::awaitable<void> connection::finish_auth(auth::sasl_step step, std::size_t failures) {
    switch (step.status) {
    case auth::sasl_status::challenge: core_.auth_continue(step.challenge); co_return;
    case auth::sasl_status::success:
        ++srv_.mutable_stats().auth_ok;
        info_.user = step.user;
        log::info(info_.id, log::ev::smtp_auth, {{"mechanism", mechanism_name_}, {"user", step.user}});
        core_.auth_succeeded(std::move(step.user));
        break;
    case auth::sasl_status::temporary_failure:
        log::error(info_.id, log::ev::auth_error, {{"mechanism", mechanism_name_}, {"user", step.user}});
        core_.respond(proto::replies::auth_temporary_failure());
        break;
    case auth::sasl_status::failure:
    case auth::sasl_status::malformed: co_await auth_failed(step, failures); break;
    }
    mechanism_.reset();
}

asio::awaitable<void> connection::auth_failed(const auth::sasl_step& step, std::size_t failures) {
    auth_service& svc = *srv_.auth();
    ++srv_.mutable_stats().auth_failures;
    const bool limit = svc.limit_reached(failures);
    log::warn(info_.id, log::ev::smtp_auth_fail,
              {{"mechanism", mechanism_name_}, {"user", step.user}, {"malformed", step.status == auth::sasl_status::malformed},
               {"failures", failures}, {"limit_reached", limit}});
    // A guessing client gets each answer late; the delay holds this session only.
    asio::steady_timer delay(co_await asio::this_coro::executor, svc.config().failure_delay);
    busy_ = true;
    co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
    busy_ = false;
    touch();
    if (limit) core_.respond(proto::replies::auth_too_many_failures());
    else if (step.status == auth::sasl_status::malformed) core_.respond(proto::replies::auth_malformed());
    else core_.respond(proto::replies::auth_failed());
}

}  // namespace postern::server
