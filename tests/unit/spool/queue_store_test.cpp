// SPDX-License-Identifier: MIT
#include "spool/envelope_codec.hpp"
#include "spool/queue_store.hpp"
#include "spool/spool_errors.hpp"
#include "spool_test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

namespace postern::spool {
namespace {

using namespace postern::spool::testing;
namespace fs = std::filesystem;
using std::chrono::seconds;

queue_config config_for(const fs::path& root, const clock* time = nullptr) {
    queue_config cfg;
    cfg.root = root / "queue";
    cfg.write_buffer = 4096;  // small, so that modest messages cross it
    cfg.time = time;
    return cfg;
}

std::unique_ptr<queue_store> open_store(const queue_config& cfg) {
    auto s = queue_store::open(cfg);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
}

std::string data_of(queue_store& store, const std::string& id) {
    auto fd = store.open_data(id);
    EXPECT_TRUE(fd.has_value()) << id;
    return fd ? read_fd(fd->get()) : std::string{};
}

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

TEST(queue_store, round_trips_small_large_and_empty_messages) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    struct item { std::string data; std::size_t piece; std::string id; };
    std::vector<item> items{{"Subject: hi\r\n\r\nbody\r\n", 3, {}},
                            {pattern(1 << 20, 7), 4093, {}},     // crosses the buffer in odd chunks
                            {pattern(50000, 8), 50000, {}},      // one piece larger than the buffer
                            {"", 1, {}}};
    {
        auto store = open_store(cfg);
        for (auto& it : items) {
            auto id = enqueue(*store, envelope_for({"a@x.example", "b@y.example"}), it.data, it.piece);
            ASSERT_TRUE(id.has_value()) << id.error().message();
            it.id = *id;
            EXPECT_EQ(data_of(*store, it.id), it.data);
            EXPECT_EQ(store->get(it.id)->size, it.data.size());
        }
        EXPECT_TRUE(list_dir(cfg.root / "tmp").empty());
    }
    auto store = open_store(cfg);  // and after a restart
    ASSERT_EQ(store->list().size(), items.size());
    for (const auto& it : items) {
        auto m = store->get(it.id);
        ASSERT_TRUE(m.has_value());
        EXPECT_EQ(m->size, it.data.size());
        EXPECT_EQ(m->reverse_path, "s@origin.example");
        ASSERT_EQ(m->recipients.size(), 2u);
        EXPECT_EQ(m->recipients[1].address, "b@y.example");
        EXPECT_EQ(read_file(store->data_path(it.id)), it.data);
    }
}

TEST(queue_store, keeps_the_envelope_as_given_and_sets_id_arrival_and_size) {
    temp_dir dir;
    fixed_clock clock{time_point{seconds{1700000000}}};
    auto store = open_store(config_for(dir.path(), &clock));
    auto env = envelope_for({"a@x.example"}, "");
    env.id = "../../etc/passwd";  // the store names its messages itself
    env.size = 999;
    env.envid = "E1";
    env.ret = dsn_return::full;
    env.requiretls = true;
    env.recipients[0].notify = notify_flags{false, true, true, false};
    env.recipients[0].orcpt = "rfc822;a@x.example";
    auto w = store->begin(env);
    ASSERT_TRUE(w.has_value());
    auto id = (*w)->id();
    EXPECT_TRUE(valid_queue_id(id)) << id;
    auto committed = commit_and_wait(*store, std::move(*w));
    ASSERT_TRUE(committed.has_value());
    EXPECT_EQ(*committed, id);
    auto m = *store->get(id);
    EXPECT_EQ(m.arrival, clock.now());
    EXPECT_EQ(m.size, 0u);
    env.id = id;
    env.size = 0;
    env.arrival = clock.now();
    EXPECT_EQ(m, env);
    EXPECT_EQ(store->begin(queued_message{}).error(), std::errc::invalid_argument);  // no recipient
}

TEST(queue_store, ids_are_unique_and_list_is_sorted_by_arrival) {
    temp_dir dir;
    auto store = open_store(config_for(dir.path()));
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto env = envelope_for({"a@x.example"});
        env.arrival = time_point{seconds{1700000000 - i * 10}};  // later commits arrived earlier
        ids.push_back(*enqueue(*store, env, "x"));
    }
    auto list = store->list();
    ASSERT_EQ(list.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(list[static_cast<std::size_t>(i)].id, ids[static_cast<std::size_t>(4 - i)]);
}

// Two jobs for one message (one per destination domain) update from their own copies, in any
// order: a final state never goes back and attempts never go down.
TEST(queue_store, updates_from_stale_copies_never_undo_a_delivery) {
    temp_dir dir;
    auto store = open_store(config_for(dir.path()));
    auto id = *enqueue(*store, envelope_for({"x@d.example", "y@e.example"}), "data");
    auto job_d = *store->get(id), job_e = *store->get(id);
    job_d.recipients[0].status = delivery_status::delivered;
    job_d.recipients[0].attempts = 1;
    ASSERT_TRUE(store->update(job_d).has_value());
    job_e.recipients[1].status = delivery_status::delivered;  // job_e never saw x@d delivered
    job_e.recipients[1].attempts = 2;
    ASSERT_TRUE(store->update(job_e).has_value());
    auto m = *store->get(id);
    EXPECT_EQ(m.recipients[0].status, delivery_status::delivered);
    EXPECT_EQ(m.recipients[0].attempts, 1u);
    EXPECT_EQ(m.recipients[1].status, delivery_status::delivered);
    auto other = m;
    other.recipients.pop_back();
    EXPECT_EQ(store->update(other).error(), spool_errc::bad_envelope);  // not this message's recipients
    other = m;
    other.recipients[1].address = "z@e.example";
    EXPECT_EQ(store->update(other).error(), spool_errc::bad_envelope);
}

// open() refuses envelopes past max_envelope_size, so a commit or update that would write one fails.
TEST(queue_store, an_envelope_too_large_is_refused_when_written) {
    temp_dir dir;
    auto store = open_store(config_for(dir.path()));
    auto id = *enqueue(*store, envelope_for({"x@d.example"}), "data");
    auto m = *store->get(id);
    m.recipients[0].last_reply = std::string(max_envelope_size, 'x');
    EXPECT_EQ(store->update(m).error(), spool_errc::envelope_too_large);
    EXPECT_TRUE(store->get(id)->recipients[0].last_reply.empty());
    auto big = envelope_for({"x@d.example"});
    big.envid = std::string(max_envelope_size, 'e');
    EXPECT_FALSE(enqueue(*store, big, "data").has_value());
}

TEST(queue_store, update_persists_recipient_state) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    std::string id;
    {
        auto store = open_store(cfg);
        id = *enqueue(*store, envelope_for({"a@x.example", "b@y.example"}), "data");
        auto m = *store->get(id);
        m.recipients[0].status = delivery_status::delivered;
        m.recipients[1].status = delivery_status::transient_failure;
        m.recipients[1].attempts = 3;
        m.recipients[1].next_attempt = time_point{seconds{1800000000}};
        m.recipients[1].last_reply = "451 4.7.1 try later";
        m.recipients[1].remote_host = "mx.y.example [192.0.2.7]";
        m.size = 12345;              // not the recipients: kept from the store's copy
        m.reverse_path = "other@x";  // likewise
        ASSERT_TRUE(store->update(m).has_value());
        EXPECT_EQ(store->get(id)->recipients, m.recipients);
        EXPECT_EQ(store->get(id)->size, 4u);
        EXPECT_TRUE(list_dir(cfg.root / "tmp").empty());
    }
    auto store = open_store(cfg);
    auto m = *store->get(id);
    EXPECT_EQ(m.recipients[0].status, delivery_status::delivered);
    EXPECT_EQ(m.recipients[1].attempts, 3u);
    EXPECT_EQ(m.recipients[1].last_reply, "451 4.7.1 try later");
    EXPECT_EQ(m.reverse_path, "s@origin.example");
}

TEST(queue_store, remove_is_durable_and_unknown_or_bad_ids_are_refused) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    std::string id;
    {
        auto store = open_store(cfg);
        id = *enqueue(*store, envelope_for({"a@x.example"}), "data");
        auto keep = *enqueue(*store, envelope_for({"b@x.example"}), "other");
        ASSERT_TRUE(store->remove(id).has_value());
        EXPECT_FALSE(store->get(id).has_value());
        EXPECT_EQ(store->remove(id).error(), spool_errc::no_such_message);
        EXPECT_EQ(store->open_data(id).error(), spool_errc::no_such_message);
        auto m = envelope_for({"a@x.example"});
        m.id = id;
        EXPECT_EQ(store->update(m).error(), spool_errc::no_such_message);
        for (const char* bad : {"", "..", "../env/x", "a/b", ".hidden", "A"}) {
            m.id = bad;
            EXPECT_EQ(store->update(m).error(), spool_errc::bad_id) << bad;
            EXPECT_EQ(store->remove(bad).error(), spool_errc::bad_id) << bad;
            EXPECT_EQ(store->open_data(bad).error(), spool_errc::bad_id) << bad;
            EXPECT_FALSE(store->get(bad).has_value());
        }
    }
    auto store = open_store(cfg);
    EXPECT_EQ(store->list().size(), 1u);
    EXPECT_FALSE(store->get(id).has_value());
    EXPECT_EQ(list_dir(cfg.root / "data").size(), 1u);
    EXPECT_EQ(list_dir(cfg.root / "env").size(), 1u);
}

TEST(queue_store, an_abandoned_writer_leaves_nothing) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto store = open_store(cfg);
    {
        auto w = store->begin(envelope_for({"a@x.example"}));
        write_in_pieces(**w, pattern(20000, 1), 999);  // past the buffer: a tmp/ file exists
        EXPECT_EQ(list_dir(cfg.root / "tmp").size(), 1u);
    }
    EXPECT_TRUE(list_dir(cfg.root / "tmp").empty());
    EXPECT_TRUE(store->list().empty());
}

TEST(queue_store, memory_stays_bounded_while_writing) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto store = open_store(cfg);
    auto w = store->begin(envelope_for({"a@x.example"}));
    auto data = pattern(100000, 3);
    write_in_pieces(**w, data, 1000);
    // Everything but the last (buffer-sized at most) part is in the file already.
    auto tmp = list_dir(cfg.root / "tmp");
    ASSERT_EQ(tmp.size(), 1u);
    EXPECT_GE(fs::file_size(cfg.root / "tmp" / tmp[0]), data.size() - cfg.write_buffer);
    EXPECT_EQ((*w)->size(), data.size());
}

TEST(queue_store, open_removes_leftovers_of_interrupted_writes_only) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    std::string id;
    {
        auto store = open_store(cfg);
        id = *enqueue(*store, envelope_for({"a@x.example"}), "kept");
    }
    write_text(cfg.root / "tmp" / "1.2p3q4.data", "half a message");     // commit interrupted
    write_text(cfg.root / "tmp" / "1.2p3q4.json", "{");                  // its envelope
    write_text(cfg.root / "tmp" / (id + ".update"), "{\"version\":1");   // update interrupted
    write_text(cfg.root / "data" / "1.2p3q5", "renamed, envelope never"); // commit cut between renames
    write_text(cfg.root / "tmp" / "README", "not ours");
    write_text(cfg.root / "env" / "notes.txt", "not ours");
    auto store = open_store(cfg);
    EXPECT_EQ(list_dir(cfg.root / "tmp"), std::vector<std::string>{"README"});
    EXPECT_EQ(list_dir(cfg.root / "data"), std::vector<std::string>{id});
    EXPECT_EQ(list_dir(cfg.root / "env"), (std::vector<std::string>{id + ".json", "notes.txt"}));
    ASSERT_EQ(store->list().size(), 1u);
    EXPECT_EQ(data_of(*store, id), "kept");
    EXPECT_TRUE(store->set_aside().empty());
}

TEST(queue_store, damaged_envelopes_are_set_aside_and_the_rest_loads) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    std::vector<std::string> ids;
    {
        auto store = open_store(cfg);
        for (int i = 0; i < 5; ++i) ids.push_back(*enqueue(*store, envelope_for({"a@x.example"}), "data " + std::to_string(i)));
    }
    auto env = [&](int i) { return cfg.root / "env" / (ids[static_cast<std::size_t>(i)] + ".json"); };
    write_text(env(0), "{\"version\":1, \"id\": tru");                           // cut
    write_text(env(1), read_file(env(1)).replace(0, 12, "{\"version\":9"));      // from the future
    fs::resize_file(cfg.root / "data" / ids[2], 3);                              // data shorter than its envelope
    fs::remove(cfg.root / "data" / ids[3]);                                      // data gone
    auto store = open_store(cfg);
    ASSERT_EQ(store->list().size(), 1u);
    EXPECT_EQ(store->list()[0].id, ids[4]);
    EXPECT_EQ(store->set_aside().size(), 4u);
    auto corrupt = list_dir(cfg.root / "corrupt");
    for (int i = 0; i < 4; ++i) {
        const auto& id = ids[static_cast<std::size_t>(i)];
        EXPECT_TRUE(std::count(corrupt.begin(), corrupt.end(), id + ".json")) << id;
        if (i != 3) {
            EXPECT_TRUE(std::count(corrupt.begin(), corrupt.end(), id + ".data")) << id;
        }
    }
    EXPECT_EQ(list_dir(cfg.root / "env"), std::vector<std::string>{ids[4] + ".json"});
    store.reset();
    auto again = open_store(cfg);  // set aside once: a second open finds nothing to report
    EXPECT_TRUE(again->set_aside().empty());
}

// One process per queue: a second store's recovery could take a message between its two renames
// for an orphan.
TEST(queue_store, a_second_open_of_a_queue_in_use_fails) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto store = open_store(cfg);
    auto second = queue_store::open(cfg);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), std::errc::resource_unavailable_try_again);
    store.reset();
    EXPECT_TRUE(queue_store::open(cfg).has_value());
}

// A listing that fails must stop the open: what is missing from it would be taken for gone, and
// its data files for orphans.
TEST(queue_store, a_failed_listing_fails_the_open_and_deletes_nothing) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    std::string id;
    {
        auto store = open_store(cfg);
        id = *enqueue(*store, envelope_for({"a@x.example"}), "kept");
    }
    auto failing = cfg;
    failing.fault = [](std::string_view step) {
        return step == "open.list" ? std::make_error_code(std::errc::too_many_files_open) : std::error_code{};
    };
    auto r = queue_store::open(failing);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::too_many_files_open);
    EXPECT_TRUE(fs::exists(cfg.root / "data" / id));
    EXPECT_TRUE(fs::exists(cfg.root / "env" / (id + ".json")));
    auto store = open_store(cfg);
    EXPECT_TRUE(store->get(id).has_value());
}

TEST(queue_store, an_envelope_naming_another_id_is_set_aside) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    std::string a, b;
    {
        auto store = open_store(cfg);
        a = *enqueue(*store, envelope_for({"a@x.example"}), "same");
        b = *enqueue(*store, envelope_for({"a@x.example"}), "same");
    }
    fs::copy_file(cfg.root / "env" / (a + ".json"), cfg.root / "env" / (b + ".json"),
                  fs::copy_options::overwrite_existing);
    auto store = open_store(cfg);
    EXPECT_TRUE(store->get(a).has_value());
    EXPECT_FALSE(store->get(b).has_value());
    EXPECT_EQ(store->set_aside(), std::vector<std::string>{b + ".json"});
}

// Fails the named step once; counts the calls.
struct fail_at {
    std::string step;
    std::shared_ptr<int> hits = std::make_shared<int>(0);
    std::error_code operator()(std::string_view s) const {
        if (s != step) return {};
        ++*hits;
        return std::make_error_code(std::errc::no_space_on_device);
    }
};

TEST(queue_store, a_failure_at_any_commit_step_leaves_nothing) {
    for (const char* step : {"data.write", "data.sync", "envelope.write", "envelope.sync", "data.rename",
                             "data.dir_sync", "envelope.rename", "envelope.dir_sync"}) {
        temp_dir dir;
        auto cfg = config_for(dir.path());
        fail_at hook{step};
        cfg.fault = hook;
        auto store = open_store(cfg);
        auto id = enqueue(*store, envelope_for({"a@x.example"}), pattern(10000, 2), 3000);
        EXPECT_EQ(*hook.hits, 1) << step;
        ASSERT_FALSE(id.has_value()) << step;
        EXPECT_EQ(id.error(), std::errc::no_space_on_device) << step;
        EXPECT_TRUE(store->list().empty()) << step;
        for (const char* sub : {"tmp", "data", "env"}) EXPECT_TRUE(list_dir(cfg.root / sub).empty()) << step << " " << sub;
    }
}

TEST(queue_store, a_failed_message_does_not_fail_the_others) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto syncs = std::make_shared<std::atomic<int>>(0);
    cfg.fault = [syncs](std::string_view s) -> std::error_code {
        if (s == "data.sync" && ++*syncs == 2) return std::make_error_code(std::errc::io_error);
        return {};
    };
    auto store = open_store(cfg);
    std::vector<std::future<result<std::string>>> futures;
    for (int i = 0; i < 3; ++i) {  // committed together: usually one batch
        auto w = store->begin(envelope_for({"a@x.example"}));
        ASSERT_TRUE((*w)->write(std::string_view("m")).has_value());
        auto p = std::make_shared<std::promise<result<std::string>>>();
        futures.push_back(p->get_future());
        store->commit(std::move(*w), [p](result<std::string> r) { p->set_value(std::move(r)); });
    }
    int ok = 0;
    for (auto& f : futures) ok += f.get().has_value() ? 1 : 0;
    EXPECT_EQ(ok, 2);
    EXPECT_EQ(store->list().size(), 2u);
    EXPECT_EQ(list_dir(cfg.root / "data").size(), 2u);
    EXPECT_EQ(list_dir(cfg.root / "env").size(), 2u);
    EXPECT_TRUE(list_dir(cfg.root / "tmp").empty());
}

TEST(queue_store, an_empty_message_is_queued) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto store = open_store(cfg);
    auto w = store->begin(envelope_for({"a@x.example"}));
    ASSERT_TRUE(w.has_value());
    auto id = commit_and_wait(*store, std::move(*w));
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(data_of(*store, *id), "");
    EXPECT_EQ(store->get(*id)->size, 0u);
}

TEST(queue_store, a_failed_update_keeps_the_old_state) {
    for (const char* step : {"envelope.write", "envelope.sync", "envelope.rename"}) {
        temp_dir dir;
        auto cfg = config_for(dir.path());
        fail_at hook{"none"};
        cfg.fault = [&hook](std::string_view s) { return hook(s); };
        auto store = open_store(cfg);
        auto id = *enqueue(*store, envelope_for({"a@x.example"}), "data");
        hook.step = step;
        auto m = *store->get(id);
        m.recipients[0].status = delivery_status::delivered;
        EXPECT_FALSE(store->update(m).has_value()) << step;
        EXPECT_EQ(store->get(id)->recipients[0].status, delivery_status::scheduled) << step;
        EXPECT_TRUE(list_dir(cfg.root / "tmp").empty()) << step;
        store.reset();
        hook.step = "none";
        auto reopened = open_store(cfg);
        ASSERT_TRUE(reopened->get(id).has_value()) << step;
        EXPECT_EQ(reopened->get(id)->recipients[0].status, delivery_status::scheduled) << step;
    }
}

// A crash in the middle of update(): a child process runs it and _exit()s at `step`.
void crash_update_at(const queue_config& base, const std::string& id, const char* step) {
    pid_t pid = ::fork();
    if (pid == 0) {
        auto cfg = base;
        std::string at = step;
        cfg.fault = [at](std::string_view s) -> std::error_code {
            if (s == at) ::_exit(0);
            return {};
        };
        auto store = queue_store::open(cfg);
        if (!store) ::_exit(2);
        auto m = *(*store)->get(id);
        m.recipients[0].status = delivery_status::delivered;
        (void)(*store)->update(m);
        ::_exit(3);  // not reached: the hook ends the process first
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << step << " status " << status;
}

TEST(queue_store, a_crash_during_update_leaves_the_old_or_the_new_state) {
    const std::pair<const char*, delivery_status> cases[] = {
        {"envelope.write", delivery_status::scheduled},      // tmp file created, nothing written
        {"envelope.sync", delivery_status::scheduled},       // written, not renamed
        {"envelope.rename", delivery_status::scheduled},     // synced, not renamed
        {"envelope.dir_sync", delivery_status::delivered},   // renamed: the new state
    };
    for (const auto& [step, expected] : cases) {
        temp_dir dir;
        auto cfg = config_for(dir.path());
        std::string id;
        {
            auto store = open_store(cfg);
            id = *enqueue(*store, envelope_for({"a@x.example", "b@x.example"}), "data");
        }
        crash_update_at(cfg, id, step);
        auto store = open_store(cfg);
        ASSERT_TRUE(store->get(id).has_value()) << step;
        EXPECT_EQ(store->get(id)->recipients[0].status, expected) << step;
        EXPECT_TRUE(store->set_aside().empty()) << step;
        EXPECT_TRUE(list_dir(cfg.root / "tmp").empty()) << step;
    }
}

TEST(queue_store, commit_after_stop_fails_and_leaves_nothing) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto store = open_store(cfg);
    auto w = store->begin(envelope_for({"a@x.example"}));
    write_in_pieces(**w, pattern(10000, 4), 1000);
    store->stop();
    store->stop();
    auto r = commit_and_wait(*store, std::move(*w));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), spool_errc::stopped);
    EXPECT_TRUE(list_dir(cfg.root / "tmp").empty());
}

TEST(queue_store, many_concurrent_commits_are_all_durable) {
    temp_dir dir;
    auto cfg = config_for(dir.path());
    auto store = open_store(cfg);
    std::vector<std::future<result<std::string>>> futures;
    for (int i = 0; i < 200; ++i) {
        auto w = store->begin(envelope_for({"a@x.example"}));
        auto data = "message " + std::to_string(i);
        ASSERT_TRUE((*w)->write(data).has_value());
        auto p = std::make_shared<std::promise<result<std::string>>>();
        futures.push_back(p->get_future());
        store->commit(std::move(*w), [p](result<std::string> r) { p->set_value(std::move(r)); });
    }
    for (auto& f : futures) EXPECT_TRUE(f.get().has_value());
    store.reset();
    EXPECT_EQ(open_store(cfg)->list().size(), 200u);
}

TEST(queue_store, open_fails_cleanly_when_the_folder_cannot_be_made) {
    temp_dir dir;
    write_text(dir.path() / "file", "x");
    queue_config cfg;
    cfg.root = dir.path() / "file" / "queue";
    EXPECT_FALSE(queue_store::open(cfg).has_value());
    cfg.root.clear();
    EXPECT_FALSE(queue_store::open(cfg).has_value());
}

}  // namespace
}  // namespace postern::spool
