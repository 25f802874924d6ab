// SPDX-License-Identifier: MIT
#include "server/relay_rules.hpp"

#include <algorithm>

namespace postern::server {
namespace {

bool iequal(std::string_view a, std::string_view b) { return ascii_lower(a) == ascii_lower(b); }

// A recipient is a user when "local@domain", or a bare "local", is a user name (user names are
// exact in the store; people write them in lower case, clients sometimes do not).
bool is_user(const auth::credential_store& users, std::string_view local, std::string_view domain) {
    const std::string as_written = std::string(local) + "@" + std::string(domain);
    for (const auto& name : {as_written, ascii_lower(as_written), std::string(local), ascii_lower(local)})
        if (users.exists(name)) return true;
    return false;
}

}  // namespace

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
    return out;
}

bool relay_rules::is_local_domain(std::string_view domain) const {
    const std::string d = ascii_lower(domain);
    return std::find(local_domains.begin(), local_domains.end(), d) != local_domains.end();
}

rcpt_verdict relay_rules::check_recipient(const message::path& rcpt, bool authenticated,
                                          const auth::credential_store& users) const {
    if (rcpt.postmaster || catch_all() || !rcpt.mbox) return rcpt_verdict::accept;
    const message::mailbox& m = *rcpt.mbox;
    if (m.address_literal || !is_local_domain(m.domain))
        return authenticated ? rcpt_verdict::accept : rcpt_verdict::relay_denied;
    if (iequal(m.local_part, "postmaster") || users.empty()) return rcpt_verdict::accept;
    return is_user(users, m.local_part, m.domain) ? rcpt_verdict::accept : rcpt_verdict::unknown_user;
}

bool relay_rules::owns(std::string_view user, std::string_view local_part, std::string_view domain,
                       std::string_view hostname) const {
    const std::string address = ascii_lower(local_part) + "@" + ascii_lower(domain);
    const std::string name = ascii_lower(user);
    if (name.find('@') != std::string::npos) {
        if (name == address) return true;
    } else if (ascii_lower(local_part) == name) {
        if (catch_all() ? iequal(domain, hostname) : is_local_domain(domain)) return true;
    }
    auto it = senders.find(name);
    if (it == senders.end()) return false;
    const std::string at_domain = "@" + ascii_lower(domain);
    return std::any_of(it->second.begin(), it->second.end(),
                       [&](const std::string& allowed) { return allowed == address || allowed == at_domain; });
}

}  // namespace postern::server
