// SPDX-License-Identifier: MIT
#pragma once
/// Who may send mail to whom, and as whom: the relay policy (no open relay) and the submission
/// rule that an authenticated user writes only under addresses they own (docs/relay-policy.md).
///
/// When to call what: check_recipient() at RCPT; owns() for the MAIL FROM path and for each
/// address of the From: and Sender: header fields when the session is authenticated as a real
/// user. Pure: no I/O besides asking the credential store whether a user exists.
#include "auth/credentials.hpp"
#include "message/address.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace postern::server {

enum class rcpt_verdict {
    accept,
    relay_denied,  ///< 554 5.7.1: not a local domain, and the client has not authenticated
    unknown_user,  ///< 550 5.1.1: a local domain, users exist, and none is this recipient
};

struct relay_rules {
    /// Domains we are the final destination for, lower case. Empty: catch-all mode (every
    /// recipient is accepted and stored here).
    std::vector<std::string> local_domains;
    /// Extra addresses a user may send as, by user name (lower case): full addresses
    /// ("sales@example.org") or whole domains ("@example.org").
    std::map<std::string, std::vector<std::string>, std::less<>> senders;

    bool catch_all() const noexcept { return local_domains.empty(); }
    bool is_local_domain(std::string_view domain) const;

    /// `users` holds the real users (not the accept-any stand-in); `authenticated` is the
    /// session's AUTH state. RFC 5321 §4.5.1: postmaster at a local domain (or bare
    /// <Postmaster>) is always accepted.
    rcpt_verdict check_recipient(const message::path& rcpt, bool authenticated, const auth::credential_store& users) const;

    /// May `user` (an AUTH identity) use `address` as envelope sender or in From:/Sender:?
    /// Yes for the user's own address (a name with '@' is an address; a bare name is that local
    /// part at any local domain, or at `hostname` in catch-all mode) and for the `senders` entries.
    /// Domains compare case-insensitively, local parts too (users are names, not mailboxes).
    bool owns(std::string_view user, std::string_view local_part, std::string_view domain, std::string_view hostname) const;
};

/// Lower-cases ASCII letters (domains, user names).
std::string ascii_lower(std::string_view s);

}  // namespace postern::server
