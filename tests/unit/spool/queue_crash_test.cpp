// SPDX-License-Identifier: MIT
// Crash test: a child process queues messages from two threads, and after each acknowledged
// commit moves the message through its recipient states with update() (and sometimes remove()),
// reporting every acknowledged step on a pipe. The parent kills it with SIGKILL at a random moment,
// re-opens the queue and checks: every acknowledged message is there, whole, in a state at least as
// advanced as the last acknowledged one (never a mix of two states); every acknowledged removal
// holds; nothing half-written is anywhere; tmp/ is empty. SIGKILL ends the process, not the
// machine: the page cache survives, so this checks the order of operations and recovery; the
// flushes themselves follow from the system calls (docs/spool.md).
#include "spool/queue_store.hpp"
#include "spool_test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace postern::spool {
namespace {

using namespace postern::spool::testing;
namespace fs = std::filesystem;

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

// The message for an id: its length and content follow from the id (some above the 64 KiB buffer).
std::string message_for(const std::string& id) {
    auto h = fnv1a(id);
    return "X-Queue-Id: " + id + "\r\n\r\n" + pattern(static_cast<std::size_t>(h % 150000), static_cast<std::uint32_t>(h));
}

// How far a message goes in the child: 0 to 3 updates, or (4) all three and then remove().
int planned_steps(const std::string& id) { return static_cast<int>((fnv1a(id) >> 20) % 5); }

// The recipient states after `stage` updates.
void apply_stage(queued_message& m, int stage) {
    auto& a = m.recipients[0];
    auto& b = m.recipients[1];
    if (stage >= 1) {
        a.status = delivery_status::delivered;
        a.attempts = 1;
        a.remote_host = "mx.x.example [192.0.2.1]";
    }
    if (stage >= 2) {
        b.status = delivery_status::transient_failure;
        b.attempts = 1;
        b.last_reply = "451 4.7.1 try again later";
    }
    if (stage >= 3) {
        b.status = delivery_status::delivered;
        b.attempts = 2;
    }
}

queued_message initial_envelope() { return envelope_for({"a@x.example", "b@y.example"}); }

// Which stage a loaded envelope is in; nullopt for anything else (a mix of two states).
std::optional<int> stage_of(const queued_message& loaded) {
    for (int stage = 0; stage <= 3; ++stage) {
        auto m = initial_envelope();
        apply_stage(m, stage);
        if (loaded.recipients == m.recipients) return stage;
    }
    return std::nullopt;
}

void report(int out, const std::string& line) {
    auto text = line + "\n";  // one write(2) under PIPE_BUF: the parent never sees half a line
    if (::write(out, text.data(), text.size()) != static_cast<ssize_t>(text.size())) ::_exit(6);
}

void child_worker(queue_store& store, int out) {
    for (int i = 0; i < 100000; ++i) {
        auto w = store.begin(initial_envelope());
        if (!w) ::_exit(3);
        auto id = (*w)->id();
        auto data = message_for(id);
        for (std::size_t off = 0; off < data.size(); off += 4093)
            if (!(*w)->write(std::span<const char>(data.data() + off, std::min<std::size_t>(4093, data.size() - off))))
                ::_exit(4);
        if (!commit_and_wait(store, std::move(*w))) ::_exit(5);
        report(out, "C " + id);
        int steps = planned_steps(id);
        for (int stage = 1; stage <= std::min(steps, 3); ++stage) {
            auto m = *store.get(id);
            apply_stage(m, stage);
            if (!store.update(m)) ::_exit(7);
            report(out, "U " + id + " " + std::to_string(stage));
        }
        if (steps == 4) {
            if (!store.remove(id)) ::_exit(8);
            report(out, "R " + id);
        }
    }
}

[[noreturn]] void run_child(const queue_config& cfg, int out) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto store = queue_store::open(cfg);
    if (!store) ::_exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) threads.emplace_back([&] { child_worker(**store, out); });
    for (auto& t : threads) t.join();
    ::_exit(0);  // not reached within a round; never return into the test runner
}

struct acked {
    std::map<std::string, int> stage;  // committed ids and their last acknowledged stage
    std::set<std::string> removed;
};

void read_lines(int fd, std::string& pending, acked& a, std::optional<std::chrono::steady_clock::time_point> deadline) {
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
            std::istringstream line(pending.substr(0, nl));
            pending.erase(0, nl + 1);
            std::string kind, id;
            int stage = 0;
            line >> kind >> id >> stage;
            if (kind == "C") a.stage[id] = 0;
            if (kind == "U") a.stage[id] = stage;
            if (kind == "R") a.removed.insert(id);
        }
    }
}

acked run_and_kill(const queue_config& cfg, std::chrono::milliseconds delay) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        run_child(cfg, fds[1]);
    }
    ::close(fds[1]);
    std::string pending;
    acked a;
    read_lines(fds[0], pending, a, std::chrono::steady_clock::now() + delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    read_lines(fds[0], pending, a, std::nullopt);
    ::close(fds[0]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited early, status " << status;
    return a;
}

void check_queue(queue_store& store, const queue_config& cfg, const acked& a) {
    EXPECT_TRUE(list_dir(cfg.root / "tmp").empty());
    EXPECT_TRUE(store.set_aside().empty());
    EXPECT_EQ(list_dir(cfg.root / "data").size(), store.list().size());  // no data file without envelope
    for (const auto& m : store.list()) {  // acknowledged or not, whatever is queued is whole
        EXPECT_EQ(read_file(store.data_path(m.id)), message_for(m.id)) << m.id;
        EXPECT_TRUE(stage_of(m).has_value()) << "a mix of two states: " << m.id;
    }
    for (const auto& [id, stage] : a.stage) {
        auto m = store.get(id);
        if (a.removed.contains(id)) {
            EXPECT_FALSE(m.has_value()) << "removal acknowledged, message back: " << id;
            continue;
        }
        if (!m) {  // only a removal under way may have taken it (remove() follows stage 3)
            EXPECT_TRUE(stage == 3 && planned_steps(id) == 4) << "acknowledged but lost: " << id;
            continue;
        }
        EXPECT_GE(stage_of(*m).value_or(-1), stage) << "state went back: " << id;
    }
}

TEST(queue_store_crash, acknowledged_messages_and_states_survive_sigkill) {
    std::mt19937 rng{20261123};
    std::uniform_int_distribution<int> delay_ms{30, 500};
    std::size_t commits = 0, updates = 0, removals = 0;
    for (int round = 0; round < 8; ++round) {
        temp_dir dir;
        queue_config cfg;
        cfg.root = dir.path() / "queue";
        auto a = run_and_kill(cfg, std::chrono::milliseconds{delay_ms(rng)});
        commits += a.stage.size();
        for (const auto& [id, stage] : a.stage) updates += static_cast<std::size_t>(stage);
        removals += a.removed.size();
        auto store = queue_store::open(cfg);  // recovery
        ASSERT_TRUE(store.has_value());
        check_queue(**store, cfg, a);
        std::cout << "[ round " << round << " ] committed " << a.stage.size() << ", removed " << a.removed.size()
                  << ", queued after restart " << (*store)->list().size() << "\n";
    }
    EXPECT_GT(commits, 0u) << "nothing was acknowledged: the test checked nothing";
    EXPECT_GT(updates, 0u);
    EXPECT_GT(removals, 0u);
}

// Runs `action` on a store opened in a child process that dies (_exit) when it reaches `step`.
template <class Action>
void crash_at(queue_config cfg, const std::string& step, Action action) {
    pid_t pid = ::fork();
    if (pid == 0) {
        cfg.fault = [step](std::string_view s) -> std::error_code {
            if (s == step) ::_exit(0);
            return {};
        };
        auto store = queue_store::open(cfg);
        if (!store) ::_exit(2);
        action(**store);
        ::_exit(3);  // the step was never reached
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << step << ": status " << status;
}

// Deterministic companions of the random kill above: a crash exactly at each step of commit() and
// remove(). Before the envelope's rename the message is not there at all; after it, it is there
// whole. Nothing is ever set aside: a crash never makes a half-queued message.
TEST(queue_store_crash, a_crash_at_each_commit_step_leaves_all_or_nothing) {
    const std::pair<const char*, bool> steps[] = {
        {"data.write", false},   {"data.sync", false},       {"envelope.write", false},
        {"envelope.sync", false}, {"data.rename", false},    {"data.dir_sync", false},
        {"envelope.rename", false}, {"envelope.dir_sync", true}};
    for (const auto& [step, queued] : steps) {
        temp_dir dir;
        queue_config cfg;
        cfg.root = dir.path() / "queue";
        crash_at(cfg, step, [](queue_store& store) {
            auto w = store.begin(initial_envelope());
            auto data = pattern(200000, 9);  // above the 64 KiB buffer: written before commit too
            for (std::size_t off = 0; off < data.size(); off += 10000)
                if (!(*w)->write(std::span<const char>(data.data() + off, 10000))) ::_exit(4);
            (void)commit_and_wait(store, std::move(*w));
        });
        auto store = queue_store::open(cfg);
        ASSERT_TRUE(store.has_value());
        EXPECT_TRUE((*store)->set_aside().empty()) << step;
        EXPECT_TRUE(list_dir(cfg.root / "tmp").empty()) << step;
        auto list = (*store)->list();
        ASSERT_EQ(list.size(), queued ? 1u : 0u) << step;
        EXPECT_EQ(list_dir(cfg.root / "data").size(), list.size()) << step;
        if (queued) {
            EXPECT_EQ(read_file((*store)->data_path(list[0].id)), pattern(200000, 9)) << step;
            EXPECT_EQ(list[0].size, 200000u);
        }
    }
}

TEST(queue_store_crash, a_crash_at_each_remove_step_leaves_all_or_nothing) {
    for (const auto& [step, queued] : {std::pair{"remove.envelope", true}, std::pair{"remove.data", false}}) {
        temp_dir dir;
        queue_config cfg;
        cfg.root = dir.path() / "queue";
        std::string id;
        {
            auto store = queue_store::open(cfg);
            id = *enqueue(**store, initial_envelope(), "to be removed");
        }
        crash_at(cfg, step, [id](queue_store& store) { (void)store.remove(id); });
        auto store = queue_store::open(cfg);
        ASSERT_TRUE(store.has_value());
        EXPECT_TRUE((*store)->set_aside().empty()) << step;
        EXPECT_EQ((*store)->get(id).has_value(), queued) << step;
        EXPECT_EQ(list_dir(cfg.root / "data").size(), queued ? 1u : 0u) << step;  // no orphan data file
    }
}

TEST(queue_store_crash, stage_of_refuses_a_mix) {
    auto m = initial_envelope();
    apply_stage(m, 3);
    EXPECT_EQ(stage_of(m), 3);
    m.recipients[0].status = delivery_status::scheduled;
    EXPECT_FALSE(stage_of(m).has_value());
}

}  // namespace
}  // namespace postern::spool
