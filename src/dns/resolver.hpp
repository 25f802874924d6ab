// SPDX-License-Identifier: MIT
#pragma once
/// The resolver interface: MX, A, AAAA, TXT, TLSA and PTR lookups, asynchronous, on one executor.
///
/// When to call what: make one resolver per io_context (cares_resolver in the program,
/// static_resolver in tests) and pass it by reference to whatever resolves; it must outlive
/// every lookup it starts, and must be destroyed before its io_context. From a coroutine,
/// `co_await async_mx(r, "example.org")`; from plain code, `r.query_mx(name, callback)`.
///
/// Every query first turns `name` into an A-label (to_a_label): a name that cannot be one is
/// answered with status::bad_name without asking the DNS. Callbacks always run later, through
/// the resolver's executor (never inside query_*, never inside c-ares), so a callback may start
/// new queries or destroy the resolver. Destroying the resolver answers every outstanding query
/// with status::cancelled; none is dropped and none runs after its resolver is gone.
/// Not thread-safe: call from the executor's thread (one io_context thread, as in the server).
#include "dns/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace postern::dns {

namespace asio = boost::asio;

template <class Record>
using callback = std::function<void(answer<Record>)>;

class resolver {
public:
    using executor_type = asio::any_io_executor;

    virtual ~resolver() = default;
    resolver() = default;
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    /// The executor on which callbacks run.
    virtual executor_type get_executor() const = 0;

    void query_mx(std::string_view name, callback<mx_record> done);
    void query_a(std::string_view name, callback<asio::ip::address> done);     ///< IPv4 addresses
    void query_aaaa(std::string_view name, callback<asio::ip::address> done);  ///< IPv6 addresses
    void query_txt(std::string_view name, callback<txt_record> done);
    void query_tlsa(std::string_view name, callback<tlsa_record> done);
    /// The PTR records of reverse_name(ip) (RFC 1035 §3.5): for SPF's ptr mechanism and %{p}
    /// macro (RFC 7208 §5.5) and for logs. The answer's name is the in-addr.arpa / ip6.arpa name.
    void query_ptr(const asio::ip::address& ip, callback<std::string> done);

protected:
    /// The backends' part: `name` is already an A-label. Complete `done` exactly once, through
    /// the executor (post_answer).
    virtual void start_mx(std::string name, callback<mx_record> done) = 0;
    virtual void start_address(record_type type, std::string name, callback<asio::ip::address> done) = 0;
    virtual void start_txt(std::string name, callback<txt_record> done) = 0;
    virtual void start_tlsa(std::string name, callback<tlsa_record> done) = 0;
    /// `name` is reverse_name(ip). Not pure, so that a resolver written before PTR existed still
    /// builds: the default answers status::error ("PTR not supported").
    virtual void start_ptr(std::string name, callback<std::string> done);

    template <class Record>
    void post_answer(callback<Record> done, answer<Record> a) {
        asio::post(get_executor(), [done = std::move(done), a = std::move(a)]() mutable { done(std::move(a)); });
    }

private:
    template <class Record, class Start>
    void start_checked(std::string_view name, callback<Record>& done, Start start);
};

/// Awaitable forms, for coroutines on any executor (the answer is delivered through the
/// coroutine's own executor). `r` must outlive the operation; `name` is copied.
/// Cancellation (a watchdog's `||`, a cancellation_signal) completes the operation at once with
/// status::cancelled; the DNS query itself runs on to its end and its answer is dropped.
asio::awaitable<mx_answer> async_mx(resolver& r, std::string name);
asio::awaitable<address_answer> async_a(resolver& r, std::string name);
asio::awaitable<address_answer> async_aaaa(resolver& r, std::string name);
asio::awaitable<txt_answer> async_txt(resolver& r, std::string name);
asio::awaitable<tlsa_answer> async_tlsa(resolver& r, std::string name);
asio::awaitable<ptr_answer> async_ptr(resolver& r, asio::ip::address ip);

}  // namespace postern::dns
