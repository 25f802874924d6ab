// SPDX-License-Identifier: MIT
#pragma once
// Test helpers: run verify_dkim() on a static_resolver, and feed a message three ways.
#include "dns/static_resolver.hpp"
#include "mailauth/dkim_verify.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth::test {

enum class feeding { whole, byte_by_byte, random_chunks };

inline dkim_message feed_message(std::string_view eml, feeding how, dkim_verifier_limits limits = {},
                                 unsigned seed = 1) {
    dkim_verifier v(limits);
    switch (how) {
        case feeding::whole: v.feed(eml); break;
        case feeding::byte_by_byte:
            for (std::size_t i = 0; i < eml.size(); ++i) v.feed(eml.substr(i, 1));
            break;
        case feeding::random_chunks: {
            std::mt19937 rng(seed);
            std::uniform_int_distribution<std::size_t> size(0, 97);
            for (std::size_t i = 0; i < eml.size();) {
                const std::size_t n = size(rng);
                v.feed(eml.substr(i, n));
                i += n;
            }
            break;
        }
    }
    return v.finish();
}

// Runs verify_dkim to completion against a table of DNS records (static_resolver::load format).
inline std::vector<dkim_outcome> run_verify(dkim_message m, std::string_view dns_table, std::int64_t now,
                                            dkim_verify_options opts = {}) {
    boost::asio::io_context io;
    dns::static_resolver r(io.get_executor());
    if (auto loaded = r.load(dns_table); !loaded) throw std::runtime_error("dns table: " + loaded.error());
    std::optional<std::vector<dkim_outcome>> out;
    std::exception_ptr error;
    auto task = verify_dkim(r, std::move(m), now, opts);
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, std::vector<dkim_outcome> v) {
        error = e;
        out = std::move(v);
    });
    io.run();
    if (error) std::rethrow_exception(error);
    if (!out) throw std::runtime_error("verify_dkim did not complete");
    return std::move(*out);
}

}  // namespace postern::mailauth::test
