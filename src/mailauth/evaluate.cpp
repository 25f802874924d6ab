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

#include <optional>

namespace postern::mailauth {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

struct spf_pair {
    spf_outcome mail_from, helo;
};

// What timed_evaluate() keeps when the time runs out: the SPF results, if they came in.
struct partial {
    std::optional<spf_pair> spf;
};

// Every awaitable below is made first and awaited after (docs/coroutines.md): GCC 12 mishandles
// by-value coroutine arguments built inside a co_await expression.
asio::awaitable<spf_pair> check_spf(dns::resolver& r, evaluate_request req, partial* keep) {
    spf_pair out;
    auto mail_from = check_mail_from(r, req.ip, req.helo, req.mail_from, req.receiver, req.now);
    out.mail_from = co_await std::move(mail_from);
    auto helo = check_helo(r, req.ip, req.helo, req.receiver, req.now);
    out.helo = co_await std::move(helo);
    if (keep) keep->spf = out;
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
    dmarc_request req{*from_domain, std::move(spf), std::move(dkim), pct_roll};
    auto task = check_dmarc(r, std::move(req));
    co_return co_await std::move(task);
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

namespace {

// `from`: author_domain(message), which the caller has worked out already.
asio::awaitable<auth_verdict> evaluate_into(dns::resolver& r, evaluate_request req, dkim_message message,
                                            result<std::string> from, partial* keep) {
    const unsigned pct_roll = req.pct_roll;
    auto spf_task = check_spf(r, req, keep);
    auto dkim_task = verify_dkim(r, std::move(message), req.now);
    auto [spf, dkim] = co_await (std::move(spf_task) && std::move(dkim_task));
    auto policy_task = check_policy(r, std::move(from), pct_roll, spf.mail_from, dkim);
    auto dmarc = co_await std::move(policy_task);
    co_return make_verdict(std::move(spf.mail_from), std::move(spf.helo), std::move(dkim), std::move(dmarc));
}

// A signature whose key did not come in time (RFC 8601 §2.7.1: temperror, never "none").
std::vector<dkim_outcome> timed_out_dkim(const dkim_message& message) {
    std::vector<dkim_outcome> out;
    for (const auto& s : message.signatures) {
        dkim_outcome o;
        o.result = dkim_result::temperror;
        if (s.signature) o.domain = s.signature->domain, o.selector = s.signature->selector, o.identity = s.signature->identity;
        o.reason = "DNS answers did not come in time";
        out.push_back(std::move(o));
    }
    return out;
}

}  // namespace

asio::awaitable<auth_verdict> evaluate(dns::resolver& r, evaluate_request req, dkim_message message) {
    auto from = author_domain(message);
    auto task = evaluate_into(r, std::move(req), std::move(message), std::move(from), nullptr);
    co_return co_await std::move(task);
}

asio::awaitable<auth_verdict> timed_evaluate(dns::resolver& r, evaluate_request req, dkim_message message,
                                             std::chrono::milliseconds limit) {
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    const std::string mail_from_domain = req.mail_from.empty() ? req.helo : domain_of(req.mail_from);
    const std::string helo = req.helo;
    auto from_domain_found = author_domain(message);
    auto dkim_if_late = timed_out_dkim(message);
    partial known;
    auto task = evaluate_into(r, std::move(req), std::move(message), from_domain_found, &known);
    auto wait = timer.async_wait(asio::use_awaitable);
    auto first = co_await (std::move(task) || std::move(wait));
    if (first.index() == 0) co_return std::get<0>(std::move(first));
    // Out of time: what did not answer is a temporary error (RFC 8601 §2.7); what did is kept.
    dmarc_outcome dmarc;
    dmarc.result = dmarc_result::temperror;
    dmarc.from_domain = from_domain_found ? *from_domain_found : std::string();
    dmarc.reason = "DNS answers did not come in time";
    auto spf = known.spf ? known.spf->mail_from : timed_out_spf(mail_from_domain);
    auto helo_spf = known.spf ? known.spf->helo : timed_out_spf(helo);
    co_return make_verdict(std::move(spf), std::move(helo_spf), std::move(dkim_if_late), std::move(dmarc));
}

}  // namespace postern::mailauth
