// SPDX-License-Identifier: MIT
// The SPF/DKIM/DMARC verdict in the index: badges from the verdict JSON, the verdict read back
// from our Authentication-Results field (RFC 8601) on rebuild, the auth search filters.
#include "index/message_index.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <fstream>

namespace postern::index {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test_support::temp_dir;

// A verdict as mailauth::to_json writes it (src/mailauth/verdict.cpp).
json verdict(std::string spf, std::vector<std::pair<std::string, std::string>> dkim, std::string dmarc, bool aligned,
             std::string from = "example.com") {
    json sigs = json::array();
    for (auto& [result, d] : dkim)
        sigs.push_back({{"result", result}, {"domain", d}, {"selector", "sel"}, {"identity", ""}, {"algorithm", "rsa-sha256"},
                        {"reason", ""}, {"testing", false}});
    json s{{"result", spf}, {"domain", "example.com"}, {"sender", "a@example.com"}, {"mechanism", "ip4"},
           {"explanation", ""}, {"reason", ""}};
    return {{"spf", s},
            {"helo_spf", s},
            {"dkim", sigs},
            {"dmarc",
             {{"result", dmarc}, {"policy", "reject"}, {"from_domain", from}, {"record_domain", from},
              {"organizational_domain", from}, {"spf_aligned", aligned}, {"dkim_aligned", false}, {"sampled_out", false},
              {"reason", ""}}},
            {"aligned", aligned},
            {"summary", "From, envelope sender and DKIM signature all say example.com"},
            {"summary_case", "all_agree"}};
}

// The field as verdict.cpp's authentication_results() folds it, after our Return-Path.
constexpr std::string_view our_field =
    "Return-Path: <a@bounce.example.com>\r\n"
    "Authentication-Results: mx.example.org;\r\n"
    "\tspf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a@bounce.example.com\r\n"
    "\tsmtp.helo=mail.example.com;\r\n"
    "\tspf=none reason=\"no SPF record; none at all\" smtp.helo=mail.example.com;\r\n"
    "\tdkim=fail reason=\"signature did not verify\" header.d=other.example header.s=s1 header.b=AbCd1234;\r\n"
    "\tdkim=pass header.d=example.com header.i=@example.com header.s=sel header.b=XyZ/+9=a;\r\n"
    "\tdmarc=none header.from=example.com\r\n"
    "Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
    "\tby mx.example.org with ESMTP id X1; Mon, 23 Nov 2026 12:42:00 +0000\r\n"
    "From: Ann <ann@example.com>\r\nSubject: checked\r\n\r\nbody\r\n";

envelope env_of(std::string id, std::string verdict = {}, std::int64_t secs = 0) {
    envelope env;
    env.id = std::move(id);
    env.folder = "inbox";
    env.path = "/p";
    env.envelope_from = "a@example.com";
    env.arrival = std::chrono::system_clock::time_point(std::chrono::seconds(secs));
    env.verdict = std::move(verdict);
    return env;
}

TEST(Badges, FromVerdictJson) {
    auto b = badges_of(verdict("pass", {{"pass", "example.com"}}, "pass", true).dump());
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (auth_badges{"pass", "pass", "pass", true}));
    // Any verified signature makes the badge "pass"; with none, the first signature speaks.
    EXPECT_EQ(badges_of(verdict("softfail", {{"fail", "x"}, {"pass", "y"}}, "fail", false).dump())->dkim, "pass");
    EXPECT_EQ(badges_of(verdict("softfail", {{"fail", "x"}, {"neutral", "y"}}, "fail", false).dump())->dkim, "fail");
    auto unsigned_mail = badges_of(verdict("fail", {}, "fail", false).dump());
    EXPECT_EQ(*unsigned_mail, (auth_badges{"fail", "none", "fail", false}));
}

TEST(Badges, OnlyKnownWords) {
    EXPECT_FALSE(badges_of(""));
    EXPECT_FALSE(badges_of("not json"));
    EXPECT_FALSE(badges_of("[1, 2]"));
    EXPECT_FALSE(badges_of("{\"spf\": "));
    // Words outside RFC 8601's set for the method read as "none"; case is folded.
    auto b = badges_of(R"({"spf": {"result": "<script>"}, "dkim": "x", "dmarc": {"result": "PASS"}, "aligned": 1})");
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (auth_badges{"none", "none", "pass", false}));
}

TEST(Describe, TakesBadgesAndVerdictFromEnvelope) {
    envelope env = env_of("x", verdict("pass", {}, "pass", true).dump());
    auto m = describe("From: a@example.com\r\n\r\nhi", env);
    ASSERT_TRUE(m.auth);
    EXPECT_EQ(m.auth->spf, "pass");
    EXPECT_EQ(m.verdict, env.verdict);
    auto none = describe("From: a@example.com\r\n\r\nhi", env_of("y"));
    EXPECT_FALSE(none.auth);
    EXPECT_EQ(none.verdict, "");
    // A verdict too large to keep whole keeps its badges.
    json big = verdict("pass", {}, "pass", true);
    big["summary"] = std::string(max_verdict_octets, 'x');
    auto large = describe("\r\n", env_of("z", big.dump()));
    EXPECT_TRUE(large.auth);
    EXPECT_EQ(large.verdict, "");
}

TEST(VerdictFromHeader, ReadsOurField) {
    auto text = verdict_from_header(our_field);
    ASSERT_FALSE(text.empty());
    auto v = json::parse(text);
    EXPECT_EQ(v["spf"]["result"], "pass");
    EXPECT_EQ(v["spf"]["sender"], "a@bounce.example.com");
    EXPECT_EQ(v["spf"]["domain"], "bounce.example.com");
    EXPECT_EQ(v["helo_spf"]["result"], "none");
    EXPECT_EQ(v["helo_spf"]["domain"], "mail.example.com");
    EXPECT_EQ(v["helo_spf"]["reason"], "no SPF record; none at all");  // a ';' inside quotes is text
    ASSERT_EQ(v["dkim"].size(), 2u);
    EXPECT_EQ(v["dkim"][0]["result"], "fail");
    EXPECT_EQ(v["dkim"][0]["domain"], "other.example");
    EXPECT_EQ(v["dkim"][0]["reason"], "signature did not verify");
    EXPECT_EQ(v["dkim"][1]["domain"], "example.com");
    EXPECT_EQ(v["dkim"][1]["selector"], "sel");
    EXPECT_EQ(v["dkim"][1]["identity"], "@example.com");
    EXPECT_EQ(v["dmarc"]["result"], "none");
    EXPECT_EQ(v["dmarc"]["from_domain"], "example.com");
    EXPECT_EQ(v["dmarc"]["policy"], "none");
    // RFC 7489 §3.1 relaxed: bounce.example.com and example.com share an organizational domain.
    EXPECT_EQ(v["dmarc"]["spf_aligned"], true);
    EXPECT_EQ(v["dmarc"]["dkim_aligned"], true);
    EXPECT_EQ(v["aligned"], true);
    EXPECT_EQ(v["summary"], "");
    EXPECT_EQ(v["rebuilt"], true);
    EXPECT_EQ(*badges_of(text), (auth_badges{"pass", "pass", "none", true}));
}

TEST(VerdictFromHeader, UnsignedAndFailing) {
    auto text = verdict_from_header(
        "Return-Path: <x@evil.example>\r\nAuthentication-Results: mx.example.org; spf=softfail smtp.mailfrom=x@evil.example;"
        " dkim=none; dmarc=fail header.from=bank.example policy.dmarc=reject\r\n\r\n");
    auto v = json::parse(text);
    EXPECT_TRUE(v["dkim"].empty());  // "dkim=none" is how an unsigned message is written
    EXPECT_EQ(v["dmarc"]["policy"], "reject");
    EXPECT_EQ(*badges_of(text), (auth_badges{"softfail", "none", "fail", false}));
    // dmarc=fail is not aligned even where the names would be.
    auto same = verdict_from_header(
        "Return-Path: <x@bank.example>\r\nAuthentication-Results: h; spf=pass smtp.mailfrom=x@bank.example; "
        "dmarc=fail header.from=bank.example\r\n\r\n");
    EXPECT_FALSE(badges_of(same)->aligned);
    // CFWS around '=' (RFC 8601 §2.2) reads the same; case of words is folded.
    auto spaced = verdict_from_header(
        "Return-Path: <>\r\nAuthentication-Results: h (comment (nested)); SPF = Pass smtp.mailfrom = a@b.example;"
        " dmarc=PASS header.from=b.example\r\n\r\n");
    EXPECT_EQ(*badges_of(spaced), (auth_badges{"pass", "none", "pass", true}));
}

TEST(VerdictFromHeader, OnlyRightAfterReturnPath) {
    // A field the sender wrote comes after our Received: never read.
    std::string forged =
        "Return-Path: <a@b.example>\r\nReceived: from x by y; Mon, 23 Nov 2026 12:42:00 +0000\r\n"
        "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=a@b.example; dmarc=pass header.from=b.example\r\n\r\n";
    EXPECT_EQ(verdict_from_header(forged), "");
    EXPECT_EQ(verdict_from_header("Authentication-Results: h; spf=pass; dmarc=pass\r\n\r\n"), "");
    EXPECT_EQ(verdict_from_header("Return-Path: <>\r\n\r\nAuthentication-Results: h; spf=pass\r\n"), "");
    EXPECT_EQ(verdict_from_header("Return-Path: <>\r\nAuthentication-Results: h; none\r\n\r\n"), "");
    EXPECT_EQ(verdict_from_header("Return-Path: <>\r\nAuthentication-Results: h; iprev=pass\r\n\r\n"), "");
    EXPECT_EQ(verdict_from_header(""), "");
}

TEST(VerdictFromHeader, HostileInputIsSafe) {
    const std::string head = "Return-Path: <>\r\nAuthentication-Results: ";
    const std::vector<std::string> values = {
        "", ";", ";;;;", "h; spf", "h; spf=", "h; =pass", "h; spf=pass (unterminated", "h; spf=pass \"unterminated",
        "h; spf=pass reason=", "h; spf=pass reason=\"a\\", "h; spf=pass smtp.mailfrom=\"q\\\"uote@x\"; dmarc=pass",
        std::string(5000, '(') + "; spf=pass", "h; " + std::string(100000, 'x') + "=pass",
        "h; spf=pass\r\n smtp.mailfrom=\xff\xfe@\xc0.example; dmarc=pass header.from=\xff",
        "h; spf=pass ) ) ; dmarc=pass", "\"h;x\"; spf=fail; dmarc=fail",
    };
    for (const auto& v : values) {
        std::string text = verdict_from_header(head + v + "\r\n\r\n");
        if (!text.empty()) {
            EXPECT_TRUE(badges_of(text)) << v.substr(0, 60);  // valid JSON whenever anything is read
        }
    }
    EXPECT_EQ(badges_of(verdict_from_header(head + "\"h;x\"; spf=fail; dmarc=fail\r\n\r\n"))->spf, "fail");
    std::string many = head + "h; spf=pass";
    for (int i = 0; i < 5000; ++i) many += "; dkim=pass header.d=d" + std::to_string(i) + ".example";
    auto v = json::parse(verdict_from_header(many + "\r\n\r\n"));
    EXPECT_EQ(v["spf"]["result"], "pass");
    EXPECT_GT(v["dkim"].size(), 0u);
    EXPECT_LT(v["dkim"].size(), 64u);  // bounded: the first 16 KiB of the field, at most 64 results
}

// ---- in the index ------------------------------------------------------------------------------

std::string message(std::string_view subject) {
    return "From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: " + std::string(subject) + "\r\n\r\nbody\r\n";
}

class AuthIndex : public ::testing::Test {
protected:
    void SetUp() override {
        auto r = message_index::open(dir_.path() / "index.db");
        ASSERT_TRUE(r) << r.error().message();
        idx_ = std::move(*r);
    }
    void add(std::string id, std::int64_t secs, std::string v) {
        ASSERT_TRUE(idx_->add(describe(message("s"), env_of(std::move(id), std::move(v), secs))));
    }
    std::vector<std::string> ids(std::string_view q) {
        auto p = idx_->search(q, 0, 100);
        EXPECT_TRUE(p) << q;
        std::vector<std::string> out;
        if (!p) return out;
        for (const auto& m : p->messages) out.push_back(m.id);
        return out;
    }
    temp_dir dir_{"postern-index-auth"};
    std::unique_ptr<message_index> idx_;
};

using list = std::vector<std::string>;

TEST_F(AuthIndex, ArrivalWithAndWithoutVerdict) {
    const std::string v = verdict("pass", {{"pass", "example.com"}}, "pass", true).dump();
    add("checked", 100, v);
    add("unchecked", 200, "");
    auto p = idx_->list(0, 10);
    ASSERT_TRUE(p);
    ASSERT_EQ(p->messages.size(), 2u);
    EXPECT_FALSE(p->messages[0].auth);  // "unchecked", newest first
    ASSERT_TRUE(p->messages[1].auth);
    EXPECT_EQ(*p->messages[1].auth, (auth_badges{"pass", "pass", "pass", true}));
    EXPECT_EQ(p->messages[1].verdict, "");  // lists do not carry the whole verdict
    auto got = idx_->get("checked");
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->verdict, v);
    EXPECT_EQ(*(*got)->auth, (auth_badges{"pass", "pass", "pass", true}));
    auto none = idx_->get("unchecked");
    EXPECT_FALSE((*none)->auth);
    EXPECT_EQ((*none)->verdict, "");
    // Replacing and removing a row takes its verdict along.
    add("checked", 100, "");
    EXPECT_EQ((*idx_->get("checked"))->verdict, "");
    add("checked", 100, v);
    ASSERT_EQ(*idx_->remove({"checked"}), 1u);
    add("again", 300, "");
    EXPECT_EQ((*idx_->get("again"))->verdict, "");
}

TEST_F(AuthIndex, Filters) {
    add("good", 100, verdict("pass", {{"pass", "example.com"}}, "pass", true).dump());
    add("spoof", 200, verdict("fail", {{"fail", "example.com"}}, "fail", false).dump());
    add("soft", 300, verdict("softfail", {}, "none", false).dump());
    add("plain", 400, "");
    EXPECT_EQ(ids("spf:pass"), list{"good"});
    EXPECT_EQ(ids("SPF:FAIL"), list{"spoof"});
    EXPECT_EQ(ids("dkim:fail"), list{"spoof"});
    EXPECT_EQ(ids("dkim:none"), list{"soft"});  // unsigned; "plain" has no verdict at all
    EXPECT_EQ(ids("dmarc:fail"), list{"spoof"});
    EXPECT_EQ(ids("dmarc:none"), list{"soft"});
    EXPECT_EQ(ids("is:aligned"), list{"good"});
    EXPECT_EQ(ids("is:unaligned"), (list{"soft", "spoof"}));
    EXPECT_EQ(ids("has:auth"), (list{"soft", "spoof", "good"}));
    EXPECT_EQ(ids("spf:pass dmarc:fail"), list{});
    EXPECT_EQ(ids("is:unaligned spf:softfail"), list{"soft"});
    EXPECT_EQ(idx_->search("dmarc:fail", 0, 10)->total, 1u);
    EXPECT_EQ(idx_->count()->messages, 4u);  // the mailbox totals are not the filter's
    auto refs = idx_->matching("spf:fail");
    ASSERT_EQ(refs->size(), 1u);
    EXPECT_EQ(refs->front().id, "spoof");
    // Not a result word of the method: searched as text, never as SQL or FTS5 syntax.
    EXPECT_EQ(ids("spf:bogus"), list{});
    for (auto q : {"spf:\"pass\" OR 1=1", "dkim:'", "dmarc:fail)", "spf:*", "dkim:pass\" OR \"", "is:aligned AND"})
        EXPECT_TRUE(idx_->search(q, 0, 10)) << q;
}

TEST(AuthParseSearch, Words) {
    auto t = parse_search("spf:Pass dkim:policy dmarc:temperror is:unaligned has:auth word");
    EXPECT_EQ(t.spf, "pass");
    EXPECT_EQ(t.dkim, "policy");
    EXPECT_EQ(t.dmarc, "temperror");
    EXPECT_EQ(t.aligned, false);
    EXPECT_TRUE(t.with_auth);
    EXPECT_EQ(t.fts, "\"word\"*");
    EXPECT_EQ(parse_search("is:aligned").aligned, true);
    // RFC 8601: softfail is an SPF word, not a DMARC one; such a pair is text.
    auto odd = parse_search("dmarc:softfail");
    EXPECT_EQ(odd.dmarc, "");
    EXPECT_EQ(odd.fts, "\"dmarc:softfail\"*");
}

void write_file(const fs::path& p, std::string_view bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}

TEST_F(AuthIndex, RebuildShowsTheSameBadges) {
    auto mail = dir_.path() / "mail";
    write_file(mail / "inbox/new/1790000000.M1P1Q1.mx", our_field);
    write_file(mail / "inbox/new/1790000001.M1P1Q2.mx",
               "Return-Path: <x@evil.example>\r\nAuthentication-Results: mx.example.org;\r\n\tspf=fail "
               "smtp.mailfrom=x@evil.example;\r\n\tdkim=none;\r\n\tdmarc=fail header.from=bank.example "
               "policy.dmarc=reject\r\nReceived: from a by b; Mon, 23 Nov 2026 12:42:00 +0000\r\n" + message("spoof"));
    write_file(mail / "inbox/new/1790000002.M1P1Q3.mx",
               "Return-Path: <>\r\nReceived: from a by b; Mon, 23 Nov 2026 12:43:00 +0000\r\n" + message("plain"));
    auto r = idx_->rebuild(mail);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->indexed, 3u);
    auto good = *idx_->get("1790000000.M1P1Q1.mx");
    EXPECT_EQ(*good->auth, (auth_badges{"pass", "pass", "none", true}));
    EXPECT_EQ(json::parse(good->verdict)["dmarc"]["from_domain"], "example.com");
    auto spoof = *idx_->get("1790000001.M1P1Q2.mx");
    EXPECT_EQ(*spoof->auth, (auth_badges{"fail", "none", "fail", false}));
    EXPECT_FALSE((*idx_->get("1790000002.M1P1Q3.mx"))->auth);
    EXPECT_EQ(ids("dmarc:fail"), list{"1790000001.M1P1Q2.mx"});
    EXPECT_EQ(ids("is:aligned"), list{"1790000000.M1P1Q1.mx"});
}

TEST(AuthSchema, VersionThreeIsRecreated) {
    temp_dir dir{"postern-index-v3"};
    auto db = dir.path() / "index.db";
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(::sqlite3_open(db.c_str(), &h), SQLITE_OK);
        EXPECT_EQ(::sqlite3_exec(h, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                                    "INSERT INTO schema_version VALUES (3); CREATE TABLE messages (rowid INTEGER PRIMARY KEY);",
                                 nullptr, nullptr, nullptr),
                  SQLITE_OK);
        ::sqlite3_close(h);
    }
    auto r = message_index::open(db);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE((*r)->recreated());
    EXPECT_TRUE((*r)->search("spf:pass", 0, 10));
}

}  // namespace
}  // namespace postern::index
