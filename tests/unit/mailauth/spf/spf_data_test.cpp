// SPDX-License-Identifier: MIT
// Runs every check of tests/data/spf/*.txt: the file's "dns" lines go into a static_resolver
// (a fresh one per check), and each "check" line runs check_mail_from(), check_helo() or
// check_host() on an io_context and compares the outcome. A check line is key=value words
//   check ip=192.0.2.7 sender=x@a.example helo=h.example expect=pass
// with optional mech= (the deciding term), exp= (the explanation), lookups= (dns_lookups),
// why= (a substring of the reason), identity=helo|host (host: check_host with domain=),
// receiver=, now=. "sender=" with nothing is the null reverse-path. Values may be quoted.
#include "dns/static_resolver.hpp"
#include "mailauth/spf_check.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace postern::mailauth {
namespace {

namespace fs = std::filesystem;

struct spf_case {
    std::string file;
    int line = 0;
    std::string zone;  // every dns line of the file
    std::map<std::string, std::string> keys;
    std::string comment;  // the "#" lines just above, quoting the RFC
};

// key=value words; a value may be "quoted" (with \" inside).
std::map<std::string, std::string> parse_keys(std::string_view line) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        const auto eq = line.find('=', i);
        if (i >= line.size() || eq == std::string_view::npos) break;
        std::string key(line.substr(i, eq - i)), value;
        i = eq + 1;
        if (i < line.size() && line[i] == '"') {
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\' && i + 1 < line.size()) ++i;
                value += line[i];
            }
            ++i;
        } else {
            const auto end = std::min(line.find(' ', i), line.size());
            value = std::string(line.substr(i, end - i));
            i = end;
        }
        out[key] = value;
    }
    return out;
}

std::vector<spf_case> load_cases() {
    std::vector<spf_case> cases;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(POSTERN_TEST_DATA) / "spf"))
        if (e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f);
        std::string line, zone, comment;
        std::vector<spf_case> file_cases;
        for (int n = 1; std::getline(in, line); ++n) {
            if (line.starts_with("dns")) {
                zone += line + "\n";
            } else if (line.starts_with("check ")) {
                file_cases.push_back({f.stem().string(), n, "", parse_keys(std::string_view(line).substr(6)), comment});
            } else if (line.starts_with("#")) {
                comment += line + "\n";
                continue;
            }
            if (!line.starts_with("#")) comment.clear();
        }
        for (auto& c : file_cases) c.zone = zone;
        cases.insert(cases.end(), file_cases.begin(), file_cases.end());
    }
    return cases;
}

const std::vector<spf_case>& all_cases() {
    static const auto cases = load_cases();
    return cases;
}

std::optional<spf_result> result_named(std::string_view s) {
    for (auto r : {spf_result::none, spf_result::neutral, spf_result::pass, spf_result::fail, spf_result::softfail,
                   spf_result::temperror, spf_result::permerror})
        if (to_string(r) == s) return r;
    return std::nullopt;
}

std::string get(const std::map<std::string, std::string>& k, const std::string& key, std::string fallback = "") {
    auto it = k.find(key);
    return it == k.end() ? fallback : it->second;
}

asio::awaitable<spf_outcome> run_case(dns::resolver& r, std::map<std::string, std::string> k) {
    const auto ip = asio::ip::make_address(get(k, "ip"));
    const auto receiver = get(k, "receiver", "unknown");
    const std::int64_t now = std::stoll(get(k, "now", "0"));
    const auto identity = get(k, "identity", "mailfrom");
    if (identity == "helo") co_return co_await check_helo(r, ip, get(k, "helo"), receiver, now);
    if (identity == "host") {
        spf_request req;
        req.ip = ip;
        req.domain = get(k, "domain");
        req.sender = get(k, "sender");
        req.helo = get(k, "helo");
        req.receiver = receiver;
        req.now = now;
        co_return co_await check_host(r, std::move(req));
    }
    co_return co_await check_mail_from(r, ip, get(k, "helo"), get(k, "sender"), receiver, now);
}

class spf_data : public ::testing::TestWithParam<std::size_t> {};

TEST_P(spf_data, check) {
    const auto& c = all_cases().at(GetParam());
    SCOPED_TRACE(c.file + ".txt:" + std::to_string(c.line) + "\n" + c.comment);
    asio::io_context io;
    dns::static_resolver r(io.get_executor());
    auto loaded = r.load(c.zone);
    ASSERT_TRUE(loaded) << loaded.error();
    const auto expect = result_named(get(c.keys, "expect"));
    ASSERT_TRUE(expect) << "expect= missing or unknown";
    std::optional<spf_outcome> got;
    std::exception_ptr error;
    asio::co_spawn(io, run_case(r, c.keys), [&](std::exception_ptr e, spf_outcome o) {
        error = e;
        got = std::move(o);
    });
    io.run();
    ASSERT_FALSE(error) << "the check threw";
    ASSERT_TRUE(got);
    EXPECT_EQ(to_string(got->result), to_string(*expect)) << "reason: " << got->reason << "; mechanism: " << got->mechanism;
    const auto has = [&](const char* key) { return c.keys.count(key) > 0; };
    if (has("mech")) {
        EXPECT_EQ(got->mechanism, get(c.keys, "mech"));
    }
    if (has("exp")) {
        EXPECT_EQ(got->explanation, get(c.keys, "exp"));
    }
    if (has("lookups")) {
        EXPECT_EQ(std::to_string(got->dns_lookups), get(c.keys, "lookups"));
    }
    if (has("why")) {
        EXPECT_NE(got->reason.find(get(c.keys, "why")), std::string::npos) << got->reason;
    }
    if (has("domain") && get(c.keys, "identity") != "host") {
        EXPECT_EQ(got->domain, get(c.keys, "domain"));
    }
    if (has("sender_is")) {
        EXPECT_EQ(got->sender, get(c.keys, "sender_is"));
    }
    EXPECT_FALSE(got->reason.empty());
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
    const auto& c = all_cases().at(info.param);
    std::string n = c.file + "_line" + std::to_string(c.line);
    std::replace_if(n.begin(), n.end(), [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
    return n;
}

INSTANTIATE_TEST_SUITE_P(rfc7208, spf_data, ::testing::Range<std::size_t>(0, all_cases().size()), case_name);

TEST(spf_data_files, there_are_enough_checks) { EXPECT_GE(all_cases().size(), 100u); }

}  // namespace
}  // namespace postern::mailauth
