// SPDX-License-Identifier: MIT
#include "auth/passwd_table.hpp"

#include <gtest/gtest.h>

namespace postern::auth {
namespace {

TEST(passwd_table, line_fields) {
    auto l = parse_passwd_line("alice:{PLAIN}x:1000:1000::/home/alice::userdb_quota_rule=*:storage=1G nologin=y");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->user(), "alice");
    EXPECT_EQ(l->password(), "{PLAIN}x");
    EXPECT_EQ(l->fields[5], "/home/alice");
    EXPECT_EQ(l->extra(), "userdb_quota_rule=*:storage=1G nologin=y");  // later ':' kept
    EXPECT_EQ(format_passwd_line(*l), "alice:{PLAIN}x:1000:1000::/home/alice::userdb_quota_rule=*:storage=1G nologin=y");
}

TEST(passwd_table, short_lines_and_comments) {
    EXPECT_FALSE(parse_passwd_line(""));
    EXPECT_FALSE(parse_passwd_line("# alice:x"));
    EXPECT_FALSE(parse_passwd_line("   "));
    EXPECT_FALSE(parse_passwd_line("no-colon"));
    auto l = parse_passwd_line("bob:secret");
    ASSERT_TRUE(l);
    EXPECT_EQ(format_passwd_line(*l), "bob:secret");
    passwd_line n;
    n.fields[0] = "c";
    n.fields[1] = "p";
    n.fields[7] = "k=v";
    EXPECT_EQ(format_passwd_line(n), "c:p::::::k=v");
}

TEST(passwd_table, extra_fields) {
    EXPECT_EQ(find_extra_field("a=1 b=2", "b"), "2");
    EXPECT_FALSE(find_extra_field("a=1 bb=2", "b"));
    EXPECT_EQ(set_extra_field("a=1 b=2 c=3", "b", "9"), "a=1 c=3 b=9");
    EXPECT_EQ(set_extra_field("b=2", "b", std::nullopt), "");
    EXPECT_EQ(set_extra_field("", "b", "1"), "b=1");
}

TEST(passwd_table, user_names) {
    EXPECT_TRUE(valid_user_name("a@b.example"));
    EXPECT_TRUE(valid_user_name("J\xc3\xb6rg@b.example"));
    EXPECT_FALSE(valid_user_name(""));
    EXPECT_FALSE(valid_user_name("a:b"));
    EXPECT_FALSE(valid_user_name("a\nb"));
    EXPECT_FALSE(valid_user_name(std::string("a\0b", 3)));
    EXPECT_FALSE(valid_user_name("a\x7f"));
    EXPECT_FALSE(valid_user_name("#a"));
    EXPECT_FALSE(valid_user_name(std::string(max_user_name + 1, 'a')));
}

TEST(passwd_table, file_with_warnings_and_features) {
    auto t = parse_passwd_file(
        "# users\r\n"
        "alice:{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$6njwGcQGhU8miDLO6VfKqA$Y3/0expJ7rMTDXnD2Itwn6fl5VzAnw87qaP9aYXvOww\n"
        "\n"
        "bob:{MD4}abc\n"
        "alice:{PLAIN}second\n"
        "carol:{ARGON2ID}x::::::postern_scram_sha256=bad\n"
        "dave:\n");
    EXPECT_EQ(t.users.size(), 4u);
    EXPECT_EQ(t.users.at("alice").password.kind, scheme::argon2);
    EXPECT_FALSE(t.features.cram_md5);
    EXPECT_FALSE(t.features.scram_sha256);
    ASSERT_EQ(t.warnings.size(), 4u);
    EXPECT_EQ(t.warnings[0].line, 4u);
    EXPECT_EQ(t.warnings[0].problem, "unknown scheme");
    EXPECT_EQ(t.warnings[0].detail, "MD4");
    EXPECT_EQ(t.warnings[1].problem, "duplicate user");
    EXPECT_EQ(t.warnings[2].problem, "bad scram secret");
    EXPECT_EQ(t.warnings[3].problem, "empty password");
}

TEST(passwd_table, plaintext_enables_cram_and_scram) {
    auto t = parse_passwd_file("u:{PLAIN}pw\n");
    EXPECT_TRUE(t.features.cram_md5);
    EXPECT_TRUE(t.features.scram_sha256);
    auto c = parse_passwd_file("u:{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740\n");
    EXPECT_TRUE(c.features.cram_md5);
    EXPECT_FALSE(c.features.scram_sha256);
}

}  // namespace
}  // namespace postern::auth
