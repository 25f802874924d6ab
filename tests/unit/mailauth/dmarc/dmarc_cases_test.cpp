// SPDX-License-Identifier: MIT
// Runs every tests/data/dmarc/*.dmarc file: its "dns" lines feed a static_resolver, and each
// "check" line runs check_dmarc() and compares the outcome (the format is in README.txt there).
#include "dns/static_resolver.hpp"
#include "mailauth/dmarc_check.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace postern::mailauth {
namespace {

namespace fs = std::filesystem;

struct check_line {
    int line = 0;
    std::map<std::string, std::string> fields;
    std::string get(const std::string& key, std::string fallback = "") const {
        auto it = fields.find(key);
        return it == fields.end() ? fallback : it->second;
    }
};

struct case_file {
    std::string dns_table;
    std::vector<check_line> checks;
};

case_file read_case_file(const fs::path& path) {
    std::ifstream in(path);
    case_file f;
    std::string text;
    for (int n = 1; std::getline(in, text); ++n) {
        std::istringstream words(text);
        std::string first;
        words >> first;
        if (first == "dns") {
            f.dns_table += text + "\n";
        } else if (first == "check") {
            check_line c{n, {}};
            for (std::string w; words >> w;) {
                const auto eq = w.find('=');
                if (eq == std::string::npos) throw std::runtime_error(path.string() + ":" + std::to_string(n) + ": bad field " + w);
                c.fields[w.substr(0, eq)] = w.substr(eq + 1);
            }
            f.checks.push_back(std::move(c));
        } else if (!first.empty() && first[0] != '#') {
            throw std::runtime_error(path.string() + ":" + std::to_string(n) + ": unknown line");
        }
    }
    return f;
}

spf_result spf_named(const std::string& s) {
    for (auto r : {spf_result::none, spf_result::neutral, spf_result::pass, spf_result::fail, spf_result::softfail,
                   spf_result::temperror, spf_result::permerror})
        if (to_string(r) == s) return r;
    throw std::runtime_error("bad spf result " + s);
}

dkim_result dkim_named(const std::string& s) {
    for (auto r : {dkim_result::none, dkim_result::pass, dkim_result::fail, dkim_result::policy, dkim_result::neutral,
                   dkim_result::temperror, dkim_result::permerror})
        if (to_string(r) == s) return r;
    throw std::runtime_error("bad dkim result " + s);
}

dmarc_request request_of(const check_line& c) {
    dmarc_request req;
    req.from_domain = c.get("from") == "-" ? "" : c.get("from");
    if (const std::string spf = c.get("spf"); !spf.empty()) {
        const auto colon = spf.find(':');
        req.spf.result = spf_named(spf.substr(0, colon));
        if (colon != std::string::npos) req.spf.domain = spf.substr(colon + 1);
    }
    std::istringstream list(c.get("dkim"));
    for (std::string item; std::getline(list, item, ',');) {
        const auto colon = item.find(':');
        dkim_outcome d;
        d.result = dkim_named(item.substr(0, colon));
        d.domain = item.substr(colon + 1);
        req.dkim.push_back(d);
    }
    req.pct_roll = static_cast<unsigned>(std::stoul(c.get("pct_roll", "0")));
    return req;
}

dmarc_outcome run_check(dns::resolver& r, asio::io_context& io, dmarc_request req) {
    std::optional<dmarc_outcome> out;
    asio::co_spawn(io, check_dmarc(r, std::move(req)), [&](std::exception_ptr e, dmarc_outcome o) {
        if (e) std::rethrow_exception(e);
        out = std::move(o);
    });
    io.restart();
    io.run();
    if (!out) throw std::runtime_error("check_dmarc did not finish");
    return *out;
}

std::vector<std::string> case_files() {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(fs::path(POSTERN_TEST_DATA) / "dmarc"))
        if (e.path().extension() == ".dmarc") files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
    return files;
}

class dmarc_cases : public ::testing::TestWithParam<std::string> {};

TEST_P(dmarc_cases, outcome_matches) {
    const fs::path path = fs::path(POSTERN_TEST_DATA) / "dmarc" / GetParam();
    const case_file f = read_case_file(path);
    ASSERT_FALSE(f.checks.empty()) << path;
    asio::io_context io;
    dns::static_resolver resolver(io.get_executor());
    const auto loaded = resolver.load(f.dns_table);
    ASSERT_TRUE(loaded) << loaded.error();
    for (const check_line& c : f.checks) {
        SCOPED_TRACE(GetParam() + ":" + std::to_string(c.line));
        const dmarc_outcome o = run_check(resolver, io, request_of(c));
        EXPECT_EQ(to_string(o.result), c.get("expect"));
        EXPECT_EQ(to_string(o.policy), c.get("policy", "none"));
        EXPECT_EQ(o.spf_aligned, c.get("spf_aligned", "no") == "yes");
        EXPECT_EQ(o.dkim_aligned, c.get("dkim_aligned", "no") == "yes");
        EXPECT_EQ(o.sampled_out, c.get("sampled_out", "no") == "yes");
        if (const std::string rec = c.get("record"); !rec.empty()) {
            EXPECT_EQ(o.record_domain, rec == "-" ? "" : rec);
        }
        if (const std::string org = c.get("org"); !org.empty()) {
            EXPECT_EQ(o.organizational_domain, org);
        }
        EXPECT_FALSE(o.reason.empty()) << "every outcome says why";
    }
}

INSTANTIATE_TEST_SUITE_P(data, dmarc_cases, ::testing::ValuesIn(case_files()),
                         [](const auto& info) {
                             std::string name = info.param.substr(0, info.param.find('.'));
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

// The cases above must all have run: a data directory that is missing or empty fails here.
TEST(dmarc_cases_files, present) { EXPECT_GE(case_files().size(), 8u); }

// §6.6.3: at most two TXT queries, _dmarc.<From> then _dmarc.<organizational domain>.
TEST(dmarc_discovery, asks_from_domain_then_organizational_domain_only) {
    asio::io_context io;
    dns::static_resolver resolver(io.get_executor());
    const dmarc_outcome o = run_check(resolver, io, dmarc_request{"a.b.c.example.com", {}, {}, 0});
    EXPECT_EQ(o.result, dmarc_result::none);
    ASSERT_EQ(resolver.queries().size(), 2u);
    EXPECT_EQ(resolver.queries()[0].second, "_dmarc.a.b.c.example.com");
    EXPECT_EQ(resolver.queries()[1].second, "_dmarc.example.com");
    EXPECT_EQ(resolver.queries()[1].first, dns::record_type::txt);
}

TEST(dmarc_discovery, no_second_query_when_from_is_the_organizational_domain) {
    asio::io_context io;
    dns::static_resolver resolver(io.get_executor());
    run_check(resolver, io, dmarc_request{"example.com", {}, {}, 0});
    EXPECT_EQ(resolver.queries().size(), 1u);
}

TEST(dmarc_discovery, no_query_without_from_domain) {
    asio::io_context io;
    dns::static_resolver resolver(io.get_executor());
    const dmarc_outcome o = run_check(resolver, io, dmarc_request{});
    EXPECT_EQ(o.result, dmarc_result::none);
    EXPECT_TRUE(resolver.queries().empty());
}

}  // namespace
}  // namespace postern::mailauth
