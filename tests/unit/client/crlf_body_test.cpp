// SPDX-License-Identifier: MIT
#include "client/smtp_client.hpp"

#include <gtest/gtest.h>

namespace postern::client {
namespace {

std::string drain(body_source& b, std::size_t chunk) {
    std::string out;
    std::vector<char> buf(chunk);
    for (;;) {
        auto n = b.read(std::span<char>(buf.data(), buf.size()));
        EXPECT_TRUE(n);
        if (!n || *n == 0) return out;
        out.append(buf.data(), *n);
    }
}

TEST(crlf_body, bare_lf_becomes_crlf_whatever_the_chunk_size) {
    const std::string in = "a\nb\r\nc\n\n.d\r\n\ne";
    for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) {
        crlf_body b(std::make_unique<memory_body>(in));
        EXPECT_EQ(drain(b, chunk), "a\r\nb\r\nc\r\n\r\n.d\r\n\r\ne") << chunk;
    }
}

}  // namespace
}  // namespace postern::client
