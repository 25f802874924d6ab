// SPDX-License-Identifier: MIT
#include "auth/errors.hpp"
#include "auth/user_db.hpp"
#include "auth_test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <thread>

namespace postern::auth {
namespace {

using testing::read_file;
using testing::temp_dir;
using testing::write_file;

user_db_options fast() { return {minimum_hash_limits(), scram_default_iterations}; }

std::unique_ptr<user_db> open_db(const std::filesystem::path& dir) {
    auto db = user_db::open(dir, fast());
    EXPECT_TRUE(db);
    return db ? std::move(*db) : nullptr;
}

TEST(user_db, missing_file_is_no_users) {
    temp_dir d;
    auto db = open_db(d.path() / "data");
    EXPECT_TRUE(db->empty());
    EXPECT_FALSE(db->exists("a@b.example"));
    EXPECT_EQ(db->verify_password("a@b.example", "x"), verify_result::unknown_user);
    EXPECT_FALSE(std::filesystem::exists(d.path() / "data"));  // open() creates nothing
    EXPECT_TRUE(db->list()->empty());
}

TEST(user_db, add_then_verify) {
    temp_dir d;
    auto db = open_db(d.path() / "data");
    ASSERT_TRUE(db->add("a@b.example", "s3cret"));
    EXPECT_FALSE(db->empty());
    EXPECT_TRUE(db->exists("a@b.example"));
    EXPECT_EQ(db->verify_password("a@b.example", "s3cret"), verify_result::ok);
    EXPECT_EQ(db->verify_password("a@b.example", "s3cret!"), verify_result::bad);
    EXPECT_FALSE(db->cram_md5_secret("a@b.example"));  // argon2id: no CRAM-MD5
    auto scram = db->scram_sha256("a@b.example");
    ASSERT_TRUE(scram);
    EXPECT_EQ(scram->iterations, 4096u);
    EXPECT_EQ(scram->salt.size(), scram_salt_length);
    EXPECT_EQ(derive_scram_sha256("s3cret", scram->salt, 4096).stored_key, scram->stored_key);
    auto f = db->features();
    EXPECT_FALSE(f.cram_md5);
    EXPECT_TRUE(f.scram_sha256);
}

TEST(user_db, file_format_and_mode) {
    temp_dir d;
    auto db = open_db(d.path());
    ASSERT_TRUE(db->add("a@b.example", "s3cret"));
    const auto text = read_file(d.path() / "users");
    EXPECT_EQ(text.rfind("a@b.example:{ARGON2ID}$argon2id$v=19$", 0), 0u) << text;
    EXPECT_NE(text.find("::::::postern_scram_sha256=4096,"), std::string::npos) << text;
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find("s3cret"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat((d.path() / "users").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(d.path() / "users.tmp"));
}

TEST(user_db, add_errors) {
    temp_dir d;
    auto db = open_db(d.path());
    ASSERT_TRUE(db->add("a@b.example", "x"));
    EXPECT_EQ(db->add("a@b.example", "y").error(), make_error_code(auth_errc::user_exists));
    EXPECT_EQ(db->add("", "y").error(), make_error_code(auth_errc::bad_user_name));
    EXPECT_EQ(db->add("a:b", "y").error(), make_error_code(auth_errc::bad_user_name));
    EXPECT_EQ(db->add("a\r\nb", "y").error(), make_error_code(auth_errc::bad_user_name));
    EXPECT_EQ(db->add("c@b.example", "").error(), make_error_code(auth_errc::empty_password));
    EXPECT_EQ(db->verify_password("a@b.example", "x"), verify_result::ok);  // unchanged
}

TEST(user_db, set_password_keeps_other_fields) {
    temp_dir d;
    write_file(d.path() / "users", "# managed by hand too\nb@b.example:{PLAIN}old:1000:1000::/home/b::nologin=y\n");
    auto db = open_db(d.path());
    EXPECT_EQ(db->verify_password("b@b.example", "old"), verify_result::ok);
    ASSERT_TRUE(db->set_password("b@b.example", "new"));
    EXPECT_EQ(db->verify_password("b@b.example", "old"), verify_result::bad);
    EXPECT_EQ(db->verify_password("b@b.example", "new"), verify_result::ok);
    const auto text = read_file(d.path() / "users");
    EXPECT_EQ(text.rfind("# managed by hand too\nb@b.example:{ARGON2ID}", 0), 0u) << text;
    EXPECT_NE(text.find(":1000:1000::/home/b::nologin=y postern_scram_sha256=4096,"), std::string::npos) << text;
    EXPECT_EQ(db->set_password("x@b.example", "new").error(), make_error_code(auth_errc::no_such_user));
    EXPECT_EQ(db->set_password("b@b.example", "").error(), make_error_code(auth_errc::empty_password));
}

TEST(user_db, remove_and_list) {
    temp_dir d;
    auto db = open_db(d.path());
    ASSERT_TRUE(db->add("one@x.example", "1"));
    ASSERT_TRUE(db->add("two@x.example", "2"));
    ASSERT_TRUE(db->add("three@x.example", "3"));
    EXPECT_EQ(*db->list(), (std::vector<std::string>{"one@x.example", "two@x.example", "three@x.example"}));
    ASSERT_TRUE(db->remove("two@x.example"));
    EXPECT_EQ(*db->list(), (std::vector<std::string>{"one@x.example", "three@x.example"}));
    EXPECT_FALSE(db->exists("two@x.example"));
    EXPECT_EQ(db->remove("two@x.example").error(), make_error_code(auth_errc::no_such_user));
}

// `postern user add` in another process while the server runs: the server's store sees it.
TEST(user_db, reloads_when_the_file_changes) {
    temp_dir d;
    auto server = open_db(d.path());
    auto cli = open_db(d.path());
    EXPECT_TRUE(server->empty());
    ASSERT_TRUE(cli->add("a@b.example", "pw"));
    EXPECT_EQ(server->verify_password("a@b.example", "pw"), verify_result::ok);
    ASSERT_TRUE(cli->set_password("a@b.example", "pw2"));
    EXPECT_EQ(server->verify_password("a@b.example", "pw2"), verify_result::ok);
    ASSERT_TRUE(cli->remove("a@b.example"));
    EXPECT_FALSE(server->exists("a@b.example"));
}

TEST(user_db, concurrent_adds_are_not_lost) {
    temp_dir d;
    auto a = open_db(d.path()), b = open_db(d.path());
    std::thread t1([&] { for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->add("a" + std::to_string(i), "p")); });
    std::thread t2([&] { for (int i = 0; i < 10; ++i) ASSERT_TRUE(b->add("b" + std::to_string(i), "p")); });
    t1.join();
    t2.join();
    EXPECT_EQ(a->list()->size(), 20u);
}

}  // namespace
}  // namespace postern::auth
