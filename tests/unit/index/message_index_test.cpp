// SPDX-License-Identifier: MIT
#include "index/errors.hpp"
#include "index/message_index.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

namespace postern::index {
namespace {

namespace fs = std::filesystem;
using test_support::temp_dir;
using sys_clock = std::chrono::system_clock;

sys_clock::time_point at(std::int64_t secs) { return sys_clock::time_point(std::chrono::seconds(secs)); }

std::string raw_message(std::string_view from, std::string_view to, std::string_view subject, std::string_view body,
                        std::string_view extra_headers = "") {
    std::string s;
    s += "Return-Path: <sender@example.net>\r\n";
    s += "Received: from client.example (client.example [192.0.2.1])\r\n\tby mx.example with ESMTP id X1\r\n"
         "\tfor <rcpt@example.org>; Mon, 23 Nov 2026 12:42:00 +0000\r\n";
    s += "From: " + std::string(from) + "\r\nTo: " + std::string(to) + "\r\nSubject: " + std::string(subject) + "\r\n";
    s += "Date: Mon, 23 Nov 2026 12:41:00 +0100\r\n";
    s += extra_headers;
    s += "\r\n" + std::string(body);
    return s;
}

indexed_message make(std::string id, std::int64_t arrival, std::string_view subject, std::string_view body,
                     std::string folder = "inbox", std::string_view from = "Alice <alice@example.com>") {
    envelope env;
    env.id = std::move(id);
    env.folder = std::move(folder);
    env.path = "/data/mail/" + env.folder + "/new/" + env.id;
    env.envelope_from = "sender@example.net";
    env.envelope_to = {"rcpt@example.org"};
    env.arrival = at(arrival);
    return describe(raw_message(from, "Bob <bob@example.org>", subject, body), std::move(env));
}

std::vector<std::string> ids_of(const page& p) {
    std::vector<std::string> out;
    for (const auto& m : p.messages) out.push_back(m.id);
    return out;
}

class MessageIndex : public ::testing::Test {
protected:
    void SetUp() override {
        auto r = message_index::open(dir_.path() / "index.db");
        ASSERT_TRUE(r) << r.error().message();
        idx_ = std::move(*r);
    }
    std::vector<std::string> search(std::string_view q) {
        auto r = idx_->search(q, 0, 100);
        EXPECT_TRUE(r) << q << ": " << r.error().message();
        return r ? ids_of(*r) : std::vector<std::string>{};
    }
    void add(const indexed_message& m) { ASSERT_TRUE(idx_->add(m)); }

    temp_dir dir_{"postern-index"};
    std::unique_ptr<message_index> idx_;
};

envelope inbox_envelope() {
    envelope e;
    e.id = "x";
    e.folder = "inbox";
    return e;
}

TEST(Describe, FillsDecodedFields) {
    envelope env{.id = "1.M1P1Q1.host", .folder = "inbox", .path = "p", .envelope_from = "s@x.example",
                 .envelope_to = {"r@y.example"}, .arrival = at(100), .size = 0, .verdict = {}};
    std::string raw =
        "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\r\nTo: a@x.example, \"B\" <b@x.example>\r\n"
        "Cc: c@x.example\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\nDate: Mon, 23 Nov 2026 12:41:00 +0000\r\n"
        "Message-ID: <abc.1@x.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello   there\r\nworld\r\n"
        "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n";
    auto m = describe(raw, env);
    EXPECT_EQ(m.subject, "Grüße");
    EXPECT_EQ(m.message_id, "abc.1@x.example");
    ASSERT_EQ(m.from.size(), 1u);
    EXPECT_EQ(m.from[0], (mailbox{"Jörg", "joerg@example.de"}));
    EXPECT_EQ(m.to.size(), 2u);
    EXPECT_EQ(m.cc.size(), 1u);
    EXPECT_EQ(m.attachments, 1u);
    EXPECT_EQ(m.snippet, "Hello there world");
    EXPECT_EQ(m.size, raw.size());
    ASSERT_TRUE(m.date);
    EXPECT_EQ(m.envelope_to, std::vector<std::string>{"r@y.example"});
}

TEST(Describe, HtmlOnlyGivesText) {
    auto m = describe("Content-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>", inbox_envelope());
    EXPECT_NE(m.text.find("there"), std::string::npos);
    EXPECT_NE(m.snippet.find("Hi"), std::string::npos);
}

TEST(Describe, GarbageNeverFails) {
    std::string junk(5000, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 131 % 256);
    auto m = describe(junk, inbox_envelope());
    EXPECT_EQ(m.size, junk.size());
}

TEST(FtsQuery, QuotesEveryWord) {
    EXPECT_EQ(fts_query("hello world"), "\"hello\" \"world\"*");
    EXPECT_EQ(fts_query("  a\"b  "), "\"a\"\"b\"*");
    EXPECT_EQ(fts_query("subject:x OR"), "{subject} : \"x\" \"OR\"*");
    EXPECT_EQ(fts_query("foo:bar"), "\"foo:bar\"*");
    EXPECT_EQ(fts_query("* ( ) - \""), "");
    EXPECT_EQ(fts_query(""), "");
}

TEST_F(MessageIndex, NewDatabaseIsRecreatedAndEmpty) {
    EXPECT_TRUE(idx_->recreated());
    auto s = idx_->stats();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->messages, 0u);
    EXPECT_EQ(s->bytes, 0u);
}

TEST_F(MessageIndex, ListsNewestFirstWithTotal) {
    add(make("a", 100, "first", "one"));
    add(make("b", 300, "third", "three"));
    add(make("c", 200, "second", "two"));
    auto p = idx_->list(0, 10);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->total, 3u);
    EXPECT_EQ(ids_of(*p), (std::vector<std::string>{"b", "c", "a"}));
    auto p2 = idx_->list(1, 1);
    ASSERT_TRUE(p2);
    EXPECT_EQ(p2->total, 3u);
    EXPECT_EQ(ids_of(*p2), std::vector<std::string>{"c"});
    EXPECT_TRUE(p->messages[0].text.empty());
}

TEST_F(MessageIndex, GetReturnsEveryField) {
    auto m = make("a", 100, "=?UTF-8?Q?caf=C3=A9?=", "body text here");
    m.read = false;
    add(m);
    auto g = idx_->get("a");
    ASSERT_TRUE(g);
    ASSERT_TRUE(*g);
    const auto& r = **g;
    EXPECT_EQ(r.id, "a");
    EXPECT_EQ(r.folder, "inbox");
    EXPECT_EQ(r.path, m.path);
    EXPECT_EQ(r.subject, "café");
    EXPECT_EQ(r.envelope_from, "sender@example.net");
    EXPECT_EQ(r.envelope_to, std::vector<std::string>{"rcpt@example.org"});
    EXPECT_EQ(r.from, m.from);
    EXPECT_EQ(r.to, m.to);
    EXPECT_EQ(r.cc, m.cc);
    EXPECT_EQ(r.arrival, at(100));
    EXPECT_EQ(r.size, m.size);
    EXPECT_EQ(r.date, m.date);
    EXPECT_EQ(r.snippet, "body text here");
    EXPECT_EQ(r.text, m.text);
    EXPECT_FALSE(r.read);
    auto none = idx_->get("missing");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(MessageIndex, AddReplacesSameFolderAndId) {
    add(make("a", 100, "old", "x"));
    add(make("a", 100, "new", "y"));
    auto p = idx_->list(0, 10);
    ASSERT_TRUE(p);
    ASSERT_EQ(p->total, 1u);
    EXPECT_EQ(p->messages[0].subject, "new");
    EXPECT_TRUE(search("old").empty());
    EXPECT_EQ(search("new"), std::vector<std::string>{"a"});
}

TEST_F(MessageIndex, AddRejectsEmptyId) {
    auto r = idx_->add(indexed_message{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), index_errc::bad_record);
}

TEST_F(MessageIndex, SearchesSubjectAddressesAndText) {
    add(make("a", 100, "Quarterly report", "numbers inside"));
    add(make("b", 200, "Lunch", "see you at the station", "inbox", "Carol <carol@shop.example>"));
    add(make("c", 300, "Zürich trip", "Привет, как дела? 東京"));
    EXPECT_EQ(search("quarterly"), std::vector<std::string>{"a"});
    EXPECT_EQ(search("carol@shop.example"), std::vector<std::string>{"b"});
    EXPECT_EQ(search("carol"), std::vector<std::string>{"b"});
    EXPECT_EQ(search("station"), std::vector<std::string>{"b"});
    EXPECT_EQ(search("stat"), std::vector<std::string>{"b"});  // the last word is a prefix
    EXPECT_EQ(search("zürich"), std::vector<std::string>{"c"});
    EXPECT_EQ(search("zurich"), std::vector<std::string>{"c"});  // diacritics removed
    EXPECT_EQ(search("привет"), std::vector<std::string>{"c"});
    EXPECT_EQ(search("ПРИВЕТ"), std::vector<std::string>{"c"});
    EXPECT_EQ(search("sender@example.net").size(), 3u);  // envelope sender
    EXPECT_EQ(search("bob"), (std::vector<std::string>{"c", "b", "a"}));
    EXPECT_EQ(search("report numbers"), std::vector<std::string>{"a"});  // all words must match
    EXPECT_TRUE(search("report station").empty());
    auto p = idx_->search("bob", 1, 1);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->total, 3u);
    EXPECT_EQ(ids_of(*p), std::vector<std::string>{"b"});
}

TEST_F(MessageIndex, HostileQueriesNeverError) {
    add(make("a", 100, "He said \"hi\" (really)", "AND OR NOT NEAR"));
    for (std::string_view q : {"\"", "\"\"", "a\"b", "\"hi", "subject:hi", "body : x", "AND", "OR", "NOT x", "x AND",
                               "NEAR(a b)", "(", ")", "*", "x*", "^hi", "-hi", "+hi", "{subject}: hi", "hi:", "'",
                               "🙂", "a🙂b", "\\", "%", "_", "'; DROP TABLE messages; --", "\x01\x02",
                               "\xff\xfe", "NEAR", "col:", "\"hi\"", "\"said hi\""}) {
        auto r = idx_->search(q, 0, 10);
        EXPECT_TRUE(r) << "query: " << q << ": " << r.error().message();
    }
    EXPECT_EQ(search("\"hi\""), std::vector<std::string>{"a"});
    EXPECT_EQ(search("NEAR"), std::vector<std::string>{"a"});
    EXPECT_EQ(search("(really)"), std::vector<std::string>{"a"});
    auto all = idx_->search("  ", 0, 10);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->total, 1u);
}

TEST_F(MessageIndex, MarkRead) {
    add(make("a", 100, "s", "x"));
    add(make("b", 200, "s", "x"));
    auto n = idx_->mark_read({"a", "b", "missing"}, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2u);
    EXPECT_TRUE((*idx_->get("a"))->read);
    n = idx_->mark_read({"a"}, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);  // already read
    n = idx_->mark_read({"b"}, false);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
    EXPECT_FALSE((*idx_->get("b"))->read);
}

TEST_F(MessageIndex, RemoveAndRemoveAll) {
    add(make("a", 100, "alpha", "x"));
    add(make("b", 200, "beta", "x"));
    add(make("c", 300, "gamma", "x"));
    auto n = idx_->remove({"a", "missing"});
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
    EXPECT_FALSE(*idx_->get("a"));
    EXPECT_TRUE(search("alpha").empty());
    EXPECT_EQ(idx_->stats()->messages, 2u);
    ASSERT_TRUE(idx_->remove_all());
    EXPECT_EQ(idx_->stats()->messages, 0u);
    EXPECT_TRUE(search("beta").empty());
}

TEST_F(MessageIndex, FoldersAreSeparate) {
    add(make("m", 100, "shared", "x", "bob@example.org"));
    add(make("m", 100, "shared", "x", "carol@example.org"));
    add(make("n", 200, "own", "x", "carol@example.org"));
    EXPECT_EQ(idx_->list(0, 10)->total, 2u);  // all folders: one row per message
    EXPECT_EQ(idx_->list(0, 10, "bob@example.org")->total, 1u);
    EXPECT_EQ(idx_->search("shared", 0, 10, "carol@example.org")->total, 1u);
    EXPECT_EQ(*idx_->mark_read({"m"}, true, "bob@example.org"), 1u);
    EXPECT_TRUE((*idx_->get("m", "bob@example.org"))->read);
    EXPECT_FALSE((*idx_->get("m", "carol@example.org"))->read);
    EXPECT_EQ(*idx_->remove({"m"}), 2u);
}

TEST_F(MessageIndex, LeadRowMovesWhenItsFolderGoes) {
    add(make("m", 100, "shared", "x", "bob@example.org"));
    add(make("m", 100, "shared", "x", "carol@example.org"));
    ASSERT_EQ(*idx_->remove({"m"}, "bob@example.org"), 1u);
    auto all = idx_->list(0, 10);
    ASSERT_EQ(all->messages.size(), 1u);
    EXPECT_EQ(all->messages[0].folder, "carol@example.org");
    EXPECT_EQ(idx_->rows_of({"m"})->size(), 1u);
}

// Counts are kept between writes; after every kind of write they must equal what a second
// connection (nothing kept) counts from the table.
TEST_F(MessageIndex, KeptTotalsFollowEveryWrite) {
    auto second = message_index::open(dir_.path() / "index.db");
    ASSERT_TRUE(second);
    auto same = [&](const char* step) {
        auto kept = idx_->count(), fresh = (*second)->count();
        auto kept_stats = idx_->stats(), fresh_stats = (*second)->stats();
        ASSERT_TRUE(kept && fresh && kept_stats && fresh_stats) << step;
        EXPECT_EQ(kept->messages, fresh->messages) << step;
        EXPECT_EQ(kept->unread, fresh->unread) << step;
        EXPECT_EQ(kept_stats->messages, fresh_stats->messages) << step;
        EXPECT_EQ(kept_stats->bytes, fresh_stats->bytes) << step;
        // The second connection keeps its own copy: forget it by writing nothing through it.
        second = message_index::open(dir_.path() / "index.db");
    };
    same("empty");
    add(make("a", 100, "one", "x", "bob@example.org"));
    same("first");
    std::vector<indexed_message> batch{make("b", 200, "two", "x", "bob@example.org"),
                                       make("b", 200, "two", "x", "carol@example.org"),
                                       make("c", 300, "three", "x", "carol@example.org")};
    batch[2].read = true;
    ASSERT_TRUE(idx_->add(batch));
    same("batch over two folders, one read");
    EXPECT_EQ(idx_->count()->messages, 3u);
    EXPECT_EQ(idx_->count()->unread, 2u);
    add(make("a", 100, "one again", "xyz", "bob@example.org"));
    same("replaced row");
    add(make("a", 100, "one", "x", "carol@example.org"));
    same("second folder of an old message");
    ASSERT_TRUE(idx_->mark_read({"b"}, true));
    same("mark read");
    ASSERT_TRUE(idx_->remove({"a"}, "bob@example.org"));
    same("lead folder removed");
    ASSERT_TRUE(idx_->mark_all_read(false));
    same("mark all unread");
    auto bad = make("", 400, "no id", "x");
    EXPECT_FALSE(idx_->add(std::vector<indexed_message>{make("d", 400, "d", "x"), bad}));
    same("failed batch rolled back");
    ASSERT_TRUE(idx_->remove_all());
    same("remove all");
}

TEST(ParseSearch, FiltersAndColumns) {
    auto t = parse_search("from:ann@example.com is:unread has:attachment \"two words\" subject:Hi");
    EXPECT_EQ(t.fts, "{sender} : \"ann@example.com\" \"two words\" {subject} : \"Hi\"*");
    EXPECT_EQ(t.read, false);
    EXPECT_TRUE(t.with_attachments);
    EXPECT_EQ(parse_search("is:read").fts, "");
    EXPECT_EQ(parse_search("is:read").read, true);
    EXPECT_EQ(parse_search("TO:\"Bob B\"").fts, "{recipients} : \"Bob B\"*");
    EXPECT_EQ(parse_search("is:whatever").fts, "\"is:whatever\"*");
    EXPECT_EQ(parse_search("from:\"").fts, "");  // an empty phrase is dropped
}

TEST_F(MessageIndex, SearchFiltersByFieldReadAndAttachments) {
    add(make("a", 100, "invoice", "pay now", "inbox", "Ann <ann@example.com>"));
    add(make("b", 200, "hello", "invoice attached", "inbox", "Zed <zed@example.com>"));
    EXPECT_EQ(idx_->search("invoice", 0, 10)->total, 2u);
    EXPECT_EQ(idx_->search("subject:invoice", 0, 10)->total, 1u);
    EXPECT_EQ(idx_->search("from:zed", 0, 10)->messages.at(0).id, "b");
    EXPECT_EQ(idx_->search("to:bob@example.org", 0, 10)->total, 2u);
    EXPECT_EQ(idx_->search("from:bob", 0, 10)->total, 0u);  // bob is a recipient only
    ASSERT_EQ(*idx_->mark_read({"a"}, true), 1u);
    EXPECT_EQ(idx_->search("is:read", 0, 10)->messages.at(0).id, "a");
    auto unread = idx_->search("is:unread", 0, 10);
    EXPECT_EQ(unread->total, 1u);
    EXPECT_EQ(unread->unread, 1u);
    EXPECT_EQ(idx_->search("has:attachment", 0, 10)->total, 0u);
    auto c = idx_->count();
    EXPECT_EQ(c->messages, 2u);
    EXPECT_EQ(c->unread, 1u);
    auto refs = idx_->matching("from:ann");
    ASSERT_EQ(refs->size(), 1u);
    EXPECT_EQ((*refs)[0].id, "a");
}

TEST_F(MessageIndex, PruneByCountOldestFirst) {
    for (int i = 0; i < 5; ++i) add(make("m" + std::to_string(i), 100 + i, "s", "x"));
    auto r = idx_->prune(3, 0);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].id, "m0");
    EXPECT_EQ((*r)[1].id, "m1");
    EXPECT_EQ((*r)[0].folder, "inbox");
    EXPECT_EQ(idx_->stats()->messages, 5u);  // prune() changes nothing
    EXPECT_TRUE(idx_->prune(5, 0)->empty());
    EXPECT_TRUE(idx_->prune(0, 0)->empty());
}

TEST_F(MessageIndex, PruneByBytes) {
    std::uint64_t each = 0;
    for (int i = 0; i < 4; ++i) {
        auto m = make("m" + std::to_string(i), 100 + i, "s", "x");
        m.size = 1000;
        each = m.size;
        add(m);
    }
    EXPECT_EQ(idx_->stats()->bytes, 4 * each);
    auto r = idx_->prune(0, 2500);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].id, "m0");
    EXPECT_EQ((*r)[1].id, "m1");
    EXPECT_EQ((*r)[0].size, 1000u);
    auto both = idx_->prune(retention{.max_messages = 1, .max_bytes = 3000});
    ASSERT_TRUE(both);
    EXPECT_EQ(both->size(), 3u);
}

TEST_F(MessageIndex, ReopenKeepsData) {
    add(make("a", 100, "persist", "me"));
    ASSERT_TRUE(idx_->mark_read({"a"}, true));
    idx_.reset();
    auto r = message_index::open(dir_.path() / "index.db");
    ASSERT_TRUE(r);
    EXPECT_FALSE((*r)->recreated());
    auto g = (*r)->get("a");
    ASSERT_TRUE(g && *g);
    EXPECT_TRUE((*g)->read);
    EXPECT_EQ((*(*r)->search("persist", 0, 10)).total, 1u);
}

TEST_F(MessageIndex, UsesWal) {
    add(make("a", 100, "x", "y"));
    EXPECT_TRUE(fs::exists(dir_.path() / "index.db-wal"));
}

// A Maildir as the store writes it, with trace fields at the top.
void write_file(const fs::path& p, std::string_view content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

void write_maildir(const fs::path& mail) {
    write_file(mail / "inbox/new/1790000000.M1P1Q1.mx.example",
               raw_message("Alice <alice@example.com>", "rcpt@example.org", "catch-all one", "first body"));
    std::string no_for = "Return-Path: <>\r\nReceived: from a (a [192.0.2.9]) by mx.example with ESMTP id Q\r\n"
                         "From: x@example.com\r\nSubject: bounce\r\n\r\nbounced";
    write_file(mail / "inbox/cur/1790000100.M2P1Q2.mx.example:2,S", no_for);
    write_file(mail / "bob@example.org/new/1790000200.M3P1Q3.mx.example",
               raw_message("Carol <carol@example.com>", "bob@example.org", "per recipient", "bobs body"));
    write_file(mail / "bob@example.org/tmp/1790000300.M4P1Q4.mx.example", "in flight");
    write_file(mail / "bob@example.org/new/.hidden", "x");
    fs::create_directories(mail / "empty/new");
}

TEST_F(MessageIndex, RebuildFromMaildir) {
    auto mail = dir_.path() / "mail";
    write_maildir(mail);
    add(make("stale", 1, "stale row", "x"));
    auto r = idx_->rebuild(mail);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->indexed, 3u);
    EXPECT_EQ(r->skipped, 0u);
    EXPECT_FALSE(*idx_->get("stale"));

    auto a = idx_->get("1790000000.M1P1Q1.mx.example");
    ASSERT_TRUE(a && *a);
    EXPECT_EQ((*a)->folder, "inbox");
    EXPECT_EQ((*a)->envelope_from, "sender@example.net");
    EXPECT_EQ((*a)->envelope_to, std::vector<std::string>{"rcpt@example.org"});
    EXPECT_EQ((*a)->arrival, *describe("Date: Mon, 23 Nov 2026 12:42:00 +0000\r\n\r\n", {}).date);
    EXPECT_EQ((*a)->subject, "catch-all one");
    EXPECT_FALSE((*a)->read);
    EXPECT_EQ((*a)->path, (mail / "inbox/new/1790000000.M1P1Q1.mx.example").string());

    auto b = idx_->get("1790000100.M2P1Q2.mx.example");
    ASSERT_TRUE(b && *b);
    EXPECT_EQ((*b)->envelope_from, "");
    EXPECT_TRUE((*b)->envelope_to.empty());
    EXPECT_EQ((*b)->arrival, at(1790000100));  // no date in Received: the Maildir name's time
    EXPECT_TRUE((*b)->read);                    // ":2,S"

    auto c = idx_->get("1790000200.M3P1Q3.mx.example");
    ASSERT_TRUE(c && *c);
    EXPECT_EQ((*c)->folder, "bob@example.org");
    EXPECT_EQ((*c)->envelope_to, std::vector<std::string>{"bob@example.org"});  // from the folder name

    auto p = idx_->list(0, 10);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->total, 3u);
    EXPECT_EQ(search("bobs").size(), 1u);
}

TEST_F(MessageIndex, RebuildKeepsReadFlags) {
    auto mail = dir_.path() / "mail";
    write_maildir(mail);
    ASSERT_TRUE(idx_->rebuild(mail));
    ASSERT_EQ(*idx_->mark_read({"1790000000.M1P1Q1.mx.example"}, true), 1u);
    ASSERT_TRUE(idx_->rebuild(mail));
    EXPECT_TRUE((*idx_->get("1790000000.M1P1Q1.mx.example"))->read);
}

TEST_F(MessageIndex, RebuildOfMissingRootIsEmpty) {
    add(make("a", 1, "x", "y"));
    auto r = idx_->rebuild(dir_.path() / "nothing");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->indexed, 0u);
    EXPECT_EQ(idx_->stats()->messages, 0u);
}

TEST(MessageIndexFile, CorruptFileIsRecreatedThenRebuilt) {
    temp_dir dir{"postern-index"};
    auto db = dir.path() / "index.db";
    write_file(db, std::string(8192, 'x'));
    auto r = message_index::open(db);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE((*r)->recreated());
    EXPECT_EQ((*r)->stats()->messages, 0u);
    write_maildir(dir.path() / "mail");
    auto rb = (*r)->rebuild(dir.path() / "mail");
    ASSERT_TRUE(rb);
    EXPECT_EQ((*r)->stats()->messages, 3u);
}

TEST(MessageIndexFile, CorruptFileWithoutRecreateFails) {
    temp_dir dir{"postern-index"};
    auto db = dir.path() / "index.db";
    write_file(db, std::string(8192, 'x'));
    EXPECT_FALSE(message_index::open(db, false));
}

// Sets the schema version to one this program does not know (sqlite3.h is a system header; the
// library links SQLite, so the test does too).
void sqlite_bump(const fs::path& db) {
    sqlite3* h = nullptr;
    ASSERT_EQ(::sqlite3_open(db.c_str(), &h), SQLITE_OK);
    EXPECT_EQ(::sqlite3_exec(h, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    ::sqlite3_close(h);
}

TEST(MessageIndexFile, ForeignSchemaIsRecreated) {
    temp_dir dir{"postern-index"};
    auto db = dir.path() / "index.db";
    {
        auto r = message_index::open(db);
        ASSERT_TRUE(r);
        ASSERT_TRUE((*r)->add(make("a", 1, "x", "y")));
    }
    sqlite_bump(db);
    auto r = message_index::open(db);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE((*r)->recreated());
    EXPECT_EQ((*r)->stats()->messages, 0u);
}

TEST(MessageIndexFile, MissingDirectoryFails) {
    auto r = message_index::open("/nonexistent-postern-dir/index.db");
    EXPECT_FALSE(r);
}

}  // namespace
}  // namespace postern::index
