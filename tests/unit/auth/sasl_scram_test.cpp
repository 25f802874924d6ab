// SPDX-License-Identifier: MIT
#include "auth/crypto.hpp"
#include "auth/password_scheme.hpp"
#include "auth/sasl.hpp"
#include "auth/user_db.hpp"
#include "auth_test_support.hpp"

#include <gtest/gtest.h>

#include <map>

namespace postern::auth {
namespace {

using namespace std::string_literals;

// RFC 7677 §3: the example exchange, with its nonces.
constexpr std::string_view client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

// One user, "user" with password "pencil", as a SCRAM secret only.
class scram_store final : public credential_store {
public:
    bool empty() const override { return false; }
    bool exists(std::string_view u) const override { return u == "user"; }
    verify_result verify_password(std::string_view, std::string_view) const override { return verify_result::bad; }
    std::optional<scram_secret> scram_sha256(std::string_view u) const override {
        if (u != "user") return std::nullopt;
        return derive_scram_sha256("pencil", *crypto::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
    }
    std::optional<std::string> cram_md5_secret(std::string_view) const override { return std::nullopt; }
    store_features features() const override { return {.cram_md5 = false, .scram_sha256 = true, .accept_any = false}; }
};

class scram_test : public ::testing::Test {
protected:
    std::unique_ptr<sasl_mechanism> make() {
        sasl_options o;
        o.random = [](std::size_t n) {
            EXPECT_EQ(n, scram_server_nonce_length);
            return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"s;
        };
        return make_mechanism("SCRAM-SHA-256", store_, o);
    }
    // Runs the client-first step and checks the server-first message.
    std::unique_ptr<sasl_mechanism> after_first(std::string_view first = client_first) {
        auto m = make();
        auto s = m->start(first);
        EXPECT_EQ(s.status, sasl_status::challenge);
        return m;
    }
    scram_store store_;
};

TEST_F(scram_test, rfc7677_example) {
    auto m = make();
    auto s = m->start(client_first);
    ASSERT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, server_first);
    s = m->step(client_final);
    ASSERT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, server_final);
    s = m->step("");
    EXPECT_EQ(s.status, sasl_status::success);
    EXPECT_EQ(s.user, "user");
}

TEST_F(scram_test, without_initial_response) {
    auto m = make();
    auto s = m->start(std::nullopt);
    EXPECT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, "");
    EXPECT_EQ(m->step(client_first).challenge, server_first);
}

TEST_F(scram_test, wrong_proof_fails) {
    auto m = after_first();
    auto bad = std::string(client_final);
    bad[bad.size() - 3] = 'W';
    auto s = m->step(bad);
    EXPECT_EQ(s.status, sasl_status::failure);
    EXPECT_EQ(s.user, "user");
}

TEST_F(scram_test, unknown_user_fails_at_the_proof) {
    auto m = make();
    auto s = m->start("n,,n=nobody,r=abc");
    ASSERT_EQ(s.status, sasl_status::challenge);
    auto again = make()->start("n,,n=nobody,r=abc");
    EXPECT_EQ(s.challenge, again.challenge);  // the same made-up salt each time
    auto nonce = s.challenge.substr(2, s.challenge.find(',') - 2);
    auto f = m->step("c=biws,r=" + nonce + ",p=" + crypto::base64_encode(std::string(32, 'x')));
    EXPECT_EQ(f.status, sasl_status::failure);
    EXPECT_EQ(f.user, "nobody");
}

TEST_F(scram_test, gs2_header) {
    EXPECT_EQ(make()->start("p=tls-unique,,n=user,r=abc").status, sasl_status::failure);  // channel binding
    EXPECT_EQ(make()->start("y,,n=user,r=abc").status, sasl_status::challenge);
    EXPECT_EQ(make()->start("n,a=user,n=user,r=abc").status, sasl_status::challenge);
    EXPECT_EQ(make()->start("n,a=other,n=user,r=abc").status, sasl_status::failure);  // no proxy auth
    EXPECT_EQ(make()->start("n,,m=ext,n=user,r=abc").status, sasl_status::failure);
    for (auto bad : {"x,,n=user,r=abc", "n,b=1,n=user,r=abc", "n,,r=abc", "n,,n=user", "n,,n=,r=abc",
                     "n,,n=us=er,r=abc", "n,,n=user,r=", "n,,n=user,r=a b", "n"})
        EXPECT_EQ(make()->start(bad).status, sasl_status::malformed) << bad;
}

TEST_F(scram_test, saslname_escapes) {
    auto s = make()->start("n,,n=us=2Cer=3D,r=abc");
    EXPECT_EQ(s.status, sasl_status::challenge);  // "us,er=" is unknown but well-formed
}

TEST_F(scram_test, client_final_checks) {
    const std::string nonce = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const std::string proof = ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    EXPECT_EQ(after_first()->step("c=eSws," + nonce + proof).status, sasl_status::failure);   // "y,," binding
    EXPECT_EQ(after_first()->step("c=biws,r=other" + proof).status, sasl_status::failure);    // nonce
    EXPECT_EQ(after_first()->step("c=biws," + nonce + ",p=AAAA").status, sasl_status::failure);  // short proof
    EXPECT_EQ(after_first()->step("c=biws," + nonce).status, sasl_status::malformed);         // no proof
    EXPECT_EQ(after_first()->step("c=biws," + nonce + ",p=!!!").status, sasl_status::malformed);
    EXPECT_EQ(after_first()->step(nonce + ",c=biws" + proof).status, sasl_status::malformed);  // order
}

TEST_F(scram_test, final_response_must_be_empty) {
    auto m = after_first();
    ASSERT_EQ(m->step(client_final).status, sasl_status::challenge);
    EXPECT_EQ(m->step("x").status, sasl_status::malformed);
    EXPECT_EQ(m->step("").status, sasl_status::malformed);  // done: nothing more
}

// A SCRAM-SHA-256 client (RFC 5802 §3), run against `store` to the end.
sasl_status client_login(const credential_store& store, const std::string& user, const std::string& password) {
    auto m = make_mechanism("SCRAM-SHA-256", store, {});
    const std::string first_bare = "n=" + user + ",r=clientnonce";
    auto s = m->start("n,," + first_bare);
    if (s.status != sasl_status::challenge) return s.status;
    const std::string server_first = s.challenge;
    auto nonce = server_first.substr(2, server_first.find(',') - 2);
    auto salt_at = server_first.find(",s=") + 3, iter_at = server_first.find(",i=");
    auto salt = *crypto::base64_decode(server_first.substr(salt_at, iter_at - salt_at));
    auto iterations = static_cast<unsigned>(std::stoul(server_first.substr(iter_at + 3)));
    const std::string without_proof = "c=biws,r=" + nonce;
    const std::string auth_message = first_bare + "," + server_first + "," + without_proof;
    auto salted = crypto::pbkdf2_sha256(password, salt, iterations);
    auto client_key = crypto::hmac_sha256(salted, "Client Key");
    auto signature = crypto::hmac_sha256(crypto::sha256(client_key), auth_message);
    for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] = static_cast<char>(client_key[i] ^ signature[i]);
    s = m->step(without_proof + ",p=" + crypto::base64_encode(client_key));
    if (s.status != sasl_status::challenge) return s.status;
    auto expected = crypto::hmac_sha256(crypto::hmac_sha256(salted, "Server Key"), auth_message);
    EXPECT_EQ(s.challenge, "v=" + crypto::base64_encode(expected));
    return m->step("").status;
}

TEST(scram_stores, plaintext_and_users_file) {
    testing::temp_dir d;
    testing::write_file(d.path() / "passwd", "tim:{PLAIN}tanstaaftanstaaf\n");
    auto file = passwd_file::open(d.path() / "passwd");
    ASSERT_TRUE(file);
    EXPECT_EQ(client_login(**file, "tim", "tanstaaftanstaaf"), sasl_status::success);
    EXPECT_EQ(client_login(**file, "tim", "tanstaaf"), sasl_status::failure);
    auto db = user_db::open(d.path(), {minimum_hash_limits(), 4096});
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->add("a@b.example", "s3cret"));
    EXPECT_EQ(client_login(**db, "a@b.example", "s3cret"), sasl_status::success);
    EXPECT_EQ(client_login(**db, "a@b.example", "s3cre"), sasl_status::failure);
    EXPECT_EQ(client_login(**db, "nobody", "s3cret"), sasl_status::failure);
}

TEST(scram_nonce, random_bytes_become_printable) {
    scram_store store;
    sasl_options o;
    o.random = [](std::size_t n) { return std::string(n, ','); };
    auto s = make_mechanism("SCRAM-SHA-256", store, o)->start("n,,n=user,r=abc");
    auto nonce = s.challenge.substr(2, s.challenge.find(",s=") - 2);
    EXPECT_EQ(nonce.size(), 3 + scram_server_nonce_length);
    EXPECT_EQ(nonce.find(',', 0), std::string::npos);
}

}  // namespace
}  // namespace postern::auth
