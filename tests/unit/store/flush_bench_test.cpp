// SPDX-License-Identifier: MIT
// A measurement, not a test (DISABLED_, so it never runs in CI): how long does making a batch of
// 1 KiB messages durable take with one syncfs(2) against an fdatasync(2) per file?
//   unit_store --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_flush*'
// "raw" times the syscalls alone (data flush, then link into new/ and one fsync of new/);
// "store" times the whole group commit: N commits handed over at once until the last `done`.
#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "store/maildir_store.hpp"
#include "store_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>

namespace postern::store {
namespace {

using namespace postern::store::testing;
namespace fs = std::filesystem;
using bench_clock = std::chrono::steady_clock;

constexpr int rounds = 30;
const std::string kib = pattern(1024, 7);

struct summary {
    double median_ms, p90_ms;
};

summary summarize(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[ms.size() * 9 / 10]};
}

// One round of the raw syscalls for `n` files; returns milliseconds from the first flush to the
// directory fsync.
double raw_round(const fs::path& dir, int root_fd, flush_mode mode, int n, int round) {
    std::vector<unique_fd> fds;
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
        names.push_back(fmt::format("{}-{}", round, i));
        fds.emplace_back(::open((dir / "tmp" / names.back()).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        EXPECT_EQ(::write(fds.back().get(), kib.data(), kib.size()), static_cast<ssize_t>(kib.size()));
    }
    auto start = bench_clock::now();
    if (mode == flush_mode::syncfs) EXPECT_EQ(::syncfs(root_fd), 0);
    else
        for (auto& fd : fds) EXPECT_EQ(::fdatasync(fd.get()), 0);
    for (const auto& name : names) {
        EXPECT_EQ(::link((dir / "tmp" / name).c_str(), (dir / "new" / name).c_str()), 0);
        ::unlink((dir / "tmp" / name).c_str());
    }
    unique_fd new_dir{::open((dir / "new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    EXPECT_EQ(::fsync(new_dir.get()), 0);
    return std::chrono::duration<double, std::milli>(bench_clock::now() - start).count();
}

summary measure_raw(flush_mode mode, int n) {
    temp_dir dir;
    for (const char* sub : {"tmp", "new"}) fs::create_directory(dir.path() / sub);
    unique_fd root{::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) ms.push_back(raw_round(dir.path(), root.get(), mode, n, r));
    return summarize(ms);
}

// N writers begun and written first, then all committed at once: one group commit of N.
summary measure_store(flush_mode mode, int n) {
    temp_dir dir;
    store_config cfg;
    cfg.root = dir.path();
    cfg.flush = mode;
    auto store = std::move(*maildir_store::open(cfg));
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) {
        std::vector<std::unique_ptr<message_writer>> writers;
        for (int i = 0; i < n; ++i) {
            writers.push_back(std::move(*store->begin({"a@b.example"})));
            EXPECT_TRUE(writers.back()->write(kib).has_value());
        }
        std::mutex mu;
        std::condition_variable cv;
        int left = n;
        auto start = bench_clock::now();
        for (auto& w : writers)
            store->commit(std::move(w), [&](result<std::string> id) {
                EXPECT_TRUE(id.has_value());
                std::lock_guard lock(mu);
                if (--left == 0) cv.notify_one();
            });
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return left == 0; });
        ms.push_back(std::chrono::duration<double, std::milli>(bench_clock::now() - start).count());
    }
    return summarize(ms);
}

TEST(store_bench, DISABLED_flush_syncfs_vs_fdatasync) {
    log::set_level(log::level::warn);
    std::cout << "kind   mode    batch  median_ms  p90_ms  median_per_msg_ms\n";
    for (const char* kind : {"raw", "store"}) {
        for (int n : {1, 20, 100}) {
            for (auto mode : {flush_mode::syncfs, flush_mode::fsync}) {
                auto s = std::string_view(kind) == "raw" ? measure_raw(mode, n) : measure_store(mode, n);
                std::cout << fmt::format("{:6} {:7} {:5} {:10.2f} {:7.2f} {:10.3f}\n", kind,
                                         mode == flush_mode::syncfs ? "syncfs" : "fsync", n, s.median_ms, s.p90_ms,
                                         s.median_ms / n);
            }
        }
    }
}

}  // namespace
}  // namespace postern::store
