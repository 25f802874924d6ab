// SPDX-License-Identifier: MIT
#include "auth/crypto.hpp"

#include <gtest/gtest.h>

namespace postern::auth::crypto {
namespace {

TEST(crypto, base64_round_trip) {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto e = base64_encode(s);
        EXPECT_EQ(base64_decode(e), s) << e;
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");  // RFC 4648 §10
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
}

TEST(crypto, base64_decode_is_strict) {
    EXPECT_FALSE(base64_decode("Zm8"));     // no padding
    EXPECT_FALSE(base64_decode("Zm9=v"));   // bad length
    EXPECT_FALSE(base64_decode("Zm=v"));    // padding in the middle
    EXPECT_FALSE(base64_decode("Zm9 "));    // space
    EXPECT_FALSE(base64_decode("Zm9=Zm9v")); // padding before the end
    EXPECT_FALSE(base64_decode("Zh=="));    // leftover bits
}

TEST(crypto, hex) {
    EXPECT_EQ(hex_encode("\x01\xab"), "01ab");
    EXPECT_EQ(hex_decode("01AB"), std::string("\x01\xab"));
    EXPECT_FALSE(hex_decode("0"));
    EXPECT_FALSE(hex_decode("zz"));
}

TEST(crypto, equal) {
    EXPECT_TRUE(equal("abc", "abc"));
    EXPECT_FALSE(equal("abc", "abd"));
    EXPECT_FALSE(equal("abc", "ab"));
}

// RFC 2195 §2: the example exchange.
TEST(crypto, cram_md5_rfc2195_example) {
    const std::string challenge = "<1896.697170952@postoffice.reston.mci.net>";
    EXPECT_EQ(hex_encode(hmac_md5("tanstaaftanstaaf", challenge)), "b913a602c7eda7a495b4e6e7334d3890");
    EXPECT_EQ(hex_encode(cram_md5_digest(cram_md5_context("tanstaaftanstaaf"), challenge)),
              "b913a602c7eda7a495b4e6e7334d3890");
}

// `doveadm pw -s CRAM-MD5 -p password` (as quoted in postfixadmin's test suite).
TEST(crypto, cram_md5_context_matches_dovecot) {
    EXPECT_EQ(hex_encode(cram_md5_context("password")),
              "9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740");
}

TEST(crypto, cram_md5_context_of_long_key) {
    const std::string key(100, 'k');  // RFC 2104: longer than a block, hashed first
    EXPECT_EQ(cram_md5_digest(cram_md5_context(key), "msg"), hmac_md5(key, "msg"));
}

// RFC 7677 §3: SaltedPassword for "pencil" is the key of the example; checked through SCRAM elsewhere.
TEST(crypto, pbkdf2_sha256_known_vector) {
    // RFC 7914 §11 PBKDF2-HMAC-SHA256 test vector (P="passwd", S="salt", c=1), first 32 bytes.
    EXPECT_EQ(hex_encode(pbkdf2_sha256("passwd", "salt", 1)),
              "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
}

}  // namespace
}  // namespace postern::auth::crypto
