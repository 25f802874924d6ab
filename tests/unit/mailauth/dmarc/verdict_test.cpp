// SPDX-License-Identifier: MIT
#include "mailauth/verdict.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace postern::mailauth {
namespace {

spf_outcome spf(spf_result r, std::string domain, std::string sender = "") {
    spf_outcome o;
    o.result = r;
    o.domain = std::move(domain);
    o.sender = std::move(sender);
    return o;
}

dkim_outcome dkim(dkim_result r, std::string d, std::string s = "sel", std::string b = "") {
    dkim_outcome o;
    o.result = r;
    o.domain = std::move(d);
    o.selector = std::move(s);
    o.b_prefix = std::move(b);
    return o;
}

dmarc_outcome dmarc(dmarc_result r, std::string from, bool spf_aligned, bool dkim_aligned,
                    dmarc_policy p = dmarc_policy::none, std::string record = "") {
    dmarc_outcome o;
    o.result = r;
    o.from_domain = std::move(from);
    o.spf_aligned = spf_aligned;
    o.dkim_aligned = dkim_aligned;
    o.policy = p;
    o.record_domain = std::move(record);
    return o;
}

auth_verdict verdict(spf_outcome s, std::vector<dkim_outcome> d, dmarc_outcome m) {
    return make_verdict(std::move(s), spf_outcome{}, std::move(d), std::move(m));
}

struct summary_case_row {
    auth_verdict v;
    summary_case kind;
    bool aligned;
    std::string text;
};

// One row per summary_case, plus the variants of the sentences that have them.
TEST(verdict, every_summary_case) {
    using enum dkim_result;
    const std::vector<summary_case_row> rows = {
        {verdict(spf(spf_result::pass, "example.com"), {}, dmarc(dmarc_result::none, "", false, false)),
         summary_case::no_from, false, "No From domain"},
        {verdict(spf(spf_result::pass, "example.com"), {dkim(pass, "example.com")},
                 dmarc(dmarc_result::pass, "example.com", true, true)),
         summary_case::all_agree, true, "From, envelope sender and DKIM signature all say example.com"},
        {verdict(spf(spf_result::pass, "bounce.example.com"), {dkim(pass, "Example.com")},
                 dmarc(dmarc_result::pass, "example.com", true, true)),
         summary_case::both_aligned, true,
         "From says example.com; the mail was sent by bounce.example.com and signed by example.com, of the same "
         "organization"},
        {verdict(spf(spf_result::pass, "example.com"), {}, dmarc(dmarc_result::pass, "example.com", true, false)),
         summary_case::spf_aligned_unsigned, true,
         "From says example.com; the envelope sender example.com passed SPF; no DKIM signature"},
        {verdict(spf(spf_result::pass, "example.com"), {dkim(fail, "example.com")},
                 dmarc(dmarc_result::pass, "example.com", true, false)),
         summary_case::spf_aligned_only, true,
         "From says example.com; the envelope sender example.com passed SPF, but no DKIM signature verified for it"},
        {verdict(spf(spf_result::softfail, "example.com"), {dkim(pass, "example.com")},
                 dmarc(dmarc_result::pass, "example.com", false, true)),
         summary_case::dkim_aligned_only, true,
         "From says example.com; the mail was signed by example.com, but the envelope sender example.com did not pass "
         "SPF for it"},
        {verdict(spf(spf_result::none, ""), {dkim(pass, "example.com")},
                 dmarc(dmarc_result::pass, "example.com", false, true)),
         summary_case::dkim_aligned_only, true,
         "From says example.com; the mail was signed by example.com, but the envelope sender <> did not pass SPF for "
         "it"},
        {verdict(spf(spf_result::pass, "other.example"), {dkim(pass, "other.example")},
                 dmarc(dmarc_result::fail, "bank.example", false, false, dmarc_policy::reject)),
         summary_case::sent_and_signed_by_other, false,
         "From says bank.example, but the mail was sent and signed by other.example"},
        {verdict(spf(spf_result::pass, "esp.example"), {dkim(pass, "other.example"), dkim(pass, "third.example")},
                 dmarc(dmarc_result::fail, "bank.example", false, false)),
         summary_case::sent_and_signed_by_other, false,
         "From says bank.example, but the mail was sent by esp.example and signed by other.example and third.example"},
        {verdict(spf(spf_result::pass, "other.example"), {}, dmarc(dmarc_result::fail, "bank.example", false, false)),
         summary_case::sent_by_other, false, "From says bank.example, but the mail was sent by other.example"},
        {verdict(spf(spf_result::fail, "bank.example"),
                 {dkim(pass, "a.example"), dkim(pass, "b.example"), dkim(pass, "c.example"), dkim(pass, "d.example"),
                  dkim(pass, "A.example")},
                 dmarc(dmarc_result::fail, "bank.example", false, false)),
         summary_case::signed_by_other, false,
         "From says bank.example, but the mail was signed by a.example, b.example, c.example and 1 others"},
        {verdict(spf(spf_result::fail, "bank.example"), {dkim(fail, "bank.example")},
                 dmarc(dmarc_result::fail, "bank.example", false, false)),
         summary_case::unverified, false, "From says bank.example, but neither SPF nor DKIM confirms it"},
    };
    std::set<summary_case> seen;
    for (const auto& row : rows) {
        SCOPED_TRACE(row.text);
        EXPECT_EQ(row.v.kind, row.kind);
        EXPECT_EQ(row.v.aligned, row.aligned);
        EXPECT_EQ(row.v.summary, row.text);
        seen.insert(row.kind);
    }
    EXPECT_EQ(seen.size(), 10u);  // every case of the closed set is covered
}

TEST(verdict, json_shape) {
    auth_verdict v = make_verdict(spf(spf_result::pass, "example.com", "a@example.com"),
                                  spf(spf_result::neutral, "mx.example.com"),
                                  {dkim(dkim_result::pass, "example.com", "s1")},
                                  dmarc(dmarc_result::pass, "example.com", true, true, dmarc_policy::reject, "example.com"));
    v.dkim[0].reason = "signature verified";
    const nlohmann::json j = to_json(v);
    EXPECT_EQ(j["spf"]["result"], "pass");
    EXPECT_EQ(j["spf"]["domain"], "example.com");
    EXPECT_EQ(j["helo_spf"]["result"], "neutral");
    EXPECT_EQ(j["helo_spf"]["domain"], "mx.example.com");
    ASSERT_EQ(j["dkim"].size(), 1u);
    EXPECT_EQ(j["dkim"][0]["result"], "pass");
    EXPECT_EQ(j["dkim"][0]["domain"], "example.com");
    EXPECT_EQ(j["dkim"][0]["selector"], "s1");
    EXPECT_EQ(j["dkim"][0]["reason"], "signature verified");
    EXPECT_EQ(j["dmarc"]["result"], "pass");
    EXPECT_EQ(j["dmarc"]["policy"], "reject");
    EXPECT_EQ(j["dmarc"]["from_domain"], "example.com");
    EXPECT_EQ(j["dmarc"]["spf_aligned"], true);
    EXPECT_EQ(j["aligned"], true);
    EXPECT_EQ(j["summary"], "From, envelope sender and DKIM signature all say example.com");
    EXPECT_EQ(j["summary_case"], "all_agree");
    EXPECT_TRUE(make_verdict({}, {}, {}, {}).summary == "No From domain");
    EXPECT_TRUE(to_json(make_verdict({}, {}, {}, {}))["dkim"].is_array());
}

TEST(verdict, json_never_throws_on_bad_utf8) {
    auth_verdict v = make_verdict(spf(spf_result::fail, "bad\xff.example"), {}, {dkim(dkim_result::fail, "\xc3")},
                                  dmarc(dmarc_result::fail, "x\xfe.example", false, false));
    EXPECT_NO_THROW((void)to_json(v).dump());
}

TEST(verdict, authentication_results_text) {
    auth_verdict v = make_verdict(spf(spf_result::pass, "b.example", "a@b.example"), {},
                                  {dkim(dkim_result::pass, "b.example", "sel", "AbCd/1+9xyz")},
                                  dmarc(dmarc_result::pass, "b.example", true, true, dmarc_policy::reject, "b.example"));
    v.dkim[0].identity = "@b.example";
    EXPECT_EQ(authentication_results(v, "mx.postern.example", {"192.0.2.1", "mail.b.example"}),
              "Authentication-Results: mx.postern.example;\r\n"
              "\tspf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a@b.example\r\n"
              "\tsmtp.helo=mail.b.example;\r\n"
              "\tdkim=pass header.d=b.example header.i=@b.example header.s=sel\r\n"
              "\theader.b=\"AbCd/1+9\";\r\n"
              "\tdmarc=pass header.from=b.example policy.dmarc=reject\r\n");
}

TEST(verdict, authentication_results_failures_carry_reasons) {
    spf_outcome mail = spf(spf_result::softfail, "b.example", "a@b.example");
    mail.reason = "matched ~all";
    spf_outcome helo = spf(spf_result::pass, "mail.b.example");
    dkim_outcome sig = dkim(dkim_result::fail, "b.example", "sel");
    sig.reason = "body hash did not verify";
    dmarc_outcome d = dmarc(dmarc_result::fail, "b.example", false, false, dmarc_policy::quarantine, "b.example");
    d.reason = "neither SPF nor DKIM passed aligned with b.example";
    const auth_verdict v = make_verdict(mail, helo, {sig}, d);
    EXPECT_EQ(authentication_results(v, "mx.postern.example", {"", ""}),
              "Authentication-Results: mx.postern.example;\r\n"
              "\tspf=softfail reason=\"matched ~all\" smtp.mailfrom=a@b.example;\r\n"
              "\tspf=pass smtp.helo=mail.b.example;\r\n"
              "\tdkim=fail reason=\"body hash did not verify\" header.d=b.example header.s=sel;\r\n"
              "\tdmarc=fail reason=\"neither SPF nor DKIM passed aligned with b.example\"\r\n"
              "\theader.from=b.example policy.dmarc=quarantine\r\n");
}

TEST(verdict, authentication_results_without_signature_or_record) {
    const auth_verdict v = make_verdict(spf(spf_result::none, "b.example", "a@b.example"), {}, {},
                                        dmarc(dmarc_result::none, "b.example", false, false));
    EXPECT_EQ(authentication_results(v, "mx.postern.example", {"2001:db8::1", "h.example"}),
              "Authentication-Results: mx.postern.example;\r\n"
              "\tspf=none (sender IP is 2001:db8::1) smtp.mailfrom=a@b.example\r\n"
              "\tsmtp.helo=h.example;\r\n"
              "\tdkim=none;\r\n"
              "\tdmarc=none header.from=b.example\r\n");
}

TEST(verdict, authentication_results_cannot_be_injected) {
    // A hostile HELO and DKIM selector must not end the field or add one.
    const auth_verdict v = make_verdict(spf(spf_result::pass, "b.example", "a@b.example"), {},
                                        {dkim(dkim_result::pass, "b.example", "s\r\nX-Evil: 1")},
                                        dmarc(dmarc_result::pass, "b.example", true, true));
    const std::string text = authentication_results(v, "mx;evil", {"192.0.2.1)\r\nX-Evil: 2", "h\r\nX-Evil: 3"});
    EXPECT_EQ(text.find("\r\nX-Evil"), std::string::npos);
    EXPECT_EQ(text.find("\n\r"), std::string::npos);
    EXPECT_NE(text.find("Authentication-Results: \"mx;evil\";"), std::string::npos);
    EXPECT_TRUE(is_own_authentication_results(text.substr(text.find(':') + 1), "mx;evil"));
}

}  // namespace
}  // namespace postern::mailauth
