// SPDX-License-Identifier: MIT
// The TLSA parser: records found past other types, and every truncation or lie about a length
// refused without reading out of bounds (run under ASan in CI).
#include "dns/wire.hpp"
#include "fake_dns_server.hpp"

#include <gtest/gtest.h>

namespace postern::dns {
namespace {

using namespace postern::dns::testing;

// A response to a TLSA question for `name`, as a server would send it.
bytes response(const std::string& name, const std::vector<rr>& answers) {
    bytes q{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    auto n = encode_name(name);
    q.insert(q.end(), n.begin(), n.end());
    put16(q, 52);
    put16(q, 1);
    return make_response(q, q.size(), {0, answers, false});
}

TEST(parse_tlsa_answer, reads_records_and_skips_other_types) {
    const auto msg = response("_25._tcp.mx.test", {cname_rr("other.test"), tlsa_rr(3, 1, 1, {1, 2, 3}), tlsa_rr(2, 0, 0, {})});
    std::vector<tlsa_record> out;
    ASSERT_EQ(parse_tlsa_answer(msg, out), status::ok);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], (tlsa_record{3, 1, 1, {1, 2, 3}}));
    EXPECT_EQ(out[1], (tlsa_record{2, 0, 0, {}}));
}

TEST(parse_tlsa_answer, no_tlsa_is_no_records) {
    std::vector<tlsa_record> out;
    EXPECT_EQ(parse_tlsa_answer(response("x.test", {}), out), status::no_records);
    EXPECT_EQ(parse_tlsa_answer(response("x.test", {cname_rr("y.test")}), out), status::no_records);
    EXPECT_TRUE(out.empty());
}

TEST(parse_tlsa_answer, every_truncation_is_an_error) {
    const auto msg = response("_25._tcp.mx.test", {tlsa_rr(3, 1, 1, bytes(32, 0xab))});
    for (std::size_t n = 0; n < msg.size(); ++n) {
        std::vector<tlsa_record> out;
        const bytes cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(parse_tlsa_answer(cut, out), status::error) << n;
        EXPECT_TRUE(out.empty());
    }
}

TEST(parse_tlsa_answer, short_rdata_and_bad_labels_are_errors) {
    std::vector<tlsa_record> out;
    EXPECT_EQ(parse_tlsa_answer(response("a.test", {rr{52, {3, 1}}}), out), status::error);
    auto msg = response("a.test", {tlsa_rr(3, 1, 1, {9})});
    msg[12] = 0x80;  // the question name starts with a reserved label type
    EXPECT_EQ(parse_tlsa_answer(msg, out), status::error);
    auto lie = response("a.test", {tlsa_rr(3, 1, 1, {9})});
    lie[7] = 5;  // ANCOUNT says 5, one is there
    EXPECT_EQ(parse_tlsa_answer(lie, out), status::error);
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace postern::dns
