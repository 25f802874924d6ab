// SPDX-License-Identifier: MIT
#pragma once
/// The server's side of AUTH (RFC 4954) around the SASL mechanisms of auth/: which mechanisms
/// to advertise right now, a thread pool for the password checks (argon2id takes tens of
/// milliseconds: never on the I/O thread), and the count of failed attempts per client IP.
///
/// When to call what: the server makes one when server_config::auth has credentials.
/// mechanisms() at each idle sweep (the users file may have changed); for "AUTH <mech>",
/// blocked() first (421 4.7.0 if so), then mechanism(); around each step of the mechanism
/// through run(), admit() and finish(), whose count says whether the limit is reached.
/// Everything but run()'s work itself happens on the I/O thread: no locks.
#include "auth/sasl.hpp"
#include "server/server_config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace postern::server {

class auth_service {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// cfg.credentials must be set. `hostname` goes into the CRAM-MD5 challenge.
    auth_service(const auth_config& cfg, std::string hostname);
    ~auth_service();  // waits for checks in flight
    auth_service(const auth_service&) = delete;
    auth_service& operator=(const auth_service&) = delete;

    /// For EHLO: none while the store holds no users (and does not accept anyone).
    std::vector<std::string> mechanisms() const;
    /// nullptr: not a mechanism we offer (504 5.5.4).
    std::unique_ptr<auth::sasl_mechanism> mechanism(std::string_view name) const;
    /// Runs `work` (one start() or step() of a mechanism) on the pool; resumes on the caller's
    /// executor with its result.
    boost::asio::awaitable<auth::sasl_step> run(std::function<auth::sasl_step()> work);

    enum class admission {
        ok,       ///< go on; finish() must follow
        blocked,  ///< the IP's failures (and checks under way) reach the limit: 421 4.7.0
        busy,     ///< too many checks under way, for this IP or in all: 454 4.7.0, not counted
    };
    /// Before each mechanism step: reserves a place, so that checks running in parallel count
    /// against the limit before their outcome is known (a burst of sessions cannot get more
    /// guesses than the limit). Client IPs are counted by address, IPv6 by /64.
    admission admit(const std::string& ip, time_point now);
    /// After the step admitted for `ip`; returns the IP's failures in the current window.
    std::size_t finish(const std::string& ip, bool failed, time_point now);
    /// The IP has used up its failures for the current window (checks under way not counted).
    bool blocked(const std::string& ip, time_point now) const;
    bool limit_reached(std::size_t failures) const noexcept { return failures >= cfg_.max_failures_per_ip; }
    /// Forgets windows that have passed (called now and then; bounds the table).
    void prune(time_point now);
    std::size_t tracked_ips() const noexcept { return failures_.size(); }

    static constexpr std::size_t max_in_flight_per_ip = 2;
    static constexpr std::size_t max_in_flight = 32;
    static constexpr std::size_t max_tracked = 100000;

    const auth_config& config() const noexcept { return cfg_; }

private:
    struct failures {
        std::size_t count = 0;
        std::size_t in_flight = 0;
        time_point since;  // the first failure of the window
    };
    bool expired(const failures& f, time_point now) const { return f.count > 0 && now - f.since >= cfg_.failure_window; }

    auth_config cfg_;
    auth::sasl_options sasl_;
    boost::asio::thread_pool pool_;
    std::unordered_map<std::string, failures> failures_;
    std::size_t in_flight_ = 0;
};

}  // namespace postern::server
