// SPDX-License-Identifier: MIT
#include "store/maildir_store.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace postern::store {
namespace {

struct name_case {
    std::string recipient;
    std::string folder;
};

class safe_folder_name_table : public ::testing::TestWithParam<name_case> {};

TEST_P(safe_folder_name_table, maps_recipient_to_folder) {
    EXPECT_EQ(safe_folder_name(GetParam().recipient), GetParam().folder);
}

INSTANTIATE_TEST_SUITE_P(
    cases, safe_folder_name_table,
    ::testing::Values(
        name_case{"user@example.com", "user@example.com"},
        name_case{"User.Name+tag@Example.COM", "User.Name+tag@example.com"},  // local part kept, domain lowered
        name_case{"<a@b.example>", "a@b.example"},                            // a forward path's brackets
        name_case{"../x@y", "..%2Fx@y"},                                      // '/' never survives
        name_case{"../../etc/passwd", "..%2F..%2Fetc%2Fpasswd"},
        name_case{".", "%2E"}, name_case{"..", "%2E%2E"}, name_case{"", "%"},
        name_case{"a%2Fb@x", "a%252Fb@x"},                                    // '%' itself is encoded
        name_case{"\"a b\"@x.example", "%22a%20b%22@x.example"},
        name_case{"\"a@b\"@X.example", "%22a@b%22@x.example"},                // the last '@' splits
        name_case{"a\\b:c@x", "a%5Cb%3Ac@x"},
        name_case{"Postmaster", "postmaster"},                                // RFC 5321 §4.5.1
        name_case{"POSTMASTER@Example.org", "postmaster@example.org"},
        name_case{"j\xc3\xb6rg@b\xc3\xbc" "cher.example", "j%C3%B6rg@b%C3%BCcher.example"},
        name_case{"a\r\n@x", "a%0D%0A@x"}, name_case{std::string("a\0b@x", 5), "a%00b@x"}));

TEST(safe_folder_name, never_contains_a_separator_or_a_dot_name) {
    for (int c = 0; c < 256; ++c) {
        for (const std::string& r : {std::string(1, static_cast<char>(c)), std::string(2, static_cast<char>(c)),
                                     std::string(1, static_cast<char>(c)) + "@x"}) {
            auto n = safe_folder_name(r);
            EXPECT_EQ(n.find('/'), std::string::npos) << c;
            EXPECT_EQ(n.find('\0'), std::string::npos) << c;
            EXPECT_NE(n, ".");
            EXPECT_NE(n, "..");
            EXPECT_FALSE(n.empty());
        }
    }
}

TEST(safe_folder_name, distinct_recipients_get_distinct_folders) {
    std::set<std::string> names;
    for (int c = 0; c < 256; ++c) names.insert(safe_folder_name("a" + std::string(1, static_cast<char>(c)) + "@x"));
    EXPECT_EQ(names.size(), 256u);  // the local part's case is kept and the encoding is one-to-one
}

TEST(safe_folder_name, long_names_are_cut_to_one_path_component) {
    std::string local(64, '/');
    std::string domain(200, 'd');
    auto n = safe_folder_name(local + "@" + domain);
    EXPECT_LE(n.size(), 255u);
    EXPECT_NE(n, safe_folder_name(local + "@" + domain + "e"));
}

}  // namespace
}  // namespace postern::store
