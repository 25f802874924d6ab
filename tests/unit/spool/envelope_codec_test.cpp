// SPDX-License-Identifier: MIT
#include "spool/envelope_codec.hpp"
#include "spool/spool_errors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postern::spool {
namespace {

using std::chrono::seconds;

// Every field away from its default, so that a field the codec forgot cannot round-trip by luck.
queued_message full_message() {
    queued_message m;
    m.id = "67a1b2c3.0f4a2p1a2bq3";
    m.reverse_path = "bounce+x=y@sender.example";
    m.arrival = time_point{seconds{1700000000}};
    m.size = 123456789012ull;
    m.envid = "QQ314159";
    m.ret = dsn_return::headers;
    m.smtputf8 = true;
    m.eight_bit = true;
    m.requiretls = true;
    queued_recipient a;
    a.address = "a@x.example";
    a.notify = notify_flags{false, true, true, true};
    a.orcpt = "rfc822;a@x.example";
    a.status = delivery_status::transient_failure;
    a.attempts = 4294967295u;
    a.next_attempt = time_point{seconds{1700003600}};
    a.last_reply = "451 4.7.1 \"greylisted\"\r\n\\ please retry";
    a.remote_host = "mx1.x.example [192.0.2.1]";
    a.delay_notified = true;
    queued_recipient b;
    b.address = "\xd0\xbf\xd1\x80\xd0\xb8@\xd0\xbf\xd1\x80\xd0\xb8.example";  // UTF-8 (RFC 6531)
    b.notify = notify_flags{true, false, false, false};
    b.status = delivery_status::delivered;
    queued_recipient c;
    c.address = "c@y.example";
    c.status = delivery_status::permanent_failure;
    c.last_reply = std::string("550 5.1.1 \xff\xfe\x00 bad", 15);  // not UTF-8, with a NUL
    queued_recipient d;  // all defaults: notify absent, scheduled
    d.address = "d@z.example";
    m.recipients = {a, b, c, d};
    return m;
}

TEST(envelope_codec, round_trips_every_field) {
    auto m = full_message();
    auto text = encode_envelope(m);
    auto back = decode_envelope(text);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(*back, m);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_NE(text.find("\"version\":1"), std::string::npos);
}

TEST(envelope_codec, round_trips_defaults_and_the_null_reverse_path) {
    queued_message m;
    m.id = "1.00000p1q0";
    auto back = decode_envelope(encode_envelope(m));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, m);
    for (auto r : {dsn_return::unspecified, dsn_return::full, dsn_return::headers}) {
        m.ret = r;
        EXPECT_EQ(decode_envelope(encode_envelope(m))->ret, r);
    }
}

TEST(envelope_codec, every_octet_survives_in_strings) {
    queued_message m;
    m.id = "x";
    for (int i = 0; i < 256; ++i) m.reverse_path.push_back(static_cast<char>(i));
    m.envid = "\xed\xa0\x80";  // an encoded surrogate: not UTF-8 (RFC 3629 §3)
    auto back = decode_envelope(encode_envelope(m));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->reverse_path, m.reverse_path);
    EXPECT_EQ(back->envid, m.envid);
}

TEST(envelope_codec, times_are_kept_to_the_second) {
    queued_message m;
    m.arrival = time_point{seconds{1700000000}} + std::chrono::milliseconds{999};
    EXPECT_EQ(decode_envelope(encode_envelope(m))->arrival, time_point{seconds{1700000000}});
}

std::error_code decode_error(const std::string& text) {
    auto r = decode_envelope(text);
    return r ? std::error_code{} : r.error();
}

TEST(envelope_codec, refuses_what_is_not_an_envelope) {
    for (const char* bad : {"", "{", "null", "[]", "42", "\"x\"", "{\"version\":1}", "{}", "{\"version\":\"1\"}",
                            "{\"version\":1.0}", "not json at all"})
        EXPECT_EQ(decode_error(bad), spool_errc::bad_envelope) << bad;
    EXPECT_EQ(decode_error("{\"version\":2}"), spool_errc::unsupported_version);
    EXPECT_EQ(decode_error("{\"version\":-1}"), spool_errc::unsupported_version);
    EXPECT_EQ(decode_error("{\"version\":0}"), spool_errc::unsupported_version);
}

// Replaces the first `from` in the encoded full message with `to`.
std::string mutated(const std::string& from, const std::string& to) {
    auto text = encode_envelope(full_message());
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

TEST(envelope_codec, refuses_a_missing_field) {
    for (const char* key : {"id", "reverse_path", "arrival", "size", "envid", "ret", "smtputf8", "eight_bit",
                            "requiretls", "recipients", "address", "notify", "orcpt", "status", "attempts",
                            "next_attempt", "last_reply", "remote_host", "delay_notified", "never", "success",
                            "failure", "delay"}) {
        auto renamed = mutated(std::string("\"") + key + "\":", std::string("\"x_") + key + "\":");
        EXPECT_EQ(decode_error(renamed), spool_errc::bad_envelope) << key;
    }
}

TEST(envelope_codec, refuses_wrong_types_and_values) {
    const std::pair<const char*, const char*> cases[] = {
        {"\"size\":123456789012", "\"size\":-1"},
        {"\"size\":123456789012", "\"size\":1.5"},
        {"\"size\":123456789012", "\"size\":\"12\""},
        {"\"attempts\":4294967295", "\"attempts\":4294967296"},
        {"\"attempts\":4294967295", "\"attempts\":-1"},
        {"\"status\":\"transient_failure\"", "\"status\":\"Delivered\""},
        {"\"ret\":\"headers\"", "\"ret\":\"HDRS\""},
        {"\"smtputf8\":true", "\"smtputf8\":1"},
        {"\"arrival\":1700000000", "\"arrival\":99999999999999"},
        {"\"arrival\":1700000000", "\"arrival\":7258118401"},  // after 2200: arithmetic could overflow
        {"\"arrival\":1700000000", "\"arrival\":-1"},          // before 1970
        {"\"arrival\":1700000000", "\"arrival\":\"1700000000\""},
        {"\"notify\":{", "\"notify\":[{"},
        {"\"recipients\":[", "\"recipients\":{\"a\":["},
        {"\"id\":\"67a1b2c3.0f4a2p1a2bq3\"", "\"id\":{\"hex\":\"6\"}"},
        {"\"id\":\"67a1b2c3.0f4a2p1a2bq3\"", "\"id\":{\"hex\":\"zz\"}"},
        {"\"id\":\"67a1b2c3.0f4a2p1a2bq3\"", "\"id\":{\"hex\":\"41\",\"b\":1}"},
        {"\"id\":\"67a1b2c3.0f4a2p1a2bq3\"", "\"id\":7"},
    };
    for (const auto& [from, to] : cases) {
        auto text = mutated(from, to);
        EXPECT_FALSE(decode_envelope(text).has_value()) << to;
    }
    EXPECT_EQ(decode_envelope(mutated("\"id\":\"67a1b2c3.0f4a2p1a2bq3\"", "\"id\":{\"hex\":\"4142\"}"))->id, "AB");
}

TEST(envelope_codec, ignores_unknown_fields) {
    auto back = decode_envelope(mutated("\"version\":1", "\"later\":{\"x\":[1,2]},\"version\":1"));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, full_message());
}

TEST(envelope_codec, bounds_size_and_nesting) {
    EXPECT_EQ(decode_error(std::string(max_envelope_size + 1, ' ')), spool_errc::envelope_too_large);
    std::string deep = "{\"version\":1,\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    EXPECT_EQ(decode_error(deep), spool_errc::bad_envelope);
    // Brackets inside strings are not nesting.
    queued_message m;
    m.envid = std::string(50, '[') + "\\\"" + std::string(50, '{');
    EXPECT_EQ(decode_envelope(encode_envelope(m))->envid, m.envid);
}

TEST(envelope_codec, every_truncation_is_refused_never_thrown) {
    auto text = encode_envelope(full_message());
    text.pop_back();  // the newline: the JSON is complete without it
    for (std::size_t n = 0; n < text.size(); ++n)
        EXPECT_FALSE(decode_envelope(std::string_view(text).substr(0, n)).has_value()) << n;
    EXPECT_TRUE(decode_envelope(text).has_value());
}

TEST(envelope_codec, flipped_octets_never_throw) {
    auto text = encode_envelope(full_message());
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (char c : {'\0', '"', '}', ']', '\\', '\xff', '9'}) {
            auto t = text;
            t[i] = c;
            auto r = decode_envelope(t);  // refused, or read as some message: never a crash
            if (!r) {
                EXPECT_TRUE(r.error() == spool_errc::bad_envelope || r.error() == spool_errc::unsupported_version);
            }
        }
    }
}

}  // namespace
}  // namespace postern::spool
