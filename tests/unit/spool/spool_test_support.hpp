// SPDX-License-Identifier: MIT
#pragma once
// Helpers shared by the spool tests: envelopes, deterministic content, commit-and-wait.
#include "spool/queue_store.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace postern::spool::testing {

using test_support::list_dir;
using test_support::pattern;
using test_support::read_file;
using test_support::temp_dir;

inline queued_message envelope_for(std::vector<std::string> recipients, std::string reverse_path = "s@origin.example") {
    queued_message m;
    m.reverse_path = std::move(reverse_path);
    for (auto& r : recipients) {
        queued_recipient q;
        q.address = std::move(r);
        m.recipients.push_back(std::move(q));
    }
    return m;
}

// Commits and blocks until `done` has run. The callback owns the promise, so the promise outlives
// set_value() even when the waiting thread returns at once.
inline result<std::string> commit_and_wait(queue_store& store, std::unique_ptr<queue_writer> msg) {
    auto p = std::make_shared<std::promise<result<std::string>>>();
    auto f = p->get_future();
    store.commit(std::move(msg), [p](result<std::string> r) { p->set_value(std::move(r)); });
    return f.get();
}

inline void write_in_pieces(queue_writer& w, const std::string& data, std::size_t piece) {
    for (std::size_t off = 0; off < data.size(); off += piece) {
        auto n = std::min(piece, data.size() - off);
        ASSERT_TRUE(w.write(std::span<const char>(data.data() + off, n)).has_value());
    }
}

// Begins, writes `data` in pieces, commits and waits: the id, or the first error.
inline result<std::string> enqueue(queue_store& store, queued_message env, const std::string& data,
                                   std::size_t piece = 1000) {
    auto w = store.begin(std::move(env));
    if (!w) return fail(w.error());
    // A write error sticks: commit() then reports it (and removes what was written).
    for (std::size_t off = 0; off < data.size(); off += piece)
        if (!(*w)->write(std::span<const char>(data.data() + off, std::min(piece, data.size() - off)))) break;
    return commit_and_wait(store, std::move(*w));
}

// Reads a whole file descriptor from its current offset.
inline std::string read_fd(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace postern::spool::testing
