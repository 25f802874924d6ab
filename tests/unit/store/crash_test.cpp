// SPDX-License-Identifier: MIT
// Crash tests: a child process commits messages in a loop and reports each acknowledged id on a
// pipe; the parent kills it with SIGKILL at a random moment, re-opens the store and checks that
// every acknowledged message is in new/ intact, that nothing partial is in new/, and that tmp/ is
// empty. SIGKILL ends the process, not the machine: the page cache survives, so this checks the
// order of operations and recovery, not the flushes themselves (those follow from the syscalls).
#include "store/maildir_store.hpp"
#include "store_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <charconv>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <thread>

namespace postern::store {
namespace {

using namespace postern::store::testing;
namespace fs = std::filesystem;

constexpr const char* host = "crash.example";
const std::vector<std::string> recipients{"a@x.example", "b@x.example"};

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

// "X-Test-Length: <n>\n\n" <n body octets> "\nX-Test-Sum: <fnv of all before>\n", the body derived
// from the id: a file can be checked by itself, and against the id it is named after.
std::string message_for(const std::string& id) {
    auto h = fnv1a(id);
    auto body_len = static_cast<std::size_t>(h % 150000);  // some above the 64 KiB write buffer
    auto text = fmt::format("X-Test-Length: {}\n\n", body_len) + pattern(body_len, static_cast<std::uint32_t>(h));
    return text + fmt::format("\nX-Test-Sum: {:016x}\n", fnv1a(text));
}

bool self_check(const std::string& content) {
    std::size_t len = 0;
    auto head_end = content.find("\n\n");
    if (content.rfind("X-Test-Length: ", 0) != 0 || head_end == std::string::npos) return false;
    std::from_chars(content.data() + 15, content.data() + head_end, len);
    auto text_len = head_end + 2 + len;
    return content.size() == text_len + 30 &&
           content.substr(text_len) == fmt::format("\nX-Test-Sum: {:016x}\n", fnv1a(content.substr(0, text_len)));
}

store_config crash_config(const fs::path& root, int round) {
    store_config cfg;
    cfg.root = root;
    cfg.hostname = host;
    cfg.flush = round % 2 == 0 ? flush_mode::syncfs : flush_mode::fsync;
    cfg.folders = round % 4 < 2 ? layout::catch_all : layout::per_recipient;
    return cfg;
}

// One committing thread of the child: begin, write, commit, wait for `done`, report the id.
void child_committer(maildir_store& store, int out) {
    for (int i = 0; i < 100000; ++i) {
        auto w = store.begin(recipients);
        if (!w) ::_exit(3);
        auto data = message_for((*w)->id());
        for (std::size_t off = 0; off < data.size(); off += 4093)
            if (!(*w)->write(std::span<const char>(data.data() + off, std::min<std::size_t>(4093, data.size() - off))))
                ::_exit(4);
        auto acked = std::make_shared<std::promise<void>>();
        store.commit(std::move(*w), [acked, out](result<std::string> id) {
            if (!id) ::_exit(5);
            auto line = *id + "\n";  // one write(2) under PIPE_BUF: the parent never sees half a line
            if (::write(out, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(6);
            acked->set_value();
        });
        acked->get_future().wait();
    }
}

[[noreturn]] void run_child(const store_config& cfg, int out) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto store = maildir_store::open(cfg);
    if (!store) ::_exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&] { child_committer(**store, out); });
    for (auto& t : threads) t.join();
    ::_exit(0);  // not reached within a round; never return into the test runner
}

// Reads lines from `fd` until `deadline` (or EOF if deadline is null) into `ids`.
void read_ids(int fd, std::string& pending, std::vector<std::string>& ids,
              std::optional<std::chrono::steady_clock::time_point> deadline) {
    char buf[4096];
    for (;;) {
        int timeout = -1;
        if (deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return;
            timeout = static_cast<int>(left.count());
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout) <= 0) continue;
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return;
        pending.append(buf, static_cast<std::size_t>(n));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            ids.push_back(pending.substr(0, nl));
            pending.erase(0, nl + 1);
        }
    }
}

// Runs the child for `delay`, kills it, and returns the ids it acknowledged.
std::vector<std::string> run_and_kill(const store_config& cfg, std::chrono::milliseconds delay) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        run_child(cfg, fds[1]);
    }
    ::close(fds[1]);
    std::string pending;
    std::vector<std::string> ids;
    read_ids(fds[0], pending, ids, std::chrono::steady_clock::now() + delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    read_ids(fds[0], pending, ids, std::nullopt);
    ::close(fds[0]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited early, status " << status;
    return ids;
}

void check_folder(const fs::path& folder, const std::vector<std::string>& acked) {
    EXPECT_TRUE(list_dir(folder / "tmp").empty()) << folder;
    std::set<std::string> present;
    for (const auto& name : list_dir(folder / "new")) {
        auto id = name.substr(0, name.size() - std::string(host).size() - 1);
        ASSERT_EQ(name, id + "." + host);
        auto content = read_file(folder / "new" / name);
        EXPECT_TRUE(self_check(content)) << "partial or corrupt file in new/: " << name;
        EXPECT_TRUE(same_bytes(content, message_for(id))) << name;
        present.insert(id);
    }
    for (const auto& id : acked) EXPECT_TRUE(present.contains(id)) << "acknowledged but lost: " << id;
}

TEST(maildir_store_crash, acknowledged_messages_survive_sigkill) {
    std::mt19937 rng{20240611};
    std::uniform_int_distribution<int> delay_ms{20, 400};
    std::size_t total = 0;
    for (int round = 0; round < 8; ++round) {
        temp_dir dir;
        auto cfg = crash_config(dir.path(), round);
        auto acked = run_and_kill(cfg, std::chrono::milliseconds{delay_ms(rng)});
        total += acked.size();
        std::set<std::string> distinct(acked.begin(), acked.end());
        EXPECT_EQ(distinct.size(), acked.size());
        auto store = maildir_store::open(cfg);  // recovery: cleans tmp/
        ASSERT_TRUE(store.has_value());
        (*store)->stop();
        if (cfg.folders == layout::catch_all) {
            check_folder(dir.path() / "mail" / "inbox", acked);
        } else {
            for (const auto& r : recipients) check_folder((*store)->folder_for(r), acked);
        }
        std::cout << "[ round " << round << " ] acknowledged " << acked.size() << "\n";
    }
    EXPECT_GT(total, 0u) << "no round acknowledged anything: the test checked nothing";
}

TEST(maildir_store_crash, self_check_rejects_a_cut_file) {
    auto m = message_for("1.M2P3Q4");
    EXPECT_TRUE(self_check(m));
    EXPECT_FALSE(self_check(m.substr(0, m.size() - 1)));
    EXPECT_FALSE(self_check(m.substr(0, m.size() / 2)));
    EXPECT_FALSE(self_check(""));
}

}  // namespace
}  // namespace postern::store
