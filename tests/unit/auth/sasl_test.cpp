// SPDX-License-Identifier: MIT
#include "auth/crypto.hpp"
#include "auth/passwd_store.hpp"
#include "auth/password_scheme.hpp"
#include "auth/sasl.hpp"
#include "auth_test_support.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace postern::auth {
namespace {

using namespace std::literals;
using testing::temp_dir;

// A store over a passwd-file holding the RFC examples' users.
class sasl_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto salt = *crypto::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
        testing::write_file(dir_.path() / "passwd",
                            "user:{SCRAM-SHA-256}" + format_scram_secret(derive_scram_sha256("pencil", salt, 4096)) + "\n"
                            "tim:{PLAIN}tanstaaftanstaaf\n"
                            "alice:{SHA512-CRYPT}$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1\n");
        auto f = passwd_file::open(dir_.path() / "passwd");
        ASSERT_TRUE(f);
        store_ = std::move(*f);
    }

    // Random bytes come from this queue, in order (each call takes the next string).
    sasl_options options() {
        sasl_options o;
        o.hostname = "postoffice.reston.mci.net";
        o.random = [this](std::size_t n) {
            if (randoms_.empty()) return std::string(n, 'R');
            auto r = randoms_.front();
            randoms_.pop_front();
            EXPECT_EQ(r.size(), n);
            return r;
        };
        o.time = &clock_;
        return o;
    }
    std::unique_ptr<sasl_mechanism> make(std::string_view name) { return make_mechanism(name, *store_, options()); }

    temp_dir dir_;
    std::unique_ptr<passwd_file> store_;
    std::deque<std::string> randoms_;
    fixed_clock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(697170952))};
};

TEST_F(sasl_test, advertised) {
    EXPECT_EQ(advertised_mechanisms(*store_), (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}));
    EXPECT_EQ(advertised_mechanisms(accept_any_store{}), (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
    EXPECT_TRUE(make("plain"));
    EXPECT_TRUE(make("Scram-Sha-256"));
    EXPECT_FALSE(make("DIGEST-MD5"));
    EXPECT_FALSE(make("SCRAM-SHA-1"));
    EXPECT_FALSE(make_mechanism("SCRAM-SHA-256", accept_any_store{}, {}));
}

TEST_F(sasl_test, plain_with_initial_response) {
    auto m = make("PLAIN");
    auto s = m->start("\0alice\0correct horse"s);
    EXPECT_EQ(s.status, sasl_status::success);
    EXPECT_EQ(s.user, "alice");
}

TEST_F(sasl_test, plain_after_empty_challenge) {
    auto m = make("PLAIN");
    auto s = m->start(std::nullopt);
    EXPECT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, "");
    EXPECT_EQ(m->step("alice\0alice\0correct horse"s).status, sasl_status::success);
}

TEST_F(sasl_test, plain_failures) {
    auto bad = make("PLAIN")->start("\0alice\0wrong"s);
    EXPECT_EQ(bad.status, sasl_status::failure);
    EXPECT_EQ(bad.user, "alice");
    EXPECT_EQ(make("PLAIN")->start("\0nobody\0x"s).status, sasl_status::failure);
    auto proxy = make("PLAIN")->start("tim\0alice\0correct horse"s);  // acting as someone else
    EXPECT_EQ(proxy.status, sasl_status::failure);
    EXPECT_EQ(proxy.user, "alice");
    for (auto msg : {"alice correct horse"s, "\0alice"s, "\0alice\0"s, "\0\0pw"s, "\0alice\0pw\0"s, ""s})
        EXPECT_EQ(make("PLAIN")->start(msg).status, sasl_status::malformed) << msg.size();
}

TEST_F(sasl_test, login) {
    auto m = make("LOGIN");
    auto s = m->start(std::nullopt);
    EXPECT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, "Username:");
    s = m->step("alice");
    EXPECT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, "Password:");
    s = m->step("correct horse");
    EXPECT_EQ(s.status, sasl_status::success);
    EXPECT_EQ(s.user, "alice");
}

TEST_F(sasl_test, login_failures) {
    auto m = make("LOGIN");
    EXPECT_EQ(m->start("alice").challenge, "Password:");  // user name as initial response
    auto s = m->step("nope");
    EXPECT_EQ(s.status, sasl_status::failure);
    EXPECT_EQ(s.user, "alice");
    EXPECT_EQ(make("LOGIN")->start(""sv).status, sasl_status::malformed);
    auto e = make("LOGIN");
    (void)e->start("alice");
    EXPECT_EQ(e->step("").status, sasl_status::malformed);
}

// RFC 2195 §2, the example: the challenge is rebuilt from the injected random and clock.
TEST_F(sasl_test, cram_md5_rfc2195_example) {
    randoms_.push_back("\0\0\0\0\0\0\x07\x68"s);  // 1896
    auto m = make("CRAM-MD5");
    auto s = m->start(std::nullopt);
    ASSERT_EQ(s.status, sasl_status::challenge);
    EXPECT_EQ(s.challenge, "<1896.697170952@postoffice.reston.mci.net>");
    s = m->step("tim b913a602c7eda7a495b4e6e7334d3890");
    EXPECT_EQ(s.status, sasl_status::success);
    EXPECT_EQ(s.user, "tim");
}

TEST_F(sasl_test, cram_md5_failures) {
    auto wrong = make("CRAM-MD5");
    (void)wrong->start(std::nullopt);
    auto s = wrong->step("tim b913a602c7eda7a495b4e6e7334d3890");  // digest of another challenge
    EXPECT_EQ(s.status, sasl_status::failure);
    EXPECT_EQ(s.user, "tim");
    auto hashed = make("CRAM-MD5");  // alice's secret is a one-way hash: CRAM-MD5 cannot work
    (void)hashed->start(std::nullopt);
    EXPECT_EQ(hashed->step("alice 00000000000000000000000000000000").status, sasl_status::failure);
    auto unknown = make("CRAM-MD5");
    (void)unknown->start(std::nullopt);
    EXPECT_EQ(unknown->step("nobody 00000000000000000000000000000000").status, sasl_status::failure);
    EXPECT_EQ(make("CRAM-MD5")->start("tim"sv).status, sasl_status::malformed);
    for (auto r : {"tim", "tim b913", " b913a602c7eda7a495b4e6e7334d3890", "tim zz13a602c7eda7a495b4e6e7334d3890"}) {
        auto m = make("CRAM-MD5");
        (void)m->start(std::nullopt);
        EXPECT_EQ(m->step(r).status, sasl_status::malformed) << r;
    }
}

TEST_F(sasl_test, accept_any) {
    accept_any_store any;
    EXPECT_EQ(make_mechanism("PLAIN", any, {})->start("\0who\0ever"s).status, sasl_status::success);
    EXPECT_EQ(make_mechanism("PLAIN", any, {})->start("\0who"s).status, sasl_status::malformed);
    auto login = make_mechanism("LOGIN", any, {});
    (void)login->start(std::nullopt);
    (void)login->step("x");
    EXPECT_EQ(login->step("y").status, sasl_status::success);
    auto cram = make_mechanism("CRAM-MD5", any, {});
    (void)cram->start(std::nullopt);
    auto s = cram->step("x 0123456789abcdef0123456789abcdef");
    EXPECT_EQ(s.status, sasl_status::success);
    EXPECT_EQ(s.user, "x");
}

// A store whose check itself fails (out of memory, crypt error): 454, not 535.
class broken_store final : public credential_store {
public:
    bool empty() const override { return false; }
    bool exists(std::string_view) const override { return true; }
    verify_result verify_password(std::string_view, std::string_view) const override { return verify_result::error; }
    std::optional<scram_secret> scram_sha256(std::string_view) const override { return std::nullopt; }
    std::optional<std::string> cram_md5_secret(std::string_view) const override { return std::nullopt; }
    store_features features() const override { return {}; }
};

TEST_F(sasl_test, store_error_is_temporary) {
    broken_store broken;
    EXPECT_EQ(make_mechanism("PLAIN", broken, {})->start("\0tim\0x"s).status, sasl_status::temporary_failure);
    auto login = make_mechanism("LOGIN", broken, {});
    (void)login->start(std::nullopt);
    (void)login->step("tim");
    EXPECT_EQ(login->step("x").status, sasl_status::temporary_failure);
}

TEST_F(sasl_test, accept_any_until_the_first_user) {
    temp_dir dir;
    testing::write_file(dir.path() / "passwd", "");
    auto users = passwd_file::open(dir.path() / "passwd");
    ASSERT_TRUE(users);
    accept_any_until_users store(std::shared_ptr<const credential_store>(std::move(*users)));
    EXPECT_EQ(make_mechanism("PLAIN", store, {})->start("\0who\0ever"s).status, sasl_status::success);
    EXPECT_TRUE(store.features().accept_any);
    // The file changes under the running server: from now on only tim gets in.
    testing::write_file(dir.path() / "passwd", "tim:{PLAIN}tanstaaftanstaaf\n");
    EXPECT_EQ(make_mechanism("PLAIN", store, {})->start("\0who\0ever"s).status, sasl_status::failure);
    EXPECT_EQ(make_mechanism("PLAIN", store, {})->start("\0tim\0tanstaaftanstaaf"s).status, sasl_status::success);
    EXPECT_FALSE(store.features().accept_any);
}

}  // namespace
}  // namespace postern::auth
