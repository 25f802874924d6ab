// SPDX-License-Identifier: MIT
#include "server/auth_service.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <thread>

namespace postern::server {
namespace {

std::size_t pool_size(std::size_t configured) {
    if (configured > 0) return configured;
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    return std::max<std::size_t>(1, cores - 1);
}

}  // namespace

auth_service::auth_service(const auth_config& cfg, std::string hostname)
    : cfg_(cfg), pool_(pool_size(cfg.threads)) {
    sasl_.hostname = std::move(hostname);
}

auth_service::~auth_service() { pool_.join(); }

std::vector<std::string> auth_service::mechanisms() const {
    if (cfg_.credentials->empty()) return {};
    return auth::advertised_mechanisms(*cfg_.credentials);
}

std::unique_ptr<auth::sasl_mechanism> auth_service::mechanism(std::string_view name) const {
    return auth::make_mechanism(name, *cfg_.credentials, sasl_);
}

// Not a coroutine itself: the handler's associated executor is the awaiting coroutine's, and
// `work` goes straight into the initiation (no coroutine frame holds a second copy of it).
boost::asio::awaitable<auth::sasl_step> auth_service::run(std::function<auth::sasl_step()> work) {
    namespace asio = boost::asio;
    return asio::async_initiate<decltype(asio::use_awaitable), void(auth::sasl_step)>(
        [this](auto handler, std::function<auth::sasl_step()> job) {
            auto ex = asio::get_associated_executor(handler);
            // The guard keeps the I/O context running while the check is away on the pool.
            asio::post(pool_, [ex, guard = asio::make_work_guard(ex), job = std::move(job), handler = std::move(handler)]() mutable {
                auth::sasl_step step = job();
                asio::post(ex, [handler = std::move(handler), step = std::move(step)]() mutable {
                    std::move(handler)(std::move(step));
                });
            });
        },
        asio::use_awaitable, std::move(work));
}

bool auth_service::blocked(const std::string& ip, time_point now) const {
    auto it = failures_.find(ip);
    return it != failures_.end() && now - it->second.since < cfg_.failure_window && limit_reached(it->second.count);
}

std::size_t auth_service::note_failure(const std::string& ip, time_point now) {
    auto& f = failures_[ip];
    if (f.count == 0 || now - f.since >= cfg_.failure_window) f = failures{0, now};
    return ++f.count;
}

void auth_service::prune(time_point now) {
    std::erase_if(failures_, [&](const auto& kv) { return now - kv.second.since >= cfg_.failure_window; });
}

}  // namespace postern::server
