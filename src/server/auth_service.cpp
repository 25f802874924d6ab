// SPDX-License-Identifier: MIT
#include "server/auth_service.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/ip/address.hpp>
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
                auth::sasl_step step;
                try {
                    step = job();
                } catch (const std::exception&) {  // bad_alloc in a hash: our fault, not the client's
                    step.status = auth::sasl_status::temporary_failure;
                }
                asio::post(ex, [handler = std::move(handler), step = std::move(step)]() mutable {
                    std::move(handler)(std::move(step));
                });
            });
        },
        asio::use_awaitable, std::move(work));
}

namespace {

// IPv6 clients usually get a /64: counting each address apart would let one client rotate
// through 2^64 of them.
std::string client_key(const std::string& ip) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(ip, ec);
    if (ec || !addr.is_v6() || addr.to_v6().is_v4_mapped()) return ip;
    auto bytes = addr.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace

auth_service::admission auth_service::admit(const std::string& ip, time_point now) {
    if (failures_.size() >= max_tracked) prune(now);
    if (failures_.size() >= max_tracked && !failures_.contains(client_key(ip))) return admission::busy;
    auto& f = failures_[client_key(ip)];
    if (expired(f, now)) f.count = 0;
    if (limit_reached(f.count + f.in_flight)) return admission::blocked;
    if (f.in_flight >= max_in_flight_per_ip || in_flight_ >= max_in_flight) return admission::busy;
    ++f.in_flight;
    ++in_flight_;
    return admission::ok;
}

std::size_t auth_service::finish(const std::string& ip, bool failed, time_point now) {
    auto& f = failures_[client_key(ip)];
    if (f.in_flight > 0) --f.in_flight;
    if (in_flight_ > 0) --in_flight_;
    if (failed) {
        if (f.count == 0 || expired(f, now)) f = failures{0, f.in_flight, now};
        ++f.count;
    }
    return f.count;
}

bool auth_service::blocked(const std::string& ip, time_point now) const {
    auto it = failures_.find(client_key(ip));
    return it != failures_.end() && !expired(it->second, now) && limit_reached(it->second.count);
}

void auth_service::prune(time_point now) {
    std::erase_if(failures_, [&](const auto& kv) { return kv.second.in_flight == 0 && (kv.second.count == 0 || expired(kv.second, now)); });
}

}  // namespace postern::server
