// SPDX-License-Identifier: MIT
#pragma once
// Helpers shared by the store tests: a temporary directory, file reading, and commit-and-wait.
#include "store/maildir_store.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace postern::store::testing {

using test_support::temp_dir;
using test_support::list_dir;
using test_support::pattern;
using test_support::read_file;

// A `done` callback and the future it fulfils. The callback owns the promise, so the promise
// outlives set_value() even when the waiting thread returns at once.
inline std::pair<commit_callback, std::future<result<std::string>>> make_waiter() {
    auto p = std::make_shared<std::promise<result<std::string>>>();
    auto f = p->get_future();
    return {[p](result<std::string> r) { p->set_value(std::move(r)); }, std::move(f)};
}

// Commits and blocks until `done` has run.
inline result<std::string> commit_and_wait(maildir_store& store, std::unique_ptr<message_writer> msg) {
    auto [done, f] = make_waiter();
    store.commit(std::move(msg), std::move(done));
    return f.get();
}

// Compares two byte strings, reporting sizes and the first difference instead of the contents.
inline ::testing::AssertionResult same_bytes(const std::string& actual, const std::string& expected) {
    if (actual == expected) return ::testing::AssertionSuccess();
    auto [a, e] = std::mismatch(actual.begin(), actual.end(), expected.begin(), expected.end());
    return ::testing::AssertionFailure() << "got " << actual.size() << " octets, expected " << expected.size()
                                         << ", first difference at offset " << (a - actual.begin());
}

inline void write_in_pieces(message_writer& w, const std::string& data, std::size_t piece) {
    for (std::size_t off = 0; off < data.size(); off += piece) {
        auto n = std::min(piece, data.size() - off);
        ASSERT_TRUE(w.write(std::span<const char>(data.data() + off, n)).has_value());
    }
}

}  // namespace postern::store::testing
