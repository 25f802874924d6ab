// SPDX-License-Identifier: MIT
#include "dns/resolver.hpp"

#include "dns/await_callback.hpp"
#include "dns/idna.hpp"

namespace postern::dns {

// Every backend gets A-labels only, and a bad name never reaches the wire.
template <class Record, class Start>
void resolver::start_checked(std::string_view name, callback<Record>& done, Start start) {
    auto label = to_a_label(name);
    if (!label) {
        answer<Record> a;
        a.name = std::string(name);
        a.status = status::bad_name;
        post_answer(std::move(done), std::move(a));
        return;
    }
    start(std::move(*label));
}

void resolver::query_mx(std::string_view name, callback<mx_record> done) {
    start_checked(name, done, [&](std::string n) { start_mx(std::move(n), std::move(done)); });
}

void resolver::query_a(std::string_view name, callback<asio::ip::address> done) {
    start_checked(name, done, [&](std::string n) { start_address(record_type::a, std::move(n), std::move(done)); });
}

void resolver::query_aaaa(std::string_view name, callback<asio::ip::address> done) {
    start_checked(name, done, [&](std::string n) { start_address(record_type::aaaa, std::move(n), std::move(done)); });
}

void resolver::query_txt(std::string_view name, callback<txt_record> done) {
    start_checked(name, done, [&](std::string n) { start_txt(std::move(n), std::move(done)); });
}

void resolver::query_tlsa(std::string_view name, callback<tlsa_record> done) {
    start_checked(name, done, [&](std::string n) { start_tlsa(std::move(n), std::move(done)); });
}

void resolver::query_ptr(const asio::ip::address& ip, callback<std::string> done) {
    // reverse_name() is always a valid A-label: no bad_name check needed.
    start_ptr(reverse_name(ip), std::move(done));
}

void resolver::start_ptr(std::string name, callback<std::string> done) {
    answer<std::string> a;
    a.name = std::move(name);
    a.status = status::error;
    a.detail = "PTR not supported by this resolver";
    post_answer(std::move(done), std::move(a));
}

namespace {

template <class Record>
answer<Record> cancelled_answer(const std::string& name) {
    answer<Record> a;
    a.name = name;
    a.status = status::cancelled;
    return a;
}

// The query member to call, as a pointer to member, so that the five awaitables share one body.
template <class Record>
using query_fn = void (resolver::*)(std::string_view, callback<Record>);

template <class Record>
asio::awaitable<answer<Record>> await_query(resolver& r, std::string name, query_fn<Record> fn) {
    auto on_cancel = cancelled_answer<Record>(name);
    auto start = [&r, fn, name = std::move(name)](callback<Record> cb) { (r.*fn)(name, std::move(cb)); };
    return detail::await_callback<answer<Record>>(r.get_executor(), std::move(start), std::move(on_cancel));
}

}  // namespace

asio::awaitable<mx_answer> async_mx(resolver& r, std::string name) {
    return await_query<mx_record>(r, std::move(name), &resolver::query_mx);
}
asio::awaitable<address_answer> async_a(resolver& r, std::string name) {
    return await_query<asio::ip::address>(r, std::move(name), &resolver::query_a);
}
asio::awaitable<address_answer> async_aaaa(resolver& r, std::string name) {
    return await_query<asio::ip::address>(r, std::move(name), &resolver::query_aaaa);
}
asio::awaitable<txt_answer> async_txt(resolver& r, std::string name) {
    return await_query<txt_record>(r, std::move(name), &resolver::query_txt);
}
asio::awaitable<tlsa_answer> async_tlsa(resolver& r, std::string name) {
    return await_query<tlsa_record>(r, std::move(name), &resolver::query_tlsa);
}
asio::awaitable<ptr_answer> async_ptr(resolver& r, asio::ip::address ip) {
    auto on_cancel = cancelled_answer<std::string>(reverse_name(ip));
    auto start = [&r, ip](callback<std::string> cb) { r.query_ptr(ip, std::move(cb)); };
    return detail::await_callback<ptr_answer>(r.get_executor(), std::move(start), std::move(on_cancel));
}

}  // namespace postern::dns
