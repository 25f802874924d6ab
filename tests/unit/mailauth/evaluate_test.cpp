// SPDX-License-Identifier: MIT
// evaluate() and timed_evaluate(): the one call the server makes per message, on the static
// resolver, and with a resolver that never answers (the time limit).
#include "dns/static_resolver.hpp"
#include "mailauth/evaluate.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <optional>

namespace postern::mailauth {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Takes every query and never answers: look-ups that do not come back in time.
class silent_resolver final : public dns::resolver {
public:
    explicit silent_resolver(asio::any_io_executor ex) : ex_(std::move(ex)) {}
    executor_type get_executor() const override { return ex_; }
    std::size_t asked = 0;

protected:
    void start_mx(std::string, dns::callback<dns::mx_record>) override { ++asked; }
    void start_address(dns::record_type, std::string, dns::callback<asio::ip::address>) override { ++asked; }
    void start_txt(std::string, dns::callback<dns::txt_record>) override { ++asked; }
    void start_tlsa(std::string, dns::callback<dns::tlsa_record>) override { ++asked; }

private:
    asio::any_io_executor ex_;
};

dkim_message message_of(std::string_view text) {
    dkim_verifier v;
    v.feed(text);
    return v.finish();
}

evaluate_request request() {
    evaluate_request r;
    r.ip = asio::ip::make_address("192.0.2.7");
    r.helo = "mail.example.com";
    r.mail_from = "news@example.com";
    r.receiver = "mx.example.org";
    r.now = 1'795'000'000;
    return r;
}

auth_verdict run(asio::io_context& io, asio::awaitable<auth_verdict> task) {
    std::optional<auth_verdict> out;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, auth_verdict v) {
        if (e) std::rethrow_exception(e);
        out = std::move(v);
    });
    io.run_for(10s);
    EXPECT_TRUE(out.has_value());
    return out.value_or(auth_verdict{});
}

const char* const unsigned_mail = "From: Ann <ann@example.com>\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
const char* const signed_mail =
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; c=relaxed/relaxed; h=from; bh=AAAA; b=BBBB\r\n"
    "From: ann@example.com\r\n\r\nbody\r\n";

TEST(evaluate, spf_and_dmarc_from_the_resolver) {
    asio::io_context io;
    dns::static_resolver r(io.get_executor());
    ASSERT_TRUE(r.load(R"(
TXT example.com "v=spf1 ip4:192.0.2.0/24 -all"
TXT _dmarc.example.com "v=DMARC1; p=reject"
)"));
    auto v = run(io, timed_evaluate(r, request(), message_of(unsigned_mail), 5s));
    EXPECT_EQ(v.spf.result, spf_result::pass);
    EXPECT_EQ(v.spf.domain, "example.com");
    EXPECT_EQ(v.helo_spf.result, spf_result::none);
    EXPECT_TRUE(v.dkim.empty());
    EXPECT_EQ(v.dmarc.result, dmarc_result::pass);
    EXPECT_EQ(v.dmarc.policy, dmarc_policy::reject);
    EXPECT_TRUE(v.aligned);
}

TEST(evaluate, a_spoofed_from_fails_dmarc) {
    asio::io_context io;
    dns::static_resolver r(io.get_executor());
    ASSERT_TRUE(r.load(R"(
TXT example.com "v=spf1 ip4:192.0.2.0/24 -all"
TXT _dmarc.bank.example "v=DMARC1; p=reject"
)"));
    auto v = run(io, evaluate(r, request(), message_of("From: ceo@bank.example\r\n\r\nx\r\n")));
    EXPECT_EQ(v.dmarc.result, dmarc_result::fail);
    EXPECT_EQ(v.dmarc.from_domain, "bank.example");
    EXPECT_FALSE(v.aligned);
    EXPECT_EQ(v.summary, "From says bank.example, but the mail was sent by example.com");
}

// Past the limit every look-up still out is a temperror, and a signed message keeps its
// signatures as temperror (RFC 8601 §2.7.1: "none" is for unsigned mail only).
TEST(timed_evaluate, the_limit_gives_temperror_and_keeps_the_signatures) {
    asio::io_context io;
    silent_resolver r(io.get_executor());
    const auto t0 = std::chrono::steady_clock::now();
    auto v = run(io, timed_evaluate(r, request(), message_of(signed_mail), 100ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_GT(r.asked, 0u);
    EXPECT_EQ(v.spf.result, spf_result::temperror);
    EXPECT_EQ(v.spf.domain, "example.com");
    ASSERT_EQ(v.dkim.size(), 1u);
    EXPECT_EQ(v.dkim[0].result, dkim_result::temperror);
    EXPECT_EQ(v.dkim[0].domain, "example.com");
    EXPECT_EQ(v.dkim[0].selector, "s1");
    EXPECT_EQ(v.dmarc.result, dmarc_result::temperror);
    EXPECT_EQ(v.dmarc.from_domain, "example.com");
}

}  // namespace
}  // namespace postern::mailauth
