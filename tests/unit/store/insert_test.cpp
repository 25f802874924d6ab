// SPDX-License-Identifier: MIT
// message_writer::insert (header fields written once the data is in) and maildir_store::quarantine.
#include "store/maildir_store.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace postern::store {
namespace {

using namespace postern::store::testing;
namespace fs = std::filesystem;

store_config config_for(const temp_dir& dir, std::size_t buffer = 64 * 1024) {
    store_config cfg;
    cfg.root = dir.path();
    cfg.hostname = "mx.example";
    cfg.write_buffer = buffer;
    return cfg;
}

std::span<const char> bytes_of(const std::string& s) { return {s.data(), s.size()}; }

// The message's bytes with `extra` inserted at `at`, for message sizes below, at and far above the
// write buffer (the last ones take the rewrite path), inserted at the start, inside and at the end.
class insert_at : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(insert_at, reads_back_with_the_bytes_in_place) {
    auto [size, where] = GetParam();
    temp_dir dir;
    auto store = maildir_store::open(config_for(dir, 4096));
    ASSERT_TRUE(store);
    auto w = (*store)->begin({"a@b.example"});
    ASSERT_TRUE(w);
    const std::string body = pattern(size, static_cast<std::uint32_t>(size));
    for (std::size_t i = 0; i < body.size(); i += 1000)
        ASSERT_TRUE((*w)->write(bytes_of(body.substr(i, 1000))));
    const std::size_t at = std::min(where, size);
    const std::string extra = "Authentication-Results: mx.example; spf=pass\r\n";
    ASSERT_TRUE((*w)->insert(at, bytes_of(extra)));
    EXPECT_EQ((*w)->size(), size + extra.size());
    auto paths = (*w)->final_paths();
    ASSERT_TRUE(commit_and_wait(**store, std::move(*w)));
    std::string expect = body;
    expect.insert(at, extra);
    EXPECT_EQ(read_file(paths.front()), expect);
    EXPECT_TRUE(list_dir(dir.path() / "mail" / "inbox" / "tmp").empty());
}

INSTANTIATE_TEST_SUITE_P(sizes, insert_at,
                         ::testing::Combine(::testing::Values(0u, 100u, 4095u, 4096u, 5000u, 300000u),
                                            ::testing::Values(0u, 40u, 4100u, 1000000u)));

// Past the buffer an insert waits for the committer: writes and overwrites after it would
// address a file that does not look like the message yet, so they are refused.
TEST(message_writer_insert, past_the_buffer_nothing_may_follow_it) {
    temp_dir dir;
    auto store = maildir_store::open(config_for(dir, 1024));
    auto w = (*store)->begin({"a@b.example"});
    const std::string body = pattern(5000, 9);
    ASSERT_TRUE((*w)->write(bytes_of(body)));
    ASSERT_TRUE((*w)->insert(10, bytes_of("Inserted: 1\r\n")));
    ASSERT_TRUE((*w)->insert(0, bytes_of("Inserted: 2\r\n")));
    EXPECT_FALSE((*w)->write(bytes_of("more")));
    EXPECT_FALSE((*w)->overwrite(0, bytes_of("X")));
    auto paths = (*w)->final_paths();
    ASSERT_TRUE(commit_and_wait(**store, std::move(*w)));
    std::string expect = body;
    expect.insert(10, "Inserted: 1\r\n");
    expect.insert(0, "Inserted: 2\r\n");
    EXPECT_EQ(read_file(paths.front()), expect);
}

TEST(message_writer_insert, past_the_end_is_refused) {
    temp_dir dir;
    auto store = maildir_store::open(config_for(dir));
    auto w = (*store)->begin({"a@b.example"});
    ASSERT_TRUE((*w)->write(bytes_of("abc")));
    EXPECT_FALSE((*w)->insert(4, bytes_of("x")));
    EXPECT_TRUE((*w)->insert(3, bytes_of("x")));
}

// Renaming a field in place, wherever the range lies: in the file, in the buffer, or across both.
TEST(message_writer_overwrite, in_the_file_in_the_buffer_and_across) {
    temp_dir dir;
    auto store = maildir_store::open(config_for(dir, 4096));
    auto w = (*store)->begin({"a@b.example"});
    std::string body = pattern(10000, 3);  // 8000 octets in the file after two flushes, 2000 buffered
    for (std::size_t i = 0; i < body.size(); i += 1000) ASSERT_TRUE((*w)->write(bytes_of(body.substr(i, 1000))));
    for (std::uint64_t at : {10u, 7998u, 9000u}) {  // in the file, across, in the buffer
        ASSERT_TRUE((*w)->overwrite(at, bytes_of("XYZW")));
        body.replace(at, 4, "XYZW");
    }
    EXPECT_FALSE((*w)->overwrite(9998, bytes_of("XYZ")));  // past the end
    auto paths = (*w)->final_paths();
    ASSERT_TRUE(commit_and_wait(**store, std::move(*w)));
    EXPECT_EQ(read_file(paths.front()), body);
}

TEST(maildir_store_quarantine, message_lands_in_the_quarantine_folder_only) {
    temp_dir dir;
    auto cfg = config_for(dir, 1024);
    cfg.folders = layout::per_recipient;
    auto store = maildir_store::open(cfg);
    auto w = (*store)->begin({"a@b.example", "c@d.example"});
    const std::string body = pattern(5000, 7);  // past the buffer: the tmp/ file exists already
    ASSERT_TRUE((*w)->write(bytes_of(body)));
    ASSERT_TRUE((*store)->quarantine(**w));
    auto paths = (*w)->final_paths();
    ASSERT_EQ(paths.size(), 1u);
    EXPECT_EQ(paths.front().parent_path().parent_path(), dir.path() / "mail" / "quarantine");
    ASSERT_TRUE(commit_and_wait(**store, std::move(*w)));
    EXPECT_EQ(read_file(paths.front()), body);
    EXPECT_TRUE(list_dir(dir.path() / "mail" / "a@b.example" / "new").empty());
    EXPECT_TRUE(list_dir(dir.path() / "mail" / "a@b.example" / "tmp").empty());
}

TEST(maildir_store_quarantine, rewrite_leftovers_are_removed_at_open) {
    temp_dir dir;
    auto cfg = config_for(dir);
    maildir_store::open(cfg)->reset();
    std::ofstream(dir.path() / "mail" / "inbox" / "tmp" / "1700000000.M1P2Q3.mx.example,rewrite") << "partial";
    auto store = maildir_store::open(cfg);
    EXPECT_TRUE(list_dir(dir.path() / "mail" / "inbox" / "tmp").empty());
}

}  // namespace
}  // namespace postern::store
