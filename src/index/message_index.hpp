// SPDX-License-Identifier: MIT
#pragma once
/// A SQLite index beside the Maildir, for the web inbox: one row per stored message file (its
/// envelope, decoded From/To/Cc/Subject, Date, size, attachment count, a text snippet, the read
/// flag, the arrival time) and an FTS5 full-text index over subject, addresses and body text.
///
/// The Maildir is the source of truth: the index can be deleted at any time and rebuild() makes
/// it again from mail/<folder>/{new,cur}. Only the read flag lives in the index alone (rebuild()
/// keeps it when the old rows are readable, and takes the Maildir 'S' flag of cur/ files too).
///
/// When to call what:
///  1. open(db_path) at start; if recreated() is true (the file was missing, corrupt or of
///     another schema), call rebuild(mail_root) before serving.
///  2. On each committed message: describe(raw bytes, envelope) then add().
///  3. The web inbox: list(), get(), search(), mark_read(); deleting mail: remove() after the
///     files are gone; retention: prune() names the oldest rows over the limits, the caller
///     deletes those files, then remove()s them.
///
/// Thread-safety: a message_index owns one SQLite connection and must be used from one thread at
/// a time (the caller serializes, e.g. one strand or a mutex). Several processes may open the same
/// file (WAL mode, busy_timeout), but postern uses one.
///
/// A row is keyed by (folder, id): with the per-recipient layout one message is hard-linked into
/// several folders and has one row in each. Functions taking ids act on every folder unless a
/// folder is named.
#include "base/expected.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern::index {

/// A display name (decoded to UTF-8) and an address as written.
struct mailbox {
    std::string name;
    std::string address;
    friend bool operator==(const mailbox&, const mailbox&) = default;
};

/// The SPF, DKIM and DMARC results of a message as its badges show them: RFC 8601 result words
/// (lower case), one per method.
struct auth_badges {
    std::string spf;    ///< the MAIL FROM check: "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"
    std::string dkim;   ///< "pass" when any signature verified, else the first signature's result; "none" when unsigned
    std::string dmarc;  ///< "pass", "fail", "none", "temperror", "permerror"
    bool aligned = false;  ///< DMARC identifier alignment: SPF or DKIM vouches for the From domain
    friend bool operator==(const auth_badges&, const auth_badges&) = default;
};

/// One message file as the index stores it.
struct indexed_message {
    std::string id;      ///< the Maildir unique name: the file name without ":2,<flags>" ("<store id>.<host>")
    std::string folder;  ///< the folder under mail/: "inbox", or a recipient's safe folder name
    std::string path;    ///< where the file is (as the caller gave it, or as rebuild() found it)
    std::string envelope_from;              ///< the reverse path without '<' '>'; "" for the null path
    std::vector<std::string> envelope_to;   ///< forward paths without '<' '>'; may be empty after rebuild()
    std::chrono::system_clock::time_point arrival;  ///< when the message was received (second precision)
    std::uint64_t size = 0;                 ///< octets of the file
    std::vector<mailbox> from, to, cc, reply_to;
    std::string subject;                    ///< decoded (RFC 2047)
    std::string message_id;                 ///< the Message-ID field without '<' '>', or ""
    std::optional<std::chrono::system_clock::time_point> date;  ///< the Date field, when it parses
    std::uint32_t attachments = 0;
    std::string snippet;                    ///< the start of the text, white space collapsed
    std::string text;                       ///< body text for the full-text index (bounded; not returned by get/list)
    bool read = false;
    std::optional<auth_badges> auth;        ///< nullopt: no SPF/DKIM/DMARC verdict was made for this message
    std::string verdict;                    ///< the verdict as JSON (mailauth::to_json's shape), "" for none; returned by get() only
};

/// What describe() needs besides the bytes.
struct envelope {
    std::string id;
    std::string folder;
    std::string path;
    std::string envelope_from;
    std::vector<std::string> envelope_to;
    std::chrono::system_clock::time_point arrival;
    std::uint64_t size = 0;  ///< 0: the size of `raw`
    /// The SPF/DKIM/DMARC verdict as JSON (mailauth::to_json), "" when none was made. describe()
    /// takes the badges from it; text that is not such JSON gives no verdict.
    std::string verdict;
};

inline constexpr std::size_t snippet_chars = 200;           ///< code points in indexed_message::snippet
inline constexpr std::size_t max_indexed_text = 64 * 1024;  ///< octets of body text put in the full-text index
inline constexpr std::size_t max_parsed_octets = 16u * 1024 * 1024;  ///< describe() parses at most this much
inline constexpr std::size_t max_verdict_octets = 64 * 1024;  ///< a longer verdict JSON keeps its badges but is not stored

/// Parses a message (bounded: at most max_parsed_octets of it, with tight MIME limits) and fills
/// the record; the badges come from env.verdict. Never fails on any input.
indexed_message describe(std::string_view raw, envelope env);

/// The badges of a verdict JSON text (mailauth::to_json's shape: spf.result, dkim[].result,
/// dmarc.result, aligned), or nullopt when the text is empty or not such JSON. Result words are
/// lower-cased; a word outside RFC 8601's set for its method reads as "none". Never throws.
std::optional<auth_badges> badges_of(std::string_view verdict_json);

/// Reads back the verdict postern wrote into a stored message: the value of the
/// Authentication-Results field (RFC 8601) when it is the first field after Return-Path (the
/// store puts ours there; a field a sender wrote always comes after our Received). Returns the
/// verdict JSON in mailauth::to_json's shape with what the field says (spf: result, smtp.mailfrom,
/// reason; the second spf result: smtp.helo; dkim: each result with header.d/.i/.s; dmarc:
/// result, header.from, policy.dmarc; alignment worked out from those), "summary" and
/// "summary_case" empty, and "rebuilt": true; "" when there is no such field or it names no spf
/// or dmarc result. Bounded (the first 16 KiB of the field) and never throws.
std::string verdict_from_header(std::string_view raw);

/// The FTS5 query search() runs for user input: each whitespace-separated word is a quoted
/// phrase (inner quotes doubled), words without a letter or digit are dropped, the last is also a
/// prefix; "" when nothing is left.
std::string fts_query(std::string_view input);

/// A search as the web inbox takes it (Mailpit's filter words): the full-text part for FTS5 and
/// the filters on columns.
struct search_terms {
    std::string fts;                ///< FTS5 query text, "" for none (see parse_search)
    std::optional<bool> read;       ///< is:read / is:unread
    bool with_attachments = false;  ///< has:attachment
    std::string spf, dkim, dmarc;   ///< spf:WORD, dkim:WORD, dmarc:WORD (an RFC 8601 result word, lower case); "" for any
    std::optional<bool> aligned;    ///< is:aligned / is:unaligned (only messages with a verdict)
    bool with_auth = false;         ///< has:auth: messages with a verdict

    /// True when no word and no filter was given: every message matches.
    bool matches_everything() const noexcept {
        return fts.empty() && !read && !with_attachments && spf.empty() && dkim.empty() && dmarc.empty() && !aligned &&
               !with_auth;
    }
};

/// Parses user input. Plain words and "quoted phrases" match subject, addresses and text; the
/// prefixes from:, to: (To, Cc, envelope recipients) and subject: restrict a word or a phrase to
/// those fields; is:read, is:unread and has:attachment filter; spf:, dkim: and dmarc: followed by
/// a result word of that method (RFC 8601 §2.7: pass, fail, softfail, ...) match the badge,
/// is:aligned / is:unaligned the DMARC alignment and has:auth any verdict (a key with another
/// word is searched as text). Every phrase is quoted for FTS5
/// (inner quotes doubled), so no input is ever read as FTS5 syntax; words with no letter or digit
/// are dropped; the last phrase also matches as a prefix.
search_terms parse_search(std::string_view input);

/// Retention: 0 means no limit. Defaults: 10 000 messages and 1 GiB.
struct retention {
    std::size_t max_messages = 10'000;
    std::uint64_t max_bytes = 1024ull * 1024 * 1024;
};

struct message_ref {
    std::string folder;
    std::string id;
    std::string path;
    std::uint64_t size = 0;
    friend bool operator==(const message_ref&, const message_ref&) = default;
};

struct page {
    std::vector<indexed_message> messages;  ///< text is empty
    std::uint64_t total = 0;                ///< rows matching, all pages together
    std::uint64_t unread = 0;               ///< of those, rows not read
};

/// Messages and unread messages of a view (see list()).
struct totals {
    std::uint64_t messages = 0;
    std::uint64_t unread = 0;
};

struct index_stats {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
};

struct rebuild_report {
    std::uint64_t indexed = 0;
    std::uint64_t skipped = 0;  ///< files that could not be read (logged nowhere: the caller decides)
};

class message_index {
public:
    /// Opens or creates the database: WAL, synchronous=NORMAL, busy_timeout, schema version
    /// checked. With `recreate` (the default), a file that is not a database, is corrupt or has
    /// another schema version is deleted (with its -wal/-shm) and made again, empty.
    static result<std::unique_ptr<message_index>> open(const std::filesystem::path& db_path, bool recreate = true);
    ~message_index();
    message_index(const message_index&) = delete;
    message_index& operator=(const message_index&) = delete;

    /// True when open() made a new, empty database: rebuild() it from the Maildir.
    bool recreated() const noexcept;

    /// Inserts or replaces the row for (folder, id).
    result<void> add(const indexed_message& m);
    /// Several rows in one transaction (all or none).
    result<void> add(std::span<const indexed_message> rows);

    /// Newest first (arrival, then insertion order). `folder` "" means every folder, with one row
    /// per message: a message linked into several folders is listed once (its first row).
    result<page> list(std::size_t start, std::size_t limit, std::string_view folder = {});
    /// The counts list() would give, without the rows.
    result<totals> count(std::string_view folder = {});
    /// The row for `id` (in `folder`, or the first of any folder), with its text.
    result<std::optional<indexed_message>> get(std::string_view id, std::string_view folder = {});
    /// Search, newest first, rows as list() gives them. The query is read by parse_search(): FTS5
    /// syntax in the input is never interpreted. A query with no terms lists everything.
    result<page> search(std::string_view query, std::size_t start, std::size_t limit, std::string_view folder = {});
    /// The rows a search matches, every page, as (folder, id, path, size): for deleting them.
    result<std::vector<message_ref>> matching(std::string_view query, std::string_view folder = {});
    /// Every row (all folders) of these ids, as (folder, id, path, size).
    result<std::vector<message_ref>> rows_of(const std::vector<std::string>& ids);

    /// Sets or clears the read flag; returns the rows changed.
    result<std::size_t> mark_read(const std::vector<std::string>& ids, bool read, std::string_view folder = {});
    /// Sets or clears the read flag of every row; returns the rows changed.
    result<std::size_t> mark_all_read(bool read);
    /// Removes index rows only (the caller deletes the files); returns the rows removed.
    result<std::size_t> remove(const std::vector<std::string>& ids, std::string_view folder = {});
    result<void> remove_all();

    /// The oldest rows to delete so that at most max_messages rows and max_bytes octets remain
    /// (0: no limit), oldest first. Changes nothing.
    result<std::vector<message_ref>> prune(std::size_t max_messages, std::uint64_t max_bytes);
    result<std::vector<message_ref>> prune(const retention& r) { return prune(r.max_messages, r.max_bytes); }

    /// Replaces every row by scanning mail_root/<folder>/{new,cur}: envelope sender from
    /// Return-Path, recipients from a per-recipient folder name or the first Received field's
    /// "for" clause, arrival from that Received field's date (else the file time).
    result<rebuild_report> rebuild(const std::filesystem::path& mail_root);

    result<index_stats> stats();

    struct impl;

private:
    explicit message_index(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace postern::index
