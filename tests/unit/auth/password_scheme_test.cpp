// SPDX-License-Identifier: MIT
// The hashes below were made outside postern: SHA512-CRYPT with `openssl passwd -6`, BLF-CRYPT
// with Python's crypt module (libxcrypt), ARGON2ID with libsodium's crypto_pwhash_str_alg.
#include "auth/crypto.hpp"
#include "auth/password_scheme.hpp"

#include <gtest/gtest.h>

namespace postern::auth {
namespace {

constexpr const char* good = "correct horse";

verify_result check(std::string_view field, std::string_view password) {
    return verify_stored_password(parse_stored_password(field), password);
}

TEST(password_scheme, parse) {
    auto p = parse_stored_password("{sha512-crypt}$6$x$y");
    EXPECT_EQ(p.kind, scheme::crypt);
    EXPECT_EQ(p.name, "SHA512-CRYPT");
    EXPECT_EQ(p.data, "$6$x$y");
    EXPECT_EQ(parse_stored_password("$6$x$y").kind, scheme::crypt);  // bare: Dovecot's default CRYPT
    EXPECT_EQ(parse_stored_password("{MD4}abc").kind, scheme::unknown);
    EXPECT_EQ(parse_stored_password("{PLAIN").kind, scheme::unknown);
}

TEST(password_scheme, sha512_crypt) {
    const char* h = "{SHA512-CRYPT}$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1";
    EXPECT_EQ(check(h, good), verify_result::ok);
    EXPECT_EQ(check(h, "wrong"), verify_result::bad);
    EXPECT_EQ(check(h, ""), verify_result::bad);
}

TEST(password_scheme, blf_crypt) {
    EXPECT_EQ(check("{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2", good), verify_result::ok);
    EXPECT_EQ(check("{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2", good), verify_result::ok);
    EXPECT_EQ(check("{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2", "nope"), verify_result::bad);
}

TEST(password_scheme, malformed_crypt_is_bad) {
    EXPECT_EQ(check("{SHA512-CRYPT}garbage", good), verify_result::bad);
    EXPECT_EQ(check("{SHA512-CRYPT}", good), verify_result::bad);
}

TEST(password_scheme, argon2id_from_libsodium) {
    const char* h = "{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$6njwGcQGhU8miDLO6VfKqA$Y3/0expJ7rMTDXnD2Itwn6fl5VzAnw87qaP9aYXvOww";
    EXPECT_EQ(check(h, good), verify_result::ok);
    EXPECT_EQ(check(h, "correct horsE"), verify_result::bad);
}

TEST(password_scheme, argon2id_round_trip) {
    auto h = hash_argon2id("s3cret", minimum_hash_limits());
    ASSERT_TRUE(h);
    EXPECT_EQ(h->rfind("{ARGON2ID}$argon2id$", 0), 0u) << *h;
    EXPECT_EQ(check(*h, "s3cret"), verify_result::ok);
    EXPECT_EQ(check(*h, "s3cret "), verify_result::bad);
}

TEST(password_scheme, plain_and_cram_md5) {
    EXPECT_EQ(check("{PLAIN}password", "password"), verify_result::ok);
    EXPECT_EQ(check("{PLAIN}password", "passwor"), verify_result::bad);
    const char* cram = "{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740";
    EXPECT_EQ(check(cram, "password"), verify_result::ok);
    EXPECT_EQ(check(cram, "Password"), verify_result::bad);
    EXPECT_EQ(cram_md5_context_of(parse_stored_password(cram)), crypto::cram_md5_context("password"));
    EXPECT_EQ(cram_md5_context_of(parse_stored_password("{PLAIN}password")), crypto::cram_md5_context("password"));
    EXPECT_FALSE(cram_md5_context_of(parse_stored_password("{SHA512-CRYPT}$6$x$y")));
    EXPECT_FALSE(cram_md5_context_of(parse_stored_password("{CRAM-MD5}abcd")));
}

TEST(password_scheme, unknown_scheme_never_matches) {
    EXPECT_EQ(check("{MD4}password", "password"), verify_result::bad);
}

// RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
TEST(password_scheme, scram_secret_round_trip) {
    auto salt = crypto::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    ASSERT_TRUE(salt);
    auto s = derive_scram_sha256("pencil", *salt, 4096);
    auto text = format_scram_secret(s);
    EXPECT_EQ(text.rfind("4096,W22ZaJ0SNY7soEsUEjb6gQ==,", 0), 0u);
    auto back = parse_scram_secret(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->stored_key, s.stored_key);
    EXPECT_EQ(back->server_key, s.server_key);
    EXPECT_EQ(check("{SCRAM-SHA-256}" + text, "pencil"), verify_result::ok);
    EXPECT_EQ(check("{SCRAM-SHA-256}" + text, "pencils"), verify_result::bad);
    EXPECT_FALSE(parse_scram_secret("4096,W22ZaJ0SNY7soEsUEjb6gQ==,AAAA,AAAA"));
    EXPECT_FALSE(parse_scram_secret("x,W22ZaJ0SNY7soEsUEjb6gQ=="));
    EXPECT_FALSE(parse_scram_secret(""));
}

}  // namespace
}  // namespace postern::auth
