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
using test_support::read_file;

// The names in a directory, sorted; empty if it does not exist.
inline std::vector<std::string> list_dir(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

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

// Deterministic content of `n` octets for a seed (every byte value occurs, CR and LF included).
inline std::string pattern(std::size_t n, std::uint32_t seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x & 0xff);
    }
    return s;
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
