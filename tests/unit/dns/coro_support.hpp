// SPDX-License-Identifier: MIT
#pragma once
// Runs one awaitable to its end on a test's io_context and hands back its value (or rethrows).
#include "fake_dns_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <stdexcept>

namespace postern::dns::testing {

template <class T>
T run_awaitable(asio::io_context& io, asio::awaitable<T> op, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) value = std::move(v);
        done = true;
    });
    if (!run_until(io, [&] { return done; }, limit)) throw std::runtime_error("the awaitable did not finish");
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

}  // namespace postern::dns::testing
