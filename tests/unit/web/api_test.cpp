// SPDX-License-Identifier: MIT
// The web API without sockets: requests handed to web::handle() over an inbox built from a
// Maildir in a temporary folder.
#include "web/api.hpp"
#include "web/html_view.hpp"
#include "web/url.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <random>

namespace postern::web {
namespace {

namespace fs = std::filesystem;

struct reply_text {
    unsigned status = 0;
    std::string headers;
    std::string body;
};

// Serializes a message_generator to text and splits it.
reply_text run(inbox& box, http::verb method, std::string target, std::string body = {}) {
    request req{method, target, 11};
    req.body() = std::move(body);
    req.prepare_payload();
    auto gen = handle(req, box);
    std::string wire;
    boost::beast::error_code ec;
    while (!gen.is_done()) {
        auto bufs = gen.prepare(ec);
        if (ec) break;
        std::string chunk = boost::beast::buffers_to_string(bufs);
        wire += chunk;
        gen.consume(chunk.size());
    }
    reply_text r;
    auto end = wire.find("\r\n\r\n");
    r.headers = wire.substr(0, end);
    r.body = wire.substr(end + 4);
    r.status = static_cast<unsigned>(std::stoul(wire.substr(9, 3)));
    return r;
}

nlohmann::json json_of(const reply_text& r) { return nlohmann::json::parse(r.body); }

class Api : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("postern-web-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_ / "mail/inbox/new");
        fs::create_directories(dir_ / "mail/inbox/cur");
        put("1700000001.M1P1Q1.host", "Hello one", "Ann <ann@example.com>", "first body");
        put("1700000002.M1P1Q2.host", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "Zed <zed@example.com>", "second body Zürich",
            "<p>Hi<img src=\"cid:logo@x\"><script>alert(1)</script></p>");
        auto b = inbox::open(inbox_config{dir_, {0, 0}});
        ASSERT_TRUE(b) << b.error().message();
        box_ = std::move(*b);
    }
    void TearDown() override {
        box_.reset();
        fs::remove_all(dir_);
    }
    void put(const std::string& name, const std::string& subject, const std::string& from, const std::string& text,
             const std::string& html = {}) {
        std::ofstream f(dir_ / "mail/inbox/new" / name, std::ios::binary);
        f << "Return-Path: <s@example.net>\r\nFrom: " << from << "\r\nTo: bob@example.org\r\nSubject: " << subject
          << "\r\nMessage-ID: <" << name << "@x>\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\n";
        if (html.empty()) {
            f << "\r\n" << text << "\r\n";
            return;
        }
        f << "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n--b\r\n"
          << "Content-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
          << text << "\r\n--c\r\nContent-Type: text/html\r\n\r\n" << html << "\r\n--c--\r\n--b\r\n"
          << "Content-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
    }
    fs::path dir_;
    std::unique_ptr<inbox> box_;
};

TEST_F(Api, ListsNewestFirstInMailpitShape) {
    auto r = run(*box_, http::verb::get, "/api/v1/messages?limit=1");
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = json_of(r);
    EXPECT_EQ(j["total"], 2);
    EXPECT_EQ(j["unread"], 2);
    EXPECT_EQ(j["count"], 1);
    ASSERT_EQ(j["messages"].size(), 1u);
    const auto& m = j["messages"][0];
    EXPECT_EQ(m["ID"], "1700000002.M1P1Q2.host");
    EXPECT_EQ(m["Subject"], "Grüße");
    EXPECT_EQ(m["From"]["Address"], "zed@example.com");
    EXPECT_EQ(m["MessageID"], "1700000002.M1P1Q2.host@x");
    for (const char* k : {"Read", "To", "Cc", "Bcc", "ReplyTo", "Created", "Size", "Attachments", "Snippet", "Tags"})
        EXPECT_TRUE(m.contains(k)) << k;
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/messages?start=1"))["messages"][0]["ID"], "1700000001.M1P1Q1.host");
}

TEST_F(Api, BadNumbersAreJson400) {
    for (const char* t : {"/api/v1/messages?limit=x", "/api/v1/messages?start=-1", "/api/v1/messages?limit=1e3"}) {
        auto r = run(*box_, http::verb::get, t);
        EXPECT_EQ(r.status, 400u) << t;
        EXPECT_TRUE(json_of(r).contains("Error")) << t;
    }
}

TEST_F(Api, MessageIsParsedAndMarkedRead) {
    auto r = run(*box_, http::verb::get, "/api/v1/message/1700000002.M1P1Q2.host");
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = json_of(r);
    EXPECT_NE(j["HTML"].get<std::string>().find("<p>Hi"), std::string::npos);
    EXPECT_NE(j["Text"].get<std::string>().find("Zürich"), std::string::npos);
    ASSERT_EQ(j["Inline"].size(), 1u);
    EXPECT_EQ(j["Inline"][0]["ContentID"], "logo@x");
    EXPECT_EQ(j["ReturnPath"], "s@example.net");
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/messages"))["unread"], 1);
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/message/latest"))["ID"], "1700000002.M1P1Q2.host");
}

TEST_F(Api, UnknownOrHostileIdsAre404) {
    for (const char* t : {"/api/v1/message/nope", "/api/v1/message/..%2F..%2Fetc%2Fpasswd", "/api/v1/message/../../x/raw",
                          "/api/v1/message/%00/raw", "/view/..%2Findex.sqlite.html", "/api/v1/nothing"}) {
        auto r = run(*box_, http::verb::get, t);
        EXPECT_EQ(r.status, 404u) << t << " " << r.body;
    }
    EXPECT_EQ(run(*box_, http::verb::post, "/api/v1/messages").status, 405u);
}

TEST_F(Api, PartsRawAndView) {
    const std::string id = "1700000002.M1P1Q2.host";
    auto raw = run(*box_, http::verb::get, "/api/v1/message/" + id + "/raw?dl=1");
    EXPECT_EQ(raw.status, 200u);
    EXPECT_EQ(raw.body.size(), fs::file_size(dir_ / "mail/inbox/new" / id));
    EXPECT_NE(raw.headers.find("filename=\"" + id + ".eml\""), std::string::npos);
    auto part = run(*box_, http::verb::get, "/api/v1/message/" + id + "/part/2");
    EXPECT_EQ(part.status, 200u);
    EXPECT_EQ(part.body, std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_NE(part.headers.find("Content-Type: image/png"), std::string::npos);
    EXPECT_NE(part.headers.find("sandbox"), std::string::npos);
    EXPECT_EQ(run(*box_, http::verb::get, "/api/v1/message/" + id + "/part/9").status, 404u);
    auto view = run(*box_, http::verb::get, "/view/" + id + ".html");
    EXPECT_NE(view.headers.find("script-src 'none'"), std::string::npos);
    EXPECT_NE(view.body.find("/api/v1/message/" + id + "/part/2"), std::string::npos);
    EXPECT_EQ(view.body.find("cid:logo@x"), std::string::npos);
}

TEST_F(Api, SearchReadFlagsAndDelete) {
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/search?query=zurich"))["messages_count"], 1);
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/search?query=from%3Aann"))["messages"][0]["ID"], "1700000001.M1P1Q1.host");
    EXPECT_EQ(run(*box_, http::verb::get, "/api/v1/search?query=+").status, 400u);
    EXPECT_EQ(run(*box_, http::verb::get, "/api/v1/search?query=NEAR(%22a").status, 200u);
    EXPECT_EQ(run(*box_, http::verb::put, "/api/v1/messages", R"({"Read": true})").status, 200u);
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/messages"))["unread"], 0);
    EXPECT_EQ(run(*box_, http::verb::put, "/api/v1/messages", "{").status, 400u);
    EXPECT_EQ(run(*box_, http::verb::delete_, "/api/v1/messages", R"({"IDs": "x"})").status, 400u);
    EXPECT_EQ(run(*box_, http::verb::delete_, "/api/v1/messages", "not json").status, 400u);
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/messages"))["total"], 2);  // nothing deleted by bad bodies
    EXPECT_EQ(run(*box_, http::verb::delete_, "/api/v1/messages", R"({"IDs": ["1700000001.M1P1Q1.host"]})").status, 200u);
    EXPECT_FALSE(fs::exists(dir_ / "mail/inbox/new/1700000001.M1P1Q1.host"));
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/messages"))["total"], 1);
    EXPECT_EQ(run(*box_, http::verb::delete_, "/api/v1/messages").status, 200u);
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/messages"))["total"], 0);
    EXPECT_TRUE(fs::is_empty(dir_ / "mail/inbox/new"));
}

TEST_F(Api, AuthIsNullWithoutVerdict) {
    auto list = json_of(run(*box_, http::verb::get, "/api/v1/messages"));
    ASSERT_EQ(list["messages"].size(), 2u);
    for (const auto& m : list["messages"]) {
        ASSERT_TRUE(m.contains("Auth"));
        EXPECT_TRUE(m["Auth"].is_null());
    }
    auto m = json_of(run(*box_, http::verb::get, "/api/v1/message/1700000001.M1P1Q1.host"));
    ASSERT_TRUE(m.contains("Authentication"));
    EXPECT_TRUE(m["Authentication"].is_null());
    EXPECT_TRUE(m["Auth"].is_null());
}

// A verdict in mailauth::to_json's shape (src/mailauth/verdict.cpp).
nlohmann::json failing_verdict() {
    nlohmann::json spf{{"result", "softfail"}, {"domain", "evil.example"}, {"sender", "x@evil.example"},
                       {"mechanism", "~all"}, {"explanation", ""}, {"reason", ""}};
    return {{"spf", spf},
            {"helo_spf", spf},
            {"dkim", nlohmann::json::array({{{"result", "fail"}, {"domain", "evil.example"}, {"selector", "s"},
                                             {"identity", ""}, {"algorithm", "rsa-sha256"}, {"reason", "bad"},
                                             {"testing", false}}})},
            {"dmarc", {{"result", "fail"}, {"policy", "reject"}, {"from_domain", "bank.example"},
                       {"record_domain", "bank.example"}, {"organizational_domain", "bank.example"},
                       {"spf_aligned", false}, {"dkim_aligned", false}, {"sampled_out", false}, {"reason", ""}}},
            {"aligned", false},
            {"summary", "From says bank.example, but the mail was sent and signed by evil.example"},
            {"summary_case", "sent_and_signed_by_other"}};
}

TEST_F(Api, AuthFromArrivalAndFromTheHeaderField) {
    const std::string id = "1700000003.M1P1Q3.host";
    put(id, "spoofed", "Bank <bank@bank.example>", "pay now");
    const auto verdict = failing_verdict();
    std::vector<nlohmann::json> events;
    std::mutex m;
    box_->set_event_sink([&](std::string e) {
        std::lock_guard lock(m);
        events.push_back(nlohmann::json::parse(e));
    });
    box_->on_arrival(arrival{{dir_ / "mail/inbox/new" / id}, "x@evil.example", {"bob@example.org"},
                             std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'003)), verdict.dump()});
    box_->stop();  // indexes what is queued
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front()["Type"], "new");
    EXPECT_EQ(events.front()["Data"]["Auth"]["DMARC"], "fail");

    auto list = json_of(run(*box_, http::verb::get, "/api/v1/messages"));
    ASSERT_EQ(list["messages"][0]["ID"], id);
    const nlohmann::json badges{{"SPF", "softfail"}, {"DKIM", "fail"}, {"DMARC", "fail"}, {"Aligned", false}};
    EXPECT_EQ(list["messages"][0]["Auth"], badges);
    EXPECT_TRUE(list["messages"][1]["Auth"].is_null());
    auto found = json_of(run(*box_, http::verb::get, "/api/v1/search?query=dmarc%3Afail"));
    EXPECT_EQ(found["messages_count"], 1);
    EXPECT_EQ(found["messages"][0]["Auth"], badges);
    EXPECT_EQ(json_of(run(*box_, http::verb::get, "/api/v1/search?query=is%3Aaligned"))["messages_count"], 0);
    auto msg = json_of(run(*box_, http::verb::get, "/api/v1/message/" + id));
    EXPECT_EQ(msg["Authentication"], verdict);
    EXPECT_EQ(msg["Auth"], badges);

    // The same message as the store writes it (our field right after Return-Path), read back by a rebuild.
    const std::string id2 = "1700000004.M1P1Q4.host";
    std::ofstream(dir_ / "mail/inbox/new" / id2, std::ios::binary)
        << "Return-Path: <x@evil.example>\r\nAuthentication-Results: mx.example.org;\r\n\tspf=softfail (sender IP is "
           "192.0.2.1)\r\n\tsmtp.mailfrom=x@evil.example;\r\n\tdkim=fail reason=\"bad\" header.d=evil.example "
           "header.s=s;\r\n\tdmarc=fail header.from=bank.example policy.dmarc=reject\r\n"
           "Received: from a by b; Mon, 23 Nov 2026 12:00:00 +0000\r\nFrom: bank@bank.example\r\nSubject: x\r\n\r\nx\r\n";
    ASSERT_TRUE(box_->index().rebuild(dir_ / "mail"));
    auto rebuilt = json_of(run(*box_, http::verb::get, "/api/v1/search?query=dmarc%3Afail"));
    ASSERT_EQ(rebuilt["messages_count"], 1);  // the arrival's file has no field: a rebuild cannot know its verdict
    EXPECT_EQ(rebuilt["messages"][0]["ID"], id2);
    EXPECT_EQ(rebuilt["messages"][0]["Auth"], badges);
    auto back = json_of(run(*box_, http::verb::get, "/api/v1/message/" + id2))["Authentication"];
    EXPECT_EQ(back["dmarc"]["from_domain"], "bank.example");
    EXPECT_EQ(back["dmarc"]["policy"], "reject");
    EXPECT_EQ(back["dkim"][0]["reason"], "bad");
    EXPECT_EQ(back["summary"], "");
    box_->set_event_sink({});  // the sink refers to this test's locals
}

TEST(Url, QueryParamsAreDecoded) {
    EXPECT_EQ(query_param("/s?query=a+b%20c&x=1", "query"), "a b c");
    EXPECT_EQ(query_param("/s?x=1&query", "query"), "");
    EXPECT_FALSE(query_param("/s?x=1", "query"));
    EXPECT_FALSE(query_param("/s", "query"));
    EXPECT_EQ(percent_decode("%zz%4", false), "%zz%4");
    EXPECT_EQ(target_path("/a/b?c"), "/a/b");
}

TEST(HtmlView, PolicyAndInlineLinks) {
    EXPECT_NE(view_policy(false).find("img-src 'self' data:;"), std::string::npos);
    EXPECT_NE(view_policy(true).find("https:"), std::string::npos);
    for (bool remote : {false, true}) {
        EXPECT_NE(view_policy(remote).find("script-src 'none'"), std::string::npos);
        EXPECT_NE(view_policy(remote).find("sandbox"), std::string::npos);
    }
}

}  // namespace
}  // namespace postern::web
