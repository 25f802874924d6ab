// SPDX-License-Identifier: MIT
#include "mailauth/evaluate.hpp"

#include "mailauth/dmarc_check.hpp"
#include "mailauth/from_parse.hpp"
#include "mailauth/spf_check.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <strings.h>

namespace postern::mailauth {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

struct spf_pair {
    spf_outcome mail_from, helo;
};

asio::awaitable<spf_pair> check_spf(dns::resolver& r, evaluate_request req) {
    spf_pair out;
    out.mail_from = co_await check_mail_from(r, req.ip, req.helo, req.mail_from, req.receiver, req.now);
    out.helo = co_await check_helo(r, req.ip, req.helo, req.receiver, req.now);
    co_return out;
}

// DMARC needs the From domain; a message without exactly one author gets DMARC "none" with the
// reason (RFC 7489 §6.6.1), and the alignment flags stay false.
asio::awaitable<dmarc_outcome> check_policy(dns::resolver& r, result<std::string> from_domain, unsigned pct_roll,
                                            spf_outcome spf, std::vector<dkim_outcome> dkim) {
    if (!from_domain) {
        dmarc_outcome none;
        none.reason = "no single From domain: " + from_domain.error().message();
        co_return none;
    }
    // A named request: GCC 12 destroys a braced temporary passed by value to a coroutine twice.
    dmarc_request req{*from_domain, std::move(spf), std::move(dkim), pct_roll};
    co_return co_await check_dmarc(r, std::move(req));
}

result<std::string> author_domain(const dkim_message& message) {
    auto from = from_values(message);
    return from_domain(std::span<const std::string_view>(from.data(), from.size()));
}

spf_outcome timed_out_spf(std::string domain) {
    spf_outcome o;
    o.result = spf_result::temperror;
    o.domain = std::move(domain);
    o.reason = "DNS answers did not come in time";
    return o;
}

std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? std::string() : address.substr(at + 1);
}

}  // namespace

std::vector<std::string_view> from_values(const dkim_message& message) {
    std::vector<std::string_view> out;
    for (const auto& h : message.headers)
        if (h.name().size() == 4 && ::strncasecmp(h.name().data(), "from", 4) == 0) out.push_back(h.value());
    return out;
}

asio::awaitable<auth_verdict> evaluate(dns::resolver& r, evaluate_request req, dkim_message message) {
    auto from = author_domain(message);
    const unsigned pct_roll = req.pct_roll;
    auto [spf, dkim] = co_await (check_spf(r, req) && verify_dkim(r, std::move(message), req.now));
    auto dmarc = co_await check_policy(r, std::move(from), pct_roll, spf.mail_from, dkim);
    co_return make_verdict(std::move(spf.mail_from), std::move(spf.helo), std::move(dkim), std::move(dmarc));
}

asio::awaitable<auth_verdict> timed_evaluate(dns::resolver& r, evaluate_request req, dkim_message message,
                                             std::chrono::milliseconds limit) {
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    const std::string mail_from_domain = req.mail_from.empty() ? req.helo : domain_of(req.mail_from);
    const std::string helo = req.helo;
    auto from_domain_found = author_domain(message);
    auto first = co_await (evaluate(r, std::move(req), std::move(message)) || timer.async_wait(asio::use_awaitable));
    if (first.index() == 0) co_return std::get<0>(std::move(first));
    // Out of time: what could not be checked is a temporary error (RFC 8601 §2.7: temperror).
    dmarc_outcome dmarc;
    dmarc.result = dmarc_result::temperror;
    dmarc.from_domain = from_domain_found ? *from_domain_found : std::string();
    dmarc.reason = "DNS answers did not come in time";
    co_return make_verdict(timed_out_spf(mail_from_domain), timed_out_spf(helo), {}, std::move(dmarc));
}

}  // namespace postern::mailauth
