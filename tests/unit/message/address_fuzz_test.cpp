// SPDX-License-Identifier: MIT
// Random inputs for the address parser, from a fixed seed so that a failure reproduces: none
// may crash (run under -DPOSTERN_SANITIZE=ON to catch out-of-bounds reads), and whatever is
// accepted must satisfy the invariants checked in check_path() and check_mailbox().
#include "message/address.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

constexpr int iterations = 10000;

std::string escaped(std::string_view s) {
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += ch;
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        }
    }
    return out;
}

// "<" + p.to_string() + ">", built by appending: g++ 12 at -O3 gives a false -Wrestrict
// warning for "<" + std::string (GCC bug 105329).
std::string bracketed(const path& p) {
    std::string s = "<";
    s += p.to_string();
    s += '>';
    return s;
}

// Returns whether `in` was accepted, so that a test can tell its inputs reach the invariants.
bool check_path(const std::string& in, path_kind kind, bool utf8) {
    SCOPED_TRACE(escaped(in));
    auto r = parse_path(in, kind, utf8);
    if (!r) {
        EXPECT_EQ(r.error().category(), address_category());
        return false;
    }
    const std::size_t n = r->consumed;
    if (n < 2 || n > in.size()) {
        ADD_FAILURE() << "consumed " << n << " of " << in.size();
        return true;
    }
    EXPECT_LE(n, 256u);
    EXPECT_EQ(in.front(), '<');
    EXPECT_EQ(in[n - 1], '>');
    EXPECT_TRUE(n == in.size() || in[n] == ' ');
    if (kind == path_kind::forward) {
        EXPECT_FALSE(r->value.null());
    } else {
        EXPECT_FALSE(r->value.postmaster);
    }
    if (const auto& m = r->value.mbox) {
        EXPECT_LE(m->local_part.size(), 64u);
        EXPECT_LE(m->domain.size(), 255u);
        EXPECT_TRUE(utf8 || !m->utf8());
    }
    const std::string canonical = bracketed(r->value);
    auto again = parse_path(canonical, kind, utf8);
    EXPECT_TRUE(again) << escaped(canonical) << ": " << again.error().message();
    if (again) {
        EXPECT_EQ(again->value, r->value);
    }
    return true;
}

void check_mailbox(const std::string& in, bool utf8) {
    SCOPED_TRACE(escaped(in));
    if (auto m = parse_mailbox(in, utf8)) {
        auto again = parse_mailbox(m->to_string(), utf8);
        ASSERT_TRUE(again) << again.error().message();
        EXPECT_EQ(*again, *m);
    }
    if (is_valid_domain(in, utf8) && in.size() < 250) {
        EXPECT_TRUE(parse_mailbox("a@" + in, utf8));
    }
}

int check_all(const std::string& in) {
    int accepted = 0;
    for (bool utf8 : {false, true}) {
        accepted += check_path(in, path_kind::forward, utf8);
        accepted += check_path(in, path_kind::reverse, utf8);
        check_mailbox(in, utf8);
    }
    return accepted;
}

TEST(address_fuzz, random_bytes) {
    std::mt19937 rng(5321);
    std::uniform_int_distribution<int> len(0, 80), byte(0, 255), coin(0, 1);
    for (int it = 0; it < iterations && !HasFailure(); ++it) {
        std::string in(static_cast<std::size_t>(len(rng)), '\0');
        for (char& c : in) c = static_cast<char>(byte(rng));
        if (coin(rng) && !in.empty()) in.front() = '<';
        check_all(in);
    }
}

// Pieces that steer the parser into its rarer branches.
TEST(address_fuzz, grammar_pieces) {
    static const std::array<std::string_view, 32> pieces{
        "<", ">", "@", "\"", "\\", "[", "]", ":", ",", ".", " ", "-", "a", "Z", "9", "IPv6:",
        "::1", "192.0.2.1", "x-tag:", "\xC3\xA9", "\xE4\xB8", "\x80", "\xF4\x90\x80\x80", "\r",
        "\n", std::string_view("\0", 1), "postmaster", "example", ".com", "@a.example", "\t", "!#$",
    };
    std::mt19937 rng(6531);
    std::uniform_int_distribution<std::size_t> count(0, 24), pick(0, pieces.size() - 1);
    for (int it = 0; it < iterations && !HasFailure(); ++it) {
        std::string in = it % 2 ? "<" : "";
        for (std::size_t k = count(rng); k > 0; --k) in += pieces[pick(rng)];
        check_all(in);
    }
}

// Small edits of valid paths: flip, insert, delete and duplicate bytes.
TEST(address_fuzz, mutated_valid_paths) {
    static const std::vector<std::string> seeds{
        "<user@example.com>",
        "<\"john doe\"@example.com>",
        "<\"a\\\"b\"@example.com>",
        "<u@[192.0.2.1]>",
        "<u@[IPv6:2001:db8::1]>",
        "<u@[x-tag:a>b]>",
        "<用户@例子.广告>",
        "<Postmaster>",
        "<@a.example,@b.example:user@c.example>",
        "<> SIZE=10",
        "<a@b> SIZE=10",
    };
    std::mt19937 rng(3848);
    std::uniform_int_distribution<int> byte(0, 255), edits(1, 4), op(0, 3);
    int accepted = 0;
    for (int it = 0; it < iterations && !HasFailure(); ++it) {
        std::string in = seeds[static_cast<std::size_t>(it) % seeds.size()];
        for (int e = edits(rng); e > 0; --e) {
            const std::size_t at = std::uniform_int_distribution<std::size_t>(0, in.size())(rng);
            switch (op(rng)) {
            case 0: if (at < in.size()) in[at] = static_cast<char>(byte(rng)); break;
            case 1: in.insert(at, 1, static_cast<char>(byte(rng))); break;
            case 2: if (at < in.size()) in.erase(at, 1); break;
            default: in.insert(at, in.substr(at, 3)); break;
            }
        }
        accepted += check_all(in);
    }
    EXPECT_GT(accepted, iterations / 10) << "too few mutants parse to reach the invariants";
}

}  // namespace
}  // namespace postern::message
