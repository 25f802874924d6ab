// SPDX-License-Identifier: MIT
// Signing, keys, and what dkim_signer makes dkim_verifier accepts (and a one-bit change breaks);
// plus the verifier's limits.
#include "dkim_test_util.hpp"
#include "mailauth/dkim_keys.hpp"
#include "mailauth/dkim_sign.hpp"
#include "message/base64.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

namespace postern::mailauth {
namespace {

constexpr std::int64_t now = 1700000000;

const std::string message =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: round  trip\r\n"
    "\tfolded\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <rt@example.com>\r\n"
    "X-Unsigned: whatever\r\n"
    "\r\n"
    "Hello,  world\r\n"
    "\r\n"
    "  indented\tline \r\n"
    "\r\n\r\n";

std::string dns_line(const std::string& name, const std::string& record) {
    std::string line = "TXT " + name;
    for (std::size_t i = 0; i < record.size(); i += 100) line += " \"" + record.substr(i, 100) + "\"";
    return line + "\n";
}

struct keypair {
    evp_pkey_ptr key;
    std::string record;
};

keypair make_key(dkim_key_algorithm alg) {
    auto g = generate_key(alg);
    EXPECT_TRUE(g) << g.error().message();
    auto k = parse_private_key(g->private_pem);
    EXPECT_TRUE(k) << k.error().message();
    return {std::move(*k), g->dns_record};
}

std::string sign(const keypair& kp, dkim_canon hc, dkim_canon bc, std::string_view msg, dkim_signer_config c = {}) {
    c.domain = "example.com";
    c.selector = "s1";
    evp_pkey_ptr copy{kp.key.get()};
    EVP_PKEY_up_ref(kp.key.get());
    c.key = share(std::move(copy));
    c.header_canon = hc;
    c.body_canon = bc;
    dkim_signer s(std::move(c));
    for (std::size_t i = 0; i < msg.size(); i += 7) s.feed(msg.substr(i, 7));
    s.finish();
    auto h = s.signature_header(now);
    EXPECT_TRUE(h) << h.error().message();
    return h ? *h : std::string();
}

dkim_outcome verify_one(const std::string& signed_msg, const keypair& kp) {
    auto out = test::run_verify(test::feed_message(signed_msg, test::feeding::random_chunks),
                                dns_line("s1._domainkey.example.com", kp.record), now + 10);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? dkim_outcome{} : out.front();
}

class round_trip : public ::testing::TestWithParam<std::tuple<dkim_key_algorithm, dkim_canon, dkim_canon>> {};

TEST_P(round_trip, verifies_and_a_one_bit_change_fails) {
    const auto [alg, hc, bc] = GetParam();
    const keypair kp = make_key(alg);
    const std::string header = sign(kp, hc, bc, message);
    const std::string signed_msg = header + message;
    const auto good = verify_one(signed_msg, kp);
    EXPECT_EQ(good.result, dkim_result::pass) << good.reason;
    EXPECT_EQ(good.algorithm, alg == dkim_key_algorithm::rsa ? "rsa-sha256" : "ed25519-sha256");

    std::string body_bit = signed_msg;
    body_bit[body_bit.find("world")] ^= 0x01;
    EXPECT_EQ(verify_one(body_bit, kp).result, dkim_result::fail);
    std::string header_bit = signed_msg;
    header_bit[header_bit.find("round")] ^= 0x20;
    EXPECT_EQ(verify_one(header_bit, kp).result, dkim_result::fail);
    std::string sig_bit = signed_msg;
    sig_bit[sig_bit.find("b=", sig_bit.find("bh=") + 3) + 4] ^= 0x01;
    EXPECT_NE(verify_one(sig_bit, kp).result, dkim_result::pass);
    // Not signed: still passes.
    EXPECT_EQ(verify_one("X-Later: added\r\n" + signed_msg, kp).result, dkim_result::pass);
}

INSTANTIATE_TEST_SUITE_P(all, round_trip,
                         ::testing::Combine(::testing::Values(dkim_key_algorithm::rsa, dkim_key_algorithm::ed25519),
                                            ::testing::Values(dkim_canon::simple, dkim_canon::relaxed),
                                            ::testing::Values(dkim_canon::simple, dkim_canon::relaxed)));

TEST(dkim_signer, header_is_folded_and_oversigns_from) {
    const keypair kp = make_key(dkim_key_algorithm::rsa);
    dkim_signer_config c;
    c.expire_after = 86400;
    const std::string h = sign(kp, dkim_canon::relaxed, dkim_canon::relaxed, message, c);
    ASSERT_TRUE(h.starts_with("DKIM-Signature: v=1;"));
    ASSERT_TRUE(h.ends_with("\r\n"));
    std::istringstream lines(h);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 78u + 1u) << line;  // + the CR
    auto sig = parse_dkim_signature(std::string_view(h).substr(15, h.size() - 17));
    ASSERT_TRUE(sig) << sig.error().message();
    EXPECT_EQ(sig->signed_headers,
              (std::vector<std::string>{"from", "from", "subject", "date", "to", "message-id"}));
    EXPECT_EQ(sig->header_canon, dkim_canon::relaxed);
    EXPECT_EQ(*sig->timestamp, now);
    EXPECT_EQ(*sig->expiration, now + 86400);
}

TEST(dkim_signer, oversigned_from_breaks_when_a_from_is_added) {
    const keypair kp = make_key(dkim_key_algorithm::ed25519);
    const std::string signed_msg = sign(kp, dkim_canon::relaxed, dkim_canon::relaxed, message) + message;
    const std::string with_second_from = signed_msg.substr(0, signed_msg.find("To:")) + "From: mallory@evil.example\r\n" +
                                         signed_msg.substr(signed_msg.find("To:"));
    EXPECT_EQ(verify_one(with_second_from, kp).result, dkim_result::fail);
}

TEST(dkim_signer, refuses_before_finish_and_without_key) {
    dkim_signer_config c;
    c.domain = "example.com";
    c.selector = "s";
    dkim_signer s(c);
    s.feed(message);
    EXPECT_EQ(s.signature_header(now).error(), std::errc::operation_not_permitted);
    s.finish();
    EXPECT_EQ(s.signature_header(now).error(), dkim_errc::bad_pem);
}

// RFC 6376 §5.4: From MUST be signed, so a message without one gets no signature at all.
TEST(dkim_signer, refuses_a_message_without_from) {
    const keypair kp = make_key(dkim_key_algorithm::ed25519);
    dkim_signer_config c;
    c.domain = "example.com";
    c.selector = "s1";
    evp_pkey_ptr copy{kp.key.get()};
    EVP_PKEY_up_ref(kp.key.get());
    c.key = share(std::move(copy));
    dkim_signer s(std::move(c));
    s.feed(std::string_view("To: b@example.org\r\nSubject: no author\r\n\r\nbody\r\n"));
    s.finish();
    EXPECT_EQ(s.signature_header(now).error(), dkim_errc::from_not_signed);
}

TEST(dkim_keys, generated_records_follow_the_rfcs) {
    auto ed = generate_key(dkim_key_algorithm::ed25519);
    ASSERT_TRUE(ed);
    EXPECT_TRUE(ed->private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    auto rec = parse_dkim_key(ed->dns_record);
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->key_type, "ed25519");
    EXPECT_EQ(rec->public_key.size(), 32u);  // RFC 8463 §4: the raw key
    auto rsa = generate_key(dkim_key_algorithm::rsa);
    ASSERT_TRUE(rsa);
    EXPECT_TRUE(rsa->private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    EXPECT_TRUE(rsa->dns_record.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));  // SubjectPublicKeyInfo, 2048 bits
    EXPECT_EQ(record_name("sel", "example.com"), "sel._domainkey.example.com");
}

TEST(dkim_keys, load_private_key_from_files) {
    const std::filesystem::path keys = std::filesystem::path(POSTERN_TEST_DATA) / "dkim" / "keys";
    auto rsa = load_private_key(keys / "rsa2048.pem");
    ASSERT_TRUE(rsa);
    EXPECT_EQ(*key_algorithm(**rsa), dkim_key_algorithm::rsa);
    auto ed = load_private_key(keys / "ed25519.pem");
    ASSERT_TRUE(ed);
    EXPECT_EQ(*key_algorithm(**ed), dkim_key_algorithm::ed25519);
    EXPECT_FALSE(load_private_key(keys / "missing.pem"));
    EXPECT_EQ(load_private_key(std::filesystem::path(POSTERN_TEST_DATA) / "dkim" / "none-unsigned.test").error(),
              dkim_errc::bad_pem);
}

TEST(dkim_verifier_limits, header_section_too_large_is_permerror_for_every_signature) {
    const keypair kp = make_key(dkim_key_algorithm::ed25519);
    const std::string sig = sign(kp, dkim_canon::relaxed, dkim_canon::relaxed, message);
    const std::string big = sig + "X-Filler: " + std::string(3000, 'x') + "\r\n" + sig + message;
    dkim_verifier_limits limits;
    limits.max_header_section = 2000;
    auto m = test::feed_message(big, test::feeding::random_chunks, limits);
    EXPECT_TRUE(m.header_too_large);
    const auto out = test::run_verify(std::move(m), dns_line("s1._domainkey.example.com", kp.record), now);
    ASSERT_EQ(out.size(), 2u);
    for (const auto& o : out) {
        EXPECT_EQ(o.result, dkim_result::permerror);
        EXPECT_EQ(o.reason, "header section too large");
    }
}

TEST(dkim_verifier_limits, signatures_past_the_cap_are_not_looked_up) {
    const keypair kp = make_key(dkim_key_algorithm::ed25519);
    std::string msg = message;
    for (int i = 0; i < 12; ++i) msg = sign(kp, dkim_canon::relaxed, dkim_canon::relaxed, msg) + msg;
    boost::asio::io_context io;
    dns::static_resolver r(io.get_executor());
    ASSERT_TRUE(r.load(dns_line("s1._domainkey.example.com", kp.record)));
    std::vector<dkim_outcome> out;
    auto task = verify_dkim(r, test::feed_message(msg, test::feeding::whole), now);
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr, std::vector<dkim_outcome> v) { out = std::move(v); });
    io.run();
    ASSERT_EQ(out.size(), 12u);
    for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(out[i].result, dkim_result::pass) << i << out[i].reason;
    EXPECT_EQ(out[10].result, dkim_result::permerror);
    EXPECT_EQ(out[11].reason, "too many signatures: not verified");
    EXPECT_EQ(r.queries().size(), 10u);
}

TEST(dkim_verifier, exposes_header_fields_for_dmarc) {
    auto m = test::feed_message(message, test::feeding::byte_by_byte);
    ASSERT_EQ(m.headers.size(), 6u);
    EXPECT_EQ(m.headers[0].name(), "From");
    EXPECT_EQ(m.headers[0].value(), " Alice <alice@example.com>");
    EXPECT_TRUE(m.signatures.empty());
}

TEST(dkim_verifier, garbage_signature_fields_are_permerror_with_what_they_name) {
    const std::string msg = "DKIM-Signature: d=example.com; s=x; b=YWJjZGVmZ2hpams=\r\n" + message;
    const auto out = test::run_verify(test::feed_message(msg, test::feeding::whole), "", now);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].result, dkim_result::permerror);
    EXPECT_EQ(out[0].domain, "example.com");
    EXPECT_EQ(out[0].b_prefix, "YWJjZGVm");
}

}  // namespace
}  // namespace postern::mailauth
