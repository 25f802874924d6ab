// SPDX-License-Identifier: MIT
#include "base/clock.hpp"
#include "base/log.hpp"
#include "store/maildir_store.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

namespace postern::store {
namespace {

using namespace postern::store::testing;
namespace fs = std::filesystem;

// Keeps the output to test results (store.open on every test otherwise); POSTERN_TEST_LOG=1 shows it.
class quiet_log : public ::testing::Environment {
    void SetUp() override {
        if (::getenv("POSTERN_TEST_LOG") == nullptr) log::set_level(log::level::warn);
    }
};
[[maybe_unused]] const auto* const quiet = ::testing::AddGlobalTestEnvironment(new quiet_log);

store_config config_for(const temp_dir& dir, flush_mode mode = flush_mode::syncfs) {
    store_config cfg;
    cfg.root = dir.path();
    cfg.flush = mode;
    cfg.hostname = "mx.example";
    return cfg;
}

std::unique_ptr<maildir_store> open_store(const store_config& cfg) {
    auto s = maildir_store::open(cfg);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
}

std::unique_ptr<message_writer> begin(maildir_store& store, std::vector<std::string> rcpts = {"a@b.example"}) {
    auto w = store.begin(rcpts);
    EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message());
    return w ? std::move(*w) : nullptr;
}

fs::path inbox(const temp_dir& dir) { return dir.path() / "mail" / "inbox"; }

// ---- round trips, in both flush modes ----

class round_trip : public ::testing::TestWithParam<flush_mode> {};

TEST_P(round_trip, small_odd_pieces_read_back_identical) {
    temp_dir dir;
    auto store = open_store(config_for(dir, GetParam()));
    auto w = begin(*store);
    auto data = pattern(200 * 1024, 1);
    write_in_pieces(*w, data, 7);
    EXPECT_EQ(w->size(), data.size());
    auto id = commit_and_wait(*store, std::move(w));
    ASSERT_TRUE(id.has_value()) << id.error().message();
    EXPECT_TRUE(same_bytes(read_file(inbox(dir) / "new" / (*id + ".mx.example")), data));
    EXPECT_TRUE(list_dir(inbox(dir) / "tmp").empty());
}

TEST_P(round_trip, five_mib_in_big_chunks_read_back_identical) {
    temp_dir dir;
    auto store = open_store(config_for(dir, GetParam()));
    auto w = begin(*store);
    auto data = pattern(5 * 1024 * 1024, 2);
    write_in_pieces(*w, data, 1000003);  // larger than the buffer, and not a multiple of it
    auto id = commit_and_wait(*store, std::move(w));
    ASSERT_TRUE(id.has_value()) << id.error().message();
    EXPECT_TRUE(same_bytes(read_file(inbox(dir) / "new" / (*id + ".mx.example")), data));
}

TEST_P(round_trip, every_buffer_size_keeps_bytes_in_order) {
    for (std::size_t buffer : {0u, 1u, 5u, 4096u}) {
        temp_dir dir;
        auto cfg = config_for(dir, GetParam());
        cfg.write_buffer = buffer;
        auto store = open_store(cfg);
        auto w = begin(*store);
        auto data = pattern(10000, 3);
        std::size_t off = 0;
        for (std::size_t piece = 1; off < data.size(); piece = piece * 3 % 997 + 1) {
            auto n = std::min(piece, data.size() - off);
            ASSERT_TRUE(w->write(std::span<const char>(data.data() + off, n)).has_value());
            off += n;
        }
        auto id = commit_and_wait(*store, std::move(w));
        ASSERT_TRUE(id.has_value());
        EXPECT_TRUE(same_bytes(read_file(inbox(dir) / "new" / (*id + ".mx.example")), data)) << "buffer " << buffer;
    }
}

TEST_P(round_trip, empty_message_is_committed) {
    temp_dir dir;
    auto store = open_store(config_for(dir, GetParam()));
    auto id = commit_and_wait(*store, begin(*store));
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(read_file(inbox(dir) / "new" / (*id + ".mx.example")), "");
}

TEST_P(round_trip, eight_threads_commit_concurrently) {
    temp_dir dir;
    auto cfg = config_for(dir, GetParam());
    cfg.max_batch = 16;
    auto store = open_store(cfg);
    constexpr int threads = 8, per_thread = 40;
    std::mutex mu;
    std::vector<std::pair<std::string, std::string>> acked;  // id, content
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto data = pattern(100 + static_cast<std::size_t>(i * 37), static_cast<std::uint32_t>(t * 1000 + i));
                auto w = store->begin({"a@b.example"});
                ASSERT_TRUE(w.has_value());
                write_in_pieces(**w, data, 64);
                auto id = commit_and_wait(*store, std::move(*w));
                ASSERT_TRUE(id.has_value());
                std::lock_guard lock(mu);
                acked.emplace_back(*id, data);
            }
        });
    }
    for (auto& th : pool) th.join();
    ASSERT_EQ(acked.size(), std::size_t{threads * per_thread});
    std::set<std::string> ids;
    for (const auto& [id, data] : acked) {
        ids.insert(id);
        EXPECT_TRUE(same_bytes(read_file(inbox(dir) / "new" / (id + ".mx.example")), data));
    }
    EXPECT_EQ(ids.size(), acked.size());
    EXPECT_EQ(list_dir(inbox(dir) / "new").size(), acked.size());
}

INSTANTIATE_TEST_SUITE_P(flush_modes, round_trip, ::testing::Values(flush_mode::syncfs, flush_mode::fsync),
                         [](const auto& info) { return info.param == flush_mode::syncfs ? "syncfs" : "fsync"; });

// ---- names ----

TEST(maildir_store, id_and_file_name_follow_maildir_spec) {
    temp_dir dir;
    auto cfg = config_for(dir);
    cfg.hostname = "mx/a:b";
    fixed_clock clock{std::chrono::system_clock::time_point{std::chrono::seconds{1700000000} +
                                                            std::chrono::microseconds{123456}}};
    cfg.time = &clock;
    auto store = open_store(cfg);
    auto w1 = begin(*store);
    auto w2 = begin(*store);
    std::regex form{"1700000000\\.M123456P" + std::to_string(::getpid()) + "Q[0-9]+"};
    EXPECT_TRUE(std::regex_match(w1->id(), form)) << w1->id();
    EXPECT_NE(w1->id(), w2->id());  // same clock reading, different delivery counter
    auto expected_name = w1->id() + ".mx\\057a\\072b";
    // Small messages stay in their buffer until commit: nothing is created on the session's thread.
    EXPECT_EQ(list_dir(inbox(dir) / "tmp").size(), 0u);
    auto id = commit_and_wait(*store, std::move(w1));
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(list_dir(inbox(dir) / "new"), std::vector<std::string>{expected_name});
}

// The pid in the name is cached (getpid is a system call per message); a forked child must not
// go on naming files with its parent's pid.
TEST(maildir_store, forked_child_names_files_with_its_own_pid) {
    temp_dir dir;
    auto store = open_store(config_for(dir));
    auto parent_id = begin(*store)->id();  // the parent's pid is cached by now
    EXPECT_NE(parent_id.find("P" + std::to_string(::getpid()) + "Q"), std::string::npos) << parent_id;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto id = begin(*store)->id();
        bool own = id.find("P" + std::to_string(::getpid()) + "Q") != std::string::npos;
        char verdict = own ? 'y' : 'n';
        (void)!::write(fds[1], &verdict, 1);
        ::_exit(0);
    }
    char verdict = 0;
    EXPECT_EQ(::read(fds[0], &verdict, 1), 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_EQ(verdict, 'y');
}

TEST(maildir_store, done_runs_only_once_the_file_is_in_new) {
    temp_dir dir;
    auto store = open_store(config_for(dir));
    auto seen = std::make_shared<std::promise<bool>>();
    auto w = begin(*store);
    auto name = w->id() + ".mx.example";
    store->commit(std::move(w), [seen, folder = inbox(dir), name](result<std::string> r) {
        seen->set_value(r.has_value() && fs::exists(folder / "new" / name) && list_dir(folder / "tmp").empty());
    });
    EXPECT_TRUE(seen->get_future().get());
}

// ---- cleanup ----

TEST(maildir_store, writer_destroyed_without_commit_leaves_nothing) {
    temp_dir dir;
    auto store = open_store(config_for(dir));
    auto w = begin(*store);
    const std::string big(100 * 1024, 'x');  // more than the write buffer: the tmp/ file exists
    ASSERT_TRUE(w->write(std::span<const char>(big.data(), big.size())).has_value());
    EXPECT_EQ(list_dir(inbox(dir) / "tmp").size(), 1u);
    w.reset();
    EXPECT_TRUE(list_dir(inbox(dir) / "tmp").empty());
    EXPECT_TRUE(list_dir(inbox(dir) / "new").empty());
}

TEST(maildir_store, open_removes_own_tmp_leftovers_only) {
    temp_dir dir;
    auto cfg = config_for(dir);
    open_store(cfg).reset();
    auto other = dir.path() / "mail" / "x@y.example";
    for (const auto& sub : {other, other / "tmp", other / "new", other / "cur"}) fs::create_directory(sub);
    std::ofstream(inbox(dir) / "tmp" / "1700000000.M1P2Q3.mx.example") << "partial";
    std::ofstream(inbox(dir) / "tmp" / "1700000001.M1P2Q4.mx.example") << "partial";
    std::ofstream(other / "tmp" / "1700000002.M1P2Q5.mx.example") << "partial";
    std::ofstream(inbox(dir) / "tmp" / "1700000003.M1P2.dovecot-host") << "not ours";
    auto store = open_store(cfg);
    EXPECT_EQ(list_dir(inbox(dir) / "tmp"), std::vector<std::string>{"1700000003.M1P2.dovecot-host"});
    EXPECT_TRUE(list_dir(other / "tmp").empty());
}

TEST(maildir_store, open_creates_the_inbox_maildir) {
    temp_dir dir;
    auto cfg = config_for(dir);
    cfg.root = dir.path() / "a" / "b";
    auto store = open_store(cfg);
    for (const char* sub : {"tmp", "new", "cur"})
        EXPECT_TRUE(fs::is_directory(cfg.root / "mail" / "inbox" / sub)) << sub;
}

TEST(maildir_store, open_fails_when_root_is_a_file) {
    temp_dir dir;
    std::ofstream(dir.path() / "file") << "x";
    auto cfg = config_for(dir);
    cfg.root = dir.path() / "file";
    EXPECT_FALSE(maildir_store::open(cfg).has_value());
}

// ---- per-recipient folders ----

TEST(maildir_store, per_recipient_links_one_inode_into_each_folder_once) {
    temp_dir dir;
    auto cfg = config_for(dir);
    cfg.folders = layout::per_recipient;
    auto store = open_store(cfg);
    auto w = begin(*store, {"a@X.Example", "b@x.example", "a@x.example"});
    write_in_pieces(*w, "Subject: hi\r\n\r\nbody\r\n", 3);
    auto id = commit_and_wait(*store, std::move(w));
    ASSERT_TRUE(id.has_value());
    auto name = *id + ".mx.example";
    auto a = store->folder_for("a@x.example"), b = store->folder_for("b@x.example");
    EXPECT_EQ(a, dir.path() / "mail" / "a@x.example");
    EXPECT_EQ(list_dir(a / "new"), std::vector<std::string>{name});
    EXPECT_EQ(list_dir(b / "new"), std::vector<std::string>{name});
    struct stat sa {}, sb {};
    ASSERT_EQ(::stat((a / "new" / name).c_str(), &sa), 0);
    ASSERT_EQ(::stat((b / "new" / name).c_str(), &sb), 0);
    EXPECT_EQ(sa.st_ino, sb.st_ino);
    EXPECT_EQ(sa.st_nlink, 2u);  // two folders, duplicate recipient delivered once, tmp/ name gone
    EXPECT_TRUE(list_dir(a / "tmp").empty());
    EXPECT_EQ(read_file(b / "new" / name), "Subject: hi\r\n\r\nbody\r\n");
}

TEST(maildir_store, per_recipient_needs_a_recipient) {
    temp_dir dir;
    auto cfg = config_for(dir);
    cfg.folders = layout::per_recipient;
    auto store = open_store(cfg);
    auto w = store->begin({});
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error(), std::errc::invalid_argument);
}

TEST(maildir_store, catch_all_puts_every_recipient_in_the_inbox) {
    temp_dir dir;
    auto store = open_store(config_for(dir));
    EXPECT_EQ(store->folder_for("anyone@else.example"), inbox(dir));
}

// ---- failures ----

TEST(maildir_store, unusable_new_folder_fails_and_leaves_nothing) {
    temp_dir dir;
    auto store = open_store(config_for(dir));
    fs::remove(inbox(dir) / "new");
    std::ofstream(inbox(dir) / "new") << "not a directory";  // root ignores chmod; this stops it
    auto w = begin(*store);
    write_in_pieces(*w, "data", 1);
    auto id = commit_and_wait(*store, std::move(w));
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error(), std::errc::not_a_directory);
    EXPECT_TRUE(list_dir(inbox(dir) / "tmp").empty());
    EXPECT_EQ(read_file(inbox(dir) / "new"), "not a directory");
}

TEST(maildir_store, failure_in_one_folder_withdraws_the_others) {
    temp_dir dir;
    auto cfg = config_for(dir);
    cfg.folders = layout::per_recipient;
    auto store = open_store(cfg);
    auto b = store->folder_for("b@x.example");
    for (const auto& sub : {b, b / "tmp", b / "cur"}) fs::create_directories(sub);
    std::ofstream(b / "new") << "not a directory";
    auto bad = begin(*store, {"a@x.example", "b@x.example"});
    auto good = begin(*store, {"a@x.example"});
    auto [bad_done, bad_result] = make_waiter();
    store->commit(std::move(bad), std::move(bad_done));
    auto good_id = commit_and_wait(*store, std::move(good));
    EXPECT_FALSE(bad_result.get().has_value());
    ASSERT_TRUE(good_id.has_value());  // the other message of the batch still succeeds
    auto a = store->folder_for("a@x.example");
    EXPECT_EQ(list_dir(a / "new"), std::vector<std::string>{*good_id + ".mx.example"});
    EXPECT_TRUE(list_dir(a / "tmp").empty());
}

TEST(maildir_store, commit_after_stop_is_canceled_and_cleaned) {
    temp_dir dir;
    auto store = open_store(config_for(dir));
    auto w = begin(*store);
    store->stop();
    store->stop();  // idempotent
    auto id = commit_and_wait(*store, std::move(w));
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error(), std::errc::operation_canceled);
    EXPECT_TRUE(list_dir(inbox(dir) / "tmp").empty());
}

TEST(maildir_store, stop_drains_pending_commits) {
    temp_dir dir;
    auto cfg = config_for(dir);
    cfg.max_batch = 1;
    auto store = open_store(cfg);
    std::atomic<int> ok{0};
    for (int i = 0; i < 50; ++i)
        store->commit(begin(*store), [&](result<std::string> r) { ok += r.has_value() ? 1 : 0; });
    store->stop();
    EXPECT_EQ(ok.load(), 50);
    EXPECT_EQ(list_dir(inbox(dir) / "new").size(), 50u);
}

}  // namespace
}  // namespace postern::store
