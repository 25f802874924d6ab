// SPDX-License-Identifier: MIT
// Runs every tests/data/dkim/*.test fixture (made by dkimpy: make_fixtures.py) through
// dkim_verifier and verify_dkim, feeding each message whole, byte by byte and in random chunks.
#include "dkim_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace postern::mailauth {
namespace {

namespace fs = std::filesystem;

struct expectation {
    std::string result, domain, selector, reason;
    bool testing = false;
};

struct fixture {
    std::string name;
    std::string eml;
    std::string dns;
    std::int64_t now = 0;
    std::vector<expectation> expected;
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

expectation parse_expect(std::string line) {
    expectation e;
    if (const auto r = line.find(" reason: "); r != std::string::npos) {
        e.reason = line.substr(r + 9);
        line.resize(r);
    }
    std::istringstream words(line);
    std::string w;
    words >> e.result;
    while (words >> w) {
        if (w.starts_with("d=")) e.domain = w.substr(2);
        else if (w.starts_with("s=")) e.selector = w.substr(2);
        else if (w == "testing") e.testing = true;
        else throw std::runtime_error("bad expect word: " + w);
    }
    return e;
}

fixture load(const fs::path& test_file) {
    fixture f;
    f.name = test_file.stem().string();
    std::istringstream lines(read_file(test_file));
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() == '#') continue;
        if (line.starts_with("dns ")) f.dns += line + "\n";
        else if (line.starts_with("message ")) f.eml = read_file(test_file.parent_path() / line.substr(8));
        else if (line.starts_with("now ")) f.now = std::stoll(line.substr(4));
        else if (line.starts_with("expect ")) f.expected.push_back(parse_expect(line.substr(7)));
        else throw std::runtime_error(f.name + ": bad line: " + line);
    }
    return f;
}

std::vector<std::string> fixture_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fs::path(POSTERN_TEST_DATA) / "dkim"))
        if (entry.path().extension() == ".test") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

class dkim_fixture : public ::testing::TestWithParam<std::string> {};

TEST_P(dkim_fixture, verifies_as_expected_whatever_the_chunking) {
    const fixture f = load(fs::path(POSTERN_TEST_DATA) / "dkim" / (GetParam() + ".test"));
    ASSERT_FALSE(f.eml.empty()) << "no message";
    for (auto how : {test::feeding::whole, test::feeding::byte_by_byte, test::feeding::random_chunks}) {
        SCOPED_TRACE(static_cast<int>(how));
        const auto outcomes = test::run_verify(test::feed_message(f.eml, how), f.dns, f.now);
        ASSERT_EQ(outcomes.size(), f.expected.size());
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            const auto& o = outcomes[i];
            const auto& e = f.expected[i];
            SCOPED_TRACE("signature " + std::to_string(i) + ": " + o.reason);
            EXPECT_EQ(to_string(o.result), e.result);
            EXPECT_EQ(o.domain, e.domain);
            EXPECT_EQ(o.selector, e.selector);
            EXPECT_EQ(o.testing, e.testing);
            EXPECT_NE(o.reason.find(e.reason), std::string::npos) << "want a reason with: " << e.reason;
            EXPECT_EQ(o.b_prefix.size(), 8u);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(data, dkim_fixture, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) {
                             std::string n = info.param;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

TEST(dkim_fixture_set, is_not_empty) { EXPECT_GE(fixture_names().size(), 30u); }

}  // namespace
}  // namespace postern::mailauth
