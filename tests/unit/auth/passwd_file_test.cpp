// SPDX-License-Identifier: MIT
#include "auth/credentials.hpp"
#include "auth/passwd_store.hpp"
#include "auth/user_db.hpp"
#include "auth_test_support.hpp"

#include <gtest/gtest.h>

namespace postern::auth {
namespace {

using testing::temp_dir;
using testing::write_file;

TEST(passwd_file, missing_file_is_an_error) {
    temp_dir d;
    EXPECT_FALSE(passwd_file::open(d.path() / "nope"));
}

TEST(passwd_file, schemes) {
    temp_dir d;
    write_file(d.path() / "passwd",
               "crypt:{SHA512-CRYPT}$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1:1000:1000::/home/c::\n"
               "blf:{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2\n"
               "bare:$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1\n"
               "plain:{PLAIN}password\n"
               "cram:{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740\n"
               "odd:{MD4}whatever\n");
    auto f = passwd_file::open(d.path() / "passwd");
    ASSERT_TRUE(f);
    const auto& s = **f;
    for (auto u : {"crypt", "blf", "bare"}) {
        EXPECT_EQ(s.verify_password(u, "correct horse"), verify_result::ok) << u;
        EXPECT_EQ(s.verify_password(u, "password"), verify_result::bad) << u;
        EXPECT_FALSE(s.cram_md5_secret(u)) << u;
        EXPECT_FALSE(s.scram_sha256(u)) << u;
    }
    EXPECT_EQ(s.verify_password("plain", "password"), verify_result::ok);
    EXPECT_EQ(s.verify_password("cram", "password"), verify_result::ok);
    EXPECT_EQ(s.cram_md5_secret("plain"), s.cram_md5_secret("cram"));
    EXPECT_TRUE(s.scram_sha256("plain"));
    EXPECT_EQ(s.verify_password("odd", "whatever"), verify_result::bad);
    EXPECT_EQ(s.verify_password("nobody", "x"), verify_result::unknown_user);
    EXPECT_TRUE(s.features().cram_md5);
    EXPECT_TRUE(s.features().scram_sha256);
}

TEST(passwd_file, reloads_and_survives_removal) {
    temp_dir d;
    write_file(d.path() / "passwd", "a:{PLAIN}1\n");
    auto f = passwd_file::open(d.path() / "passwd");
    ASSERT_TRUE(f);
    write_file(d.path() / "passwd", "a:{PLAIN}22\nb:{PLAIN}3\n");
    EXPECT_EQ((*f)->verify_password("a", "22"), verify_result::ok);
    EXPECT_TRUE((*f)->exists("b"));
    std::filesystem::remove(d.path() / "passwd");
    EXPECT_EQ((*f)->verify_password("a", "22"), verify_result::ok);  // the last good table is kept
}

TEST(store_chain, first_store_that_knows_the_user) {
    temp_dir d;
    write_file(d.path() / "passwd", "a:{PLAIN}file\nb:{PLAIN}file\n");
    std::shared_ptr<passwd_file> file = std::move(*passwd_file::open(d.path() / "passwd"));
    std::shared_ptr<user_db> users = std::move(*user_db::open(d.path(), {minimum_hash_limits(), 4096}));
    ASSERT_TRUE(users->add("a", "db"));
    store_chain chain({users, file});
    EXPECT_EQ(chain.verify_password("a", "db"), verify_result::ok);
    EXPECT_EQ(chain.verify_password("a", "file"), verify_result::bad);
    EXPECT_EQ(chain.verify_password("b", "file"), verify_result::ok);
    EXPECT_EQ(chain.verify_password("c", "x"), verify_result::unknown_user);
    EXPECT_FALSE(chain.cram_md5_secret("a"));
    EXPECT_TRUE(chain.cram_md5_secret("b"));
    EXPECT_TRUE(chain.features().cram_md5);
    EXPECT_FALSE(chain.empty());
}

TEST(accept_any_store, everything_goes) {
    accept_any_store s;
    EXPECT_FALSE(s.empty());
    EXPECT_TRUE(s.exists("anyone"));
    EXPECT_EQ(s.verify_password("anyone", "anything"), verify_result::ok);
    EXPECT_TRUE(s.features().accept_any);
}

}  // namespace
}  // namespace postern::auth
