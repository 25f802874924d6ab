// SPDX-License-Identifier: MIT
// Client-side SASL: the RFC examples, a round trip against our own server mechanisms, and the
// choice of mechanism.
#include "auth/crypto.hpp"
#include "auth/passwd_store.hpp"
#include "auth/password_scheme.hpp"
#include "auth/sasl.hpp"
#include "auth/sasl_client.hpp"
#include "auth_test_support.hpp"

#include <gtest/gtest.h>

namespace postern::auth {
namespace {

TEST(sasl_client, cram_md5_rfc2195_example) {
    auto c = make_cram_md5_client("tim", "tanstaaftanstaaf");
    EXPECT_FALSE(c->initial_response());
    EXPECT_EQ(c->respond("<1896.697170952@postoffice.reston.mci.net>"), "tim b913a602c7eda7a495b4e6e7334d3890");
}

TEST(sasl_client, scram_sha256_rfc7677_example) {
    auto c = make_scram_sha256_client("user", "pencil", [](std::size_t n) {
        auto raw = crypto::base64_decode("rOprNGfwEbeRWgbNEkqO");
        EXPECT_EQ(raw->size(), n);
        return *raw;
    });
    EXPECT_EQ(c->initial_response(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(c->respond("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
              "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_FALSE(c->complete());  // not before the server's signature
    EXPECT_EQ(c->respond("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), "");
    EXPECT_TRUE(c->complete());
}

TEST(sasl_client, scram_refuses_a_server_that_does_not_know_the_secret) {
    auto c = make_scram_sha256_client("user", "pencil");
    const std::string first = *c->initial_response();
    const std::string nonce = first.substr(first.find(",r=") + 3);
    ASSERT_TRUE(c->respond("r=" + nonce + "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    EXPECT_FALSE(c->respond("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));  // a forged signature: cancel
    auto d = make_scram_sha256_client("user", "pencil");
    (void)d->initial_response();
    EXPECT_FALSE(d->respond("r=someone-elses-nonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    auto e = make_scram_sha256_client("user", "pencil");
    const std::string f = *e->initial_response();
    EXPECT_FALSE(e->respond("r=" + f.substr(f.find(",r=") + 3) + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999"));  // too costly
}

TEST(sasl_client, round_trip_with_our_server_mechanisms) {
    testing::temp_dir dir;
    auto salt = *crypto::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    testing::write_file(dir.path() / "passwd", "user:{SCRAM-SHA-256}" + format_scram_secret(derive_scram_sha256("pencil", salt, 4096)) +
                                                   "\ntim:{PLAIN}tanstaaftanstaaf\n");
    auto store = passwd_file::open(dir.path() / "passwd");
    ASSERT_TRUE(store);
    struct pair {
        std::unique_ptr<proto::sasl_client> client;
        std::string server_name;
    };
    std::vector<pair> cases;
    cases.push_back({make_scram_sha256_client("user", "pencil"), "SCRAM-SHA-256"});
    cases.push_back({make_cram_md5_client("tim", "tanstaaftanstaaf"), "CRAM-MD5"});
    for (auto& [client, mech] : cases) {
        auto server = make_mechanism(mech, **store, {});
        ASSERT_TRUE(server) << mech;
        auto step = server->start(client->initial_response());
        while (step.status == sasl_status::challenge) {
            auto answer = client->respond(step.challenge);
            ASSERT_TRUE(answer) << mech;
            step = server->step(*answer);
        }
        EXPECT_EQ(step.status, sasl_status::success) << mech;
    }
}

TEST(sasl_client, choice_of_mechanism) {
    auto choose = choose_client_mechanism("u", "p");
    std::string why;
    EXPECT_EQ(choose({"LOGIN", "PLAIN", "CRAM-MD5"}, true, why)->name(), "PLAIN");
    EXPECT_EQ(choose({"LOGIN", "SCRAM-SHA-256"}, true, why)->name(), "LOGIN");
    EXPECT_EQ(choose({"PLAIN", "SCRAM-SHA-256"}, false, why)->name(), "SCRAM-SHA-256");  // never the password in clear
    EXPECT_EQ(choose({"PLAIN", "LOGIN"}, false, why), nullptr);
    EXPECT_NE(why.find("clear text"), std::string::npos);
    EXPECT_EQ(choose_client_mechanism("u", "p", "CRAM-MD5")({"PLAIN", "CRAM-MD5"}, true, why)->name(), "CRAM-MD5");
    EXPECT_EQ(choose_client_mechanism("u", "p", "CRAM-MD5")({"PLAIN"}, true, why), nullptr);
    EXPECT_EQ(choose_client_mechanism("u", "p", "PLAIN")({"PLAIN"}, false, why), nullptr);  // forced, still not in clear
    EXPECT_NE(why.find("clear text"), std::string::npos);
}

}  // namespace
}  // namespace postern::auth
