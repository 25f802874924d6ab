// SPDX-License-Identifier: MIT
#pragma once
/// Durable acceptance into Maildir folders (the catch-all inbox or one folder per recipient).
///
/// When to call what: open() once at start (creates the folders, cleans tmp/ leftovers of a
/// crash); begin() when a transaction's data starts; write() as decoded body bytes arrive (memory
/// stays bounded whatever the message size); commit() at the end of data. commit() hands the
/// message to the group committer thread, which makes every message of a batch durable with
/// shared flushes (file data, then rename into new/, then the directory entry) and only then
/// calls `done`. A writer destroyed without commit() removes its tmp/ file.
#include "base/clock.hpp"
#include "base/expected.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace postern::store {

enum class layout { catch_all, per_recipient };
enum class flush_mode {
    syncfs,  ///< one syncfs(2) per batch covers every file of the batch, then one fsync per new/ directory
    fsync,   ///< fdatasync(2) per file, then one fsync per new/ directory per batch
};

struct store_config {
    std::filesystem::path root;            ///< the data folder; mail lives under root/"mail"
    layout folders = layout::catch_all;
    flush_mode flush = flush_mode::syncfs;
    std::string hostname = "localhost";    ///< used in Maildir file names
    std::size_t max_batch = 512;           ///< messages made durable by one group commit at most
    std::size_t write_buffer = 64 * 1024;  ///< bytes buffered per message before a write(2)
    const clock* time = nullptr;           ///< for Maildir names; nullptr: the system clock
};

/// One message being received; owned by the session until handed to commit().
class message_writer {
public:
    virtual ~message_writer() = default;
    /// Appends bytes to the message file (buffered). Errors: ENOSPC, EIO, ...
    virtual result<void> write(std::span<const char> bytes) = 0;
    /// Octets written so far (buffered ones included).
    virtual std::uint64_t size() const = 0;
    /// The id the message will have once committed (the Maildir unique name, without host).
    virtual const std::string& id() const = 0;
    /// Where the message will be once committed: one file in each folder's new/ (the same name).
    virtual std::vector<std::filesystem::path> final_paths() const = 0;
    /// Inserts `bytes` at octet `offset` (at most size()): for header fields that can only be written
    /// once the whole message is in (Authentication-Results, RFC 8601 §5). In place while the
    /// message still fits the write buffer; past that the file is rewritten once (copied in the
    /// kernel, memory constant) on the committer thread, never on the caller's. Call after the last
    /// write() and after any overwrite(), before commit().
    virtual result<void> insert(std::uint64_t offset, std::span<const char> bytes) = 0;
    /// Replaces bytes.size() octets at `offset` (the range must be within size()): renaming a
    /// header field in place. Call before commit().
    virtual result<void> overwrite(std::uint64_t offset, std::span<const char> bytes) = 0;
};

using commit_callback = std::function<void(result<std::string> id)>;

class maildir_store {
public:
    /// Creates root/mail/... as needed, removes leftovers in every tmp/ (logged), starts the committer.
    static result<std::unique_ptr<maildir_store>> open(const store_config& cfg);
    virtual ~maildir_store() = default;

    /// Starts a message for these recipients (RFC 5321 forward paths as text, "Postmaster" allowed).
    /// catch_all: one file in mail/inbox. per_recipient: one file staged once, hard-linked into each
    /// recipient's folder mail/<safe name>/ on commit (duplicates delivered once).
    virtual result<std::unique_ptr<message_writer>> begin(const std::vector<std::string>& recipients) = 0;

    /// Makes the message durable, then calls `done` on the committer thread with its id (or the
    /// error; nothing is in new/ then). Never calls `done` before the data, the rename and the
    /// directory entry are on stable storage.
    virtual void commit(std::unique_ptr<message_writer> msg, commit_callback done) = 0;

    /// Finishes every pending commit, then stops the committer thread. Idempotent.
    virtual void stop() = 0;

    /// The Maildir folder (holding tmp/, new/, cur/) a recipient's mail goes to.
    virtual std::filesystem::path folder_for(const std::string& recipient) const = 0;

    /// Sends a message begun here to the Maildir folder `quarantine_folder_name` instead of its
    /// recipients' folders (a DMARC p=quarantine failure). Call before commit().
    virtual result<void> quarantine(message_writer& msg) = 0;
};

/// The folder under mail/ holding quarantined messages: never a recipient's folder, since those
/// hold an '@' (or are "inbox" / "postmaster").
inline constexpr const char* quarantine_folder_name = "quarantine";

/// A file-system-safe folder name for a recipient: lower-cased domain, local part kept, every
/// octet outside [A-Za-z0-9._+-@] percent-encoded, never "." / ".." / empty.
std::string safe_folder_name(const std::string& recipient);

}  // namespace postern::store
