// SPDX-License-Identifier: MIT
// The message index on SQLite: schema, open/recreate, rows in and out, full-text search.
#include "index/message_index.hpp"
#include "index/maildir_scan.hpp"
#include "index/row_codec.hpp"
#include "index/sqlite_db.hpp"

#include <map>
#include <set>
#include <utility>

#include <system_error>

namespace postern::index {

using detail::reset_guard;
using detail::statement;
using detail::sqlite_error;
using namespace detail::rows;

namespace {

namespace fs = std::filesystem;

constexpr int schema_version = 4;
constexpr int busy_timeout_ms = 5000;

// One transaction so a crash never leaves half a schema.
constexpr const char* schema_sql = R"sql(
BEGIN;
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (4);
CREATE TABLE messages (
    rowid         INTEGER PRIMARY KEY,
    folder        TEXT NOT NULL,
    id            TEXT NOT NULL,
    path          TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    envelope_to   TEXT NOT NULL,
    arrival       INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    from_list     TEXT NOT NULL,
    to_list       TEXT NOT NULL,
    cc_list       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    date          INTEGER,
    attachments   INTEGER NOT NULL,
    snippet       TEXT NOT NULL,
    read          INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT NOT NULL,
    reply_list    TEXT NOT NULL,
    lead          INTEGER NOT NULL DEFAULT 0,
    auth_spf      TEXT,
    auth_dkim     TEXT,
    auth_dmarc    TEXT,
    auth_aligned  INTEGER,
    UNIQUE (folder, id)
);
CREATE TABLE verdicts (rowid INTEGER PRIMARY KEY, verdict TEXT NOT NULL);
CREATE INDEX messages_by_arrival ON messages (arrival);
CREATE INDEX messages_by_lead ON messages (lead, arrival);
CREATE INDEX messages_by_lead_read ON messages (lead, read);
CREATE INDEX messages_by_id ON messages (id);
CREATE VIRTUAL TABLE messages_fts USING fts5 (subject, sender, recipients, body,
                                              tokenize = 'unicode61 remove_diacritics 2');
COMMIT;
)sql";

// The rows a view shows: one folder, or one row per message (its lead row) over all folders.
struct view {
    std::string_view folder;
    search_terms terms;
};

// Parameters: ?1 the FTS5 query, ?2 the folder, ?3/?4 limit and offset, ?5-?7 result words.
// User text is only ever bound, never put in the SQL.
std::string where_of(const view& v) {
    std::string w = v.folder.empty() ? "m.lead = 1" : "m.folder = ?2";
    const auto& t = v.terms;
    if (!t.fts.empty()) w += " AND m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1)";
    if (t.read) w += *t.read ? " AND m.read != 0" : " AND m.read = 0";
    if (t.with_attachments) w += " AND m.attachments > 0";
    if (!t.spf.empty()) w += " AND m.auth_spf = ?5";
    if (!t.dkim.empty()) w += " AND m.auth_dkim = ?6";
    if (!t.dmarc.empty()) w += " AND m.auth_dmarc = ?7";
    if (t.aligned) w += *t.aligned ? " AND m.auth_aligned = 1" : " AND m.auth_aligned = 0";  // NULL: no verdict
    if (t.with_auth) w += " AND m.auth_spf IS NOT NULL";
    return w;
}

void remove_db_files(const fs::path& p) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(fs::path(p.native() + suffix), ec);
}

// A database is damaged (or not one) when SQLite says so; other errors (EACCES, full disk) are not
// repaired by deleting the file.
bool is_damage(const std::error_code& ec) {
    if (ec == index_errc::schema_too_new) return true;
    if (ec.category() != sqlite_category()) return false;
    int primary = ec.value() & 0xff;
    return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT || primary == SQLITE_FORMAT;
}

}  // namespace

struct message_index::impl {
    sqlite3* db = nullptr;
    bool recreated = false;
    statement find_rowid, insert_row, insert_fts, delete_row, delete_fts, select_by_id, select_text, mark, ids_in,
        oldest, totals, set_lead, insert_verdict, delete_verdict, select_verdict;
    std::map<std::string, statement> views;  // list/search/count statements by SQL text (a handful)
    // The mailbox's totals (lead rows) and the table's (all rows), kept between writes: lists and
    // live stats read them on every request and batch, and counting 100 000 rows takes tens of ms.
    // An add updates them from its new rows; any other write forgets them.
    std::optional<index::totals> mailbox_totals;
    std::optional<index_stats> table_totals;
    bool replaced = false;  // an insert replaced an existing row (its lead may have moved)

    ~impl() {
        // Statements first: sqlite3_close refuses a connection with live statements.
        find_rowid = {}, insert_row = {}, insert_fts = {}, delete_row = {}, delete_fts = {}, select_by_id = {};
        select_text = {}, mark = {}, ids_in = {}, oldest = {}, totals = {}, set_lead = {};
        insert_verdict = {}, delete_verdict = {}, select_verdict = {};
        views.clear();
        if (db) ::sqlite3_close(db);
    }

    // A prepared statement for a view query, made once per distinct SQL text.
    result<statement*> view_statement(const std::string& sql) {
        auto it = views.find(sql);
        if (it != views.end()) return &it->second;
        auto s = statement::prepare(db, sql);
        if (!s) return fail(s.error());
        return &views.emplace(sql, std::move(*s)).first->second;
    }

    result<void> prepare_all() {
        struct item {
            statement* s;
            std::string sql;
        };
        const std::string cols(columns);
        item items[] = {
            {&find_rowid, "SELECT rowid FROM messages WHERE folder = ?1 AND id = ?2"},
            {&insert_row,
             "INSERT INTO messages (folder, id, path, envelope_from, envelope_to, arrival, size, from_list, to_list, "
             "cc_list, subject, date, attachments, snippet, read, message_id, reply_list, auth_spf, auth_dkim, "
             "auth_dmarc, auth_aligned) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"},
            {&insert_fts, "INSERT INTO messages_fts (rowid, subject, sender, recipients, body) VALUES (?1, ?2, ?3, ?4, ?5)"},
            {&delete_row, "DELETE FROM messages WHERE rowid = ?1"},
            {&delete_fts, "DELETE FROM messages_fts WHERE rowid = ?1"},
            {&select_by_id, "SELECT " + cols + ", m.rowid FROM messages m WHERE m.id = ?1 AND (?2 = '' OR m.folder = ?2) "
                            "ORDER BY m.folder LIMIT 1"},
            {&select_text, "SELECT body FROM messages_fts WHERE rowid = ?1"},
            {&insert_verdict, "INSERT INTO verdicts (rowid, verdict) VALUES (?1, ?2)"},
            {&delete_verdict, "DELETE FROM verdicts WHERE rowid = ?1"},
            {&select_verdict, "SELECT verdict FROM verdicts WHERE rowid = ?1"},
            {&mark, "UPDATE messages SET read = ?3 WHERE id = ?1 AND (?2 = '' OR folder = ?2) AND read != ?3"},
            {&ids_in, "SELECT rowid, folder, id, path, size FROM messages WHERE id = ?1 AND (?2 = '' OR folder = ?2)"},
            {&oldest, "SELECT folder, id, path, size FROM messages ORDER BY arrival ASC, rowid ASC"},
            {&totals, "SELECT count(*), coalesce(sum(size), 0) FROM messages"},
            // The lead row of a message is its first row (lowest rowid): lists over all folders show it alone.
            {&set_lead, "UPDATE messages SET lead = (rowid = (SELECT min(rowid) FROM messages WHERE id = ?1)) WHERE id = ?1"},
        };
        for (auto& it : items) {
            auto s = statement::prepare(db, it.sql);
            if (!s) return fail(s.error());
            *it.s = std::move(*s);
        }
        return {};
    }

    // The schema version of an open database, 0 for an empty one, or an error.
    result<int> read_version() {
        auto tables = statement::prepare(db, "SELECT count(*) FROM sqlite_master");
        if (!tables) return fail(tables.error());
        if (int rc = tables->step(); rc != SQLITE_ROW) return fail(sqlite_error(rc));
        if (tables->integer(0) == 0) return 0;
        auto v = statement::prepare(db, "SELECT version FROM schema_version");
        if (!v) return -1;  // tables, but not ours
        int rc = v->step();
        if (rc == SQLITE_DONE) return -1;
        if (rc != SQLITE_ROW) return fail(sqlite_error(rc));
        return static_cast<int>(v->integer(0));
    }

    result<void> setup(const fs::path& path) {
        int rc = ::sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
        if (rc != SQLITE_OK) return fail(sqlite_error(db ? ::sqlite3_extended_errcode(db) : rc));
        ::sqlite3_extended_result_codes(db, 1);
        ::sqlite3_busy_timeout(db, busy_timeout_ms);
        if (auto r = detail::exec(db, "PRAGMA journal_mode = WAL"); !r) return r;
        if (auto r = detail::exec(db, "PRAGMA synchronous = NORMAL"); !r) return r;
        auto version = read_version();
        if (!version) return fail(version.error());
        if (*version == 0) {
            if (auto r = detail::exec(db, schema_sql); !r) return r;
            recreated = true;
        } else if (*version != schema_version) {
            // Another program's tables, an older schema (the index is rebuilt, not migrated) or a newer one.
            return fail(index_errc::schema_too_new);
        }
        return prepare_all();
    }

    result<void> erase_row(std::int64_t rowid) {
        delete_verdict.bind(1, rowid);
        if (auto r = delete_verdict.run(); !r) return r;
        delete_fts.bind(1, rowid);
        if (auto r = delete_fts.run(); !r) return r;
        delete_row.bind(1, rowid);
        return delete_row.run();
    }

    result<void> insert(const indexed_message& m) {
        if (m.id.empty() || m.folder.empty()) return fail(index_errc::bad_record);
        {
            reset_guard g(find_rowid);
            find_rowid.bind(1, m.folder).bind(2, m.id);
            int rc = find_rowid.step();
            if (rc == SQLITE_ROW) {
                auto rowid = find_rowid.integer(0);
                find_rowid.reset();
                replaced = true;
                if (auto r = erase_row(rowid); !r) return r;
            } else if (rc != SQLITE_DONE) {
                return fail(sqlite_error(rc));
            }
        }
        auto& s = insert_row;
        s.bind(1, m.folder).bind(2, m.id).bind(3, m.path).bind(4, m.envelope_from).bind(5, join(m.envelope_to));
        s.bind(6, to_seconds(m.arrival)).bind(7, static_cast<std::int64_t>(m.size));
        s.bind(8, encode_mailboxes(m.from)).bind(9, encode_mailboxes(m.to)).bind(10, encode_mailboxes(m.cc));
        s.bind(11, m.subject);
        if (m.date) s.bind(12, to_seconds(*m.date));
        else s.bind_null(12);
        s.bind(13, static_cast<std::int64_t>(m.attachments)).bind(14, m.snippet).bind(15, std::int64_t{m.read ? 1 : 0});
        s.bind(16, m.message_id).bind(17, encode_mailboxes(m.reply_to));
        if (m.auth) {
            s.bind(18, m.auth->spf).bind(19, m.auth->dkim).bind(20, m.auth->dmarc);
            s.bind(21, std::int64_t{m.auth->aligned ? 1 : 0});
        } else {
            s.bind_null(18).bind_null(19).bind_null(20).bind_null(21);
        }
        if (auto r = s.run(); !r) return r;
        auto rowid = ::sqlite3_last_insert_rowid(db);
        if (!m.verdict.empty()) {
            insert_verdict.bind(1, rowid).bind(2, m.verdict);
            if (auto r = insert_verdict.run(); !r) return r;
        }
        insert_fts.bind(1, rowid).bind(2, m.subject).bind(3, sender_text(m)).bind(4, recipients_text(m)).bind(5, m.text);
        if (auto r = insert_fts.run(); !r) return r;
        return fix_lead(m.id);
    }

    result<void> fix_lead(std::string_view id) {
        set_lead.bind(1, id);
        return set_lead.run();
    }

    void forget_totals() {
        mailbox_totals.reset();
        table_totals.reset();
    }

    result<std::int64_t> last_rowid() {
        auto s = view_statement("SELECT coalesce(max(rowid), 0) FROM messages");
        if (!s) return fail(s.error());
        reset_guard g(**s);
        if (int rc = (*s)->step(); rc != SQLITE_ROW) return fail(sqlite_error(rc));
        return (*s)->integer(0);
    }

    // After an add that replaced nothing: the rows past `before` are new, and only they can have
    // become leads (a lead is the lowest rowid of its message, so an older lead stays one).
    result<void> count_added(std::int64_t before) {
        auto s = view_statement("SELECT count(*), coalesce(sum(size), 0), coalesce(sum(lead), 0), "
                                "coalesce(sum(lead = 1 AND read = 0), 0) FROM messages WHERE rowid > ?1");
        if (!s) return fail(s.error());
        reset_guard g(**s);
        (*s)->bind(1, before);
        if (int rc = (*s)->step(); rc != SQLITE_ROW) return fail(sqlite_error(rc));
        auto n = [&](int i) { return static_cast<std::uint64_t>((*s)->integer(i)); };
        if (table_totals) table_totals->messages += n(0), table_totals->bytes += n(1);
        if (mailbox_totals) mailbox_totals->messages += n(2), mailbox_totals->unread += n(3);
        return {};
    }

    result<index::totals> count_view(const view& v) {
        const bool whole = v.folder.empty() && v.terms.matches_everything();
        if (whole && mailbox_totals) return *mailbox_totals;
        auto t = count_rows(v);
        if (t && whole) mailbox_totals = *t;
        return t;
    }

    result<index::totals> count_rows(const view& v) {
        auto s = view_statement("SELECT count(*), coalesce(sum(m.read = 0), 0) FROM messages m WHERE " + where_of(v));
        if (!s) return fail(s.error());
        reset_guard g(**s);
        bind_view(**s, v);
        int rc = (*s)->step();
        if (rc != SQLITE_ROW) return fail(sqlite_error(rc));
        return index::totals{static_cast<std::uint64_t>((*s)->integer(0)), static_cast<std::uint64_t>((*s)->integer(1))};
    }

    result<std::vector<indexed_message>> view_rows(const view& v, std::size_t start, std::size_t limit) {
        auto s = view_statement("SELECT " + std::string(columns) + " FROM messages m WHERE " + where_of(v) +
                                " ORDER BY m.arrival DESC, m.rowid DESC LIMIT ?3 OFFSET ?4");
        if (!s) return fail(s.error());
        reset_guard g(**s);
        bind_view(**s, v);
        (*s)->bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)))
            .bind(4, static_cast<std::int64_t>(std::min<std::size_t>(start, INT64_MAX)));
        std::vector<indexed_message> out;
        int rc;
        while ((rc = (*s)->step()) == SQLITE_ROW) out.push_back(read_row(**s));
        if (rc != SQLITE_DONE) return fail(sqlite_error(rc));
        return out;
    }

    // Every row (all folders) of the messages a view shows.
    result<std::vector<message_ref>> view_refs(const view& v) {
        auto s = view_statement("SELECT folder, id, path, size FROM messages WHERE id IN (SELECT m.id FROM messages m WHERE " +
                                where_of(v) + ") ORDER BY rowid");
        if (!s) return fail(s.error());
        reset_guard g(**s);
        bind_view(**s, v);
        std::vector<message_ref> out;
        int rc;
        while ((rc = (*s)->step()) == SQLITE_ROW)
            out.push_back({(*s)->text(0), (*s)->text(1), (*s)->text(2), static_cast<std::uint64_t>((*s)->integer(3))});
        if (rc != SQLITE_DONE) return fail(sqlite_error(rc));
        return out;
    }

    static void bind_view(statement& s, const view& v) {
        if (!v.terms.fts.empty()) s.bind(1, v.terms.fts);
        if (!v.folder.empty()) s.bind(2, v.folder);
        if (!v.terms.spf.empty()) s.bind(5, v.terms.spf);
        if (!v.terms.dkim.empty()) s.bind(6, v.terms.dkim);
        if (!v.terms.dmarc.empty()) s.bind(7, v.terms.dmarc);
    }

    // The rowids of `id` (in `folder`, or all folders).
    result<std::vector<std::int64_t>> rowids(std::string_view id, std::string_view folder) {
        reset_guard g(ids_in);
        ids_in.bind(1, id).bind(2, folder);
        std::vector<std::int64_t> out;
        int rc;
        while ((rc = ids_in.step()) == SQLITE_ROW) out.push_back(ids_in.integer(0));
        if (rc != SQLITE_DONE) return fail(sqlite_error(rc));
        return out;
    }
};

result<std::unique_ptr<message_index>> message_index::open(const fs::path& db_path, bool recreate) {
    auto p = std::make_unique<impl>();
    auto r = p->setup(db_path);
    if (!r && recreate && is_damage(r.error())) {
        p = std::make_unique<impl>();  // closes the damaged connection first
        remove_db_files(db_path);
        r = p->setup(db_path);
        p->recreated = true;
    }
    if (!r) return fail(r.error());
    return std::unique_ptr<message_index>(new message_index(std::move(p)));
}

message_index::message_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
message_index::~message_index() = default;

bool message_index::recreated() const noexcept { return impl_->recreated; }

result<void> message_index::add(const indexed_message& m) { return add(std::span(&m, 1)); }

result<void> message_index::add(std::span<const indexed_message> rows) {
    auto& d = *impl_;
    std::optional<std::int64_t> before;
    if (d.mailbox_totals || d.table_totals) {
        auto last = d.last_rowid();
        if (last) before = *last;
    }
    d.replaced = false;
    detail::transaction tx(d.db);
    auto r = tx.begin();
    for (std::size_t i = 0; r && i < rows.size(); ++i) r = d.insert(rows[i]);
    if (r) r = tx.commit();
    if (!r || d.replaced || !before || !d.count_added(*before)) d.forget_totals();
    return r;
}

namespace {

// SQLite reports a full-text query it cannot run as SQLITE_ERROR at step time; the query text is
// built so that this should not happen, but the web API gets a 400-worthy code if it does.
std::error_code to_query_error(std::error_code ec) {
    return (ec.category() == sqlite_category() && (ec.value() & 0xff) == SQLITE_ERROR)
               ? make_error_code(index_errc::bad_query)
               : ec;
}

}  // namespace

result<page> message_index::list(std::size_t start, std::size_t limit, std::string_view folder) {
    return search({}, start, limit, folder);
}

result<totals> message_index::count(std::string_view folder) { return impl_->count_view(view{folder, {}}); }

result<std::optional<indexed_message>> message_index::get(std::string_view id, std::string_view folder) {
    auto& s = impl_->select_by_id;
    std::int64_t rowid = 0;
    indexed_message m;
    {
        reset_guard g(s);
        s.bind(1, id).bind(2, folder);
        int rc = s.step();
        if (rc == SQLITE_DONE) return std::optional<indexed_message>();
        if (rc != SQLITE_ROW) return fail(sqlite_error(rc));
        m = read_row(s);
        rowid = s.integer(column_count);
    }
    for (auto [st, out] : {std::pair{&impl_->select_text, &m.text}, std::pair{&impl_->select_verdict, &m.verdict}}) {
        reset_guard g(*st);
        st->bind(1, rowid);
        int rc = st->step();
        if (rc == SQLITE_ROW) *out = st->text(0);
        else if (rc != SQLITE_DONE) return fail(sqlite_error(rc));
    }
    return std::optional<indexed_message>(std::move(m));
}

result<page> message_index::search(std::string_view query, std::size_t start, std::size_t limit,
                                   std::string_view folder) {
    const view v{folder, parse_search(query)};
    page out;
    auto t = impl_->count_view(v);
    if (!t) return fail(to_query_error(t.error()));
    out.total = t->messages;
    out.unread = t->unread;
    auto rows = impl_->view_rows(v, start, limit);
    if (!rows) return fail(to_query_error(rows.error()));
    out.messages = std::move(*rows);
    return out;
}

result<std::vector<message_ref>> message_index::matching(std::string_view query, std::string_view folder) {
    auto refs = impl_->view_refs(view{folder, parse_search(query)});
    if (!refs) return fail(to_query_error(refs.error()));
    return refs;
}

result<std::vector<message_ref>> message_index::rows_of(const std::vector<std::string>& ids) {
    auto& s = impl_->ids_in;
    std::vector<message_ref> out;
    for (const auto& id : ids) {
        reset_guard g(s);
        s.bind(1, id).bind(2, std::string_view{});
        int rc;
        while ((rc = s.step()) == SQLITE_ROW)
            out.push_back({s.text(1), s.text(2), s.text(3), static_cast<std::uint64_t>(s.integer(4))});
        if (rc != SQLITE_DONE) return fail(sqlite_error(rc));
    }
    return out;
}

result<std::size_t> message_index::mark_read(const std::vector<std::string>& ids, bool read, std::string_view folder) {
    impl_->forget_totals();
    detail::transaction tx(impl_->db);
    if (auto r = tx.begin(); !r) return fail(r.error());
    std::size_t changed = 0;
    for (const auto& id : ids) {
        impl_->mark.bind(1, id).bind(2, folder).bind(3, std::int64_t{read ? 1 : 0});
        if (auto r = impl_->mark.run(); !r) return fail(r.error());
        changed += static_cast<std::size_t>(::sqlite3_changes(impl_->db));
    }
    if (auto r = tx.commit(); !r) return fail(r.error());
    return changed;
}

result<std::size_t> message_index::mark_all_read(bool read) {
    impl_->forget_totals();
    auto s = statement::prepare(impl_->db, "UPDATE messages SET read = ?1 WHERE read != ?1");
    if (!s) return fail(s.error());
    s->bind(1, std::int64_t{read ? 1 : 0});
    if (auto r = s->run(); !r) return fail(r.error());
    return static_cast<std::size_t>(::sqlite3_changes(impl_->db));
}

result<std::size_t> message_index::remove(const std::vector<std::string>& ids, std::string_view folder) {
    impl_->forget_totals();
    detail::transaction tx(impl_->db);
    if (auto r = tx.begin(); !r) return fail(r.error());
    std::size_t removed = 0;
    for (const auto& id : ids) {
        auto rowids = impl_->rowids(id, folder);
        if (!rowids) return fail(rowids.error());
        for (auto rowid : *rowids) {
            if (auto r = impl_->erase_row(rowid); !r) return fail(r.error());
            ++removed;
        }
        if (!rowids->empty() && !folder.empty())
            if (auto r = impl_->fix_lead(id); !r) return fail(r.error());
    }
    if (auto r = tx.commit(); !r) return fail(r.error());
    return removed;
}

result<void> message_index::remove_all() {
    impl_->forget_totals();
    detail::transaction tx(impl_->db);
    if (auto r = tx.begin(); !r) return r;
    if (auto r = detail::exec(impl_->db, "DELETE FROM verdicts; DELETE FROM messages_fts; DELETE FROM messages;"); !r) return r;
    return tx.commit();
}

result<std::vector<message_ref>> message_index::prune(std::size_t max_messages, std::uint64_t max_bytes) {
    auto st = stats();
    if (!st) return fail(st.error());
    std::uint64_t count = st->messages, bytes = st->bytes;
    std::vector<message_ref> out;
    auto over = [&] { return (max_messages != 0 && count > max_messages) || (max_bytes != 0 && bytes > max_bytes); };
    if (!over()) return out;
    auto& s = impl_->oldest;
    reset_guard g(s);
    int rc = SQLITE_DONE;
    while (over() && (rc = s.step()) == SQLITE_ROW) {
        message_ref r{s.text(0), s.text(1), s.text(2), static_cast<std::uint64_t>(s.integer(3))};
        --count;
        bytes -= std::min(bytes, r.size);
        out.push_back(std::move(r));
    }
    if (over() && rc != SQLITE_DONE) return fail(sqlite_error(rc));
    return out;
}

result<index_stats> message_index::stats() {
    if (impl_->table_totals) return *impl_->table_totals;
    auto& s = impl_->totals;
    reset_guard g(s);
    int rc = s.step();
    if (rc != SQLITE_ROW) return fail(sqlite_error(rc));
    impl_->table_totals = index_stats{static_cast<std::uint64_t>(s.integer(0)), static_cast<std::uint64_t>(s.integer(1))};
    return *impl_->table_totals;
}

result<rebuild_report> message_index::rebuild(const fs::path& mail_root) {
    impl_->forget_totals();
    // The read flag lives only here: keep it across the rebuild when the old rows can be read.
    std::set<std::pair<std::string, std::string>> was_read;
    if (auto s = statement::prepare(impl_->db, "SELECT folder, id FROM messages WHERE read != 0")) {
        while (s->step() == SQLITE_ROW) was_read.emplace(s->text(0), s->text(1));
    }
    detail::transaction tx(impl_->db);
    if (auto r = tx.begin(); !r) return fail(r.error());
    if (auto r = detail::exec(impl_->db, "DELETE FROM verdicts; DELETE FROM messages_fts; DELETE FROM messages;"); !r) return fail(r.error());
    std::error_code failed;
    auto report = detail::scan_maildir(mail_root, [&](indexed_message&& m) {
        if (was_read.contains({m.folder, m.id})) m.read = true;
        auto r = impl_->insert(m);
        if (!r) failed = r.error();
        return r.has_value();
    });
    if (failed) return fail(failed);
    if (auto r = tx.commit(); !r) return fail(r.error());
    return report;
}

}  // namespace postern::index
